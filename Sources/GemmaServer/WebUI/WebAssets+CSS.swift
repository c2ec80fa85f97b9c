extension WebAssets {
    /// `GET /ui/app.css`: one column that fits a 375-pixel phone without scrolling sideways,
    /// visible focus rings, light and dark colors.
    static let styleSheet = #"""
    :root {
      --bg: #fbfbfa; --fg: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --card: #ffffff;
      --accent: #1a56c4; --accent-fg: #ffffff; --mark: #ffe27a; --mark-fg: #1d1d1f;
      --focus: #e8590c; --error-bg: #fdecea; --error-fg: #8a1c12; --hit-line: #fff4c2;
      --range: #eef3fc;
      font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
      font-size: 16px; line-height: 1.45;
    }
    @media (prefers-color-scheme: dark) {
      :root {
        --bg: #16171a; --fg: #e8e8ea; --muted: #a0a4ab; --line: #3a3c42; --card: #202226;
        --accent: #7aa7ff; --accent-fg: #0b1020; --mark: #8a6d00; --mark-fg: #ffffff;
        --focus: #ffa24d; --error-bg: #4a1d1a; --error-fg: #ffd7d2; --hit-line: #4a4220;
        --range: #1f2a3d;
      }
    }
    *, *::before, *::after { box-sizing: border-box; }
    [hidden] { display: none !important; }
    html { -webkit-text-size-adjust: 100%; }
    body { margin: 0; background: var(--bg); color: var(--fg); overflow-wrap: anywhere; }
    main, .top { max-width: 56rem; margin: 0 auto; padding: 0 1rem; }
    .top { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem 1rem; padding-top: .75rem; }
    h1 { font-size: 1.25rem; margin: 0; letter-spacing: .01em; }
    .status { color: var(--muted); font-size: .875rem; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; min-width: 0; }
    .status.warn { color: var(--error-fg); }
    .status progress { width: 10rem; max-width: 100%; height: .75rem; }
    .visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    .skip { position: absolute; left: -100rem; }
    .skip:focus { left: 1rem; top: .5rem; background: var(--card); padding: .25rem .5rem; z-index: 10; }
    :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
    input, button { font: inherit; color: inherit; }
    input[type="search"], input[type="text"], input[type="password"] {
      min-width: 0; padding: .55rem .7rem; border: 1px solid var(--line); border-radius: .5rem; background: var(--card);
    }
    button {
      padding: .55rem 1rem; border: 1px solid var(--accent); border-radius: .5rem; background: var(--accent);
      color: var(--accent-fg); cursor: pointer;
    }
    button:disabled { opacity: .6; cursor: progress; }
    .query { margin: .75rem 0 .5rem; }
    .row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
    .row + .row { margin-top: .5rem; }
    #q { flex: 1 1 12rem; font-size: 1.05rem; }
    .filters { font-size: .9rem; color: var(--muted); }
    #folder { flex: 1 1 10rem; padding: .35rem .6rem; }
    .check { display: inline-flex; align-items: center; gap: .3rem; white-space: nowrap; }
    .help { font-size: .8rem; color: var(--muted); margin: .4rem 0 0; }
    .modes { border: 0; padding: 0; margin: 0 0 .5rem; display: inline-flex; border: 1px solid var(--line); border-radius: .5rem; overflow: hidden; }
    .modes label { padding: .3rem 1rem; cursor: pointer; display: inline-flex; align-items: center; position: relative; }
    .modes label:has(input:checked) { background: var(--accent); color: var(--accent-fg); }
    .modes label:has(input:focus-visible) { outline: 3px solid var(--focus); outline-offset: -3px; }
    .modes input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
    .error { background: var(--error-bg); color: var(--error-fg); border-radius: .5rem; padding: .6rem .8rem; margin: .5rem 0; }
    .summary { color: var(--muted); font-size: .85rem; margin: .5rem 0; }
    .results, .sources { list-style: none; padding: 0; margin: 0 0 2rem; }
    .results li + li { margin-top: .5rem; }
    .hit {
      display: block; width: 100%; text-align: left; background: var(--card); color: var(--fg);
      border: 1px solid var(--line); border-radius: .6rem; padding: .6rem .8rem; cursor: pointer;
    }
    .hit:hover { border-color: var(--accent); }
    .hit-head { display: flex; gap: .5rem; justify-content: space-between; align-items: baseline; }
    .hit-loc { color: var(--accent); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; min-width: 0; }
    .hit-score { font-size: .8rem; color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
    .hit-title { display: block; font-weight: 600; margin-top: .15rem; }
    .hit-snippet { display: block; margin-top: .2rem; font-size: .92rem; }
    mark { background: var(--mark); color: var(--mark-fg); border-radius: .15rem; padding: 0 .05rem; }
    .answer { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .8rem 1rem; margin: .5rem 0 1rem; }
    .question { font-weight: 600; margin: 0 0 .5rem; }
    .answer-text { border-top: 1px solid var(--line); padding-top: .6rem; }
    .answer-text { white-space: pre-wrap; min-height: 1.5em; }
    .answer-text[data-state=streaming]::after { color: var(--muted); animation: blink 1s steps(2) infinite; content: "▍"; }
    @keyframes blink { 50% { opacity: 0; } }
    @media (prefers-reduced-motion: reduce) { .answer-text[data-state="streaming"]::after { animation: none; } }
    .cite { padding: 0 .05rem; border: 0; background: none; color: var(--accent); text-decoration: underline; cursor: pointer; font-size: .9em; }
    .sources-heading { font-size: .9rem; margin: .3rem 0 .3rem; color: var(--muted); }
    .sources { margin-bottom: .8rem; }
    .sources li { margin: .25rem 0; }
    .source { display: flex; width: 100%; gap: .5rem; text-align: left; background: none; color: var(--fg); border: 1px solid var(--line); border-radius: .5rem; padding: .35rem .6rem; }
    .source-n { font-weight: 700; color: var(--accent); white-space: nowrap; }
    .source-text { min-width: 0; }
    .preview { width: min(60rem, calc(100vw - 1rem)); max-width: none; max-height: calc(100vh - 2rem); padding: 0;
      border: 1px solid var(--line); border-radius: .7rem; background: var(--card); color: var(--fg); }
    .preview::backdrop { background: rgba(0, 0, 0, .45); }
    .preview-head { display: flex; gap: .5rem; align-items: flex-start; justify-content: space-between; padding: .6rem .8rem; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--card); }
    .preview-head h2 { font-size: .9rem; margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 600; min-width: 0; }
    #preview-close { padding: .2rem .6rem; }
    .preview-body { margin: 0; padding: .5rem 0; font-size: .82rem; white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace; }
    .preview-line { display: grid; grid-template-columns: 3.5rem minmax(0, 1fr); gap: .75rem; padding: 0 .8rem; }
    .preview-line.in-chunk { background: var(--range); }
    .preview-line.hit-line { background: var(--hit-line); font-weight: 600; }
    .line-no { color: var(--muted); text-align: right; user-select: none; }
    .key-dialog { width: min(26rem, calc(100vw - 2rem)); border: 1px solid var(--line); border-radius: .7rem; background: var(--card); color: var(--fg); }
    .key-dialog h2 { margin-top: 0; font-size: 1.1rem; }
    .key-dialog label { display: block; font-size: .9rem; margin-bottom: .3rem; }
    .key-dialog input { width: 100%; margin-bottom: .75rem; }
    #key-cancel { background: none; color: var(--fg); border-color: var(--line); }
    @media (max-width: 30rem) {
      main, .top { padding: 0 .6rem; }
      .top { padding-top: .5rem; }
      .help { display: none; }
      .preview { width: 100vw; max-height: 100vh; margin: 0; border-radius: 0; }
      .preview-line { grid-template-columns: 2.5rem minmax(0, 1fr); gap: .5rem; padding: 0 .5rem; }
    }
    """#
}
