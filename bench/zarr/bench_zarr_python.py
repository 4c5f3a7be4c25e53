"""zarr-python 3 side of bench/zarr: read a whole Zarr array into memory REPEATS times (after a
warm-up read) and print the best and median wall time, the way `cleave bench-read` prints its own.

    python3 bench/zarr/bench_zarr_python.py ARRAY_DIR REPEATS
"""
import sys
import time

import numpy as np
import zarr

path, repeats = sys.argv[1], int(sys.argv[2])
array = zarr.open_array(path, mode="r")
data = array[:]                      # warm-up (page cache, codec set-up)
times = []
for _ in range(repeats):
    start = time.perf_counter()
    data = array[:]
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(f"file={path} best_ms={times[0]:.3f} median_ms={times[len(times) // 2]:.3f} repeats={repeats} "
      f"samples={data.size} checksum={int(data.astype(np.uint64).sum())} zarr={zarr.__version__}")
