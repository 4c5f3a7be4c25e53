#!/usr/bin/env bash
# Optional fault test (NOT run by .ci/run yet): strokes the server acknowledged survive `kill -9`.
# Starts `cleave serve --demo` on a free loopback port, saves N strokes, kills the server with
# SIGKILL right after the last acknowledgement, restarts it on the same data directory and
# checks that every acknowledged stroke is there.
#
#   bash Tests/browser/kill9-strokes.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-50}"
data="$(mktemp -d /tmp/cleave-kill9-XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
swift build --product cleave >/dev/null
bin="$(swift build --show-bin-path)/cleave"
base="http://127.0.0.1:$port/api"
start() {
  "$bin" serve --demo --port "$port" --data "$data" >>"$data/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "$base/projects" >/dev/null && return; sleep 0.2; done
  echo "server did not start"; exit 1
}
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
start
project="$(curl -fs "$base/projects" | python3 -c 'import json, sys; print(json.load(sys.stdin)["projects"][0]["id"])')"
image="$(curl -fs "$base/projects/$project/images" | python3 -c 'import json, sys; print(json.load(sys.stdin)["images"][0]["id"])')"
acknowledged=()
for i in $(seq 1 "$count"); do
  id="$(curl -fs -X POST -H 'X-Cleave-User: kill9-test-user' -H 'Content-Type: application/json' \
        -d "{\"sessionId\": \"kill9-session\", \"class\": $((i % 2 + 1)), \"radius\": 3, \"points\": [[$i, 5], [$i, 50]]}" \
        "$base/images/$image/strokes" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
  acknowledged+=("$id")
done
kill -9 "$server"; wait "$server" 2>/dev/null || true
start
stored="$(curl -fs "$base/images/$image/strokes" | python3 -c 'import json, sys; print(" ".join(str(s["id"]) for s in json.load(sys.stdin)["strokes"]))')"
if [ "$stored" = "${acknowledged[*]}" ]; then
  echo "1 passed, 0 failed: all ${#acknowledged[@]} acknowledged strokes survived kill -9"
else
  echo "0 passed, 1 failed: acknowledged ${acknowledged[*]}, stored after restart $stored"; exit 1
fi
