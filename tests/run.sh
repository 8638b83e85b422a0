#!/usr/bin/env bash
# tests/run.sh -- build every mode and run every test: unit tests (release and debug =
# ASan+UBSan; the runtime and ring tests also under tsan) and the integration suite
# (pytest against the release server). Installs missing Debian packages first.
# The last line is "N passed, N failed" summed over every test binary and pytest.
#
# Environment: NEXTDB_SKIP_SETUP=1 skips the package check; NEXTDB_UNIT_ONLY=1 skips
# the integration suite.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${NEXTDB_SKIP_SETUP:-0}" != 1 ]; then
    tools/setup-deps.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi

passed=0
failed=0
note_fail() { echo "FAILED: $1"; failed=$((failed + 1)); }

/usr/bin/python3 configure.py || { echo "0 passed, 1 failed"; exit 1; }
if ! ninja release debug tsan; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

# Runs one unit-test binary and adds its "N passed, N failed" line to the totals.
run_unit() {
    local bin=$1 out rc line p f
    out=$(timeout 300 "$bin" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -20
        note_fail "$bin (exit $rc, no summary line)"
        return
    fi
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then note_fail "$bin (exit $rc)"; fi
    [ "$f" != 0 ] && printf '%s\n' "$out" | grep -E 'FAIL|check failed' | head -20
    echo "unit $bin: $line"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
for mode in release debug; do
    for t in build/$mode/tests/*_test; do
        [ -x "$t" ] && run_unit "$t"
    done
done
for t in build/tsan/tests/ring_test build/tsan/tests/rt_test; do
    [ -x "$t" ] && run_unit "$t"
done

# Runs the integration suite against one server binary and adds pytest's counts.
run_pytest() {
    local bin=$1 out rc line p f e
    out=$(NEXTDB_BIN=$bin timeout 1200 /usr/bin/python3 -m pytest -q \
          -p no:cacheprovider tests/integration 2>&1); rc=$?
    printf '%s\n' "$out" | tail -30
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ (passed|failed|error)' | tail -1)
    p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || true)
    f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || true)
    e=$(printf '%s' "$line" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+' || true)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
    if [ -z "$line" ] || { [ "$rc" != 0 ] && [ "${f:-0}" = 0 ] && [ "${e:-0}" = 0 ]; }; then
        note_fail "pytest against $bin (exit $rc)"
    fi
    echo "integration $bin: $line"
}

if [ "${NEXTDB_UNIT_ONLY:-0}" != 1 ]; then
    run_pytest build/release/nextdb
    # The same suite against the ASan+UBSan server: a memory error aborts the server
    # and fails the test that triggered it.
    run_pytest build/debug/nextdb
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
