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
# For each NextDB workload it also prints what /metrics counted during it: WAL fsyncs
# per second per shard, records per fsync (group-commit batch size), the mean wait of
# a record in the queue for a write to take it and the mean write + fdatasync, the
# share of lazy phase-two records, lock waits, ring messages per query.
#
# Usage: tools/bench/pgbench_compare.sh [-s SCALE] [-c CLIENTS] [-j THREADS] [-T SECONDS]
#            [--memory-mb MB] [--only nextdb|postgres] [--workload SUBSTRING] [--keep]
#            [--baseline BIN] [--rounds N]
# --workload runs only the workloads whose name contains SUBSTRING (for A/B runs).
# --baseline BIN: A/B in one invocation -- NextDB is run with BIN (say, the old main
# binary) and with NEXTDB_BIN one after the other, N rounds (default 1) alternating,
# each on a fresh data directory; prints each round and the mean new / baseline ratio
# per workload (the PostgreSQL ratio uses the means too).
# Environment: NEXTDB_BIN (default build/release/nextdb), PG_BINDIR
# (default /usr/lib/postgresql/15/bin).
set -euo pipefail

SCALE=10 CLIENTS=16 THREADS=2 SECONDS_RUN=20 MEMORY_MB=1024 ONLY="" KEEP=0 PICK= BASELINE= ROUNDS=1
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
        --baseline) BASELINE=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "pgbench_compare: unknown argument $1" >&2; usage 2 >&2 ;;
    esac
done
case "$ONLY" in ""|nextdb|postgres) ;; *) echo "--only takes nextdb or postgres" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|*[!0-9]*|0) echo "--rounds takes a positive integer" >&2; exit 2 ;; esac
if [ -n "$BASELINE" ] && [ ! -x "$BASELINE" ]; then
    echo "pgbench_compare: --baseline $BASELINE is not an executable" >&2; exit 2
fi

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

declare -A TPS SUMS RUNS
# Sums every sample of each nextdb_ metric (all labels, all shards) from /metrics on
# port $1 into lines "name value" (histograms: name_sum and name_count).
scrape() {
    curl -s --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '
        /^nextdb_/ { n = $1; sub(/\{.*/, "", n); v[n] += $NF }
        END { for (n in v) printf "%s %.6f\n", n, v[n] }'
}
# What /metrics counted between scrapes $1 and $2 during $3 seconds.
metrics_line() {
    awk -v secs="$3" -v shards="$SHARDS" '
        FNR == NR { a[$1] = $2; next } { b[$1] = $2 }
        END {
            d["x"] = 0
            for (n in b) d[n] = b[n] - a[n]
            f = d["nextdb_wal_fsyncs_total"]; r = d["nextdb_wal_records_total"]
            q = d["nextdb_queries_total"]
            printf "fsyncs/s/shard %.0f", (secs > 0 && shards > 0 ? f / secs / shards : 0)
            printf ", records/fsync %.2f", (f > 0 ? r / f : 0)
            qc = d["nextdb_wal_queue_wait_seconds_count"]
            printf ", queue wait %.2f ms", (qc > 0 ? d["nextdb_wal_queue_wait_seconds_sum"] / qc * 1000 : 0)
            c = d["nextdb_wal_fsync_seconds_count"]
            printf ", write+fsync %.2f ms", (c > 0 ? d["nextdb_wal_fsync_seconds_sum"] / c * 1000 : 0)
            printf ", lazy %.0f%% of records (%.0f lone writes)", (r > 0 ? 100 * d["nextdb_wal_lazy_records_total"] / r : 0), d["nextdb_wal_lazy_writes_total"]
            w = d["nextdb_lock_wait_seconds_count"]
            printf ", lock waits %.0f/s (mean %.2f ms)", (secs > 0 ? d["nextdb_lock_waits_total"] / secs : 0), (w > 0 ? d["nextdb_lock_wait_seconds_sum"] / w * 1000 : 0)
            printf ", ring msgs/query %.2f\n", (q > 0 ? d["nextdb_ring_messages_total"] / q : 0)
        }' "$1" "$2"
}

# Runs the init and every workload against the server on port $2 (NextDB: its /metrics
# on port $3); stores TPS[$1,name].
run_workloads() {
    local who=$1 port=$2 hport=${3:-} entry name flags out tps failed
    local pgb=(numactl --physcpubind="$CLIENT_CPUS" pgbench -h 127.0.0.1 -p "$port" -U postgres)
    echo "[$who] pgbench -i -I dtGp -s $SCALE"
    "${pgb[@]}" -i -I dtGp -s "$SCALE" -q postgres >"$WORK/$who-init.log" 2>&1 \
        || { tail -20 "$WORK/$who-init.log"; die "$who: pgbench -i failed"; }
    for entry in "${WORKLOADS[@]}"; do
        name=${entry%%|*}; flags=${entry#*|}; flags=${flags//@WORK@/$WORK}
        [ -z "$hport" ] || scrape "$hport" >"$WORK/$who-metrics-before"
        # shellcheck disable=SC2086
        out=$("${pgb[@]}" -n $flags -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_RUN" postgres 2>&1) \
            || { echo "$out" | tail -20; die "$who: pgbench $flags failed"; }
        echo "$out" >"$WORK/$who-$(echo "$name" | tr ' /' '--').log"
        tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
        failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
        [ -n "$tps" ] || { echo "$out"; die "$who: no tps in pgbench output"; }
        TPS[$who,$name]=$tps
        SUMS[$who,$name]=$(awk -v a="${SUMS[$who,$name]:-0}" -v b="$tps" 'BEGIN { printf "%.3f", a + b }')
        RUNS[$who,$name]=$(( ${RUNS[$who,$name]:-0} + 1 ))
        echo "[$who] $name: $tps tps${failed:+, $failed failed}"
        if [ -n "$hport" ]; then
            scrape "$hport" >"$WORK/$who-metrics-after"
            echo "[$who]   $(metrics_line "$WORK/$who-metrics-before" "$WORK/$who-metrics-after" "$SECONDS_RUN")"
        fi
    done
}

# bench_nextdb [WHO BIN]: WHO (default nextdb) with BIN (default $NEXTDB_BIN) on a fresh
# data directory.
bench_nextdb() {
    local who=${1:-nextdb} bin=${2:-$NEXTDB_BIN}
    local port hport; port=$(free_port); hport=$(free_port)
    rm -rf "$WORK/$who"
    mkdir -p "$WORK/$who"
    echo "[$who] $bin --shards $SHARDS --memory ${MEMORY_MB}MiB on CPUs $SERVER_CPUS"
    numactl --physcpubind="$SERVER_CPUS" "$bin" --data "$WORK/$who/data" \
        --pg-port "$port" --http-port "$hport" --shards "$SHARDS" --listen 127.0.0.1 \
        --memory $((MEMORY_MB * 1024 * 1024)) >"$WORK/$who/server.log" 2>&1 &
    NEXTDB_PID=$!
    wait_ready "$port" 60 || { tail -20 "$WORK/$who/server.log"; die "NextDB did not start"; }
    run_workloads "$who" "$port" "$hport"
    kill -TERM "$NEXTDB_PID"; wait "$NEXTDB_PID" || echo "[$who] exit code $? on SIGTERM"
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
if [ "$ONLY" != postgres ]; then
    for ((round = 1; round <= ROUNDS; round++)); do
        [ "$ROUNDS" = 1 ] || echo "pgbench_compare: round $round of $ROUNDS"
        [ -z "$BASELINE" ] || bench_nextdb baseline "$BASELINE"
        bench_nextdb
    done
fi
[ "$ONLY" = nextdb ] || bench_postgres
# With several rounds, each figure below is the mean over the rounds.
for key in "${!SUMS[@]}"; do
    TPS[$key]=$(awk -v s="${SUMS[$key]}" -v n="${RUNS[$key]}" 'BEGIN { printf "%.3f", s / n }')
done

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
if [ -n "$BASELINE" ] && [ "$ONLY" != postgres ]; then
    echo
    printf '%-28s %14s %14s %10s\n' workload "NextDB tps" "baseline tps" "new/base"
    for entry in "${WORKLOADS[@]}"; do
        name=${entry%%|*}
        n=${TPS[nextdb,$name]:-} b=${TPS[baseline,$name]:-}
        [ -n "$n" ] && [ -n "$b" ] || continue
        ratio=$(awk -v n="$n" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? n / b : 0) }')
        printf '%-28s %14.0f %14.0f %10s\n' "$name" "$n" "$b" "$ratio"
    done
    echo "pgbench_compare: means over $ROUNDS round(s); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
fi
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
