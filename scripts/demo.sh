#!/usr/bin/env bash
# Sets up (first run: OpenBLAS, SQLite headers, pdftotext, model download), builds, then shows the
# main job: a semantic index over this project's documents and a search in it, and the model card
# example (how similar is each document to the query?).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product gemma-embed
index=.build/demo-index.sqlite
.build/release/gemma-embed index --index "$index" README.md BENCHMARKS.md
echo "search: how long does a query take on two cores?" >&2
.build/release/gemma-embed search --index "$index" -k 3 "how long does a query take on two cores?"
echo "search (German): wie finde ich Dateien mit einem Bezeichner?" >&2
.build/release/gemma-embed search --index "$index" -k 3 "wie finde ich Dateien mit einem Bezeichner?"
.build/release/gemma-embed similarity \
    --query "Which planet is known as the Red Planet?" \
    "Venus is often called Earth's twin because of its similar size and proximity." \
    "Mars, known for its reddish appearance, is often referred to as the Red Planet." \
    "Jupiter, the largest planet in our solar system, has a prominent red spot." \
    "Saturn, famous for its rings, is sometimes mistaken for the Red Planet."
