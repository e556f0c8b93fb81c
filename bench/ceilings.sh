#!/usr/bin/env bash
# Measures the ceilings the gateway is judged against: a bare libuv +
# http-parser server (ceiling-http), and the same server forwarding each
# request over one ZeroMQ hop to a SQLite point SELECT (ceiling-hop ->
# ceiling-store), and durable SQLite commits (ceiling-commit). wrk -t1 -c64 on loopback; see bench/lib.sh for settings
# (BENCH_DURATION, BENCH_REPEAT, ...). Compare only figures from one run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init
bin=$(bench_bin ceiling-http ceiling-hop ceiling-store ceiling-commit)

bench_start_ceilings "$bin"

echo "ceilings: wrk -t${BENCH_THREADS:-1} -c${BENCH_CONNS:-64} -d${BENCH_DURATION:-10s}," \
    "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
bench_row "ceiling-http (libuv + http-parser)" "$CEILING_HTTP_URL"
bench_row "ceiling-hop (+ ZeroMQ hop + SQLite)" "$CEILING_HOP_URL"
bench_rows_run "ceiling-http (libuv + http-parser)"
"$bin/ceiling-commit" "$BENCH_TMP"
