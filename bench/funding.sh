#!/usr/bin/env bash
# Benchmarks concerto-funding's payments end to end: a funder's system sends
# RecordPaymentRequest over the gateway's partner ingress (ZeroMQ + CURVE),
# funding commits each with synchronous=FULL before the gateway relays the
# acknowledgement; bench-partner keeps BENCH_PARTNER_CONNS x
# BENCH_PARTNER_WINDOW events in flight (4 x 16, as wrk's 64 connections)
# and measures events per second and latency from send to acknowledgement.
# Beside it, in the same run and the same way, the registry's partner
# ingest (RecordAttestationRequest), the reference: the target is 80 % of
# it. Then the program summary (GET .../summary) through the gateway with
# wrk, alone and while payments stream in. Rows run in interleaved rounds
# (BENCH_REPEAT, 3); the medians are printed. Settings: bench/lib.sh
# (BENCH_DURATION, BENCH_CONNS, BENCH_REPEAT...), BENCH_PARTNER_CONNS,
# BENCH_PARTNER_WINDOW.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
bin=$(bench_bin concerto-registry concerto-funding concerto-gateway concerto-keygen bench-partner)
secs=${BENCH_DURATION:-10s}
secs=${secs%s}
conns=${BENCH_PARTNER_CONNS:-4}
window=${BENCH_PARTNER_WINDOW:-16}
rounds=${BENCH_REPEAT:-3}

export CONCERTO_DATA_DIR=$BENCH_TMP/data
export CONCERTO_LOG_LEVEL=warn
for svc in REGISTRY FUNDING FORUM REPORTING; do
    export "CONCERTO_${svc}_ROUTER=tcp://127.0.0.1:$(bench_free_port)"
    export "CONCERTO_${svc}_PUB=tcp://127.0.0.1:$(bench_free_port)"
done

# Keys: the gateway's, a Table's system (attestations), Centraide's system.
keys=$BENCH_TMP/keys
mkdir -p "$keys"
for name in gateway table-system centraide-system; do
    "$bin/concerto-keygen" --out "$keys" "$name" >/dev/null
done
{
    echo "$(cat "$keys/table-system.pub") table-system tables=*"
    echo "$(cat "$keys/centraide-system.pub") centraide-system funder=centraide tables=*"
} >"$BENCH_TMP/partners"
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s admin bench\n' "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" >"$BENCH_TMP/tokens"

CONCERTO_REGISTRY_DEMO_DATA=$BENCH_ROOT/services/registry/demo \
    bench_start registry "$bin/concerto-registry"
bench_wait_tcp "${CONCERTO_REGISTRY_ROUTER##*:}"
bench_start funding "$bin/concerto-funding"
bench_wait_tcp "${CONCERTO_FUNDING_ROUTER##*:}"
partner=tcp://127.0.0.1:$(bench_free_port)
http_port=$(bench_free_port)
CONCERTO_GATEWAY_HTTP=127.0.0.1:$http_port CONCERTO_GATEWAY_TOKENS=$BENCH_TMP/tokens \
    CONCERTO_GATEWAY_REQUIRED_SERVICES=registry,funding CONCERTO_GATEWAY_PARTNER=$partner \
    CONCERTO_GATEWAY_CURVE_SECRET=$keys/gateway.key CONCERTO_GATEWAY_CURVE_PUBLIC=$keys/gateway.pub \
    CONCERTO_GATEWAY_PARTNERS=$BENCH_TMP/partners \
    CONCERTO_GATEWAY_PARTNER_TYPES=concerto.registry.v1.RecordAttestationRequest,concerto.funding.v1.RecordPaymentRequest \
    bench_start gateway "$bin/concerto-gateway"
base=http://127.0.0.1:$http_port
bench_wait_http "$base/readyz"

# A program whose year has room for every payment: one allocation of
# 10,000,000,000.00 to tqmn, paid a cent at a time.
year=2026-2027
api() {
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -X "$1" -d "$3" "$base$2" || bench_die "$1 $2 failed"
}
for f in centraide drsp ville; do
    api POST /v1/funding/funders "{\"id\":\"$f\",\"name\":\"$f\"}"
done
api POST /v1/funding/programs '{"id":"bench","name":"Benchmark"}'
api PUT "/v1/funding/programs/bench/years/$year" '{"envelopeCents":"100000000000000",
  "amountPerTableCents":"1000000000000","shares":[{"funderId":"centraide","shareBp":4661},
  {"funderId":"drsp","shareBp":2609},{"funderId":"ville","shareBp":2730}]}'
for i in $(seq 50); do
    curl -fsS "$base/v1/tables/tqmn/funding" | grep -q '"known":true' && break
    sleep 0.2
done
api POST "/v1/funding/programs/bench/years/$year/eligibility/tqmn/override" \
    '{"justification":"benchmark"}'
api POST /v1/funding/allocations "{\"programId\":\"bench\",\"fiscalYear\":\"$year\",\"tableId\":\"tqmn\"}"
api POST /v1/funding/allocations/1/approve '{}'
summary=$base/v1/funding/programs/bench/years/$year/summary
bench_wait_http "$summary"

today=$(TZ=America/Toronto date +%F)
# partner_run NAME KEY TYPE JSON ROUND: one bench-partner run; prints
# "per_s p50 p99 failed".
partner_run() {
    local out=$BENCH_TMP/$1.$5.txt
    "$bin/bench-partner" --endpoint "$partner" --key "$keys/$2" --server-key "$keys/gateway.pub" \
        --type "$3" --json "$4" --prefix "$1-$5" --duration "$secs" --conns "$conns" \
        --window "$window" >"$out" || true
    awk '/^events/ { print $8, $10, $12, $6 }' "$out"
}
attest() {
    partner_run attest table-system concerto.registry.v1.RecordAttestationRequest \
        "{\"tableId\":\"tqmn\",\"attestedOn\":\"$today\",\"author\":\"Benchmark %N\"}" "$1"
}
pay() {
    partner_run pay centraide-system concerto.funding.v1.RecordPaymentRequest \
        "{\"funderId\":\"centraide\",\"tableId\":\"tqmn\",\"programId\":\"bench\",\"fiscalYear\":\"$year\",\"amountCents\":1,\"reference\":\"bench-$1-%N\"}" \
        "$1"
}
summary_wrk() {
    wrk -t"${BENCH_THREADS:-1}" -c"${BENCH_CONNS:-64}" -d"${secs}s" --latency "$summary" \
        >"$BENCH_TMP/wrk.$1.txt" 2>&1
    bench_parse_wrk "$BENCH_TMP/wrk.$1.txt"
}

echo "funding: $rounds rounds of ${secs}s, partner events ${conns}x${window} in flight," \
    "wrk -c${BENCH_CONNS:-64}, synchronous=${CONCERTO_FUNDING_SYNCHRONOUS:-FULL}," \
    "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for ((r = 1; r <= rounds; r++)); do
    attest "$r" >>"$BENCH_TMP/row.attest"
    pay "a$r" >>"$BENCH_TMP/row.pay"
    summary_wrk "alone.$r" >>"$BENCH_TMP/row.summary"
    # The summary while payments stream in.
    pay "b$r" >"$BENCH_TMP/pay.during.$r" &
    payer=$!
    sleep 0.5
    summary_wrk "during.$r" >>"$BENCH_TMP/row.during"
    wait "$payer"
    cat "$BENCH_TMP/pay.during.$r" >>"$BENCH_TMP/row.paydur"
done

median() { cut -d' ' -f"$1" "$2" | bench_median; }
printf '%-52s %9s %7s %7s %6s\n' "what (median of $rounds)" "per s" "p50 ms" "p99 ms" "errors"
printf '%-52s %9s %7s %7s %6s\n' "----" "-----" "------" "------" "------"
row() {
    printf '%-52s %9s %7s %7s %6s\n' "$1" "$(median 1 "$2")" "$(median 2 "$2")" \
        "$(median 3 "$2")" "$(awk '{ s += $4 } END { print s + 0 }' "$2")"
}
row "registry: attestations via partner ingress" "$BENCH_TMP/row.attest"
row "funding: payments via partner ingress" "$BENCH_TMP/row.pay"
row "funding: payments while the summary is read" "$BENCH_TMP/row.paydur"
row "GET .../summary alone (wrk)" "$BENCH_TMP/row.summary"
row "GET .../summary while payments stream in (wrk)" "$BENCH_TMP/row.during"
share=$(paste -d' ' "$BENCH_TMP/row.pay" "$BENCH_TMP/row.attest" |
    awk '{ printf "%.1f\n", 100 * $1 / $5 }' | bench_median)
echo "payments per second vs attestations per second, same round (median): $share % (target >= 80 %)"
acked=$(cat "$BENCH_TMP"/pay.*.txt | awk '/^events/ { s += $4 } END { print s }')
recorded=$(python3 - "$CONCERTO_DATA_DIR/funding.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM ledger WHERE reference LIKE 'bench-%'").fetchone()[0])
PY
)
echo "payments acknowledged: $acked; in the ledger: $recorded"
