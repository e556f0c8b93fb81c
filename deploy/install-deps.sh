#!/bin/sh
# Installs every Debian 12 package Concerto needs to build, run and test,
# and (for "all") the npm packages of tests/openapi, the OpenAPI validator,
# at the versions its package-lock.json pins. One list for the README,
# .ci/run and the Dockerfiles; fast when all is present.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# Build and runtime libraries.
BUILD="build-essential cmake pkg-config ca-certificates
libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev sqlite3
libuv1-dev libhttp-parser-dev libjansson-dev libsodium-dev libcmocka-dev
libutf8proc-dev libcsv-dev tzdata"
# System tests, fuzzing, benchmarks and the compose stage (its engine comes
# from ../shared/tools/docker-engine.sh, see .ci/run).
TEST="python3 python3-zmq python3-protobuf python3-pytest python3-yaml python3-hypothesis protobuf-compiler
curl wrk clang libclang-rt-14-dev valgrind docker-compose"

# node and npm for the OpenAPI validator: Debian's, unless the machine has
# them already (another distribution of node would conflict with them).
NODE=""
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || NODE="nodejs npm"

case "${1:-all}" in
  build) want="$BUILD" ;;
  runtime) want="libzmq5 libprotobuf-c1 libsqlite3-0 libuv1 libhttp-parser2.9
libjansson4 libsodium23 libutf8proc2 libcsv3 tzdata ca-certificates curl" ;;
  all) want="$BUILD $TEST $NODE" ;;
  *) echo "usage: $0 [build|runtime|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root)" >&2
    exit 1
  fi
  echo "install-deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The OpenAPI validator, as package-lock.json pins it; again only when the
# lock changed since the last install.
if [ "${1:-all}" = all ]; then
  dir="$ROOT/tests/openapi"
  stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "install-deps: npm ci in tests/openapi" >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
