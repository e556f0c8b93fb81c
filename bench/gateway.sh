#!/usr/bin/env bash
# Benchmarks concerto-gateway itself: the HTTP path alone (/healthz), a
# single-service read through one DEALER hop, and the fan-out route that
# asks all four services. The services are concerto-testpub instances (the
# real service runtime, answering StatusRequest from its store and
# TableStatusRequest with one indexed SELECT on its outbox), so the figures
# are the gateway's and the runtime's, not a domain handler's;
# bench/registry.sh covers the registry's own routes. The two ceiling servers (bare libuv + http-parser;
# the same plus one ZeroMQ hop to a SQLite SELECT) run in the same script,
# in interleaved rounds, so the "vs ref" column (share of ceiling-hop in the
# same round) is what to read: absolute figures move with the machine.
# wrk on loopback; settings in bench/lib.sh (BENCH_DURATION, BENCH_CONNS,
# BENCH_THREADS, BENCH_REPEAT, ...).
# BENCH_GATEWAY_REGISTRY=1 puts the real concerto-registry (demo data) in
# the registry's place and adds a row for GET /v1/tables/{id}.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
real_registry=${BENCH_GATEWAY_REGISTRY:-0}
targets=(concerto-gateway concerto-testpub ceiling-http ceiling-hop ceiling-store)
[ "$real_registry" = 1 ] && targets+=(concerto-registry)
bin=$(bench_bin "${targets[@]}")

bench_start_ceilings "$bin"

export CONCERTO_LOG_LEVEL=warn
for svc in REGISTRY FUNDING FORUM REPORTING; do
    router=tcp://127.0.0.1:$(bench_free_port)
    pub=tcp://127.0.0.1:$(bench_free_port)
    export "CONCERTO_${svc}_ROUTER=$router" "CONCERTO_${svc}_PUB=$pub"
    if [ "$svc" = REGISTRY ] && [ "$real_registry" = 1 ]; then
        CONCERTO_DATA_DIR=$BENCH_TMP/$svc \
            CONCERTO_REGISTRY_DEMO_DATA=$BENCH_ROOT/services/registry/demo \
            bench_start "$svc" "$bin/concerto-registry"
    else
        CONCERTO_DATA_DIR=$BENCH_TMP/$svc CONCERTO_TESTPUB_ROUTER=$router \
            CONCERTO_TESTPUB_PUB=$pub bench_start "$svc" "$bin/concerto-testpub"
    fi
    bench_wait_tcp "${router##*:}"
done

cat >"$BENCH_TMP/routes" <<'ROUTES'
GET /v1/bench/status registry concerto.common.v1.StatusRequest reader - 200
ROUTES
http_port=$(bench_free_port)
CONCERTO_GATEWAY_HTTP=127.0.0.1:$http_port CONCERTO_GATEWAY_ROUTES_FILE=$BENCH_TMP/routes \
    CONCERTO_GATEWAY_ACCESS_LOG=0 bench_start gateway "$bin/concerto-gateway"
base=http://127.0.0.1:$http_port
bench_wait_http "$base/readyz"

echo "gateway: wrk -t${BENCH_THREADS:-1} -c${BENCH_CONNS:-64} -d${BENCH_DURATION:-10s}," \
    "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
hop="ceiling-hop (libuv + 1 ZeroMQ hop + SQLite)"
bench_row "ceiling-http (bare libuv + http-parser)" "$CEILING_HTTP_URL"
bench_row "$hop" "$CEILING_HOP_URL"
bench_row "GET /healthz (no service)" "$base/healthz"
bench_row "GET /v1/bench/status (one service)" "$base/v1/bench/status"
if [ "$real_registry" = 1 ]; then
    bench_wait_http "$base/v1/tables/tqmn"
    bench_row "GET /v1/tables/tqmn (registry)" "$base/v1/tables/tqmn"
fi
# The real registry answers 404 for a Table it does not know, and then so
# does the fan-out: ask for one of its demo Tables.
if [ "$real_registry" = 1 ]; then
    bench_row "GET /v1/tables/tqmn/status (fan-out x4)" "$base/v1/tables/tqmn/status"
else
    bench_row "GET /v1/tables/t1/status (fan-out x4)" "$base/v1/tables/t1/status"
fi
bench_rows_run "$hop"

# Nothing may have been dropped or timed out on the way.
metrics=$(curl -fsS "$base/metrics")
late=$(awk '/^concerto_gateway_late_replies_dropped_total/ {s += $2} END {print s + 0}' <<<"$metrics")
timeouts=$(awk '/^concerto_gateway_http_requests_total.*status="50[34]"/ {s += $2} END {print s + 0}' <<<"$metrics")
echo "late replies dropped: $late; 503/504 answers: $timeouts"
