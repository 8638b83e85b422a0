#!/usr/bin/env bash
# tools/bench/bigtxn.sh -- transactions bigger than memory (shards/README.md, "Large
# transactions"), NextDB against a throwaway PostgreSQL 15 in one invocation:
#   1. `pgbench -i -s SCALE` unchanged (its COPY loads SCALE x 100 000 accounts in one
#      transaction), seconds; then count(*) and sum(abalance) checked
#   2. `INSERT INTO big SELECT g, g FROM generate_series(1, ROWS) g` in one
#      transaction, seconds; then count(*) and sum(id) checked
#   3. NextDB's peak RSS (VmHWM) over both, against its --memory budget; then `nextdb
#      check` over the data directory after a clean stop
# Same fairness rules as storage.sh (numactl placement, PostgreSQL with fsync=on,
# synchronous_commit=on and shared_buffers = --memory).
#
# Usage: tools/bench/bigtxn.sh [--scale N] [--rows N] [--memory-mb MB]
#            [--only nextdb|postgres] [--keep]
#   defaults: --scale 50 --rows 20000000 --memory-mb 256
#   (the issue's data set: --scale 200; CI-sized: --scale 5 --rows 1000000 --memory-mb 32)
# Environment: NEXTDB_BIN (default build/release/nextdb), PG_BINDIR
# (default /usr/lib/postgresql/15/bin).
set -euo pipefail

SCALE=50 ROWS=20000000 MEMORY_MB=256 ONLY="" KEEP=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
posint() { [[ "$2" =~ ^[1-9][0-9]{0,10}$ ]] || { echo "bigtxn.sh: $1 needs a positive integer, not '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) posint "$1" "${2:-}"; SCALE=$2; shift 2 ;;
        --rows) posint "$1" "${2:-}"; ROWS=$2; shift 2 ;;
        --memory-mb) posint "$1" "${2:-}"; MEMORY_MB=$2; shift 2 ;;
        --only) ONLY=${2:-}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "bigtxn.sh: unknown argument $1" >&2; usage 2 >&2 ;;
    esac
done
case "$ONLY" in ""|nextdb|postgres) ;; *) echo "--only takes nextdb or postgres" >&2; exit 2 ;; esac
[ "$MEMORY_MB" -ge 16 ] || { echo "bigtxn.sh: --memory-mb must be at least 16" >&2; exit 2; }

REPO=$(cd "$(dirname "$0")/../.." && pwd)
NEXTDB_BIN=${NEXTDB_BIN:-$REPO/build/release/nextdb}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

BENCH_NAME=bigtxn-bench
BENCH_TOOLS="pgbench pg_isready psql numactl"
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
vmhwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
q() { local port=$1; shift; numactl --physcpubind="$CLIENT_CPUS" psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

declare -A R

run_phases() {   # who, port
    local who=$1 port=$2 t out accounts=$((SCALE * 100000)) n
    echo "[$who] pgbench -i -s $SCALE ($accounts accounts in one COPY transaction)"
    t=$(now)
    out=$(numactl --physcpubind="$CLIENT_CPUS" pgbench -i -s "$SCALE" -h 127.0.0.1 -p "$port" -U postgres postgres 2>&1) \
        || { echo "$out" | tail -20; die "$who: pgbench -i failed"; }
    R[$who,init_s]=$(elapsed "$t")
    n=$(q "$port" -c "SELECT count(*) || ' ' || sum(abalance) FROM pgbench_accounts")
    [ "$n" = "$accounts 0" ] || die "$who: pgbench_accounts holds '$n', expected '$accounts 0'"
    echo "[$who]   ${R[$who,init_s]} s; count and sum(abalance) right"

    echo "[$who] INSERT ... SELECT generate_series(1, $ROWS) in one transaction"
    q "$port" -c "CREATE TABLE big (id bigint PRIMARY KEY, v bigint)"
    t=$(now)
    q "$port" -c "INSERT INTO big SELECT g, g FROM generate_series(1, $ROWS) g" >/dev/null
    R[$who,insert_s]=$(elapsed "$t")
    n=$(q "$port" -c "SELECT count(*) || ' ' || sum(id) FROM big")
    [ "$n" = "$ROWS $((ROWS * (ROWS + 1) / 2))" ] || die "$who: big holds '$n'"
    echo "[$who]   ${R[$who,insert_s]} s; count and sum right"
}

bench_nextdb() {
    local port; port=$(free_port)
    mkdir -p "$WORK/nextdb"
    echo "[nextdb] $NEXTDB_BIN --shards $SHARDS --memory ${MEMORY_MB}MB on CPUs $SERVER_CPUS"
    numactl --physcpubind="$SERVER_CPUS" "$NEXTDB_BIN" --data "$WORK/nextdb/data" \
        --pg-port "$port" --http-port 0 --shards "$SHARDS" --listen 127.0.0.1 \
        --memory "${MEMORY_MB}MB" >>"$WORK/nextdb/server.log" 2>&1 &
    NEXTDB_PID=$!
    wait_ready "$port" 600 || { tail -20 "$WORK/nextdb/server.log"; die "NextDB did not start"; }
    run_phases nextdb "$port"
    R[nextdb,rss_mb]=$(awk -v k="$(vmhwm_kb "$NEXTDB_PID")" 'BEGIN { printf "%.0f", k / 1024 }')
    echo "[nextdb] peak RSS ${R[nextdb,rss_mb]} MB (budget $MEMORY_MB MB)"
    kill -TERM "$NEXTDB_PID"
    wait "$NEXTDB_PID" || die "NextDB exited with $? on SIGTERM"
    NEXTDB_PID=""
    if "$NEXTDB_BIN" check --data "$WORK/nextdb/data" >"$WORK/nextdb/check.log" 2>&1; then
        echo "[nextdb] nextdb check: $(tail -1 "$WORK/nextdb/check.log")"
    else
        tail -5 "$WORK/nextdb/check.log"; die "nextdb check found problems"
    fi
}

bench_postgres() {
    local port; port=$(free_port)
    PG_DATA=$WORK/pg/data
    mkdir -p "$WORK/pg/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$WORK/pg"
    "${as_pg[@]}" "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$WORK/pg/initdb.log" 2>&1 || { cat "$WORK/pg/initdb.log"; die "initdb failed"; }
    local opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pg/sock"
    opts+=" -c fsync=on -c synchronous_commit=on -c shared_buffers=${MEMORY_MB}MB"
    echo "[postgres] PostgreSQL 15, shared_buffers=${MEMORY_MB}MB, fsync=on, on CPUs $SERVER_CPUS"
    numactl --physcpubind="$SERVER_CPUS" "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" \
        -l "$WORK/pg/server.log" -o "$opts" -w -t 600 start >/dev/null \
        || { tail -20 "$WORK/pg/server.log"; die "PostgreSQL did not start"; }
    run_phases postgres "$port"
    "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 600 stop >/dev/null
}

echo "bigtxn.sh: scale $SCALE, $ROWS rows, memory ${MEMORY_MB} MB; $PLACEMENT"
[ "$ONLY" = postgres ] || bench_nextdb
[ "$ONLY" = nextdb ] || bench_postgres

ratio() {   # figure: PostgreSQL seconds / NextDB seconds
    local n=${R[nextdb,$1]:-} p=${R[postgres,$1]:-}
    if [ -z "$n" ] || [ -z "$p" ]; then echo -; return; fi
    awk -v n="$n" -v p="$p" 'BEGIN { if (n <= 0 || p <= 0) print "-"; else printf "%.2fx\n", p / n }'
}
echo
echo "ratio: PostgreSQL seconds / NextDB seconds (>1x: NextDB faster)"
printf '%-40s %12s %12s %10s\n' figure NextDB PostgreSQL ratio
printf '%-40s %12s %12s %10s\n' "pgbench -i -s $SCALE, s" "${R[nextdb,init_s]:--}" "${R[postgres,init_s]:--}" "$(ratio init_s)"
printf '%-40s %12s %12s %10s\n' "INSERT ... SELECT $ROWS rows, s" "${R[nextdb,insert_s]:--}" "${R[postgres,insert_s]:--}" "$(ratio insert_s)"
printf '%-40s %12s %12s %10s\n' "NextDB peak RSS, MB (budget $MEMORY_MB)" "${R[nextdb,rss_mb]:--}" - -
