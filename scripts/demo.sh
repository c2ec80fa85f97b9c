#!/usr/bin/env bash
# Sets up (first run: OpenBLAS, model download) and runs the model card example:
# how similar is each document to the query?
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product gemma-embed
.build/release/gemma-embed similarity \
    --query "Which planet is known as the Red Planet?" \
    "Venus is often called Earth's twin because of its similar size and proximity." \
    "Mars, known for its reddish appearance, is often referred to as the Red Planet." \
    "Jupiter, the largest planet in our solar system, has a prominent red spot." \
    "Saturn, famous for its rings, is sometimes mistaken for the Red Planet."
