#!/usr/bin/env bash
# Stops a server started by start-postgres.sh and removes its directory.
#   usage: bash Tests/postgres/stop-postgres.sh DIR
set -euo pipefail
dir=$1
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -d "$dir/data" ]; then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  else "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; fi
fi
rm -rf "$dir"
