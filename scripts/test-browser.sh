#!/usr/bin/env bash
# The web page (/ui/) in a real browser: Debian's chromium driven by Playwright (pytest) against
# `gemma-embed serve` on an index of ../shared/search-eval/docs with the Gemma 3 270M generator,
# plus a second server started with an API key. Screenshots go to .build/ui-search.png,
# .build/ui-preview.png, .build/ui-ask.png and .build/ui-phone.png.
#
# Playwright's own browser download is never used (it cannot work offline): the tests launch the
# system chromium (CHROMIUM, default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] && [ "$(uname -s)" = "Linux" ]; then
    echo "installing chromium ..." >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
[ -x "$chromium" ] || { echo "error: no chromium at $chromium" >&2; exit 1; }

venv=.venv-browser
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check playwright pytest

# GEMMA_EMBED_BIN: a gemma-embed already built from this tree (scripts/test.sh passes its own).
if [ -n "${GEMMA_EMBED_BIN:-}" ]; then
    bin=$GEMMA_EMBED_BIN
else
    swift build -c release --product gemma-embed
    bin=$PWD/.build/release/gemma-embed
fi

docs=$(cd ../shared/search-eval/docs && pwd)
queries=$(cd ../shared/search-eval && pwd)/queries.jsonl
generator=${GEMMA_GENERATOR:-$HOME/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf}

# The search-eval index the CLI tests keep under .build/test-indexes (SearchServerCLITests): an update
# re-embeds only what changed, so after `swift test` this takes seconds (alone, a few minutes).
index=$PWD/.build/test-indexes/search-eval.sqlite
mkdir -p "$(dirname "$index")"
"$bin" index --index "$index" "$docs"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {
    python3 - "$1" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("gemma-embed serve did not start")
PY
}

port=$(free_port)
"$bin" serve --host 127.0.0.1 --port "$port" --index "$index" --generator "$generator" > .build/serve-browser.log 2>&1 &
pid=$!
key_port=$(free_port)
api_key=browser-test-$RANDOM$RANDOM
"$bin" serve --host 127.0.0.1 --port "$key_port" --index "$index" --api-key "$api_key" > .build/serve-browser-key.log 2>&1 &
key_pid=$!
trap 'kill "$pid" "$key_pid" 2>/dev/null || true' EXIT
wait_for "$port" || { cat .build/serve-browser.log >&2; exit 1; }
wait_for "$key_port" || { cat .build/serve-browser-key.log >&2; exit 1; }

status=0
GEMMA_UI_SERVER="http://127.0.0.1:$port" GEMMA_UI_KEY_SERVER="http://127.0.0.1:$key_port" GEMMA_UI_KEY="$api_key" \
    GEMMA_UI_DOCS="$docs" GEMMA_UI_QUERIES="$queries" CHROMIUM="$chromium" GEMMA_UI_SCREENSHOTS="$PWD/.build" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/browser || status=$?

kill -TERM "$pid" "$key_pid"
wait "$pid" || true
wait "$key_pid" || true
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "browser tests failed; server logs: .build/serve-browser.log, .build/serve-browser-key.log" >&2
    exit "$status"
fi
echo "screenshots: .build/ui-search.png .build/ui-preview.png .build/ui-ask.png .build/ui-phone.png"
