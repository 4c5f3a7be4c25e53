#!/usr/bin/env bash
# All browser-level tests against one cleave binary: the end-to-end session in headless Chromium
# (e2e.sh), the kill -9 stroke-durability test (kill9-strokes.sh) and hostile inputs through the
# HTTP API (hostile-server.py: non-finite pixels, decompression bombs, parallel identical uploads,
# cross-site requests) and accounts.py (accounts, sessions and project roles over HTTP and in
# Chromium: sign in, an annotator paints, a viewer cannot) and api-fuzz.py (schemathesis sends generated
# requests to every operation of the served OpenAPI document: no 5xx). Each stops its own server.
#
#   bash Tests/browser/run.sh [CLEAVE_BINARY]     # default .build/release/cleave
#
# Last line: "browser: N passed, M failed" over all five (e2e steps, the kill -9 test, hostile, accounts and API-fuzz checks).
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-.build/release/cleave}"
started=$(date +%s)
e2e_log="$(mktemp)"; kill_log="$(mktemp)"; hostile_log="$(mktemp)"; accounts_log="$(mktemp)"; fuzz_log="$(mktemp)"
trap 'rm -f "$e2e_log" "$kill_log" "$hostile_log" "$accounts_log" "$fuzz_log"' EXIT
timeout -k 10 780 bash Tests/browser/e2e.sh "$bin" 2>&1 | tee "$e2e_log"
timeout -k 10 120 bash Tests/browser/kill9-strokes.sh "$bin" 2>&1 | tee "$kill_log"
timeout -k 10 300 python3 Tests/browser/hostile-server.py "$bin" 2>&1 | tee "$hostile_log"
timeout -k 10 300 python3 Tests/browser/accounts.py "$bin" 2>&1 | tee "$accounts_log"
timeout -k 10 900 python3 Tests/browser/api-fuzz.py "$bin" 2>&1 | tee "$fuzz_log"
count() { sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p" "$2" | tail -n 1; }
read -r e2e_pass e2e_fail <<<"$(count browser "$e2e_log")"
read -r kill_pass kill_fail <<<"$(count kill9 "$kill_log")"
read -r hostile_pass hostile_fail <<<"$(count hostile "$hostile_log")"
read -r accounts_pass accounts_fail <<<"$(count accounts "$accounts_log")"
read -r fuzz_pass fuzz_fail <<<"$(count api-fuzz "$fuzz_log")"
passed=$(( ${e2e_pass:-0} + ${kill_pass:-0} + ${hostile_pass:-0} + ${accounts_pass:-0} + ${fuzz_pass:-0} ))
failed=$(( ${e2e_fail:-1} + ${kill_fail:-1} + ${hostile_fail:-1} + ${accounts_fail:-1} + ${fuzz_fail:-1} ))
skipped="$(sed -n 's/^browser: .* failed, \([0-9]*\) skipped.*/\1/p' "$e2e_log" | tail -n 1)"
echo "browser tests took $(( $(date +%s) - started )) s"
echo "browser: $passed passed, $failed failed${skipped:+, $skipped skipped}"
[ "$failed" -eq 0 ]
