#!/usr/bin/env bash
# Measures the ceilings the gateway is judged against: a bare libuv +
# http-parser server (ceiling-http), and the same server forwarding each
# request over one ZeroMQ hop to a SQLite point SELECT (ceiling-hop ->
# ceiling-store). wrk -t1 -c64 on loopback; see bench/lib.sh for settings
# (BENCH_DURATION, BENCH_REPEAT, ...). Compare only figures from one run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
bin=$(bench_bin ceiling-http ceiling-hop ceiling-store)

http_port=$(bench_free_port)
bench_start ceiling-http "$bin/ceiling-http" "$http_port"
bench_wait_tcp "$http_port"

store_port=$(bench_free_port)
bench_start ceiling-store "$bin/ceiling-store" "tcp://127.0.0.1:$store_port"
bench_wait_tcp "$store_port"
hop_port=$(bench_free_port)
bench_start ceiling-hop "$bin/ceiling-hop" "$hop_port" "tcp://127.0.0.1:$store_port"
bench_wait_http "http://127.0.0.1:$hop_port/"

echo "ceilings: wrk -t${BENCH_THREADS:-1} -c${BENCH_CONNS:-64} -d${BENCH_DURATION:-10s}," \
    "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
bench_header
bench_wrk "ceiling-http (libuv + http-parser)" "http://127.0.0.1:$http_port/"
bench_wrk "ceiling-hop (+ ZeroMQ hop + SQLite)" "http://127.0.0.1:$hop_port/"
