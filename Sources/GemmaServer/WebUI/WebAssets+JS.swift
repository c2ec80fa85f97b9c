extension WebAssets {
    /// `GET /ui/app.js`: search, ask (reading the NDJSON stream as it arrives), the preview of a
    /// hit, the index status, the API key. Text from the server only ever reaches the page as text
    /// nodes (`textContent`, `append`), never as markup.
    static let javaScript = #"""
    'use strict';
    (() => {
      const KEY_STORAGE = 'gemma-embed.apiKey';
      const POLL_MS = 1500;
      const PREVIEW_CONTEXT = 20;
      const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'do', 'does', 'for', 'from', 'how', 'in',
        'is', 'it', 'of', 'on', 'or', 'that', 'the', 'this', 'to', 'what', 'which', 'who', 'with']);

      const $ = (id) => document.getElementById(id);
      const ui = {
        form: $('query-form'), q: $('q'), qLabel: $('q-label'), go: $('go'), folder: $('folder'),
        filesOnly: $('files-only'), filesOnlyLabel: $('files-only-label'), modeSearch: $('mode-search'), modeAsk: $('mode-ask'),
        error: $('error'), summary: $('summary'), results: $('results'), help: $('q-help'),
        answer: $('answer'), answerQuestion: $('answer-question'), answerText: $('answer-text'),
        sources: $('sources'), sourcesHeading: $('sources-heading'),
        status: $('status'), statusText: $('status-text'), statusProgress: $('status-progress'),
        preview: $('preview'), previewTitle: $('preview-title'), previewBody: $('preview-body'), previewClose: $('preview-close'),
        keyDialog: $('key-dialog'), keyForm: $('key-form'), keyInput: $('key-input'), keyReason: $('key-reason'), keyCancel: $('key-cancel'),
      };

      // ---- DOM helpers: every string from the server becomes a text node. ----

      function el(tag, props, ...children) {
        const node = document.createElement(tag);
        for (const [name, value] of Object.entries(props || {})) {
          if (value === undefined || value === null || value === false) continue;
          if (name === 'class') node.className = value;
          else if (name === 'text') node.textContent = String(value);
          else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
          else node.setAttribute(name, value === true ? '' : String(value));
        }
        for (const child of children) {
          if (child !== null && child !== undefined) node.append(child);
        }
        return node;
      }

      const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

      function queryTerms(query) {
        const words = (query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [])
          .filter((word) => word.length > 1 && !STOP_WORDS.has(word));
        return [...new Set(words)].sort((a, b) => b.length - a.length);
      }

      /** `text` with every word that starts like one of `terms` in a <mark>. */
      function marked(text, terms) {
        const fragment = document.createDocumentFragment();
        if (!terms.length) {
          fragment.append(text);
          return fragment;
        }
        const pattern = new RegExp('(?<![\\p{L}\\p{N}_])(?:' + terms.map(escapeRegExp).join('|') + ')', 'giu');
        let last = 0;
        for (const match of text.matchAll(pattern)) {
          if (match.index > last) fragment.append(text.slice(last, match.index));
          fragment.append(el('mark', { text: match[0] }));
          last = match.index + match[0].length;
        }
        fragment.append(text.slice(last));
        return fragment;
      }

      const number = (value) => (typeof value === 'number' ? value.toLocaleString() : '?');

      function relativeTime(iso) {
        if (!iso) return 'never updated';
        const then = Date.parse(iso);
        if (Number.isNaN(then)) return 'updated ' + iso;
        const seconds = Math.round((then - Date.now()) / 1000);
        const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
        const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [Infinity, 'week']];
        let amount = seconds;
        for (const [size, unit] of steps) {
          if (Math.abs(amount) < size) return 'updated ' + format.format(Math.round(amount), unit);
          amount /= size;
        }
        return 'updated ' + new Date(then).toLocaleString();
      }

      // ---- Errors ----

      class ApiError extends Error {
        constructor(status, message, param) {
          super(message);
          this.status = status;
          this.param = param;
        }
      }

      async function errorFrom(response) {
        let message = '';
        let param;
        try {
          const text = await response.text();
          try {
            const body = JSON.parse(text);
            const error = body && body.error;
            if (error && typeof error === 'object') {
              message = String(error.message ?? '');
              param = error.param ?? body.param;
            } else {
              message = String(error ?? '');
              param = body && body.param;
            }
          } catch {
            message = text.trim().slice(0, 500);
          }
        } catch {
          // The body could not be read: the status says what there is to say.
        }
        return new ApiError(response.status, message || `${response.status} ${response.statusText}`.trim(), param || undefined);
      }

      function describe(error) {
        if (!(error instanceof ApiError)) return String((error && error.message) || error);
        let text = error.message;
        if (error.param) text += ` (field “${error.param}”)`;
        if (error.status) text += ` [HTTP ${error.status}]`;
        return text;
      }

      function showError(prefix, error) {
        ui.error.textContent = `${prefix}: ${describe(error)}`;
        ui.error.hidden = false;
      }

      function clearError() {
        ui.error.hidden = true;
        ui.error.textContent = '';
      }

      // ---- The API key: asked for once, kept in localStorage, sent as a bearer token. ----

      let keyPrompt = null;
      let keyDeclined = false;

      function storedKey() {
        try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
      }

      function askForKey(reason) {
        if (keyPrompt) return keyPrompt;
        keyPrompt = new Promise((resolve, reject) => {
          const listeners = new AbortController();
          const finish = (key) => {
            listeners.abort();
            keyPrompt = null;
            if (ui.keyDialog.open) ui.keyDialog.close();
            if (key) {
              keyDeclined = false;
              resolve(key);
            } else {
              keyDeclined = true;
              reject(new ApiError(401, 'This server needs an API key.'));
            }
          };
          ui.keyForm.addEventListener('submit', (event) => {
            event.preventDefault();
            const key = ui.keyInput.value.trim();
            if (!key) return;
            try { localStorage.setItem(KEY_STORAGE, key); } catch { /* private mode: kept for this call only */ }
            finish(key);
          }, { signal: listeners.signal });
          ui.keyCancel.addEventListener('click', () => finish(''), { signal: listeners.signal });
          ui.keyDialog.addEventListener('cancel', () => finish(''), { signal: listeners.signal });
          ui.keyReason.textContent = reason;
          ui.keyInput.value = '';
          ui.keyDialog.showModal();
          ui.keyInput.focus();
        });
        return keyPrompt;
      }

      /**
       * fetch() with the stored key; on 401 asks for the key (once for every call waiting) and
       * tries again. `interactive: false` (the status poll) does not ask again after a refusal.
       */
      async function api(path, init = {}, { interactive = true } = {}) {
        for (let attempt = 0; ; attempt += 1) {
          const key = storedKey();
          const headers = new Headers(init.headers || {});
          if (key) headers.set('Authorization', `Bearer ${key}`);
          let response;
          try {
            response = await fetch(path, { ...init, headers });
          } catch (error) {
            if (error && error.name === 'AbortError') throw error;
            throw new ApiError(0, 'The server cannot be reached.');
          }
          if (response.status !== 401) return response;
          const refusal = await errorFrom(response);
          if ((!interactive && keyDeclined) || attempt >= 3) throw refusal;
          if (key && storedKey() === key) {
            try { localStorage.removeItem(KEY_STORAGE); } catch { /* nothing kept */ }
          }
          await askForKey(key ? 'The key kept in this browser was refused: enter the right one.' : 'This server needs an API key.');
        }
      }

      const postJSON = (path, body, options) => api(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/x-ndjson' },
        body: JSON.stringify(body),
        ...options,
      });

      // ---- Modes ----

      let mode = 'search';

      function setMode(next) {
        mode = next === 'ask' ? 'ask' : 'search';
        (mode === 'ask' ? ui.modeAsk : ui.modeSearch).checked = true;
        ui.go.textContent = mode === 'ask' ? 'Ask' : 'Search';
        ui.q.placeholder = mode === 'ask' ? 'Ask a question about your files' : 'Search (press / to come back here)';
        ui.qLabel.textContent = mode === 'ask' ? 'Ask a question' : 'Search the index';
        ui.filesOnlyLabel.hidden = mode === 'ask';
        ui.help.textContent = mode === 'ask'
          ? 'Enter asks. The sources come first, then the answer as it is written; ↓ or Tab moves through the sources.'
          : 'Enter searches. ↓ or Tab moves through the hits, Enter opens one, Esc closes it.';
        ui.results.hidden = mode === 'ask';
        ui.answer.hidden = mode !== 'ask' || !ui.answerQuestion.textContent;
        document.body.dataset.mode = mode;
        ui.summary.textContent = '';
      }

      function rememberInURL(text) {
        const params = new URLSearchParams();
        if (text) params.set('q', text);
        if (mode === 'ask') params.set('mode', 'ask');
        if (ui.folder.value.trim()) params.set('path', ui.folder.value.trim());
        if (ui.filesOnly.checked) params.set('files_only', '1');
        const query = params.toString();
        history.replaceState(null, '', query ? `?${query}` : location.pathname);
      }

      // ---- Search ----

      let searchSequence = 0;
      let currentTerms = [];

      function snippetOf(hit) {
        const lines = String(hit.text ?? '').split('\n');
        const first = Number.isInteger(hit.start_line) ? hit.start_line : hit.line;
        let index = Number.isInteger(hit.line) && Number.isInteger(first) ? hit.line - first : 0;
        if (!(index >= 0 && index < lines.length)) index = 0;
        let line = lines[index].trim();
        if (!line) line = (lines.find((candidate) => candidate.trim()) || '').trim();
        if (line.length <= 320) return line;
        const probe = currentTerms.length ? new RegExp(currentTerms.map(escapeRegExp).join('|'), 'iu').exec(line) : null;
        const start = Math.max(0, (probe ? probe.index : 0) - 100);
        return (start > 0 ? '… ' : '') + line.slice(start, start + 300) + (start + 300 < line.length ? ' …' : '');
      }

      function hitButton(hit, index) {
        const location = `${hit.path}:${hit.line}`;
        const score = typeof hit.score === 'number' ? hit.score.toFixed(3) : '';
        const detail = [typeof hit.dense === 'number' ? `dense ${hit.dense.toFixed(3)}` : null,
          typeof hit.lexical === 'number' ? `lexical ${hit.lexical.toFixed(3)}` : null].filter(Boolean).join(', ');
        const button = el('button', {
          type: 'button', class: 'hit', id: `hit-${index + 1}`, 'data-testid': 'hit', 'data-rank': index + 1,
          'data-path': hit.path, 'data-line': hit.line,
          onclick: () => openPreview(hit, button),
        },
        el('span', { class: 'hit-head' },
          el('span', { class: 'hit-loc', 'data-testid': 'hit-location', text: location }),
          el('span', { class: 'hit-score', 'data-testid': 'hit-score', title: detail || null, text: score ? `score ${score}` : '' })),
        hit.title ? el('span', { class: 'hit-title', 'data-testid': 'hit-title', text: hit.title }) : null,
        el('span', { class: 'hit-snippet', 'data-testid': 'hit-snippet' }, marked(snippetOf(hit), currentTerms)));
        return el('li', {}, button);
      }

      async function runSearch(query) {
        const sequence = ++searchSequence;
        currentTerms = queryTerms(query);
        const body = { query, k: 10 };
        const folder = ui.folder.value.trim();
        if (folder) body.path = folder;
        if (ui.filesOnly.checked) body.files_only = true;
        ui.summary.textContent = 'Searching…';
        ui.results.setAttribute('aria-busy', 'true');
        try {
          const response = await postJSON('/api/search', body);
          if (!response.ok) throw await errorFrom(response);
          const data = await response.json();
          if (sequence !== searchSequence) return;
          const hits = Array.isArray(data.hits) ? data.hits : [];
          ui.results.replaceChildren(...hits.map(hitButton));
          const took = typeof data.took_ms === 'number' ? ` in ${data.took_ms.toFixed(1)} ms` : '';
          ui.summary.textContent = hits.length ? `${hits.length} hit${hits.length === 1 ? '' : 's'}${took}` : `No hits${took}.`;
          ui.results.dataset.state = 'done';
        } catch (error) {
          if (sequence !== searchSequence) return;
          ui.results.replaceChildren();
          ui.summary.textContent = '';
          ui.results.dataset.state = 'error';
          showError('Search failed', error);
        } finally {
          if (sequence === searchSequence) ui.results.setAttribute('aria-busy', 'false');
        }
      }

      // ---- Ask ----

      let askController = null;
      let answerSources = new Map();

      function sourceButton(source) {
        const location = `${source.path}:${source.line}`;
        const button = el('button', {
          type: 'button', class: 'source', 'data-testid': 'source', 'data-n': source.n, 'data-path': source.path,
          'data-line': source.line, onclick: () => openPreview(source, button),
        },
        el('span', { class: 'source-n', text: `[${source.n}]` }),
        el('span', { class: 'source-text', text: source.title ? `${location} — ${source.title}` : location }));
        return el('li', { id: `source-${source.n}` }, button);
      }

      function showSources(sources) {
        answerSources = new Map();
        sources.forEach((source, index) => {
          const n = Number.isInteger(source.n) ? source.n : index + 1;
          answerSources.set(n, { ...source, n });
        });
        ui.sources.replaceChildren(...[...answerSources.values()].map(sourceButton));
        ui.sourcesHeading.hidden = answerSources.size === 0;
      }

      /** The finished answer, its [n] citations turned into links to the sources' previews. */
      function showFinalAnswer(text) {
        const fragment = document.createDocumentFragment();
        let last = 0;
        for (const match of text.matchAll(/\[(\d+)\]/g)) {
          const source = answerSources.get(Number(match[1]));
          if (!source) continue;
          fragment.append(text.slice(last, match.index));
          const cite = el('button', {
            type: 'button', class: 'cite', 'data-testid': 'cite', 'aria-label': `Source ${source.n}: ${source.path}`,
            text: match[0],
          });
          cite.addEventListener('click', () => openPreview(source, cite));
          fragment.append(cite);
          last = match.index + match[0].length;
        }
        fragment.append(text.slice(last));
        ui.answerText.replaceChildren(fragment);
      }

      function setAnswerState(state) {
        ui.answerText.dataset.state = state;
        ui.answerText.setAttribute('aria-busy', state === 'streaming' || state === 'waiting' ? 'true' : 'false');
      }

      async function runAsk(question) {
        if (askController) askController.abort();
        const controller = new AbortController();
        askController = controller;
        currentTerms = queryTerms(question);
        ui.answer.hidden = false;
        ui.answerQuestion.textContent = question;
        ui.answerText.replaceChildren();
        ui.answerText.dataset.pieces = '0';
        showSources([]);
        setAnswerState('waiting');
        ui.summary.textContent = 'Finding sources…';
        const body = { question, k: 4, stream: true };
        const folder = ui.folder.value.trim();
        if (folder) body.path = folder;
        let streamed = '';
        let pieces = 0;
        let finished = false;
        const handle = (message) => {
          if (message.error !== undefined) throw new ApiError(0, String(message.error));
          if (Array.isArray(message.sources)) {
            showSources(message.sources);
            ui.summary.textContent = 'Writing the answer…';
          }
          if (message.done) {
            finished = true;
            const whole = typeof message.answer === 'string' ? message.answer : streamed;
            showFinalAnswer(whole);
            setAnswerState('done');
            const tokens = typeof message.generated_tokens === 'number' ? `${message.generated_tokens} tokens` : '';
            ui.summary.textContent = ['Answered', tokens].filter(Boolean).join(': ');
          } else if (typeof message.answer === 'string') {
            streamed += message.answer;
            pieces += 1;
            ui.answerText.append(message.answer);
            ui.answerText.dataset.pieces = String(pieces);
            setAnswerState('streaming');
          }
        };
        try {
          const response = await postJSON('/api/ask', body, { signal: controller.signal });
          if (!response.ok) throw await errorFrom(response);
          const type = response.headers.get('content-type') || '';
          if (!type.includes('ndjson') || !response.body) {
            const data = await response.json();
            handle({ sources: Array.isArray(data.sources) ? data.sources : [] });
            handle({ done: true, answer: String(data.answer ?? '') });
            return;
          }
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let newline;
            while ((newline = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, newline).trim();
              buffer = buffer.slice(newline + 1);
              if (line) handle(JSON.parse(line));
            }
          }
          buffer += decoder.decode();
          if (buffer.trim()) handle(JSON.parse(buffer));
          if (!finished) throw new ApiError(0, 'The answer stopped before it was complete.');
        } catch (error) {
          if (controller.signal.aborted) return;
          setAnswerState('error');
          ui.summary.textContent = '';
          showError('Ask failed', error);
        } finally {
          if (askController === controller) askController = null;
        }
      }

      // ---- Preview of a hit ----

      let previewOpener = null;
      let previewSequence = 0;

      async function openPreview(target, opener) {
        const sequence = ++previewSequence;
        previewOpener = opener || null;
        const line = Number(target.line) || 1;
        ui.previewTitle.textContent = `${target.path}:${line}`;
        ui.previewBody.replaceChildren(el('span', { class: 'preview-line', text: 'Loading…' }));
        ui.preview.dataset.state = 'loading';
        if (!ui.preview.open) ui.preview.showModal();
        ui.previewBody.focus();
        try {
          const params = new URLSearchParams({ path: target.path, line: String(line), context: String(PREVIEW_CONTEXT) });
          const response = await api(`/api/file?${params}`);
          if (!response.ok) throw await errorFrom(response);
          const data = await response.json();
          if (sequence !== previewSequence) return;
          const first = Number.isInteger(data.start_line) ? data.start_line : 1;
          const chunkStart = Number.isInteger(target.start_line) ? target.start_line : line;
          const chunkEnd = Number.isInteger(target.end_line) ? target.end_line : line;
          let hitLine = null;
          const rows = (Array.isArray(data.lines) ? data.lines : []).map((text, index) => {
            const n = first + index;
            const classes = ['preview-line'];
            if (n >= chunkStart && n <= chunkEnd) classes.push('in-chunk');
            if (n === line) classes.push('hit-line');
            const row = el('span', {
              class: classes.join(' '), 'data-line': n, 'data-testid': n === line ? 'preview-hit-line' : null,
              'aria-current': n === line ? 'true' : null,
            }, el('span', { class: 'line-no', 'aria-hidden': 'true', text: n }), el('span', { class: 'line-text' }, marked(String(text), currentTerms)));
            if (n === line) hitLine = row;
            return row;
          });
          ui.previewBody.replaceChildren(...rows);
          ui.preview.dataset.state = 'done';
          if (hitLine) hitLine.scrollIntoView({ block: 'center' });
        } catch (error) {
          if (sequence !== previewSequence) return;
          ui.preview.dataset.state = 'error';
          ui.previewBody.replaceChildren(el('span', { class: 'preview-line', 'data-testid': 'preview-error', text: `Cannot open the file: ${describe(error)}` }));
        }
      }

      ui.previewClose.addEventListener('click', () => ui.preview.close());
      ui.preview.addEventListener('click', (event) => {
        if (event.target === ui.preview) ui.preview.close();   // a click on the backdrop
      });
      ui.preview.addEventListener('close', () => {
        previewSequence += 1;
        // The close event is queued: a key pressed as the dialog closed (say "/") may already have
        // moved the focus on, and that choice wins. Only a focus left nowhere goes back to the opener.
        const active = document.activeElement;
        if (active && active !== document.body && !ui.preview.contains(active)) return;
        if (previewOpener && previewOpener.isConnected) previewOpener.focus();
        else ui.q.focus();
      });

      // ---- Index status, polled while the page is visible ----

      let pollTimer = null;
      let polling = false;

      function showStatus(info) {
        const parts = [`${number(info.files)} files`, `${number(info.chunks)} chunks`, relativeTime(info.updated_at)];
        const warnings = [];
        for (const folder of Array.isArray(info.watching) ? info.watching : []) {
          if (folder && folder.exists === false) warnings.push(`watched folder missing: ${folder.path}`);
        }
        if (info.last_error) warnings.push(String(info.last_error));
        const update = info.update;
        if (update) {
          const total = update.bytes_to_process > 0 ? update.bytes_to_process : update.files_to_process;
          const done = update.bytes_to_process > 0 ? update.bytes_processed : update.files_processed;
          ui.statusProgress.max = Math.max(1, Number(total) || 1);
          ui.statusProgress.value = Math.min(ui.statusProgress.max, Number(done) || 0);
          ui.statusProgress.hidden = false;
          parts.push(`updating: ${number(update.files_processed)} of ${number(update.files_to_process)} files`);
        } else {
          ui.statusProgress.hidden = true;
        }
        ui.statusText.textContent = [...parts, ...warnings].join(' · ');
        ui.status.classList.toggle('warn', warnings.length > 0);
        ui.status.title = [info.path, info.model, info.quantization, info.dimensions ? `${info.dimensions} dimensions` : null]
          .filter(Boolean).join(' · ');
        ui.status.dataset.state = update ? 'updating' : 'ready';
        ui.status.dataset.files = String(info.files ?? '');
        ui.status.dataset.chunks = String(info.chunks ?? '');
      }

      function showStatusError(error) {
        ui.statusProgress.hidden = true;
        ui.status.classList.add('warn');
        ui.status.dataset.state = 'error';
        ui.statusText.textContent = error instanceof ApiError && error.status === 503
          ? `No index: ${error.message.replace(/^no index:\s*/i, '')}` : `Index status: ${describe(error)}`;
      }

      async function pollStatus() {
        clearTimeout(pollTimer);
        if (polling) return;
        polling = true;
        try {
          const response = await api('/api/index', { headers: { Accept: 'application/json' } }, { interactive: false });
          if (!response.ok) throw await errorFrom(response);
          showStatus(await response.json());
        } catch (error) {
          showStatusError(error);
        } finally {
          polling = false;
        }
        if (document.visibilityState === 'visible') pollTimer = setTimeout(pollStatus, POLL_MS);
      }

      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') pollStatus();
        else clearTimeout(pollTimer);
      });

      // ---- Keyboard ----

      function isTyping(target) {
        if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
        return target instanceof HTMLTextAreaElement || (target instanceof HTMLElement && target.isContentEditable);
      }

      document.addEventListener('keydown', (event) => {
        if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
        if (ui.preview.open || ui.keyDialog.open) return;
        if (event.key === '/' && !isTyping(event.target)) {
          event.preventDefault();
          ui.q.focus();
          ui.q.select();
          return;
        }
        if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
        const items = [...document.querySelectorAll(mode === 'ask' ? '#sources .source, #answer-text .cite' : '#results .hit')];
        if (!items.length) return;
        const index = items.indexOf(document.activeElement);
        if (index < 0) {
          if (event.target === ui.q && event.key === 'ArrowDown') {
            event.preventDefault();
            items[0].focus();
          }
          return;
        }
        event.preventDefault();
        if (event.key === 'ArrowDown') items[Math.min(index + 1, items.length - 1)].focus();
        else if (index === 0) ui.q.focus();
        else items[index - 1].focus();
      });

      // ---- Wiring ----

      ui.form.addEventListener('submit', (event) => {
        event.preventDefault();
        const text = ui.q.value.trim();
        if (!text) {
          ui.q.focus();
          return;
        }
        clearError();
        rememberInURL(text);
        if (mode === 'ask') runAsk(text);
        else runSearch(text);
      });
      for (const radio of [ui.modeSearch, ui.modeAsk]) {
        radio.addEventListener('change', () => {
          if (radio.checked) setMode(radio.value);
          clearError();
          rememberInURL(ui.q.value.trim());
        });
      }

      const params = new URLSearchParams(location.search);
      if (params.get('path')) ui.folder.value = params.get('path');
      if (params.get('files_only') === '1') ui.filesOnly.checked = true;
      setMode(params.get('mode') || 'search');
      if (params.get('q')) {
        ui.q.value = params.get('q');
        if (mode === 'search') runSearch(ui.q.value.trim());
      }
      ui.q.focus();
      pollStatus();
    })();
    """#
}
