#!/usr/bin/env bash
# The Node binding's checks: npm ci, `napi build` (dev profile, the workspace's target/; it
# writes the loader native.js and the declarations native.d.ts), tsc over the public typings
# and a typed usage file, `node --test` (every golden vector, codes, async, engine, stores on
# SQLite and on the PostgreSQL server in PG_TEST_URL), then the Express example over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

cd "$root/bindings/node"
npm ci --no-audit --no-fund --loglevel=error
# Writes the .node module with its loader (native.js) and declarations (native.d.ts).
npx napi build --platform --js native.js --dts native.d.ts
npx tsc --noEmit -p tsconfig.json
node --test __test__/

cd "$root/examples/express_bff"
npm ci --no-audit --no-fund --loglevel=error
node --test test/
