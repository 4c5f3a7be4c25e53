#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the server tests (issue 23) and prints its URL:
# initdb into DIR as the `postgres` user (Debian's package creates it), C locale, trust
# authentication, listening on 127.0.0.1:PORT only (plus a Unix socket in DIR), fsync off
# (test data only). Stop it with Tests/postgres/stop-postgres.sh DIR.
#   usage: bash Tests/postgres/start-postgres.sh [DIR] [PORT]
set -euo pipefail
dir=${1:-/tmp/cleave-postgres-$$}
port=${2:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || ! id postgres >/dev/null 2>&1; then
  echo "start-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
as_postgres "$bindir/initdb" -D "$dir/data" --auth=trust --no-locale -E UTF8 -U postgres >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=600" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "postgres://postgres@127.0.0.1:$port/postgres"
