#!/usr/bin/env bash
# How fast the gateway gives up on a daemon that dies, and takes it back
# when it returns. Not a timed test: it prints figures.
#
# concerto-registry (demo data) runs behind concerto-gateway; a client asks
# GET /v1/tables/tqmn through the gateway without pause, one request at a
# time on one keep-alive connection, and notes the time of every change of
# answer status. Each round SIGKILLs the registry, leaves it dead for
# BENCH_CRASH_DOWN_MS, restarts it, and measures:
#   kill -> first 503            the gateway failing calls to a daemon it
#                                knows is down (docs/gateway.md)
#   first heartbeat -> first 2xx from the restarted daemon's first
#                                heartbeat (sent on its loop's first turn,
#                                right after its "serving" line) to the
#                                first 2xx answer through the gateway
# Settings: BENCH_CRASH_ROUNDS (5), BENCH_CRASH_DOWN_MS (1000),
# CONCERTO_HEARTBEAT_MS (1000); bench/lib.sh for the build.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
rounds=${BENCH_CRASH_ROUNDS:-5}
down_ms=${BENCH_CRASH_DOWN_MS:-1000}
bin=$(bench_bin concerto-gateway concerto-registry)

export CONCERTO_LOG_LEVEL=info
router=tcp://127.0.0.1:$(bench_free_port)
pub=tcp://127.0.0.1:$(bench_free_port)
export CONCERTO_REGISTRY_ROUTER=$router CONCERTO_REGISTRY_PUB=$pub

start_registry() {
    CONCERTO_DATA_DIR=$BENCH_TMP/registry \
        CONCERTO_REGISTRY_DEMO_DATA=$BENCH_ROOT/services/registry/demo \
        bench_start "registry.$1" "$bin/concerto-registry"
    REGISTRY_PID=${BENCH_PIDS[-1]}
}

# Milliseconds since the epoch of the first log line of FILE holding TEXT.
log_ms() {
    local ts
    ts=$(grep -m1 -F "$2" "$1" | sed -nE 's/^ts=([^ ]+) .*/\1/p')
    [ -n "$ts" ] || bench_die "no '$2' in $1"
    date -d "$ts" +%s%3N
}

start_registry 0
bench_wait_tcp "${router##*:}"
http_port=$(bench_free_port)
CONCERTO_GATEWAY_HTTP=127.0.0.1:$http_port CONCERTO_GATEWAY_ACCESS_LOG=0 \
    CONCERTO_GATEWAY_REQUIRED_SERVICES=registry bench_start gateway "$bin/concerto-gateway"
url=http://127.0.0.1:$http_port/v1/tables/tqmn
bench_wait_http "$url"

# The client: "<epoch ms> <status>" at each change of status (0: no answer).
/usr/bin/python3 - "$http_port" >"$BENCH_TMP/client.txt" <<'PY' &
import http.client, sys, time
port, last, conn = int(sys.argv[1]), None, None
while True:
    try:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/v1/tables/tqmn")
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except (OSError, http.client.HTTPException):
        conn, status = None, 0
    if status != last:
        print(int(time.time() * 1000), status, flush=True)
        last = status
PY
BENCH_PIDS+=($!)
BENCH_NAMES+=(client)

# The first client line after epoch ms $1 whose status matches $2.
first_after() {
    awk -v t="$1" -v want="$2" '$1 >= t && $2 ~ want { print $1; exit }' "$BENCH_TMP/client.txt"
}

printf '%-6s %16s %26s\n' round "kill->first 503" "first heartbeat->first 2xx"
: >"$BENCH_TMP/fail.ms"
: >"$BENCH_TMP/back.ms"
for ((r = 1; r <= rounds; r++)); do
    sleep 1
    killed=$(date +%s%3N)
    kill -KILL "$REGISTRY_PID"
    wait "$REGISTRY_PID" 2>/dev/null || true
    sleep "$(awk -v ms="$down_ms" 'BEGIN { print ms / 1000 }')"
    start_registry "$r"
    for ((i = 0; i < 100; i++)); do
        grep -qsF 'msg="serving"' "$BENCH_TMP/registry.$r.log" && break
        sleep 0.1
    done
    serving=$(log_ms "$BENCH_TMP/registry.$r.log" 'msg="serving"')
    back=""
    for ((i = 0; i < 100; i++)); do
        back=$(first_after "$serving" '^2')
        [ -n "$back" ] && break
        sleep 0.1
    done
    [ -n "$back" ] || bench_die "no 2xx through the gateway 10 s after the restart"
    failed=$(first_after "$killed" '^503$')
    fail_ms=$([ -n "$failed" ] && echo $((failed - killed)) || echo "none")
    printf '%-6s %13s ms %23s ms\n' "$r" "$fail_ms" $((back - serving))
    [ -z "$failed" ] || echo $((failed - killed)) >>"$BENCH_TMP/fail.ms"
    echo $((back - serving)) >>"$BENCH_TMP/back.ms"
done
printf '%-6s %13s ms %23s ms\n' median "$(bench_median <"$BENCH_TMP/fail.ms")" \
    "$(bench_median <"$BENCH_TMP/back.ms")"
echo "heartbeat interval ${CONCERTO_HEARTBEAT_MS:-1000} ms; the gateway's view:"
grep -E 'msg="service (up|down|heard)' "$BENCH_TMP/gateway.log" | sed 's/^/  /' | tail -n $((2 * rounds))
