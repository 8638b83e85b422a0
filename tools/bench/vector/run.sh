#!/bin/sh
# run.sh -- the ANN comparison: NextDB's HNSW (tools/bench/vector/ann.c, called
# directly), hnswlib and FAISS HNSW on Fashion-MNIST with the same parameters, data
# and ground truth, each pinned to one core with numactl; prints one table and, when
# matplotlib is installed, writes a recall-vs-QPS plot.
#
# Usage: tools/bench/vector/run.sh [OUT_DIR]        (default /tmp/nextdb-ann)
# Environment (defaults in brackets):
#   ANN       the ann binary [build/release/tools/ann]
#   DATA      dataset dir [/usr/share/datasets/fashion-mnist]
#   BASE_N [60000]  QUERY_N [10000]  M [16]  EFC [200]
#   EFS       ef_search sweep [10,20,40,80,120,200,400]
#   CPU       core to pin to [1]
#   NEXTDB    the server for the SQL row [build/release/nextdb]; SQL=0 skips that row
#   PG_PORT [57311]  HTTP_PORT [57312]  CLIENT_CPU (the SQL client's core) [0]
# Needs: numactl, gzip, Debian packages dataset-fashion-mnist, python3-hnswlib,
# python3-faiss, python3-numpy (python3-matplotlib for the plot), libpq-dev (the SQL
# row): tools/setup-deps.sh --bench installs them.
# The SQL row ("nextdb-sql", tools/bench/vector/sql_ann.c) starts its own server with
# --shards 1 pinned to CPU and a fresh data directory under OUT_DIR, loads the base
# vectors, builds the index with CREATE INDEX ... USING hnsw and runs the queries as a
# prepared statement over the wire; its QPS counts the server's and the client's CPU
# time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/nextdb-ann}
ANN=${ANN:-build/release/tools/ann}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
BASE_N=${BASE_N:-60000}
QUERY_N=${QUERY_N:-10000}
M=${M:-16}
EFC=${EFC:-200}
EFS=${EFS:-10,20,40,80,120,200,400}
CPU=${CPU:-1}
PY=/usr/bin/python3

if [ ! -x "$ANN" ]; then
    echo "run.sh: $ANN not found; build it with ninja build/release/tools/ann" >&2
    exit 1
fi
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
    echo "run.sh: $DATA missing; apt-get install dataset-fashion-mnist" >&2
    exit 1
fi
mkdir -p "$out"
pin="numactl --physcpubind=$CPU --localalloc"
res="$out/results.tsv"

$pin "$ANN" "$DATA" "$BASE_N" "$QUERY_N" "$M" "$EFC" "$EFS" "$out/gt.bin" > "$res"
if [ "${SQL:-1}" != 0 ]; then
    NEXTDB=${NEXTDB:-build/release/nextdb}
    PG_PORT=${PG_PORT:-57311}
    HTTP_PORT=${HTTP_PORT:-57312}
    CLIENT_CPU=${CLIENT_CPU:-0}
    cc -O2 -Wall -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" \
        -o "$out/sql_ann" "$here/sql_ann.c" -lpq -lm
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
        echo "run.sh: something already answers on port $PG_PORT; set PG_PORT" >&2
        exit 1
    fi
    rm -rf "$out/sqldata"
    $pin "$NEXTDB" --data "$out/sqldata" --shards 1 --pg-port "$PG_PORT" --http-port "$HTTP_PORT" \
        --log-level warn > "$out/server.log" 2>&1 &
    spid=$!
    trap 'kill "$spid" 2>/dev/null || true' EXIT
    i=0
    until pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$spid" 2>/dev/null; then
            echo "run.sh: server did not start (see $out/server.log)" >&2
            exit 1
        fi
        sleep 0.1
    done
    numactl --physcpubind="$CLIENT_CPU" --localalloc "$out/sql_ann" \
        "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" "$spid" \
        "$DATA" "$BASE_N" "$QUERY_N" "$M" "$EFC" "$EFS" "$out/gt.bin" >> "$res"
    kill "$spid"
    wait "$spid" 2>/dev/null || true
    trap - EXIT
fi
$pin $PY "$here/ann_libs.py" run "$DATA" "$BASE_N" "$QUERY_N" "$M" "$EFC" "$EFS" "$out/gt.bin" >> "$res"

grep '^#' "$res"
printf '%-10s %5s %9s %9s %9s %9s %8s %10s\n' system ef recall@10 QPS p50_us p99_us build_s bytes/vec
grep -v '^#' "$res" | while IFS="$(printf '\t')" read -r sys ef rec qps p50 p99 build bpv; do
    printf '%-10s %5s %9s %9s %9s %9s %8s %10s\n' "$sys" "$ef" "$rec" "$qps" "$p50" "$p99" "$build" "$bpv"
done
if $PY -c 'import matplotlib' 2>/dev/null; then
    $PY "$here/ann_libs.py" plot "$res" "$out/recall_qps.png" && echo "plot: $out/recall_qps.png"
fi
