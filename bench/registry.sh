#!/usr/bin/env bash
# Benchmarks concerto-registry through concerto-gateway, loaded with the
# demo data: reads of one Table by id, a filtered list, and Table
# registrations per second (each answered 201 only after its commit; the
# rows are counted in the database afterwards). wrk on loopback; settings
# in bench/lib.sh (BENCH_DURATION, BENCH_CONNS, BENCH_REPEAT...), plus
# CONCERTO_REGISTRY_SYNCHRONOUS (FULL by default; NORMAL to compare).
# The ceilings (bench/lib.sh bench_start_ceilings, and ceiling-commit for
# durable commits) are measured in the same run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
bin=$(bench_bin concerto-registry concerto-gateway ceiling-http ceiling-hop ceiling-store ceiling-commit)
bench_start_ceilings "$bin"

export CONCERTO_DATA_DIR=$BENCH_TMP/data
export CONCERTO_LOG_LEVEL=warn
for svc in REGISTRY FUNDING FORUM REPORTING; do
    export "CONCERTO_${svc}_ROUTER=tcp://127.0.0.1:$(bench_free_port)"
    export "CONCERTO_${svc}_PUB=tcp://127.0.0.1:$(bench_free_port)"
done

CONCERTO_REGISTRY_DEMO_DATA=$BENCH_ROOT/services/registry/demo \
    bench_start registry "$bin/concerto-registry"
bench_wait_tcp "${CONCERTO_REGISTRY_ROUTER##*:}"

token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s operator bench\n' "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" \
    >"$BENCH_TMP/tokens"
http_port=$(bench_free_port)
CONCERTO_GATEWAY_HTTP=127.0.0.1:$http_port CONCERTO_GATEWAY_TOKENS=$BENCH_TMP/tokens \
    CONCERTO_GATEWAY_PUBLIC_READS=1 CONCERTO_GATEWAY_REQUIRED_SERVICES=registry \
    bench_start gateway "$bin/concerto-gateway"
base=http://127.0.0.1:$http_port
bench_wait_http "$base/readyz"
bench_wait_http "$base/v1/tables/tqmn"

# Unique Table ids per wrk thread and request.
cat >"$BENCH_TMP/register.lua" <<LUA
local n = 0
-- seeded per run, so that repeated runs register new Tables, not conflicts
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
local tag = tostring(math.random(100000000, 999999999))
request = function()
    n = n + 1
    local id = "bench-" .. tag .. "-" .. n
    local body = '{"id":"' .. id .. '","name":"Table ' .. id .. '","territoryId":"montreal-nord"}'
    return wrk.format("POST", "/v1/tables", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer $token"}, body)
end
LUA

echo "registry: wrk -t${BENCH_THREADS:-1} -c${BENCH_CONNS:-64} -d${BENCH_DURATION:-10s}," \
    "synchronous=${CONCERTO_REGISTRY_SYNCHRONOUS:-FULL}, $(nproc) cores," \
    "$(date -u +%Y-%m-%dT%H:%MZ)"
hop="ceiling-hop (libuv + 1 ZeroMQ hop + SQLite)"
bench_row "ceiling-http (bare libuv + http-parser)" "$CEILING_HTTP_URL"
bench_row "$hop" "$CEILING_HOP_URL"
bench_row "GET /v1/tables/tqmn" "$base/v1/tables/tqmn"
bench_row "GET /v1/tables?borough=..&status=.." \
    "$base/v1/tables?borough=le-sud-ouest&status=recognized"
bench_rows_run "$hop"
# Writes last and on their own: the Tables they add would change what the
# reads above measure.
bench_row "$hop" "$CEILING_HOP_URL"
bench_row "POST /v1/tables (201 = committed)" "$base/v1/tables" -s "$BENCH_TMP/register.lua"
bench_rows_run "$hop"
echo "answers to POST /v1/tables by status:" "$(curl -fsS "$base/metrics" | awk '
    /^concerto_gateway_http_requests_total\{route="POST \/v1\/tables",/ {
        match($0, /status="[0-9]+"/)
        n[substr($0, RSTART + 8, RLENGTH - 9)] += $NF
    }
    END { for (st in n) printf "%s: %d  ", st, n[st] }')"
committed=$(python3 - "$CONCERTO_DATA_DIR/registry.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM concertation_table WHERE id LIKE 'bench-%'").fetchone()[0])
PY
)
echo "Tables registered and committed by the benchmark: $committed"
echo "Durable-commit ceilings on this disk (registrations are answered after commit):"
"$bin/ceiling-commit" "$BENCH_TMP"
