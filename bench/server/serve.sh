# Sourced by the workbench benchmarks: builds cleave unless CLEAVE is set, starts `cleave serve` on
# a free loopback port with a fresh data directory, and stops it (and removes the directory) on exit.
# Sets CLEAVE, WORK, PORT and SERVER. Needs to run from the repository root.
if [ -z "${CLEAVE:-}" ]; then swift build -c release --product cleave >/dev/null; CLEAVE=$PWD/.build/release/cleave; fi
WORK=$(mktemp -d)
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CLEAVE" serve --data "$WORK/data" --port "$PORT" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf -H "X-Cleave-User: bench-0001" "http://127.0.0.1:$PORT/api/projects" >/dev/null && break; sleep 0.1; done
