#!/usr/bin/env bash
# deploy/test.sh: THE test command (README, .ci/run). Installs the Debian
# packages, builds Release into ./build and runs ctest there, runs the
# compose stage (tests/compose/: docker-compose.yml on a real Docker engine,
# when one answers), then builds ./build-asan with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs ctest there too, plus static checks
# of the deployment files. Every stage runs even when an earlier one
# failed; the exit status is non-zero if any failed, and the last line is
# "summary: N passed, M failed". A skipped stage is listed as skipped
# (with why) and counts as neither.
#
# Settings: CONCERTO_TEST_JOBS (2), CONCERTO_TEST_SKIP_ASAN=1 (release
# only), CONCERTO_TEST_SKIP_COMPOSE=1 or =<why> (skip the compose stage).
# The compose stage uses the engine DOCKER_HOST names (.ci/run starts one
# with ../shared/tools/docker-engine.sh), Debian's /usr/bin/docker and
# /usr/bin/docker-compose.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
exec </dev/null
JOBS=${CONCERTO_TEST_JOBS:-2}
COMPOSE_LOCK=${TMPDIR:-/tmp}/concerto-compose-stage.lock
START=$(date +%s)
PASSED=0
FAILED=0
RESULTS=()
SKIPPED=()

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

# Records a stage that did not run: NAME WHY
skip() {
    echo "test.sh: $1 skipped: $2"
    SKIPPED+=("$1")
    RESULTS+=("$1 SKIPPED: $2")
}

# build_and_test NAME DIR CMAKE-ARGS...
# STAGE_TARGET builds one target instead of all; STAGE_LABEL runs only the
# ctests with that label.
build_and_test() {
    local name=$1 dir=$2 log
    local target=(${STAGE_TARGET:+--target "$STAGE_TARGET"})
    local label=(${STAGE_LABEL:+-L "$STAGE_LABEL"})
    shift 2
    log=$(mktemp)
    note "$name: configure $dir $*"
    if ! cmake -S "$ROOT" -B "$dir" "$@"; then
        record "$name" 0 1 "configure failed"
        return
    fi
    note "$name: build"
    if ! cmake --build "$dir" -j"$JOBS" "${target[@]}"; then
        record "$name" 0 1 "build failed"
        return
    fi
    note "$name: ctest"
    # --no-tests=error: a test command that ran nothing has not passed.
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$JOBS" "${label[@]}" 2>&1 |
        tee "$log"
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
    if [ -x /usr/bin/docker-compose ] && [ -f docker-compose.yml ]; then
        if /usr/bin/docker-compose -f docker-compose.yml config -q; then ok=$((ok + 1)); else
            echo "docker-compose config rejects docker-compose.yml"
            bad=$((bad + 1))
        fi
    fi
    record checks "$ok" "$bad"
}

# Why the compose stage cannot run here, or nothing.
compose_unavailable() {
    case ${CONCERTO_TEST_SKIP_COMPOSE:-} in
    '') ;;
    1) echo "CONCERTO_TEST_SKIP_COMPOSE=1" && return ;;
    *) echo "$CONCERTO_TEST_SKIP_COMPOSE" && return ;;
    esac
    if [ ! -x /usr/bin/docker ] || [ ! -x /usr/bin/docker-compose ]; then
        echo "no /usr/bin/docker or /usr/bin/docker-compose (Debian's docker.io and docker-compose)"
    elif ! /usr/bin/docker version >/dev/null 2>&1; then
        echo "no Docker engine answers at ${DOCKER_HOST:-the default socket}" \
            "(.ci/run starts one; or eval \"\$(../shared/tools/docker-engine.sh)\")"
    fi
}

# The compose stage: tests/compose/ with pytest, one result per step. One
# stage at a time per machine: they share the project name and ports.
compose_stage() {
    local why log rc passed failed errors
    why=$(compose_unavailable)
    if [ -n "$why" ]; then
        skip compose "$why"
        return
    fi
    note "compose: docker-compose.yml on the engine at ${DOCKER_HOST:-the default socket}"
    log=$(mktemp)
    (
        flock -w 1200 9 || {
            echo "test.sh: another compose stage held $COMPOSE_LOCK for 20 minutes"
            exit 1
        }
        PYTHONPATH="$ROOT/build/python:$ROOT/tests/system" CONCERTO_BIN="$ROOT/build/bin" \
            CONCERTO_SOURCE="$ROOT" timeout 1200 /usr/bin/python3 -m pytest -s -x -q \
            -p no:cacheprovider "$ROOT/tests/compose"
    ) 9>"$COMPOSE_LOCK" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    passed=$(grep -oE '[0-9]+ passed' "$log" | tail -1 | cut -d' ' -f1)
    failed=$(grep -oE '[0-9]+ failed' "$log" | tail -1 | cut -d' ' -f1)
    errors=$(grep -oE '[0-9]+ errors?' "$log" | tail -1 | cut -d' ' -f1)
    rm -f "$log"
    failed=$((${failed:-0} + ${errors:-0}))
    if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
        record compose "${passed:-0}" 1 "pytest exit $rc"
    else
        record compose "${passed:-0}" "$failed"
    fi
}

note "install-deps"
if ! sh deploy/install-deps.sh all; then
    echo "test.sh: installing packages failed (run as root on Debian 12)" >&2
    echo "summary: 0 passed, 1 failed"
    exit 1
fi

static_checks
build_and_test release "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
# The fuzz targets, built by clang with libFuzzer, replay their corpora: the
# inputs fuzzing once found stay regression tests.
CC=clang STAGE_TARGET=concerto-fuzz STAGE_LABEL=fuzz \
    build_and_test fuzz "$ROOT/build-fuzz" -DCONCERTO_FUZZ=ON
compose_stage
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
[ ${#SKIPPED[@]} = 0 ] || echo "skipped, not passed: ${SKIPPED[*]}"
echo "summary: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
