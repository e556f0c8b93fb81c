#!/usr/bin/env bash
# deploy/test.sh: THE test command (README, .ci/run). Installs the Debian
# packages, builds Release into ./build and runs ctest there, then builds
# ./build-asan with AddressSanitizer + UndefinedBehaviorSanitizer and runs
# ctest there too, plus static checks of the deployment files. Every stage
# runs even when an earlier one failed; the exit status is non-zero if any
# failed, and the last line is "summary: N passed, M failed".
#
# Settings: CONCERTO_TEST_JOBS (2), CONCERTO_TEST_SKIP_ASAN=1 (release only).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
exec </dev/null
JOBS=${CONCERTO_TEST_JOBS:-2}
START=$(date +%s)
PASSED=0
FAILED=0
RESULTS=()

note() {
    printf '\n=== test.sh: %s\n' "$*"
}

# Records a stage: NAME PASSED FAILED [WHY]
record() {
    PASSED=$((PASSED + $2))
    FAILED=$((FAILED + $3))
    if [ "$3" = 0 ]; then
        RESULTS+=("$1 $2/$(($2 + $3)) ok")
    else
        RESULTS+=("$1 FAILED${4:+ ($4)}: $2 passed, $3 failed")
    fi
}

# build_and_test NAME DIR CMAKE-ARGS...
build_and_test() {
    local name=$1 dir=$2 log
    shift 2
    log=$(mktemp)
    note "$name: configure $dir $*"
    if ! cmake -S "$ROOT" -B "$dir" "$@"; then
        record "$name" 0 1 "configure failed"
        return
    fi
    note "$name: build"
    if ! cmake --build "$dir" -j"$JOBS"; then
        record "$name" 0 1 "build failed"
        return
    fi
    note "$name: ctest"
    # --no-tests=error: a test command that ran nothing has not passed.
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$JOBS" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]} total failed
    read -r failed total < <(sed -nE 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1 \2/p' "$log" | tail -1)
    rm -f "$log"
    if [ -z "${total:-}" ]; then
        record "$name" 0 1 "ctest ran no test (exit $rc)"
    elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
        record "$name" "$total" 1 "ctest exit $rc"
    else
        record "$name" $((total - failed)) "$failed"
    fi
}

# Static checks of the deployment files: shell syntax, compose file.
static_checks() {
    local ok=0 bad=0 f
    note "checks: shell syntax, docker-compose config"
    for f in deploy/*.sh bench/*.sh .ci/run; do
        [ -f "$f" ] || continue
        if bash -n "$f"; then ok=$((ok + 1)); else
            echo "bash -n $f failed"
            bad=$((bad + 1))
        fi
    done
    if command -v docker-compose >/dev/null && [ -f docker-compose.yml ]; then
        if docker-compose -f docker-compose.yml config -q; then ok=$((ok + 1)); else
            echo "docker-compose config rejects docker-compose.yml"
            bad=$((bad + 1))
        fi
    fi
    record checks "$ok" "$bad"
}

note "install-deps"
if ! sh deploy/install-deps.sh all; then
    echo "test.sh: installing packages failed (run as root on Debian 12)" >&2
    echo "summary: 0 passed, 1 failed"
    exit 1
fi

static_checks
build_and_test release "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
if [ "${CONCERTO_TEST_SKIP_ASAN:-0}" != 1 ]; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    build_and_test asan "$ROOT/build-asan" -DCONCERTO_SANITIZE=ON
fi

elapsed=$(($(date +%s) - START))
note "done in $((elapsed / 60))m$((elapsed % 60))s"
for r in "${RESULTS[@]}"; do
    echo "  $r"
done
echo "summary: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
