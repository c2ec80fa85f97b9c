#!/usr/bin/env bash
# Integration tests of `gemma-embed serve` with the real clients from PyPI (ollama, openai, LangChain,
# LlamaIndex) on the real embedding model and the Gemma 3 270M generator: starts the server on a free loopback port, runs Tests/clients with
# pytest, then stops the server with SIGTERM and checks that it exits cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-clients
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check openai ollama langchain-openai langchain-ollama llama-index-embeddings-ollama pytest
# GEMMA_EMBED_BIN: a gemma-embed already built from this tree (scripts/test.sh passes the one `swift test`
# built, which a plain `swift build` would otherwise compile again with other flags).
if [ -n "${GEMMA_EMBED_BIN:-}" ]; then
    bin=$GEMMA_EMBED_BIN
else
    swift build -c release --product gemma-embed
    bin=$PWD/.build/release/gemma-embed
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=.build/serve-clients.log
# The Gemma 3 generator (scripts/fetch-generator.sh) answers the chat and generate routes.
export GEMMA_GENERATOR=${GEMMA_GENERATOR:-$HOME/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf}
"$bin" serve --host 127.0.0.1 --port "$port" --generator "$GEMMA_GENERATOR" > "$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("gemma-embed serve did not start")
PY
GEMMA_SERVER="http://127.0.0.1:$port" GEMMA_EMBED="$bin" "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/clients
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "gemma-embed serve exited with status $status after SIGTERM" >&2
    cat "$log" >&2
    exit 1
fi
echo "gemma-embed serve stopped cleanly after SIGTERM"
