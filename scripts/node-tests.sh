#!/usr/bin/env bash
# The Node binding's checks: npm ci, `napi build` (dev profile, the workspace's target/), the
# generated loader and declarations must equal the committed ones, tsc over the public typings
# and a typed usage file, `node --test` (every golden vector, codes, async, engine, stores on
# SQLite and on the PostgreSQL server in PG_TEST_URL), then the Express example over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

cd "$root/bindings/node"
npm ci --no-audit --no-fund --loglevel=error
npx napi build --platform --js native.js --dts native.d.ts
if ! git diff --exit-code -- native.js native.d.ts; then
  echo "native.js / native.d.ts differ from what napi build generates: commit them" >&2
  exit 1
fi
npx tsc --noEmit -p tsconfig.json
node --test __test__/

cd "$root/examples/express_bff"
npm ci --no-audit --no-fund --loglevel=error
node --test test/
