#!/bin/sh
# sql_ab.sh -- A/B of vector search through SQL: two nextdb binaries (OLD, NEW), each
# its own --shards N server pinned to the same core, the same table and index
# (sql_ann.c loads each once), then ROUNDS alternating passes of sql_ann at one
# ef_search (old, new, old, new, ...) in one invocation, so machine load hits both
# alike. Prints each pass's row and a ratio line (new / old, best and median QPS).
#
# Usage: OLD=/path/old/nextdb NEW=build/release/nextdb tools/bench/vector/sql_ab.sh [OUT_DIR]
# Environment [defaults]: EF [20] ROUNDS [3] SHARDS [1] BASE_N [60000] QUERY_N [2000]
#   SA_FORMAT [binary] SA_PASSES [1] CPU (servers) [0] CLIENT_CPU [1]
#   DATA [/usr/share/datasets/fashion-mnist] ANN [build/release/tools/ann] (ground truth)
#   PORT_OLD [57321] PORT_NEW [57323]; KEEP=1 keeps the data directories for a re-run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/nextdb-sql-ab}
OLD=${OLD:?set OLD to the baseline nextdb binary}
NEW=${NEW:-build/release/nextdb}
EF=${EF:-20}
ROUNDS=${ROUNDS:-3}
SHARDS=${SHARDS:-1}
BASE_N=${BASE_N:-60000}
QUERY_N=${QUERY_N:-2000}
CPU=${CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
ANN=${ANN:-build/release/tools/ann}
PORT_OLD=${PORT_OLD:-57321}
PORT_NEW=${PORT_NEW:-57323}
export SA_FORMAT=${SA_FORMAT:-binary} SA_PASSES=${SA_PASSES:-1} SA_REUSE=1
mkdir -p "$out"
cc -O2 -Wall -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" \
    -o "$out/sql_ann" "$here/sql_ann.c" -lpq -lm
if [ ! -f "$out/gt-$BASE_N-$QUERY_N.bin" ]; then
    # ann.c writes the exact ground truth (its own sweep at one ef is a side effect)
    numactl --physcpubind="$CLIENT_CPU" "$ANN" "$DATA" "$BASE_N" "$QUERY_N" 16 200 "$EF" \
        "$out/gt-$BASE_N-$QUERY_N.bin" > "$out/ann.tsv"
fi
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start() { # name binary port -> sets spid
    if pg_isready -q -h 127.0.0.1 -p "$3"; then
        echo "sql_ab.sh: something already answers on port $3" >&2
        exit 1
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$out/data-$1"
    numactl --physcpubind="$CPU" "$2" --data "$out/data-$1" --shards "$SHARDS" --pg-port "$3" \
        --http-port $(($3 + 1)) --log-level warn > "$out/server-$1.log" 2>&1 &
    spid=$!
    pids="$pids $spid"
    i=0
    until pg_isready -q -h 127.0.0.1 -p "$3"; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$spid" 2>/dev/null; then
            echo "sql_ab.sh: server $1 did not start (see $out/server-$1.log)" >&2
            exit 1
        fi
        sleep 0.1
    done
}
run() { # name port pid
    numactl --physcpubind="$CLIENT_CPU" "$out/sql_ann" "host=127.0.0.1 port=$2 user=postgres dbname=postgres" \
        "$3" "$DATA" "$BASE_N" "$QUERY_N" 16 200 "$EF" "$out/gt-$BASE_N-$QUERY_N.bin" | sed "s/^nextdb-sql/$1/"
}
start old "$OLD" "$PORT_OLD"; pid_old=$spid
start new "$NEW" "$PORT_NEW"; pid_new=$spid
res="$out/ab.tsv"
: > "$res"
# the first pass of each loads (unless KEEP kept it) and warms up; not counted
run old "$PORT_OLD" "$pid_old" | grep '^#' || true
run new "$PORT_NEW" "$pid_new" | grep '^#' || true
r=0
while [ $r -lt "$ROUNDS" ]; do
    run old "$PORT_OLD" "$pid_old" | grep -v '^#' | tee -a "$res"
    run new "$PORT_NEW" "$pid_new" | grep -v '^#' | tee -a "$res"
    r=$((r + 1))
done
/usr/bin/python3 - "$res" "$SHARDS" "$EF" "$SA_FORMAT" <<'PY'
import sys, statistics
rows = [l.split('\t') for l in open(sys.argv[1]) if l.strip()]
q = {n: [float(r[3]) for r in rows if r[0] == n] for n in ('old', 'new')}
rec = {n: [r[2] for r in rows if r[0] == n] for n in ('old', 'new')}
print('ratio new/old (shards %s, ef %s, %s parameter): best %.0f / %.0f = %.2fx, median %.0f / %.0f = %.2fx; recall old %s new %s'
      % (sys.argv[2], sys.argv[3], sys.argv[4], max(q['new']), max(q['old']), max(q['new']) / max(q['old']),
         statistics.median(q['new']), statistics.median(q['old']),
         statistics.median(q['new']) / statistics.median(q['old']), ','.join(sorted(set(rec['old']))),
         ','.join(sorted(set(rec['new'])))))
PY
