#!/usr/bin/env bash
# `cleave serve / user / backup / restore --database` against a real PostgreSQL server (issue 23).
# Needs CLEAVE_TEST_POSTGRES_URL (a server URL, as printed by Tests/postgres/start-postgres.sh);
# without it the checks are reported as skipped. Prints one line per check and closes with
# "postgres-cli: N passed, N failed".
#   usage: CLEAVE_TEST_POSTGRES_URL=postgres://… bash Tests/postgres/cli.sh [path/to/cleave]
set -u
cd "$(dirname "$0")/../.."
CLEAVE=${1:-.build/release/cleave}
if [ -z "${CLEAVE_TEST_POSTGRES_URL:-}" ]; then
  echo "postgres-cli: CLEAVE_TEST_POSTGRES_URL is not set: skipped (.ci/run starts a server and sets it)"
  exit 0
fi
WORK=$(mktemp -d /tmp/cleave-pg-cli.XXXXXX)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
source Tests/cli/lib.sh

base=${CLEAVE_TEST_POSTGRES_URL%/*}
suffix=$$_$RANDOM
db="$base/cleave_cli_$suffix"
restored_db="$base/cleave_cli_restored_$suffix"
psql -q "$CLEAVE_TEST_POSTGRES_URL" -c "CREATE DATABASE cleave_cli_$suffix" >/dev/null || { echo "postgres-cli: cannot create a database"; echo "postgres-cli: 0 passed, 1 failed"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$CLEAVE" serve --data "$WORK/data" --database "$db" --port "$port" >"$WORK/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/projects" >/dev/null 2>&1 && break; sleep 0.2; done
check "serve --database answers" curl -sf "http://127.0.0.1:$port/api/projects"
check "a project is created" curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Cleave-User: user-0000-aaaa' \
  -d '{"name": "On PostgreSQL"}' "http://127.0.0.1:$port/api/projects"
check "the project is a row in PostgreSQL" sh -c "psql -tA '$db' -c 'SELECT name FROM projects' | grep -qx 'On PostgreSQL'"
pid=$(psql -tA "$db" -c "SELECT id FROM projects WHERE name = 'On PostgreSQL'" 2>/dev/null | head -n 1)
check "the project exports as a zip" curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Cleave-User: user-0000-aaaa' \
  -d '{"sessionId": "session-0001"}' -o "$WORK/export.zip" "http://127.0.0.1:$port/api/projects/$pid/export"
check "import-project --database (while the server runs)" "$CLEAVE" import-project "$WORK/export.zip" --data "$WORK/data" --database "$db"
check "the imported project and its audit record are rows in PostgreSQL" sh -c "psql -tA '$db' -c 'SELECT name FROM projects' | grep -qx 'On PostgreSQL (imported)' && psql -tA '$db' -c \"SELECT action FROM audit\" | grep -qx 'import.project'"
check "user add --database (while the server runs)" sh -c "printf 'long enough password\n' | '$CLEAVE' user add ada --admin --data '$WORK/data' --database '$db'"
check "user list --database shows ada" sh -c "'$CLEAVE' user list --data '$WORK/data' --database '$db' | grep -q '^ada	admin	'"
check "backup --database (pg_dump) while the server runs" "$CLEAVE" backup --data "$WORK/data" --database "$db" --out "$WORK/backup"
check "the backup holds cleave.pgdump" test -s "$WORK/backup/cleave.pgdump"
kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
refuse "restore into an existing database is refused" "database: .* already exists" "$CLEAVE" restore "$WORK/backup" --data "$WORK/r1" --database "$db"
refuse "restore of a PostgreSQL backup needs --database" "holds a PostgreSQL database" "$CLEAVE" restore "$WORK/backup" --data "$WORK/r1"
check "restore --database (pg_restore into a new database)" "$CLEAVE" restore "$WORK/backup" --data "$WORK/restored" --database "$restored_db"
check "the restored database has the project and the account" sh -c "psql -tA '$restored_db' -c 'SELECT name FROM projects' | grep -qx 'On PostgreSQL' && '$CLEAVE' user list --data '$WORK/restored' --database '$restored_db' | grep -q '^ada	'"

summary postgres-cli
