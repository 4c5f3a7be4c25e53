#!/usr/bin/env bash
# Builds the libFuzzer targets (TIFF and PNG decoding from memory) with swiftc and runs them.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 600; one target after the other, one core;
#                                          0 = build only; TARGETS="PNG" to run one)
#
# The seed corpus is made at run time in fuzz/corpus-{tiff,png}/ (git-ignored) from the real
# files in ../shared/data (when present), the committed test fixtures, and small files Cleave
# writes itself. Crashes go to fuzz/crashes/. Builds with AddressSanitizer + libFuzzer, -O.
# Stack promotion is disabled: with sanitizer instrumentation, swiftc 6.3 -O mis-handles
# stack-promoted arrays (a bogus "deallocated with non-zero retain count" abort on valid input
# that plain -O, -Onone+ASan and the SwiftPM release build all decode correctly).
# Set SKIP_BUILD=1 to reuse fuzz/build.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-600}"
BUILD="${FUZZ_BUILD:-fuzz/build}"
mkdir -p "$BUILD" fuzz/crashes fuzz/corpus-tiff fuzz/corpus-png
SAN="${FUZZ_SANITIZERS:--sanitize=fuzzer,address}"
FLAGS="${FUZZ_OPT:--O -Xllvm -sil-disable-pass=stack-promotion} -parse-as-library -swift-version 5"

if [ -z "${SKIP_BUILD:-}" ]; then
# Build from a snapshot so that editing the sources meanwhile cannot break the build.
rm -rf "$BUILD/src" && mkdir -p "$BUILD/src" && cp -r Sources/CleaveCore Sources/CleaveFormats Sources/CZlib "$BUILD/src/"
SRC="$BUILD/src"
echo "fuzz: building CleaveCore"
swiftc $FLAGS $SAN -emit-library -static -emit-module -module-name CleaveCore \
  -emit-module-path "$BUILD/CleaveCore.swiftmodule" "$SRC"/CleaveCore/*.swift -o "$BUILD/libCleaveCore.a"
echo "fuzz: building CleaveFormats"
swiftc $FLAGS $SAN -emit-library -static -emit-module -module-name CleaveFormats -I "$BUILD" -I "$SRC"/CZlib \
  -emit-module-path "$BUILD/CleaveFormats.swiftmodule" $(find "$SRC"/CleaveFormats -name '*.swift') \
  -o "$BUILD/libCleaveFormats.a"
for target in TIFF PNG; do
  echo "fuzz: building fuzz-$target"
  swiftc $FLAGS $SAN -I "$BUILD" -I "$SRC"/CZlib fuzz/Fuzz$target.swift -L "$BUILD" -lCleaveFormats -lCleaveCore -lz \
    -o "$BUILD/fuzz-$target"
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
if [ -x .build/debug/cleave ] && [ -d "$DATA" ]; then
  # Small crops of the real files in every layout Cleave writes (deflate, RGB, pages).
  .build/debug/cleave convert "$DATA"/sandstone-xrm/masks/Sandstone_Versa0000.tif fuzz/corpus-png/real-mask.png >/dev/null || true
fi

[ "$SECONDS_PER_TARGET" = 0 ] && { echo "fuzz: built (0 seconds requested: not running)"; exit 0; }
for target in ${TARGETS:-TIFF PNG}; do
  corpus=fuzz/corpus-$(echo $target | tr A-Z a-z)
  echo "fuzz: running fuzz-$target for ${SECONDS_PER_TARGET}s on $(ls $corpus | wc -l) seeds"
  SWIFT_BACKTRACE=enable=no "$BUILD/fuzz-$target" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -jobs=1 -workers=1 \
    -max_len="${FUZZ_MAX_LEN:-262144}" -rss_limit_mb=2048 -timeout=10 -artifact_prefix=fuzz/crashes/$target- \
    -print_final_stats=1 > "$BUILD/fuzz-$target.log" 2>&1 || true
  grep -E "ERROR|SUMMARY|stat::number_of_executed_units|Test unit written|DONE" "$BUILD/fuzz-$target.log" || true
done
