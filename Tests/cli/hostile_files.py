#!/usr/bin/env python3
"""Writes small hostile input files for Tests/cli/hostile.sh into DIR.

Non-finite pixels (float32 TIFFs, 96x96 unless said):
  nan.tif, posinf.tif, neginf.tif   one NaN / +inf / -inf at column 17, row 5 (issue 19 item 1)
  neginf-5pct.tif                   5 % of the pixels -inf (the predict overlay's percentile window)
  nan-stack.tif                     3 planes of 64x64, NaN at column 3, row 4 of plane 2 (streamed reads)
  extreme.tif                       finite values of +-3e38 (no trap on huge finite values)
  ramp.tif                          a clean float32 image to train on

Decompression bombs (a few hundred KB to 2 MB on disk; issue 19 item 4):
  lzw-400mp.tif        20000x20000 uint8, LZW, 20 strips (needs imagecodecs for LZW)
  deflate-900mp.tif    30000x30000 uint8, deflate strips
  deflate-1800mp.tif   60000x30000 uint8, deflate strips
  shared-1800mp.tif    60000x30000 uint8, every strip offset pointing at one deflate strip
  png-1800mp.png       60000x30000 8-bit grey PNG

MRC headers that lie about the size (issue 19 item 3):
  mrc-lie-huge.mrc     a 2 KB file claiming 100000^3 float32
  mrc-lie-8gb.mrc      a 16 MB file claiming 2048x2048x512 float32 (8.6 GB)

The deflate streams are built from one byte-aligned, dictionary-free block (a zlib full flush)
repeated, so a gigapixel stream takes milliseconds to write; Adler-32 of n zero bytes is
(n mod 65521) << 16 | 1.
"""
import os
import struct
import sys
import zlib

import numpy as np


def zeros_zlib(count, piece=1 << 20):
    """A zlib stream that inflates to `count` zero bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(piece)) + c.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(count, piece)
    tail = c.compress(bytes(rest)) + c.flush(zlib.Z_FINISH) if rest else c.flush(zlib.Z_FINISH)
    # The tail compressor continued after the full flush, so its bytes do not depend on the repeats.
    adler = ((count % 65521) << 16) | 1
    return b"\x78\xda" + block * whole + tail + struct.pack(">I", adler)


def write_tiff(path, width, height, strips, rows_per_strip, compression, sample_format=1, bits=8, shared=False):
    """A little-endian TIFF with one page; `strips` is a list of encoded strips (or one, shared)."""
    count = (height + rows_per_strip - 1) // rows_per_strip
    data = bytearray(b"II*\x00\x00\x00\x00\x00")
    offsets, sizes = [], []
    if shared:
        offsets = [len(data)] * count
        sizes = [len(strips[0])] * count
        data += strips[0]
    else:
        for s in strips:
            offsets.append(len(data)); sizes.append(len(s)); data += s
    if len(data) % 2:
        data += b"\x00"
    # Arrays of strip offsets and byte counts.
    off_array = len(data); data += struct.pack("<%dI" % count, *offsets)
    size_array = len(data); data += struct.pack("<%dI" % count, *sizes)
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, bits), (259, 3, 1, compression),
        (262, 3, 1, 1), (273, 4, count, off_array if count > 1 else offsets[0]), (277, 3, 1, 1),
        (278, 4, 1, rows_per_strip), (279, 4, count, size_array if count > 1 else sizes[0]),
        (339, 3, 1, sample_format),
    ]
    ifd = len(data)
    data += struct.pack("<H", len(entries))
    for tag, kind, n, value in entries:
        if kind == 3 and n == 1:
            data += struct.pack("<HHIHH", tag, kind, n, value, 0)
        else:
            data += struct.pack("<HHII", tag, kind, n, value)
    data += struct.pack("<I", 0)
    struct.pack_into("<I", data, 4, ifd)
    with open(path, "wb") as f:
        f.write(data)


def zero_bomb(path, width, height, rows_per_strip, codec, shared=False):
    strip_rows = [min(rows_per_strip, height - r) for r in range(0, height, rows_per_strip)]
    encoded = {}
    for rows in set(strip_rows):
        raw = width * rows
        if codec == "lzw":
            import imagecodecs
            encoded[rows] = imagecodecs.lzw_encode(bytes(raw))
        else:
            encoded[rows] = zeros_zlib(raw)
    strips = [encoded[rows] for rows in strip_rows]
    write_tiff(path, width, height, strips, rows_per_strip, 5 if codec == "lzw" else 8, shared=shared)


def png_bomb(path, width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    stream = zeros_zlib((width + 1) * height)  # a filter byte (0) and the zero samples per row
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr))
        for i in range(0, len(stream), 1 << 20):
            f.write(chunk(b"IDAT", stream[i:i + (1 << 20)]))
        f.write(chunk(b"IEND", b""))


def mrc(path, nx, ny, nz, mode, data_bytes):
    header = bytearray(1024)
    struct.pack_into("<4i", header, 0, nx, ny, nz, mode)
    struct.pack_into("<3i", header, 28, nx, ny, nz)
    struct.pack_into("<3f", header, 40, float(nx), float(ny), float(nz))
    struct.pack_into("<3i", header, 64, 1, 2, 3)
    header[208:212] = b"MAP "
    header[212:216] = b"\x44\x44\x00\x00"
    with open(path, "wb") as f:
        f.write(header)
        f.write(bytes(data_bytes))


def float_tiff(path, image):
    """float32 TIFF, one uncompressed strip per plane (written by hand: no dependency on how a
    library treats NaN)."""
    image = np.ascontiguousarray(image, dtype="<f4")
    if image.ndim == 2:
        image = image[None]
    planes, height, width = image.shape
    data = bytearray(b"II*\x00\x00\x00\x00\x00")
    offsets = []
    for p in range(planes):
        offsets.append(len(data)); data += image[p].tobytes()
    previous = 4
    for p in range(planes):
        entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 32), (259, 3, 1, 1), (262, 3, 1, 1),
                   (273, 4, 1, offsets[p]), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, width * height * 4),
                   (339, 3, 1, 3)]
        ifd = len(data)
        struct.pack_into("<I", data, previous, ifd)
        data += struct.pack("<H", len(entries))
        for tag, kind, n, value in entries:
            data += struct.pack("<HHIHH", tag, kind, n, value, 0) if kind == 3 else struct.pack("<HHII", tag, kind, n, value)
        previous = len(data)
        data += struct.pack("<I", 0)
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    which = set(sys.argv[2:]) or {"nonfinite", "bombs", "mrc"}
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(19)
    if "nonfinite" in which:
        base = (rng.random((96, 96)) * 200 + 20).astype(np.float32)
        base[30:60, 30:60] += 300  # a bright square: two classes to train on
        float_tiff(f"{out}/ramp.tif", base)
        labels = np.zeros((96, 96), np.uint8)
        labels[35:55, 35:55] = 2
        labels[5:25, 5:25] = 1
        import tifffile
        tifffile.imwrite(f"{out}/ramp-labels.tif", labels)
        for name, value in (("nan", np.nan), ("posinf", np.inf), ("neginf", -np.inf)):
            image = base.copy(); image[5, 17] = value
            float_tiff(f"{out}/{name}.tif", image)
        image = base.copy(); image.flat[rng.choice(image.size, image.size // 20, replace=False)] = -np.inf
        float_tiff(f"{out}/neginf-5pct.tif", image)
        stack = (rng.random((3, 64, 64)) * 200).astype(np.float32); stack[2, 4, 3] = np.nan
        float_tiff(f"{out}/nan-stack.tif", stack)
        extreme = base.copy(); extreme[::2, ::2] = 3e38; extreme[1::2, 1::2] = -3e38
        float_tiff(f"{out}/extreme.tif", extreme)
    if "bombs" in which:
        try:
            import imagecodecs  # noqa: F401
            zero_bomb(f"{out}/lzw-400mp.tif", 20000, 20000, 1000, "lzw")
        except ImportError:
            print("hostile_files: imagecodecs missing, no LZW bomb", file=sys.stderr)
        zero_bomb(f"{out}/deflate-900mp.tif", 30000, 30000, 1000, "deflate")
        zero_bomb(f"{out}/deflate-1800mp.tif", 60000, 30000, 500, "deflate")
        zero_bomb(f"{out}/shared-1800mp.tif", 60000, 30000, 500, "deflate", shared=True)
        png_bomb(f"{out}/png-1800mp.png", 60000, 30000)
    if "mrc" in which:
        mrc(f"{out}/mrc-lie-huge.mrc", 100000, 100000, 100000, 2, 1024)
        mrc(f"{out}/mrc-lie-8gb.mrc", 2048, 2048, 512, 2, 16 << 20)


if __name__ == "__main__":
    main()
