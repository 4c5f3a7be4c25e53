"""Seeds for fuzz-ZARR (see fuzz/FuzzZarr.swift): chunks of an 8 x 16 x 16 array in every codec
and sample type the target picks, plus .zarray and zarr.json documents. Usage: zarr_seeds.py DIR"""
import json
import os
import sys

import numpy as np
import numcodecs

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
codecs = [None, numcodecs.Zlib(1), numcodecs.GZip(1), numcodecs.Zstd(1),
          numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE), numcodecs.Blosc("zstd", 5, numcodecs.Blosc.BITSHUFFLE)]
types = ["<u1", "<u2", "<f4", "<i4"]
rng = np.random.default_rng(1)
for t, dtype in enumerate(types):
    data = (rng.integers(0, 200, size=(8, 16, 16)) + np.arange(16)).astype(dtype)
    for c, codec in enumerate(codecs):
        raw = data.tobytes()
        stored = raw if codec is None else codec.encode(raw)
        with open(os.path.join(out, f"chunk-{t}-{c}"), "wb") as f:
            f.write(bytes([2, t * len(codecs) + c]) + bytes(stored))
zarray = {"zarr_format": 2, "shape": [64, 512, 512], "chunks": [8, 64, 64], "dtype": "<u2",
          "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
          "fill_value": 0, "order": "C", "filters": None, "dimension_separator": "/"}
with open(os.path.join(out, "zarray"), "wb") as f:
    f.write(b"\x00" + json.dumps(zarray).encode())
zarr_json = {"zarr_format": 3, "node_type": "array", "shape": [64, 512, 512], "data_type": "uint16",
             "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [8, 64, 64]}},
             "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "fill_value": 0,
             "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
             "dimension_names": ["z", "y", "x"], "attributes": {}}
with open(os.path.join(out, "zarr-json"), "wb") as f:
    f.write(b"\x01" + json.dumps(zarr_json).encode())
print(f"fuzz: {len(types) * len(codecs) + 2} Zarr seeds in {out}")
