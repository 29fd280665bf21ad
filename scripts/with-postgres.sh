#!/usr/bin/env bash
# Runs a command with PG_TEST_URL pointing at a PostgreSQL server: the one in PG_TEST_URL when it
# answers, else a throwaway cluster in a temporary directory on a free local port (Debian's
# `postgresql` package is installed when missing). The cluster is stopped and removed at the end.
set -euo pipefail

reachable() {
  command -v psql >/dev/null 2>&1 && psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

if [ -n "${PG_TEST_URL:-}" ] && reachable "$PG_TEST_URL"; then
  echo "using the PostgreSQL server at PG_TEST_URL"
  exec "$@"
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-client >/dev/null
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

run_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/teamkpi-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_as "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
run_as "$bindir/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -l "$dir/log" -w start >/dev/null
cleanup() {
  run_as "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
export PG_TEST_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "started a throwaway PostgreSQL ($("$bindir/postgres" --version)) on port $port"
"$@"
