# shellcheck shell=bash
# bench/lib.sh: helpers the benchmark scripts source.
#
#   bench_init                    temp dir (kept on failure), and stop everything
#                                 started when the script exits
#   bench_bin TARGET...           build dir's bin/ with TARGETs built (prints it)
#   bench_free_port               a free loopback TCP port
#   bench_start NAME CMD...       start CMD in the background, log to $BENCH_TMP/NAME.log
#   bench_wait_tcp PORT [SECS]    until something accepts on 127.0.0.1:PORT
#   bench_wait_http URL [SECS]    until URL answers 2xx
#   bench_stop_all                SIGTERM, wait, SIGKILL after $BENCH_STOP_SECS
#   bench_row LABEL URL [WRK ARGS...]   queue a wrk row
#   bench_rows_run REF_LABEL      run the queued rows in interleaved rounds;
#                                 print medians and each row's share of REF
#   bench_start_ceilings BIN      start ceiling-http and ceiling-hop/-store;
#                                 sets CEILING_HTTP_URL and CEILING_HOP_URL
#
# Settings (environment): BENCH_BUILD (default <repo>/build), BENCH_BIN (use
# these binaries, do not build), BENCH_DURATION (10s), BENCH_CONNS (64),
# BENCH_THREADS (1), BENCH_REPEAT (rounds; 3), BENCH_RESULTS (append rows
# there as TSV too).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_PIDS=()
BENCH_NAMES=()
BENCH_TMP=${BENCH_TMP:-}
BENCH_STOP_SECS=${BENCH_STOP_SECS:-5}

bench_init() {
    if [ -z "$BENCH_TMP" ]; then
        BENCH_TMP=$(mktemp -d /tmp/concerto-bench.XXXXXX)
        BENCH_TMP_OWNED=1
    fi
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_die() {
    echo "bench: $*" >&2
    exit 1
}

bench_bin() {
    if [ -n "${BENCH_BIN:-}" ]; then
        echo "$BENCH_BIN"
        return
    fi
    local build=${BENCH_BUILD:-$BENCH_ROOT/build}
    # Release unless the build dir says otherwise; configured every time so
    # that daemons added since are seen.
    local type=Release
    if [ -f "$build/CMakeCache.txt" ]; then
        type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
    fi
    cmake -S "$BENCH_ROOT" -B "$build" -DCMAKE_BUILD_TYPE="${type:-Release}" >/dev/null ||
        bench_die "configure failed"
    if [ "${type:-Release}" != Release ] || grep -qs '^CONCERTO_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
        echo "bench: warning: $build is not a plain Release build; figures mean little" >&2
    fi
    cmake --build "$build" -j"$(nproc)" --target "$@" >&2 || bench_die "build of $* failed"
    echo "$build/bin"
}

bench_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_start() {
    local name=$1
    shift
    "$@" >"$BENCH_TMP/$name.log" 2>&1 &
    BENCH_PIDS+=($!)
    BENCH_NAMES+=("$name")
}

# Fails if the last process started has died meanwhile.
bench_check_alive() {
    local i=$((${#BENCH_PIDS[@]} - 1))
    [ "$i" -ge 0 ] || return 0
    kill -0 "${BENCH_PIDS[$i]}" 2>/dev/null && return 0
    echo "bench: ${BENCH_NAMES[$i]} exited; its log:" >&2
    cat "$BENCH_TMP/${BENCH_NAMES[$i]}.log" >&2
    exit 1
}

bench_wait_tcp() {
    local port=$1 secs=${2:-10} i
    for ((i = 0; i < secs * 10; i++)); do
        bench_check_alive
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    bench_die "nothing listens on port $port after ${secs}s"
}

bench_wait_http() {
    local url=$1 secs=${2:-10} i
    for ((i = 0; i < secs * 10; i++)); do
        bench_check_alive
        curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    bench_die "$url did not answer 2xx after ${secs}s"
}

bench_stop_all() {
    local i pid n=${#BENCH_PIDS[@]}
    for ((i = n - 1; i >= 0; i--)); do
        kill -TERM "${BENCH_PIDS[$i]}" 2>/dev/null || true
    done
    for ((i = n - 1; i >= 0; i--)); do
        pid=${BENCH_PIDS[$i]}
        (sleep "$BENCH_STOP_SECS" && kill -KILL "$pid" 2>/dev/null) &
        local watchdog=$!
        wait "$pid" 2>/dev/null || true
        kill "$watchdog" 2>/dev/null || true
        wait "$watchdog" 2>/dev/null || true
    done
    BENCH_PIDS=()
    BENCH_NAMES=()
}

bench_cleanup() {
    local rc=$?
    bench_stop_all
    if [ "${BENCH_TMP_OWNED:-0}" = 1 ] && [ "$rc" = 0 ]; then
        rm -rf "$BENCH_TMP"
    elif [ "$rc" != 0 ]; then
        echo "bench: logs kept in $BENCH_TMP" >&2
    fi
}

# Prints "req/s p50_ms p99_ms errors" from one wrk --latency report.
bench_parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { err += $5 }
        END {
            if (rps == "") exit 1
            printf "%.0f %.2f %.2f %d\n", rps, p50, p99, err
        }' "$1"
}

# Rows are queued, then run in interleaved rounds: round r runs every row
# once, in order, so that the machine's drift (other load, a noisy host)
# hits all rows alike, and each row's share of the reference row is taken
# within one round before the median over rounds is printed.
BENCH_ROW_LABELS=()
BENCH_ROW_URLS=()
BENCH_ROW_ARGS=()

# bench_row LABEL URL [WRK ARGS...]: queues one row.
bench_row() {
    BENCH_ROW_LABELS+=("$1")
    BENCH_ROW_URLS+=("$2")
    shift 2
    BENCH_ROW_ARGS+=("$*")
}

# Median of the numbers on stdin, one per line.
bench_median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# bench_rows_run REF_LABEL: runs the queued rows $BENCH_REPEAT times and
# prints one line per row: median req/s, p50, p99 (ms), errors over all
# rounds, and the median share of REF_LABEL's req/s in the same round.
bench_rows_run() {
    local ref=$1 rounds=${BENCH_REPEAT:-3} n=${#BENCH_ROW_LABELS[@]} r i out ref_i=-1
    for ((i = 0; i < n; i++)); do
        [ "${BENCH_ROW_LABELS[$i]}" = "$ref" ] && ref_i=$i
        : >"$BENCH_TMP/row.$i"
    done
    [ "$ref_i" -ge 0 ] || bench_die "no row named $ref"
    for ((r = 1; r <= rounds; r++)); do
        for ((i = 0; i < n; i++)); do
            out="$BENCH_TMP/wrk.$i.$r.txt"
            # shellcheck disable=SC2086 # the arguments were queued as words
            wrk -t"${BENCH_THREADS:-1}" -c"${BENCH_CONNS:-64}" -d"${BENCH_DURATION:-10s}" \
                --latency ${BENCH_ROW_ARGS[$i]} "${BENCH_ROW_URLS[$i]}" >"$out" 2>&1 || {
                cat "$out" >&2
                bench_die "wrk failed for ${BENCH_ROW_LABELS[$i]}"
            }
            bench_parse_wrk "$out" >>"$BENCH_TMP/row.$i" ||
                bench_die "cannot read wrk output for ${BENCH_ROW_LABELS[$i]}"
        done
    done
    printf '%-42s %9s %7s %7s %6s %7s\n' "what (median of $rounds)" "req/s" "p50 ms" "p99 ms" \
        "errors" "vs ref"
    printf '%-42s %9s %7s %7s %6s %7s\n' "----" "-----" "------" "------" "------" "------"
    local rps p50 p99 err share
    for ((i = 0; i < n; i++)); do
        rps=$(cut -d' ' -f1 "$BENCH_TMP/row.$i" | bench_median)
        p50=$(cut -d' ' -f2 "$BENCH_TMP/row.$i" | bench_median)
        p99=$(cut -d' ' -f3 "$BENCH_TMP/row.$i" | bench_median)
        err=$(awk '{ s += $4 } END { print s + 0 }' "$BENCH_TMP/row.$i")
        share=$(paste -d' ' "$BENCH_TMP/row.$i" "$BENCH_TMP/row.$ref_i" |
            awk '{ printf "%.1f\n", 100 * $1 / $5 }' | bench_median)
        printf '%-42s %9s %7s %7s %6s %6s%%\n' "${BENCH_ROW_LABELS[$i]}" "$rps" "$p50" "$p99" \
            "$err" "$share"
        if [ -n "${BENCH_RESULTS:-}" ]; then
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${BENCH_ROW_LABELS[$i]}" "$rps" "$p50" "$p99" \
                "$err" "$share" >>"$BENCH_RESULTS"
        fi
    done
    echo "vs ref: share of \"$ref\" in the same round (median over rounds)"
    BENCH_ROW_LABELS=()
    BENCH_ROW_URLS=()
    BENCH_ROW_ARGS=()
}

# The two ceilings every benchmark prints beside its own rows: a bare libuv
# + http-parser server, and that server forwarding each request over one
# ZeroMQ hop to a SQLite point SELECT. BIN must hold ceiling-http,
# ceiling-hop and ceiling-store.
bench_start_ceilings() {
    local bin=$1 http_port store_port hop_port
    http_port=$(bench_free_port)
    bench_start ceiling-http "$bin/ceiling-http" "$http_port"
    bench_wait_tcp "$http_port"
    store_port=$(bench_free_port)
    bench_start ceiling-store "$bin/ceiling-store" "tcp://127.0.0.1:$store_port"
    bench_wait_tcp "$store_port"
    hop_port=$(bench_free_port)
    bench_start ceiling-hop "$bin/ceiling-hop" "$hop_port" "tcp://127.0.0.1:$store_port"
    bench_wait_http "http://127.0.0.1:$hop_port/"
    # shellcheck disable=SC2034 # read by the script that sourced this
    CEILING_HTTP_URL=http://127.0.0.1:$http_port/
    # shellcheck disable=SC2034
    CEILING_HOP_URL=http://127.0.0.1:$hop_port/
}
