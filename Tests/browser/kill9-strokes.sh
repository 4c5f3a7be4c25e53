#!/usr/bin/env bash
# Fault test: strokes the server acknowledged survive `kill -9`.
# Starts `cleave serve --demo` on a free loopback port, saves N strokes the way the page does
# (one POST each, acknowledged with the stored stroke), kills the server with SIGKILL right after
# the last acknowledgement, restarts it on the same data directory and checks that every
# acknowledged stroke is there, in order, with its class and points.
#
#   bash Tests/browser/kill9-strokes.sh [CLEAVE_BINARY] [N]     # default .build/release/cleave, 50
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(realpath "${1:-.build/release/cleave}")"
count="${2:-50}"
[ -x "$bin" ] || { echo "kill9: no cleave binary at $bin"; echo "kill9: 0 passed, 1 failed"; exit 1; }
data="$(mktemp -d /tmp/cleave-kill9-XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port/api"
server=""
start() {
  "$bin" serve --demo --port "$port" --data "$data" >>"$data/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do
    curl -fs "$base/projects" >/dev/null 2>&1 && return
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "kill9: server did not start:"; cat "$data/serve.log"; echo "kill9: 0 passed, 1 failed"; exit 1
}
cleanup() {
  if [ -n "$server" ]; then kill -9 "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT INT TERM
start
project="$(curl -fs "$base/projects" | python3 -c 'import json, sys; print(json.load(sys.stdin)["projects"][0]["id"])')"
image="$(curl -fs "$base/projects/$project/images" | python3 -c 'import json, sys; print(json.load(sys.stdin)["images"][0]["id"])')"
# The demo image comes with example strokes of its own: only the strokes saved here are compared.
demo_strokes="$(curl -fs "$base/images/$image/strokes" | python3 -c 'import json, sys; print(" ".join(str(s["id"]) for s in json.load(sys.stdin)["strokes"]))')"
acknowledged=()
for i in $(seq 1 "$count"); do
  id="$(curl -fs -m 10 -X POST -H 'X-Cleave-User: kill9-test-user' -H 'Content-Type: application/json' \
        -d "{\"sessionId\": \"kill9-session\", \"class\": $((i % 2 + 1)), \"radius\": 3, \"points\": [[$i, 5], [$i, 50]]}" \
        "$base/images/$image/strokes" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
  acknowledged+=("$id")
done
kill -9 "$server"; wait "$server" 2>/dev/null || true
start
stored="$(curl -fs "$base/images/$image/strokes" | DEMO_STROKES="$demo_strokes" python3 -c '
import json, os, sys
demo = set(os.environ["DEMO_STROKES"].split())
strokes = [s for s in json.load(sys.stdin)["strokes"] if str(s["id"]) not in demo]
ok = all(s["class"] == (s["points"][0][0] % 2 + 1) and s["points"][1] == [s["points"][0][0], 50] for s in strokes)
print(" ".join(str(s["id"]) for s in strokes) if ok else "geometry-mismatch")')"
if [ "$stored" = "${acknowledged[*]}" ]; then
  echo "kill9: 1 passed, 0 failed (all ${#acknowledged[@]} acknowledged strokes survived kill -9)"
else
  echo "kill9: acknowledged ${acknowledged[*]}"
  echo "kill9: stored after restart $stored"
  echo "kill9: 0 passed, 1 failed"; exit 1
fi
