/// The web page's files as the binary serves them (see ``WebUI``).
enum WebAssets {}

extension WebAssets {
    /// `GET /ui/`: the page. Its script and style sheet come from the same server; nothing is loaded
    /// from anywhere else.
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="light dark">
    <title>gemma-embed search</title>
    <link rel="stylesheet" href="/ui/app.css">
    <script src="/ui/app.js" defer></script>
    </head>
    <body>
    <a class="skip" href="#results">Skip to results</a>
    <header class="top">
      <h1>gemma-embed</h1>
      <section id="status" class="status" data-testid="status" aria-label="Index status" aria-live="polite">
        <span id="status-text" data-testid="status-text">Reading the index status…</span>
        <progress id="status-progress" data-testid="status-progress" max="1" value="0" hidden aria-label="Index update progress"></progress>
      </section>
    </header>
    <main>
      <form id="query-form" class="query" role="search" aria-label="Search or ask the index" autocomplete="off">
        <fieldset class="modes">
          <legend class="visually-hidden">Mode</legend>
          <label><input type="radio" name="mode" value="search" id="mode-search" data-testid="mode-search" checked> Search</label>
          <label><input type="radio" name="mode" value="ask" id="mode-ask" data-testid="mode-ask"> Ask</label>
        </fieldset>
        <div class="row">
          <label for="q" class="visually-hidden" id="q-label">Search the index</label>
          <input id="q" data-testid="query" type="search" name="q" autofocus spellcheck="false"
                 placeholder="Search (press / to come back here)" aria-describedby="q-help" maxlength="4000">
          <button type="submit" id="go" data-testid="go">Search</button>
        </div>
        <div class="row filters">
          <label for="folder">Folder</label>
          <input id="folder" data-testid="folder" type="text" name="path" spellcheck="false" placeholder="/only/under/this/folder">
          <label class="check" id="files-only-label"><input id="files-only" data-testid="files-only" type="checkbox" name="files_only"> files only</label>
        </div>
        <p id="q-help" class="help">Enter searches. ↓ or Tab moves through the hits, Enter opens one, Esc closes it.</p>
      </form>
      <div id="error" class="error" data-testid="error" role="alert" hidden></div>
      <section id="answer" class="answer" data-testid="answer-section" aria-label="Answer" hidden>
        <h2 class="visually-hidden">Answer</h2>
        <p id="answer-question" class="question" data-testid="answer-question"></p>
        <h3 id="sources-heading" class="sources-heading" hidden>Sources</h3>
        <ol id="sources" class="sources" data-testid="sources" aria-labelledby="sources-heading"></ol>
        <div id="answer-text" class="answer-text" data-testid="answer" data-state="idle" aria-live="polite" aria-busy="false"></div>
      </section>
      <p id="summary" class="summary" data-testid="summary" aria-live="polite"></p>
      <ol id="results" class="results" data-testid="results" aria-label="Search results" tabindex="-1"></ol>
    </main>
    <dialog id="preview" class="preview" data-testid="preview" aria-labelledby="preview-title">
      <div class="preview-head">
        <h2 id="preview-title" data-testid="preview-title"></h2>
        <button type="button" id="preview-close" data-testid="preview-close" aria-label="Close the preview (Esc)">✕</button>
      </div>
      <pre id="preview-body" class="preview-body" data-testid="preview-body" tabindex="0" aria-label="File text"></pre>
    </dialog>
    <dialog id="key-dialog" class="key-dialog" data-testid="key-dialog" aria-labelledby="key-title">
      <form id="key-form" method="dialog">
        <h2 id="key-title">API key</h2>
        <p id="key-reason" data-testid="key-reason">This server needs an API key.</p>
        <label for="key-input">Key (kept in this browser)</label>
        <input id="key-input" data-testid="key-input" type="password" name="key" required autocomplete="current-password" spellcheck="false">
        <div class="row">
          <button type="submit" id="key-save" data-testid="key-save" value="save">Use this key</button>
          <button type="button" id="key-cancel" data-testid="key-cancel">Cancel</button>
        </div>
      </form>
    </dialog>
    </body>
    </html>
    """#
}
