#!/bin/sh
# The OpenAPI check (ctest openapi_validate): node and the validator that
# deploy/install-deps.sh installs here with npm ci. Never skips: without
# them it fails, saying what is missing.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
  echo "openapi: node is not installed (deploy/install-deps.sh installs Debian's nodejs and npm)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
exec node "$HERE/validate.cjs" "$@"
