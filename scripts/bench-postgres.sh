#!/usr/bin/env bash
# The PostgreSQL store at scale, on loopback, bounded: a synthetic index of N chunks (the same
# clustered random unit vectors and pseudo-word text as `gemma-embed bench-search`, so the SQLite
# store's figures compare) is written through the store with no vector index (insert throughput),
# then for each kind of HNSW index (halfvec, bit, vector): build time and size, then search
# latency p50/p99 and recall@10 against exact float32 at three ef_search values, and searches/s
# with 1 and 32 clients at the middle one.
#
# Usage: scripts/bench-postgres.sh N MODEL [KINDS] [EF_VALUES]
#   N       chunks (e.g. 1000000)
#   MODEL   the model the synthetic index is recorded as built with (a GGUF or folder; it embeds
#           no documents, only the timed sample queries)
#   KINDS   default "halfvec bit vector"; EF_VALUES default "40 100 200"
# Environment: BENCH_DIR (default /tmp/gemma-bench-pg: the server's folder, kept for reuse),
#   GEMMA_EMBED_BIN (default .build/release/gemma-embed), BENCH_QUERIES (200), BENCH_RECALL (100),
#   BENCH_CLIENT_SECONDS (15).
set -euo pipefail
cd "$(dirname "$0")/.."
chunks="${1:?usage: scripts/bench-postgres.sh N MODEL [KINDS] [EF_VALUES]}"
model="${2:?usage: scripts/bench-postgres.sh N MODEL [KINDS] [EF_VALUES]}"
kinds="${3:-halfvec bit vector}"
efs="${4:-40 100 200}"
bin="${GEMMA_EMBED_BIN:-.build/release/gemma-embed}"
dir="${BENCH_DIR:-/tmp/gemma-bench-pg}"
queries="${BENCH_QUERIES:-200}"
recall="${BENCH_RECALL:-100}"
seconds="${BENCH_CLIENT_SECONDS:-15}"
[ -x "$bin" ] || { echo "no $bin: swift build -c release --product gemma-embed" >&2; exit 1; }
command -v bc >/dev/null || { echo "bc is needed (apt-get install bc)" >&2; exit 1; }

url="$(scripts/postgres.sh start "$dir")"
database="bench_${chunks}"
if [ "$(scripts/postgres.sh psql "$dir" -X -tA -c "SELECT count(*) FROM pg_database WHERE datname = '$database'")" = 0 ]; then
    scripts/postgres.sh psql "$dir" -X -q -c "CREATE DATABASE $database"
fi
base="${url%/*}/$database"
psql() { scripts/postgres.sh psql "$dir" -X -tA -d "$database" "$@"; }

echo "== $chunks chunks into PostgreSQL (no vector index), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
have=0
if [ "$(psql -c "SELECT to_regclass('gemma_chunks') IS NOT NULL")" = t ]; then have="$(psql -c "SELECT count(*) FROM gemma_chunks")"; fi
if [ "$have" != "$chunks" ]; then
    start=$(date +%s.%N)
    "$bin" bench-search --model "$model" --index "$base?vector_index=none" --chunks "$chunks" --build --queries 1 --recall-queries 1 >/dev/null
    end=$(date +%s.%N)
    echo "insert: $(echo "$chunks / ($end - $start)" | bc -l | xargs printf '%.0f') chunks/s ($(echo "$end - $start" | bc -l | xargs printf '%.1f') s, through SemanticIndex's store in transactions of 256 files)"
    psql -q -c "VACUUM ANALYZE gemma_chunks"
fi
echo "table: $(psql -c "SELECT pg_size_pretty(pg_total_relation_size('gemma_chunks') - coalesce(pg_relation_size(to_regclass('gemma_chunks_embedding')), 0))") (rows, text, tsvector and its GIN index)"

for kind in $kinds; do
    case "$kind" in
        vector) expression="embedding vector_cosine_ops" ;;
        halfvec) expression="(embedding::halfvec(768)) halfvec_cosine_ops" ;;
        bit) expression="(binary_quantize(embedding)::bit(768)) bit_hamming_ops" ;;
        *) echo "unknown kind $kind" >&2; exit 1 ;;
    esac
    psql -q -c "DROP INDEX IF EXISTS gemma_chunks_embedding"
    start=$(date +%s.%N)
    psql -q -c "SET maintenance_work_mem = '8GB'" -c "SET max_parallel_maintenance_workers = 1" \
        -c "CREATE INDEX gemma_chunks_embedding ON gemma_chunks USING hnsw ($expression) WITH (m = 16, ef_construction = 64)"
    end=$(date +%s.%N)
    psql -q -c "UPDATE gemma_meta SET value = '$kind' WHERE key = 'vector_index'"
    echo "== $kind: HNSW (m 16, ef_construction 64) built in $(echo "$end - $start" | bc -l | xargs printf '%.1f') s, $(psql -c "SELECT pg_size_pretty(pg_relation_size('gemma_chunks_embedding'))")"
    for ef in $efs; do
        clients=()
        [ "$ef" = 100 ] && clients=(--clients 1 32 --client-seconds "$seconds")
        echo "-- ef_search $ef"
        "$bin" bench-search --model "$model" --index "$base?ef_search=$ef" --chunks "$chunks" --queries "$queries" \
            --recall-queries "$recall" "${clients[@]}" | grep -E "warm search|recall|throughput|first search"
    done
done
