# Shared by the shell checks (sourced, not run): Tests/cli/acceptance.sh, blocks.sh, objects_blocks.sh,
# hostile.sh and Tests/postgres/cli.sh. Each check prints one line, "ok   NAME" or "FAIL NAME" with
# an indented detail line; a script closes with `summary NAME`, which prints "NAME: N passed,
# N failed" (what .ci/run and acceptance.sh read) and returns non-zero when a check failed.
passed=0; failed=0

ok()  { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }
# check NAME COMMAND…: the command must succeed
check() { local name=$1; shift; local out; if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$(echo "$out" | tail -n 3)"; fi; }
# refuse NAME PATTERN COMMAND…: the command must fail with an error matching PATTERN (extended
# regex, any case) and no crash report. With REFUSE_ONE_LINE=1 the error must also be exactly one
# line (option checks add the usage line and a help hint, as for every command; progress lines
# "stage…" are not errors).
refuse() {
  local name=$1 pattern=$2; shift 2; local out status
  out=$("$@" 2>&1); status=$?
  if [ $status -eq 0 ]; then bad "$name" "exited 0"; return; fi
  if ! echo "$out" | grep -qiE -e "$pattern"; then bad "$name" "message: $(echo "$out" | head -n 2)"; return; fi
  if echo "$out" | grep -qE "Fatal error|Stack dump|Segmentation|Illegal instruction"; then bad "$name" "crashed: $(echo "$out" | head -n 2)"; return; fi
  if [ "${REFUSE_ONE_LINE:-}" = 1 ] && [ "$(echo "$out" | grep -vE '^(Usage: |  See .cleave|$)|…$' | grep -c .)" -ne 1 ]; then
    bad "$name" "not one line: $(echo "$out" | head -n 3)"; return
  fi
  ok "$name"
}
# pycheck NAME PYTHON-SOURCE [ARGS…]: a python3 snippet that must exit 0
pycheck() { local name=$1; shift; local out; if out=$(python3 -c "$@" 2>&1); then ok "$name"; else bad "$name" "$(echo "$out" | tail -n 2)"; fi; }
# sums STORE: checksums of every file of a labels store but the block journal (chunks of every
# level and metadata), in a fixed order.
sums() { (cd "$1" && find . -type f ! -path './.cleave-blocks/*' ! -name '.*' | LC_ALL=C sort | xargs md5sum); }
# summary NAME: the closing line "NAME: N passed, N failed"; fails when a check failed.
summary() { echo "$1: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
