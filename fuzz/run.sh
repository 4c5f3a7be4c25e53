#!/usr/bin/env bash
# Builds the libFuzzer targets (TIFF, PNG, MRC and Zarr chunk decoding from memory) with swiftc and runs them.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 600; one target after the other, one core;
#                                          0 = build only; TARGETS="PNG" to run one)
#   The Zarr target's first input byte picks .zarray / zarr.json metadata or a chunk (second byte:
#   codec none/zlib/gzip/zstd/blosc-lz4/blosc-zstd, sample type, byte order); seeds are made by
#   fuzz/zarr_seeds.py (Python only; skipped when numcodecs is missing).
#   FUZZ_FAIL_ON_CRASH=1: exit 1 when a target crashes (the CI smoke run)
#   FUZZ_TIMEOUT=SECONDS: wall-clock time one input may take (default 60; libFuzzer measures wall
#   time, so on a loaded machine a small value reports valid seeds as hangs)
#
# The seed corpus is made at run time in fuzz/corpus-{tiff,png,mrc,zarr}/ (git-ignored) from the real
# files in ../shared/data (when present), the committed test fixtures, and small files Cleave
# writes itself. Crashes go to fuzz/crashes/. Builds with AddressSanitizer + libFuzzer, -O.
# Optimised like release builds (-O). History: the first runs aborted on valid files with
# "deallocated with non-zero retain count" in TIFFPageDecoder.decode — stack-promoted helper
# objects; release builds crashed there intermittently too. The helpers are now plain structs;
# FUZZ_OPT="-O -Xllvm -sil-disable-pass=stack-promotion" reproduces the workaround used before.
# Set SKIP_BUILD=1 to reuse fuzz/build.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-600}"
BUILD="${FUZZ_BUILD:-fuzz/build}"
mkdir -p "$BUILD" fuzz/crashes fuzz/corpus-tiff fuzz/corpus-png fuzz/corpus-mrc fuzz/corpus-zarr
SAN="${FUZZ_SANITIZERS:--sanitize=fuzzer,address}"
FLAGS="${FUZZ_OPT:--O} -parse-as-library -swift-version 5"

if [ -z "${SKIP_BUILD:-}" ]; then
# Build from a snapshot so that editing the sources meanwhile cannot break the build.
rm -rf "$BUILD/src" && mkdir -p "$BUILD/src" && cp -r Sources/CleaveCore Sources/CleaveFormats Sources/CZlib Sources/CZstd Sources/CBlosc Sources/CMalloc "$BUILD/src/"
SRC="$BUILD/src"
echo "fuzz: building CleaveCore"
swiftc $FLAGS $SAN -emit-library -static -emit-module -module-name CleaveCore -I "$SRC"/CMalloc \
  -emit-module-path "$BUILD/CleaveCore.swiftmodule" "$SRC"/CleaveCore/*.swift -o "$BUILD/libCleaveCore.a"
echo "fuzz: building CleaveFormats"
swiftc $FLAGS $SAN -emit-library -static -emit-module -module-name CleaveFormats -I "$BUILD" -I "$SRC"/CZlib -I "$SRC"/CZstd -I "$SRC"/CBlosc -I "$SRC"/CMalloc \
  -emit-module-path "$BUILD/CleaveFormats.swiftmodule" $(find "$SRC"/CleaveFormats -name '*.swift') \
  -o "$BUILD/libCleaveFormats.a"
for target in TIFF PNG MRC ZARR; do
  echo "fuzz: building fuzz-$target"
  source_name=$target; [ "$target" = ZARR ] && source_name=Zarr
  swiftc $FLAGS $SAN -I "$BUILD" -I "$SRC"/CZlib -I "$SRC"/CZstd -I "$SRC"/CBlosc -I "$SRC"/CMalloc fuzz/Fuzz$source_name.swift -L "$BUILD" -lCleaveFormats -lCleaveCore -lz -lzstd -lblosc \
    -o "$BUILD/fuzz-$target" 2>&1 | grep -v "Cannot export local symbol" || true
  [ -x "$BUILD/fuzz-$target" ] || { echo "fuzz: build of fuzz-$target failed"; exit 1; }
done
fi

# Seeds: real files, committed fixtures, and files written by Cleave.
DATA=../shared/data
if [ -d "$DATA" ]; then
  cp -f "$DATA"/sandstone-xrm/masks/Sandstone_Versa0000.tif fuzz/corpus-tiff/real-mask-lzw.tif
  cp -f "$DATA"/sandstone-xrm/images/Sandstone_Versa0000.tif fuzz/corpus-tiff/real-sandstone-be.tif
  cp -f "$DATA"/sandstone-xrm/labels/Sandstone_Versa0000.tif fuzz/corpus-tiff/real-labels.tif
  : # TEM tile is 2 MB; a 1-strip copy is made below instead
  # cp -f "$DATA"/tem-microcrystals/dataset1-graphite-30kx/Tile_001-001-000_0-000.tif fuzz/corpus-tiff/real-tem.tif
fi
for f in Tests/CleaveFormatsTests/Fixtures/*.tif; do [ -f "$f" ] && cp -f "$f" fuzz/corpus-tiff/; done
for f in Tests/CleaveFormatsTests/Fixtures/*.png; do [ -f "$f" ] && cp -f "$f" fuzz/corpus-png/; done
for f in Tests/CleaveFormatsTests/Fixtures/*.mrc; do [ -f "$f" ] && cp -f "$f" fuzz/corpus-mrc/; done
CLI=$(ls .build/release/cleave .build/debug/cleave 2>/dev/null | head -n 1 || true)
if [ -n "$CLI" ] && [ -d "$DATA" ]; then
  # Small crops of the real files in every layout Cleave writes (deflate, RGB, pages).
  "$CLI" convert "$DATA"/sandstone-xrm/masks/Sandstone_Versa0000.tif fuzz/corpus-png/real-mask.png >/dev/null || true
fi

python3 fuzz/zarr_seeds.py fuzz/corpus-zarr || echo "fuzz: Zarr seeds not made (needs numpy and numcodecs); the Zarr target starts from an empty corpus"

[ "$SECONDS_PER_TARGET" = 0 ] && { echo "fuzz: built (0 seconds requested: not running)"; exit 0; }
crashed=""
for target in ${TARGETS:-TIFF PNG MRC ZARR}; do
  corpus=fuzz/corpus-$(echo $target | tr A-Z a-z)
  echo "fuzz: running fuzz-$target for ${SECONDS_PER_TARGET}s on $(ls $corpus | wc -l) seeds"
  SWIFT_BACKTRACE=enable=no "$BUILD/fuzz-$target" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -jobs=1 -workers=1 \
    -max_len="${FUZZ_MAX_LEN:-262144}" -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-60}" -artifact_prefix=fuzz/crashes/$target- \
    -print_final_stats=1 > "$BUILD/fuzz-$target.log" 2>&1 || true
  grep -E "ERROR|SUMMARY|stat::number_of_executed_units|Test unit written|DONE" "$BUILD/fuzz-$target.log" || true
  # A crash, sanitizer report, hang (timeout) or out-of-memory; "slow-unit" files are only notes.
  grep -qE "==[0-9]+==( )?ERROR|deadly signal|Test unit written to .*(crash|timeout|oom|leak)-" "$BUILD/fuzz-$target.log" && crashed="$crashed $target"
done
if [ -n "$crashed" ]; then
  echo "fuzz: CRASH in$crashed (inputs in fuzz/crashes/, logs in $BUILD/)"
  [ -n "${FUZZ_FAIL_ON_CRASH:-}" ] && exit 1
fi
exit 0
