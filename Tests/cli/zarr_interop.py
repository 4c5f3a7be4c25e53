"""OME-Zarr interoperability checks (issue 20), run by Tests/cli/acceptance.sh.

    python3 Tests/cli/zarr_interop.py CLEAVE WORKDIR PART

PART is one of:
  cleave-written  zarr-python 3 and ome-zarr (PyPI) read images and labels written by
                  `cleave sample --kind fibsem` and `cleave convert` (NGFF 0.4 / Zarr v2 and
                  0.5 / Zarr v3, zstd, blosc, gzip): shape, chunks, dtype, scale, multiscales,
                  labels, and values equal to the TIFF they came from.
  python-written  Cleave reads arrays zarr-python wrote (v2 and v3; gzip, zstd, blosc, none;
                  uint8, uint16, int16, float32, big-endian; edge chunks, missing chunks = fill
                  value) and OME-Zarr images ome-zarr wrote, with identical values.
Exits 1 with the first mismatch on stderr.
"""
import json
import os
import subprocess
import sys

import numpy as np
import tifffile
import zarr

CLEAVE, WORK, PART = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)


def run(*args):
    result = subprocess.run([CLEAVE, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"cleave {' '.join(args)} failed: {result.stderr.strip()[-400:]}")
    return result.stdout


def expect(condition, message):
    if not condition:
        sys.exit(message)


def multiscales(group):
    attrs = dict(group.attrs)
    return attrs["ome"]["multiscales"] if "ome" in attrs else attrs["multiscales"]


def check_cleave_written():
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader, Label

    for ngff, fmt in (("0.4", 2), ("0.5", 3)):
        path = os.path.join(WORK, f"fib-{ngff}.ome.zarr")
        run("sample", "--kind", "fibsem", "--size", "20x150x130", "--seed", "3", "--chunk", "8x64x64",
            "--ngff", ngff, "--out", path)
        group = zarr.open_group(path, mode="r")
        expect(group.metadata.zarr_format == fmt, f"{path}: zarr_format {group.metadata.zarr_format}, expected {fmt}")
        ms = multiscales(group)[0]
        expect([a["name"] for a in ms["axes"]] == ["c", "z", "y", "x"], f"{path}: axes {ms['axes']}")
        expect(ms["axes"][1].get("unit") == "nanometer", f"{path}: unit {ms['axes'][1]}")
        level0 = group[ms["datasets"][0]["path"]]
        expect(level0.shape == (2, 20, 150, 130), f"{path}: level 0 shape {level0.shape}")
        expect(level0.chunks == (1, 8, 64, 64), f"{path}: level 0 chunks {level0.chunks}")
        expect(level0.dtype == np.uint16, f"{path}: dtype {level0.dtype}")
        scale0 = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
        expect(np.allclose(scale0, [1, 10, 5, 5]), f"{path}: scale {scale0}")
        expect(len(ms["datasets"]) >= 2, f"{path}: {len(ms['datasets'])} levels")
        level1 = group[ms["datasets"][1]["path"]]
        expect(level1.shape == (2, 20, 75, 65), f"{path}: level 1 shape {level1.shape}")
        scale1 = ms["datasets"][1]["coordinateTransformations"][0]["scale"]
        expect(np.allclose(scale1, [1, 10, 10, 10]), f"{path}: level 1 scale {scale1}")
        # Level 1 is the 2x2 mean of level 0 (rounded half up).
        a = level0[:].astype(np.int64)
        padded = np.pad(a, ((0, 0), (0, 0), (0, 0), (0, 0)))
        h, w = level1.shape[2], level1.shape[3]
        sums = np.zeros((2, 20, h, w)); counts = np.zeros((h, w))
        for dy in (0, 1):
            for dx in (0, 1):
                part = padded[:, :, dy::2, dx::2]
                sums[:, :, :part.shape[2], :part.shape[3]] += part
                counts[:part.shape[2], :part.shape[3]] += 1
        mean = np.floor((2 * sums + counts) / (2 * counts)).astype(np.uint16)
        expect(np.array_equal(level1[:], mean), f"{path}: level 1 is not the 2x2 mean of level 0")
        labels = zarr.open_group(os.path.join(path, "labels"), mode="r")
        names = dict(labels.attrs)["ome"]["labels"] if fmt == 3 else dict(labels.attrs)["labels"]
        expect(names == ["truth"], f"{path}/labels: {names}")
        truth_group = zarr.open_group(os.path.join(path, "labels", "truth"), mode="r")
        attrs = dict(truth_group.attrs)
        image_label = attrs["ome"]["image-label"] if fmt == 3 else attrs["image-label"]
        expect(image_label["source"]["image"] == "../../", f"image-label {image_label}")
        truth = truth_group[multiscales(truth_group)[0]["datasets"][0]["path"]]
        expect(truth.shape == (1, 20, 150, 130) and truth.dtype == np.uint8, f"truth {truth.shape} {truth.dtype}")
        values = np.unique(truth[:])
        expect(set(values.tolist()) <= {1, 2, 3, 4} and len(values) >= 3, f"truth values {values}")

        # ome-zarr's reader: the image node with its pyramid, and the label node.
        nodes = list(Reader(parse_url(path))())
        image = nodes[0]
        expect(tuple(image.data[0].shape) == (2, 20, 150, 130), f"ome-zarr: shape {image.data[0].shape}")
        expect(len(image.data) == len(ms["datasets"]), f"ome-zarr: {len(image.data)} levels")
        expect(tuple(image.data[0].chunksize) == (1, 8, 64, 64), f"ome-zarr: chunks {image.data[0].chunksize}")
        transforms = image.metadata["coordinateTransformations"][0][0]["scale"]
        expect(np.allclose(transforms, [1, 10, 5, 5]), f"ome-zarr: scale {transforms}")
        expect(np.array_equal(np.asarray(image.data[0][:, 3]), level0[:, 3]), "ome-zarr: values differ from zarr-python's")
        label_nodes = [n for n in nodes if n.load(Label)]
        expect(len(label_nodes) == 1 and tuple(label_nodes[0].data[0].shape) == (1, 20, 150, 130),
               f"ome-zarr: label nodes {[tuple(n.data[0].shape) for n in label_nodes]}")

    # cleave convert TIFF -> OME-Zarr with every codec: zarr-python reads the TIFF's values.
    rng = np.random.default_rng(5)
    stack = (rng.integers(0, 60000, size=(9, 70, 90)) // (1 + np.arange(90) % 7)).astype(np.uint16)
    tif = os.path.join(WORK, "stack.tif")
    tifffile.imwrite(tif, stack, imagej=True, resolution=(1 / 0.25, 1 / 0.25), metadata={"axes": "ZYX", "spacing": 0.5, "unit": "um"})
    for ngff in ("0.4", "0.5"):
        for codec in ("zstd", "blosc", "gzip", "none"):
            out = os.path.join(WORK, f"stack-{ngff}-{codec}.ome.zarr")
            run("convert", tif, out, "--ngff", ngff, "--codec", codec, "--chunk", "4x32x32")
            group = zarr.open_group(out, mode="r")
            ms = multiscales(group)[0]
            level0 = group[ms["datasets"][0]["path"]]
            expect(level0.chunks == (4, 32, 32), f"{out}: chunks {level0.chunks}")
            expect(np.array_equal(level0[:], stack), f"{out}: values differ from the TIFF")
            scale = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
            expect(np.allclose(scale, [0.5, 0.25, 0.25]) and ms["axes"][0]["unit"] == "micrometer", f"{out}: scale {scale} {ms['axes']}")
            back = os.path.join(WORK, f"back-{ngff}-{codec}.tif")
            run("convert", out, back)
            expect(np.array_equal(tifffile.imread(back), stack), f"{back}: the round trip changed values")
    print("zarr-python 3 and ome-zarr read Cleave's images and labels (NGFF 0.4/Zarr v2, 0.5/Zarr v3; zstd, blosc, gzip, none)")


def check_python_written():
    import numcodecs
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec, BytesCodec

    rng = np.random.default_rng(11)
    shape, chunks = (7, 45, 61), (3, 16, 20)     # edge chunks are partial in every dimension
    cases = []
    for dtype in ("uint8", "uint16", "int16", "float32"):
        data = rng.integers(0, 250 if dtype == "uint8" else 30000, size=shape).astype(dtype)
        if dtype == "float32":
            data = (data / 7).astype(np.float32)
        data[0:3, 0:16, 0:20] = 5                 # one chunk equal to the fill value: not stored
        cases.append((dtype, data))
    v2 = {"gzip": numcodecs.GZip(5), "zlib": numcodecs.Zlib(3), "zstd": numcodecs.Zstd(3),
          "blosc": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
          "blosc-zstd-bit": numcodecs.Blosc("zstd", 3, numcodecs.Blosc.BITSHUFFLE), "none": None}
    v3 = {"gzip": [BytesCodec(), GzipCodec(level=5)], "zstd": [BytesCodec(), ZstdCodec(level=3)],
          "zstd-checksum": [BytesCodec(), ZstdCodec(level=3, checksum=True)],
          "blosc": [BytesCodec(), BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")],
          "none": [BytesCodec()], "big-endian": [BytesCodec(endian="big"), ZstdCodec(level=1)]}
    count = 0
    for dtype, data in cases:
        for name, compressor in v2.items():
            path = os.path.join(WORK, f"py-v2-{dtype}-{name}.zarr")
            array = zarr.create_array(path, shape=shape, chunks=chunks, dtype=dtype, zarr_format=2,
                                      compressors=compressor, fill_value=5, overwrite=True)
            array[:] = data
            compare(path, data)
            count += 1
        for name, codecs in v3.items():
            path = os.path.join(WORK, f"py-v3-{dtype}-{name}.zarr")
            array = zarr.create_array(path, shape=shape, chunks=chunks, dtype=dtype, zarr_format=3,
                                      serializer=codecs[0], compressors=codecs[1:], fill_value=5, overwrite=True)
            array[:] = data
            compare(path, data)
            count += 1
    # A v2 big-endian array with "." chunk keys.
    path = os.path.join(WORK, "py-v2-be.zarr")
    array = zarr.create_array(path, shape=shape, chunks=chunks, dtype=">u2", zarr_format=2, compressors=numcodecs.Zstd(1),
                              fill_value=0, overwrite=True, chunk_key_encoding={"name": "v2", "separator": "."})
    data = rng.integers(0, 60000, size=shape).astype(">u2")
    array[:] = data
    compare(path, data.astype(np.uint16))
    count += 1
    # An OME-Zarr image written by ome-zarr-py (its pyramid, scale and chunks).
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image
    image = rng.integers(0, 4000, size=(12, 128, 96)).astype(np.uint16)
    path = os.path.join(WORK, "omezarr-py.ome.zarr")
    store = parse_url(path, mode="w").store
    root = zarr.group(store=store, overwrite=True)
    write_image(image, root, axes="zyx", storage_options={"chunks": (4, 64, 48)})
    # ome-zarr writes unit-less axes and unit scales; give the axes a unit and the levels a
    # physical scale (z 2 µm, x/y 0.5 µm at full resolution) the way a microscope export would.
    attrs = dict(root.attrs)
    ome = attrs.get("ome", attrs)
    ms = ome["multiscales"][0]
    for axis in ms["axes"]:
        axis["unit"] = "micrometer"
    for dataset in ms["datasets"]:
        for t in dataset["coordinateTransformations"]:
            if t["type"] == "scale":
                t["scale"] = [2.0 * t["scale"][0], 0.5 * t["scale"][1], 0.5 * t["scale"][2]]
    root.attrs.update(attrs)
    info = json.loads(run("info", path, "--json"))
    expect((info["width"], info["height"], info["depth"], info["pixelType"]) == (96, 128, 12, "uint16"), f"{path}: info {info}")
    expect(info["spacing"] is not None and abs(info["spacing"]["x"] - 0.5) < 1e-9 and abs(info["spacing"]["z"] - 2) < 1e-9,
           f"{path}: spacing {info['spacing']}")
    out = os.path.join(WORK, "omezarr-py.tif")
    run("convert", path, out)
    expect(np.array_equal(tifffile.imread(out), image), f"{path}: values differ")
    print(f"Cleave reads {count} arrays zarr-python wrote (v2 and v3; gzip, zlib, zstd, blosc, none; 4 types; big-endian; fill values) and an ome-zarr image, with identical values")


def compare(path, data):
    out = path[:-5] + ".tif"
    run("convert", path, out)
    got = tifffile.imread(out)
    want = data
    if data.dtype == np.int16:
        want = data.astype(np.float32)           # Cleave reads int16 as float32 (exact)
    elif data.dtype.byteorder == ">":
        want = data.astype(data.dtype.newbyteorder("="))
    expect(got.dtype == want.dtype, f"{path}: Cleave wrote {got.dtype}, expected {want.dtype}")
    expect(np.array_equal(got, want), f"{path}: values differ ({np.count_nonzero(got != want)} samples)")


{"cleave-written": check_cleave_written, "python-written": check_python_written}[PART]()
