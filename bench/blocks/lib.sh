# Shared by the block benchmarks (sourced, not run): bench/blocks/run.sh and
# bench/objects-blocks/run.sh. Set OUT (e.g. bench/out/blocks) before sourcing; this file moves to
# the repository root, creates OUT, builds the CLI unless SKIP_BUILD=1, and sets CLEAVE (default
# .build/release/cleave; CLEAVE=path another binary).
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mkdir -p "$OUT"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product cleave 2>&1 | tail -n 1
CLEAVE="${CLEAVE:-.build/release/cleave}"

# fibsem VOL SIZE SEED [ARGS…]: a synthetic one-detector FIB-SEM volume (`cleave sample --kind
# fibsem --channels 1`, its `truth` labels inside) at VOL, unless VOL exists.
fibsem() {
  local vol=$1 size=$2 seed=$3; shift 3
  [ -d "$vol" ] || "$CLEAVE" sample --kind fibsem --size "$size" --channels 1 --seed "$seed" "$@" --out "$vol" > /dev/null 2>&1
}

# run NAME COMMAND…: the command under /usr/bin/time -v (stdout to OUT/NAME.out, the timing to
# OUT/NAME.time); prints "NAME wall_s=… cpu_s=… max_rss_mib=…", seconds with RUN_DIGITS decimals
# (default 2).
run() {
  local name=$1; shift
  /usr/bin/time -v "$@" > "$OUT/$name.out" 2> "$OUT/$name.time"
  python3 - "$OUT/$name.time" "$name" "${RUN_DIGITS:-2}" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def field(label):
    return re.search(re.escape(label) + r":\s*(.+)", t).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
seconds = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)")) / 1024
d = int(sys.argv[3])
print(f"{sys.argv[2]} wall_s={seconds:.{d}f} cpu_s={cpu:.{d}f} max_rss_mib={rss:.0f}")
PY
}

# load: the load averages (timings taken while others build are indicative only).
load() { uptime | sed 's/.*load average: //'; }
