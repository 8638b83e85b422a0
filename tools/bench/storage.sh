#!/usr/bin/env bash
# tools/bench/storage.sh -- the storage engine against a throwaway PostgreSQL 15, in one
# invocation, same CPUs, same memory, same durability; prints figures and ratios:
#   1. durable single-row INSERT tps, CLIENTS pgbench clients, custom script
#      (autocommit INSERT of a random bigint key; every commit waits for its fsync)
#   2. load ROWS rows of pgbench_accounts-shaped data (aid int primary key, bid int,
#      abalance int, filler char(84)) in statements of CHUNK rows, rows/s; then a
#      restart (NextDB: clean stop + start; time until it answers)
#   3. peak RSS (VmHWM from /proc/PID/status) of the NextDB process, taken before the
#      restart (load) and at the end; for PostgreSQL the largest process alive at
#      those moments (printed, but no ratio: one process against a process family)
#   4. on-disk size of the data directory after load and restart (NextDB: also the
#      sorted-table and WAL parts)
#   5. point-lookup tps on the loaded table (CLIENTS clients, prepared, random aid)
#   6. full-table SELECT count(*), sum(abalance): first run and best of 3, seconds
#
# Fairness rules (as pgbench_compare.sh): the servers run one after the other, each
# pinned with numactl --physcpubind to the same CPUs, pgbench and psql to the others
# (with fewer than 4 CPUs everything shares every CPU, and the output says so);
# PostgreSQL runs with fsync=on, synchronous_commit=on and shared_buffers = NextDB's
# --memory (default 256 MB); both get the same statements.
#
# Usage: tools/bench/storage.sh [--rows N] [--chunk N] [-c CLIENTS] [-j THREADS]
#            [-T SECONDS] [--memory-mb MB] [--only nextdb|postgres] [--keep]
#   defaults: --rows 20000000 --chunk 100000 -c 16 -j 2 -T 20 --memory-mb 256
# Environment: NEXTDB_BIN (default build/release/nextdb), PG_BINDIR
# (default /usr/lib/postgresql/15/bin).
set -euo pipefail

ROWS=20000000 CHUNK=100000 CLIENTS=16 THREADS=2 SECONDS_RUN=20 MEMORY_MB=256 ONLY="" KEEP=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
posint() { [[ "$2" =~ ^[1-9][0-9]{0,10}$ ]] || { echo "storage.sh: $1 needs a positive integer, not '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) posint "$1" "${2:-}"; ROWS=$2; shift 2 ;;
        --chunk) posint "$1" "${2:-}"; CHUNK=$2; shift 2 ;;
        -c) posint "$1" "${2:-}"; CLIENTS=$2; shift 2 ;;
        -j) posint "$1" "${2:-}"; THREADS=$2; shift 2 ;;
        -T) posint "$1" "${2:-}"; SECONDS_RUN=$2; shift 2 ;;
        --memory-mb) posint "$1" "${2:-}"; MEMORY_MB=$2; shift 2 ;;
        --only) ONLY=${2:-}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "storage.sh: unknown argument $1" >&2; usage 2 >&2 ;;
    esac
done
case "$ONLY" in ""|nextdb|postgres) ;; *) echo "--only takes nextdb or postgres" >&2; exit 2 ;; esac
[ "$MEMORY_MB" -ge 16 ] || { echo "storage.sh: --memory-mb must be at least 16" >&2; exit 2; }

REPO=$(cd "$(dirname "$0")/../.." && pwd)
NEXTDB_BIN=${NEXTDB_BIN:-$REPO/build/release/nextdb}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

BENCH_NAME=storage-bench
BENCH_TOOLS="pgbench pg_isready psql numactl"
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

cat >"$WORK/insert.sql" <<'EOF'
\set k random(1, 9000000000000000000)
INSERT INTO bench_insert (k, v) VALUES (:k, :client_id);
EOF
cat >"$WORK/lookup.sql" <<EOF
\set aid random(1, $ROWS)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
EOF
chmod 644 "$WORK"/*.sql

declare -A R      # R[who,figure]

# psql on the client CPUs; $1 port, rest: psql arguments.
q() { local port=$1; shift; numactl --physcpubind="$CLIENT_CPUS" psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

pgbench_tps() {   # who, port, script, label
    local out tps
    out=$(numactl --physcpubind="$CLIENT_CPUS" pgbench -h 127.0.0.1 -p "$2" -U postgres -n -M prepared \
        -f "$3" -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_RUN" postgres 2>&1) \
        || { echo "$out" | tail -20; die "$1: pgbench $4 failed"; }
    echo "$out" >"$WORK/$1-$4.log"
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    [ -n "$tps" ] || { echo "$out"; die "$1: no tps in pgbench output"; }
    echo "$tps"
}

# vmhwm_kb PID -> peak resident set of the process in kB.
vmhwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }

# The phases common to both servers. $1 who, $2 port, $3 restart function, $4 pid function.
run_phases() {
    local who=$1 port=$2 restart=$3 pidfn=$4 t lo hi
    echo "[$who] durable single-row INSERT, $CLIENTS clients, ${SECONDS_RUN}s"
    q "$port" -c "CREATE TABLE bench_insert (k bigint PRIMARY KEY, v int NOT NULL)"
    R[$who,insert]=$(pgbench_tps "$who" "$port" "$WORK/insert.sql" insert)
    echo "[$who]   ${R[$who,insert]} tps"

    echo "[$who] loading $ROWS rows of pgbench_accounts in statements of $CHUNK"
    q "$port" -c "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))"
    t=$(now)
    for ((lo = 1; lo <= ROWS; lo += CHUNK)); do
        hi=$((lo + CHUNK - 1)); [ "$hi" -le "$ROWS" ] || hi=$ROWS
        q "$port" -c "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT aid, (aid - 1) / 100000 + 1, 0, '' FROM generate_series($lo, $hi) AS aid" >/dev/null
    done
    R[$who,load_s]=$(elapsed "$t")
    R[$who,load_rps]=$(awk -v n="$ROWS" -v s="${R[$who,load_s]}" 'BEGIN { printf "%.0f", n / s }')
    echo "[$who]   ${R[$who,load_s]} s, ${R[$who,load_rps]} rows/s"

    t=$(now)
    $restart
    R[$who,restart_s]=$(elapsed "$t")
    local n; n=$(q "$port" -c "SELECT count(*) FROM pgbench_accounts")
    [ "$n" = "$ROWS" ] || die "$who: $n rows after the restart, expected $ROWS"
    echo "[$who]   restart ${R[$who,restart_s]} s; $n rows after it"

    echo "[$who] point lookups, $CLIENTS clients, ${SECONDS_RUN}s"
    R[$who,lookup]=$(pgbench_tps "$who" "$port" "$WORK/lookup.sql" lookup)
    echo "[$who]   ${R[$who,lookup]} tps"

    local best="" i s
    for i in 1 2 3; do
        t=$(now)
        q "$port" -c "SELECT count(*), sum(abalance) FROM pgbench_accounts" >/dev/null
        s=$(elapsed "$t")
        [ "$i" = 1 ] && R[$who,scan_first_s]=$s
        best=$(awk -v a="${best:-$s}" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
    done
    R[$who,scan_best_s]=$best
    echo "[$who] count(*)/sum(): first ${R[$who,scan_first_s]} s, best of 3 $best s"
    R[$who,rss_kb]=$(vmhwm_kb "$($pidfn)")
}

# --- NextDB ------------------------------------------------------------------------
NX_PORT=""
nextdb_start() {
    numactl --physcpubind="$SERVER_CPUS" "$NEXTDB_BIN" --data "$WORK/nextdb/data" \
        --pg-port "$NX_PORT" --http-port 0 --shards "$SHARDS" --listen 127.0.0.1 \
        --memory "${MEMORY_MB}MB" >>"$WORK/nextdb/server.log" 2>&1 &
    NEXTDB_PID=$!
    wait_ready "$NX_PORT" 600 || { tail -20 "$WORK/nextdb/server.log"; die "NextDB did not start"; }
}
nextdb_stop() {
    kill -TERM "$NEXTDB_PID"
    wait "$NEXTDB_PID" || die "NextDB exited with $? on SIGTERM"
    NEXTDB_PID=""
}
nextdb_restart() {
    # The peak RSS of the process that loaded the data, before it goes.
    R[nextdb,rss_load_kb]=$(vmhwm_kb "$NEXTDB_PID")
    nextdb_stop
    nextdb_start
}
nextdb_pid() { echo "$NEXTDB_PID"; }

bench_nextdb() {
    NX_PORT=$(free_port)
    mkdir -p "$WORK/nextdb"
    echo "[nextdb] $NEXTDB_BIN --shards $SHARDS --memory ${MEMORY_MB}MB on CPUs $SERVER_CPUS"
    nextdb_start
    run_phases nextdb "$NX_PORT" nextdb_restart nextdb_pid
    nextdb_stop
    local d=$WORK/nextdb/data
    R[nextdb,disk]=$(du -sb "$d" | cut -f1)
    sum_bytes() { find "$d" -path "*/shard-*/$1/*" -name "*.$1" -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }'; }
    R[nextdb,disk_sst]=$(sum_bytes sst)
    R[nextdb,disk_wal]=$(sum_bytes wal)
    R[nextdb,tables]=$(find "$d" -path '*/shard-*/sst/*' -name '*.sst' | wc -l)
    echo "[nextdb] on disk ${R[nextdb,disk]} bytes (sorted tables ${R[nextdb,disk_sst]} in ${R[nextdb,tables]} files, WAL ${R[nextdb,disk_wal]})"
    if "$NEXTDB_BIN" check --data "$d" >"$WORK/nextdb/check.log" 2>&1; then
        echo "[nextdb] nextdb check: $(tail -1 "$WORK/nextdb/check.log")"
    else
        tail -5 "$WORK/nextdb/check.log"; die "nextdb check found problems"
    fi
}

# --- PostgreSQL --------------------------------------------------------------------
PG_PORT="" PG_OPTS=""
pg_start() {
    numactl --physcpubind="$SERVER_CPUS" "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" \
        -l "$WORK/pg/server.log" -o "$PG_OPTS" -w -t 600 start >/dev/null \
        || { tail -20 "$WORK/pg/server.log"; die "PostgreSQL did not start"; }
    wait_ready "$PG_PORT" 60 || die "PostgreSQL not ready"
}
pg_stop() { "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 600 stop >/dev/null; }
# The largest VmHWM of the cluster's processes (postmaster and its children).
pg_pid() {
    local pm best=0 p v
    pm=$(head -1 "$PG_DATA/postmaster.pid")
    for p in "$pm" $(pgrep -P "$pm"); do
        v=$(vmhwm_kb "$p"); [ "$v" -gt "$best" ] && best=$v && echo "$p" >"$WORK/pg/maxpid"
    done
    cat "$WORK/pg/maxpid"
}
pg_restart() {
    R[postgres,rss_load_kb]=$(vmhwm_kb "$(pg_pid)")
    pg_stop
    pg_start
}

bench_postgres() {
    PG_PORT=$(free_port)
    PG_DATA=$WORK/pg/data
    mkdir -p "$WORK/pg/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$WORK/pg"
    "${as_pg[@]}" "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$WORK/pg/initdb.log" 2>&1 || { cat "$WORK/pg/initdb.log"; die "initdb failed"; }
    PG_OPTS="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pg/sock"
    PG_OPTS+=" -c fsync=on -c synchronous_commit=on -c shared_buffers=${MEMORY_MB}MB"
    PG_OPTS+=" -c max_connections=$((CLIENTS + 20))"
    echo "[postgres] PostgreSQL 15, shared_buffers=${MEMORY_MB}MB, fsync=on, synchronous_commit=on, on CPUs $SERVER_CPUS"
    pg_start
    run_phases postgres "$PG_PORT" pg_restart pg_pid
    pg_stop
    R[postgres,disk]=$(du -sb "$PG_DATA" | cut -f1)
    echo "[postgres] on disk ${R[postgres,disk]} bytes (whole cluster, WAL included)"
}

echo "storage.sh: $ROWS rows (chunks of $CHUNK), -c $CLIENTS -j $THREADS -T $SECONDS_RUN, memory ${MEMORY_MB} MB"
echo "storage.sh: $PLACEMENT"
[ "$ONLY" = postgres ] || bench_nextdb
[ "$ONLY" = nextdb ] || bench_postgres

# --- summary -----------------------------------------------------------------------
ratio() {   # figure, higher_is_better (1/0)
    local n=${R[nextdb,$1]:-} p=${R[postgres,$1]:-}
    if [ -z "$n" ] || [ -z "$p" ]; then echo -; return; fi
    awk -v n="$n" -v p="$p" -v h="$2" 'BEGIN { if (n <= 0 || p <= 0) print "-"; else printf "%.2fx\n", (h ? n / p : p / n) }'
}
row() {   # label, figure, unit-format, higher_is_better (1/0, or - for no ratio)
    local n=${R[nextdb,$2]:--} p=${R[postgres,$2]:--} r=-
    [ "$4" = - ] || r=$(ratio "$2" "$4")
    printf '%-34s %16s %16s %14s\n' "$1" "$n" "$p" "$r"
}
for who in nextdb postgres; do
    for f in rss_load_kb rss_kb; do
        [ -n "${R[$who,$f]:-}" ] && R[$who,${f%_kb}_mb]=$(awk -v k="${R[$who,$f]}" 'BEGIN { printf "%.0f", k / 1024 }')
    done
    [ -n "${R[$who,disk]:-}" ] && R[$who,disk_mb]=$(awk -v b="${R[$who,disk]}" 'BEGIN { printf "%.1f", b / 1048576 }')
    for f in insert lookup; do
        [ -n "${R[$who,$f]:-}" ] && R[$who,$f]=$(printf '%.0f' "${R[$who,$f]}")
    done
done
echo
echo "ratio: NextDB's advantage (>1x: NextDB better; for times and sizes PostgreSQL / NextDB)"
printf '%-34s %16s %16s %14s\n' figure NextDB PostgreSQL ratio
row "durable INSERT tps ($CLIENTS clients)" insert x 1
row "load rows/s" load_rps x 1
row "load seconds" load_s x 0
row "restart seconds" restart_s x 0
# PostgreSQL's figure is its largest live process (backends of finished psql sessions
# are gone by then): not comparable with one NextDB process, so no ratio.
row "peak RSS during load, MB" rss_load_mb x -
row "peak RSS at the end, MB" rss_mb x -
row "on-disk size, MB" disk_mb x 0
row "point-lookup tps ($CLIENTS clients)" lookup x 1
row "count(*)/sum() first, s" scan_first_s x 0
row "count(*)/sum() best of 3, s" scan_best_s x 0
