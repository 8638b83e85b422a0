# tools/bench/lib.sh -- what every NextDB-vs-PostgreSQL benchmark script shares; sourced
# after the script has parsed its options. Expects: BENCH_NAME (message prefix),
# ONLY ("", nextdb or postgres), KEEP (1 keeps the work dir), NEXTDB_BIN, PG_BINDIR,
# and BENCH_TOOLS (commands that must be on PATH).
# Provides: die; SERVER_CPUS, CLIENT_CPUS, SHARDS, PLACEMENT (half the CPUs for the
# servers and half for the clients, or all shared below 4 CPUs); WORK (a temp dir,
# removed at exit unless KEEP=1) with cleanup stopping NEXTDB_PID and the PostgreSQL
# cluster in PG_DATA; as_pg (run as the postgres user when root); free_port;
# wait_ready PORT SECONDS.

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
for tool in $BENCH_TOOLS; do
    command -v "$tool" >/dev/null || die "$tool not found (run tools/setup-deps.sh)"
done
if [ "$ONLY" != postgres ] && [ ! -x "$NEXTDB_BIN" ]; then
    die "NextDB binary '$NEXTDB_BIN' not found or not executable (build it with ninja release, set NEXTDB_BIN, or use --only postgres)"
fi
[ "$ONLY" = nextdb ] || [ -x "$PG_BINDIR/postgres" ] || die "PostgreSQL 15 not found in $PG_BINDIR"

# --- CPU placement -----------------------------------------------------------------
mapfile -t CPUS < <(numactl --show | sed -n 's/^physcpubind: //p' | tr ' ' '\n' | grep -E '^[0-9]+$')
NCPU=${#CPUS[@]}
if [ "$NCPU" -ge 4 ]; then
    half=$((NCPU / 2))
    SERVER_CPUS=$(IFS=,; echo "${CPUS[*]:0:$half}")
    CLIENT_CPUS=$(IFS=,; echo "${CPUS[*]:$half}")
    SHARDS=$half
    PLACEMENT="servers on CPUs $SERVER_CPUS, clients on CPUs $CLIENT_CPUS"
else
    SERVER_CPUS=$(IFS=,; echo "${CPUS[*]}")
    CLIENT_CPUS=$SERVER_CPUS
    SHARDS=$NCPU
    PLACEMENT="only $NCPU CPUs: servers and clients SHARE CPUs $SERVER_CPUS (numbers understate both servers)"
fi

WORK=$(mktemp -d "/tmp/$BENCH_NAME.XXXXXX")
chmod 755 "$WORK"
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
NEXTDB_PID=""
PG_DATA=""
cleanup() {
    if [ -n "$NEXTDB_PID" ] && kill -0 "$NEXTDB_PID" 2>/dev/null; then
        kill -TERM "$NEXTDB_PID"; wait "$NEXTDB_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ready() {   # port, seconds
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        pg_isready -q -h 127.0.0.1 -p "$1" -U postgres -d postgres && return 0
        sleep 0.05
    done
    return 1
}
