#!/usr/bin/env bash
# tools/bench/pgbench_compare.sh -- pgbench against NextDB and against a throwaway
# PostgreSQL 15 in one invocation, same scale, same CPUs, same memory; prints TPS per
# workload and the ratio NextDB / PostgreSQL.
#
# Fairness rules:
#   - the servers run one after the other (never at the same time), each pinned with
#     numactl --physcpubind to the same CPU set; pgbench is pinned to the other CPUs.
#     With fewer than 4 CPUs there is no room to separate them: the script says so and
#     lets servers and pgbench share every CPU.
#   - PostgreSQL runs with fsync=on and synchronous_commit=on (NextDB acknowledges a
#     commit only after its fsync), shared_buffers = NextDB's --memory, otherwise its
#     defaults (autovacuum on, as users run it).
#   - both are initialised with pgbench -i -I dtGp (server-side generation, no VACUUM)
#     and every run uses -n (no VACUUM, history kept), so both do identical work.
# Workloads: select-only simple, select-only prepared, tpcb-like prepared, and a one-row
# UPDATE of pgbench_accounts by random aid (prepared) in autocommit and inside
# BEGIN ... END, sent as three round trips and as one pipeline (pgbench's
# \startpipeline: BEGIN, UPDATE, END before one Sync): against autocommit they give the
# cost of an explicit single-shard transaction, with and without the two extra network
# round trips (both printed as ratios per server).
#
# Usage: tools/bench/pgbench_compare.sh [-s SCALE] [-c CLIENTS] [-j THREADS] [-T SECONDS]
#            [--memory-mb MB] [--only nextdb|postgres] [--workload SUBSTRING] [--keep]
# --workload runs only the workloads whose name contains SUBSTRING (for A/B runs).
# Environment: NEXTDB_BIN (default build/release/nextdb), PG_BINDIR
# (default /usr/lib/postgresql/15/bin).
set -euo pipefail

SCALE=10 CLIENTS=16 THREADS=2 SECONDS_RUN=20 MEMORY_MB=1024 ONLY="" KEEP=0 PICK=
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        -s) SCALE=$2; shift 2 ;;
        -c) CLIENTS=$2; shift 2 ;;
        -j) THREADS=$2; shift 2 ;;
        -T) SECONDS_RUN=$2; shift 2 ;;
        --memory-mb) MEMORY_MB=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --workload) PICK=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "pgbench_compare: unknown argument $1" >&2; usage 2 >&2 ;;
    esac
done
case "$ONLY" in ""|nextdb|postgres) ;; *) echo "--only takes nextdb or postgres" >&2; exit 2 ;; esac

REPO=$(cd "$(dirname "$0")/../.." && pwd)
NEXTDB_BIN=${NEXTDB_BIN:-$REPO/build/release/nextdb}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
WORKLOADS=("select-only simple|-S -M simple" "select-only prepared|-S -M prepared"
           "tpcb-like prepared|-M prepared"
           "update autocommit|-M prepared -f @WORK@/update-auto.sql"
           "update in BEGIN/END|-M prepared -f @WORK@/update-txn.sql"
           "update pipelined BEGIN/END|-M prepared -f @WORK@/update-pipe.sql")
if [ -n "$PICK" ]; then
    picked=()
    for entry in "${WORKLOADS[@]}"; do
        case "${entry%%|*}" in *"$PICK"*) picked+=("$entry") ;; esac
    done
    [ ${#picked[@]} -gt 0 ] || { echo "pgbench_compare: no workload matches $PICK" >&2; exit 2; }
    WORKLOADS=("${picked[@]}")
fi

BENCH_NAME=pgbench-compare
BENCH_TOOLS="pgbench pg_isready numactl"
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"

UPDATE_SQL='UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;'
printf '\\set aid random(1, 100000 * %d)\n\\set delta random(-5000, 5000)\n%s\n' \
    "$SCALE" "$UPDATE_SQL" >"$WORK/update-auto.sql"
printf '\\set aid random(1, 100000 * %d)\n\\set delta random(-5000, 5000)\nBEGIN;\n%s\nEND;\n' \
    "$SCALE" "$UPDATE_SQL" >"$WORK/update-txn.sql"
printf '\\set aid random(1, 100000 * %d)\n\\set delta random(-5000, 5000)\n\\startpipeline\nBEGIN;\n%s\nEND;\n\\endpipeline\n' \
    "$SCALE" "$UPDATE_SQL" >"$WORK/update-pipe.sql"

declare -A TPS
# Runs the init and every workload against the server on port $2; stores TPS[$1,name].
run_workloads() {
    local who=$1 port=$2 entry name flags out tps failed
    local pgb=(numactl --physcpubind="$CLIENT_CPUS" pgbench -h 127.0.0.1 -p "$port" -U postgres)
    echo "[$who] pgbench -i -I dtGp -s $SCALE"
    "${pgb[@]}" -i -I dtGp -s "$SCALE" -q postgres >"$WORK/$who-init.log" 2>&1 \
        || { tail -20 "$WORK/$who-init.log"; die "$who: pgbench -i failed"; }
    for entry in "${WORKLOADS[@]}"; do
        name=${entry%%|*}; flags=${entry#*|}; flags=${flags//@WORK@/$WORK}
        # shellcheck disable=SC2086
        out=$("${pgb[@]}" -n $flags -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_RUN" postgres 2>&1) \
            || { echo "$out" | tail -20; die "$who: pgbench $flags failed"; }
        echo "$out" >"$WORK/$who-$(echo "$name" | tr ' /' '--').log"
        tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
        failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
        [ -n "$tps" ] || { echo "$out"; die "$who: no tps in pgbench output"; }
        TPS[$who,$name]=$tps
        echo "[$who] $name: $tps tps${failed:+, $failed failed}"
    done
}

bench_nextdb() {
    local port; port=$(free_port)
    mkdir -p "$WORK/nextdb"
    echo "[nextdb] $NEXTDB_BIN --shards $SHARDS --memory ${MEMORY_MB}MiB on CPUs $SERVER_CPUS"
    numactl --physcpubind="$SERVER_CPUS" "$NEXTDB_BIN" --data "$WORK/nextdb/data" \
        --pg-port "$port" --http-port 0 --shards "$SHARDS" --listen 127.0.0.1 \
        --memory $((MEMORY_MB * 1024 * 1024)) >"$WORK/nextdb/server.log" 2>&1 &
    NEXTDB_PID=$!
    wait_ready "$port" 60 || { tail -20 "$WORK/nextdb/server.log"; die "NextDB did not start"; }
    run_workloads nextdb "$port"
    kill -TERM "$NEXTDB_PID"; wait "$NEXTDB_PID" || echo "[nextdb] exit code $? on SIGTERM"
    NEXTDB_PID=""
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
    opts+=" -c max_connections=$((CLIENTS + 20))"
    echo "[postgres] PostgreSQL 15, shared_buffers=${MEMORY_MB}MB, fsync=on, on CPUs $SERVER_CPUS"
    numactl --physcpubind="$SERVER_CPUS" "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" \
        -l "$WORK/pg/server.log" -o "$opts" -w -t 60 start >/dev/null \
        || { tail -20 "$WORK/pg/server.log"; die "PostgreSQL did not start"; }
    wait_ready "$port" 30 || die "PostgreSQL not ready"
    run_workloads postgres "$port"
    "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
}

echo "pgbench_compare: scale $SCALE, -c $CLIENTS -j $THREADS -T $SECONDS_RUN, memory ${MEMORY_MB} MiB"
echo "pgbench_compare: $PLACEMENT"
[ "$ONLY" = postgres ] || bench_nextdb
[ "$ONLY" = nextdb ] || bench_postgres

echo
printf '%-28s %14s %14s %10s\n' workload "NextDB tps" "PostgreSQL tps" ratio
for entry in "${WORKLOADS[@]}"; do
    name=${entry%%|*}
    n=${TPS[nextdb,$name]:-} p=${TPS[postgres,$name]:-}
    ratio=-
    [ -n "$n" ] && [ -n "$p" ] && ratio=$(awk -v n="$n" -v p="$p" 'BEGIN { printf "%.2f", (p > 0 ? n / p : 0) }')
    [ -n "$n" ] && n=$(printf '%.0f' "$n")
    [ -n "$p" ] && p=$(printf '%.0f' "$p")
    printf '%-28s %14s %14s %10s\n' "$name" "${n:--}" "${p:--}" "$ratio"
done
echo
for who in nextdb postgres; do
    a=${TPS[$who,update autocommit]:-} t=${TPS[$who,update in BEGIN/END]:-}
    q=${TPS[$who,update pipelined BEGIN/END]:-}
    [ -n "$a" ] && [ -n "$t" ] && awk -v w="$who" -v a="$a" -v t="$t" \
        'BEGIN { printf "%s: one-row UPDATE in BEGIN/END / in autocommit = %.2f\n", w, (a > 0 ? t / a : 0) }'
    [ -n "$a" ] && [ -n "$q" ] && awk -v w="$who" -v a="$a" -v t="$q" \
        'BEGIN { printf "%s: one-row UPDATE in pipelined BEGIN/END / in autocommit = %.2f\n", w, (a > 0 ? t / a : 0) }'
done
exit 0
