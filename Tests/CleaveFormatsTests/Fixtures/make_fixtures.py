"""Generates the small TIFF / PNG / MRC fixtures for CleaveFormatsTests (run once; outputs committed).

    cd Tests/CleaveFormatsTests/Fixtures && python3 make_fixtures.py

Writers: tifffile 2026.3.3, Pillow 13.0 (with libtiff, for LZW / PackBits / predictors), numpy.
Every image is W x H = 32 x 24 (tiles 16 x 16), with sample values from one formula that
FixtureTests.swift recomputes:

    value(x, y, c, z) = (x * 7 + y * 13 + c * 29 + z * 31) % M     (M depends on the type)
    signed types subtract an offset; floats: value * 0.5 - 20.25
"""
import io
import numpy as np
import tifffile
from PIL import Image, PngImagePlugin

W, H = 32, 24


def base(channels=1, depth=1, modulo=256):
    z, c, y, x = np.meshgrid(np.arange(depth), np.arange(channels), np.arange(H), np.arange(W), indexing="ij")
    return ((x * 7 + y * 13 + c * 29 + z * 31) % modulo).transpose(0, 1, 2, 3)  # (z, c, y, x)


def grey(dtype, modulo, offset=0, depth=1):
    return (base(1, depth, modulo)[:, 0] - offset).astype(dtype)  # (z, y, x)


# --- tifffile (uncompressed / zlib with horizontal predictor) ---------------------------------
a = grey(np.uint16, 65536 // 7)[0] * 7
tifffile.imwrite("u16_be_deflate_pred.tif", a, byteorder=">", compression="zlib", predictor=True)
tifffile.imwrite("i16_le.tif", grey(np.int16, 1000, 500)[0])
tifffile.imwrite("i8_le.tif", grey(np.int8, 200, 100)[0])
tifffile.imwrite("u32_be.tif", (grey(np.uint32, 1000)[0].astype(np.uint32) * 100000), byteorder=">")
tifffile.imwrite("i32_le_deflate.tif", grey(np.int32, 1000, 500)[0] * 1000, compression="zlib")
tifffile.imwrite("f32_deflate.tif", (grey(np.float32, 1000)[0] * 0.5 - 20.25).astype(np.float32),
                 compression="zlib")
tifffile.imwrite("f64_be.tif", (grey(np.float64, 1000)[0] * 0.5 - 20.25), byteorder=">")
tifffile.imwrite("f16_le.tif", (grey(np.float16, 1000)[0] * 0.5 - 20.25).astype(np.float16))
tifffile.imwrite("u16_bigtiff_tiled_deflate.tif", grey(np.uint16, 4000)[0], bigtiff=True, tile=(16, 16),
                 compression="zlib")
rgb16 = base(3, 1, 4000)[0].astype(np.uint16)  # (c, y, x)
tifffile.imwrite("rgb16_planar.tif", rgb16, photometric="rgb", planarconfig="separate")
tifffile.imwrite("rgb8_tiled_contig.tif", np.moveaxis(base(3, 1, 256)[0], 0, -1).astype(np.uint8),
                 photometric="rgb", tile=(16, 16))
hyper = base(2, 3, 4000).astype(np.uint16)  # (z=3, c=2, y, x)
tifffile.imwrite("imagej_hyperstack.tif", hyper, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                 metadata={"axes": "ZCYX", "spacing": 1.5, "unit": "um"})
ome = base(1, 4, 256)[:, 0].astype(np.uint8)  # (z, y, x)
tifffile.imwrite("ome_zstack.ome.tif", ome, metadata={"axes": "ZYX", "PhysicalSizeX": 0.1, "PhysicalSizeXUnit": "µm",
                                                      "PhysicalSizeY": 0.1, "PhysicalSizeYUnit": "µm",
                                                      "PhysicalSizeZ": 0.3, "PhysicalSizeZUnit": "µm"})
palette = np.zeros((3, 256), dtype=np.uint16)
palette[0] = np.arange(256) * 257
palette[1] = (255 - np.arange(256)) * 257
palette[2] = (np.arange(256) * 3 % 256) * 257
tifffile.imwrite("palette8.tif", grey(np.uint8, 256)[0], photometric="palette", colormap=palette)
fei = "[User]\r\nDate=01/02/2020\r\n[Scan]\r\nPixelWidth=2.5e-09\r\nPixelHeight=2.5e-09\r\n"
tifffile.imwrite("fei_sem.tif", grey(np.uint8, 256)[0], extratags=[(34682, "s", 0, fei, True)])
zeiss = "0\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 3.75 nm\r\nAP_WD\r\nWD = 5.0 mm\r\n"
tifffile.imwrite("zeiss_sem.tif", grey(np.uint8, 256)[0], extratags=[(34118, "s", 0, zeiss, True)])
tifffile.imwrite("resolution_cm.tif", grey(np.uint8, 256)[0], resolution=(20000, 20000), resolutionunit="CENTIMETER")
tifffile.imwrite("multipage_u8.tif", grey(np.uint8, 256, depth=5), photometric="minisblack")

# --- Pillow / libtiff (LZW, PackBits, predictors, 1-bit) -------------------------------------
Image.fromarray(grey(np.uint8, 256)[0]).save("u8_lzw_pred.tif", compression="tiff_lzw", tiffinfo={317: 2})
Image.fromarray(grey(np.uint8, 256)[0]).save("u8_packbits.tif", compression="packbits")
Image.fromarray(np.moveaxis(base(3, 1, 256)[0], 0, -1).astype(np.uint8)).save(
    "rgb8_lzw_pred.tif", compression="tiff_lzw", tiffinfo={317: 2})
Image.fromarray(grey(np.uint16, 4000)[0]).save("u16_lzw.tif", compression="tiff_lzw")
Image.fromarray(((base(1, 1, 2)[0, 0]) * 255).astype(np.uint8)).convert("1").save("bilevel.tif")
Image.fromarray(((base(1, 1, 2)[0, 0]) * 255).astype(np.uint8)).convert("1").save("bilevel_packbits.tif",
                                                                                   compression="packbits")
Image.fromarray((grey(np.float32, 1000)[0] * 0.5 - 20.25).astype(np.float32), mode="F").save(
    "f32_lzw_fpred.tif", compression="tiff_lzw", tiffinfo={317: 3})

# --- PNG (Pillow) -----------------------------------------------------------------------------
Image.fromarray(grey(np.uint8, 256)[0]).save("grey8.png")
Image.fromarray(grey(np.uint16, 65536 // 7)[0] * 7).save("grey16.png")
Image.fromarray(np.moveaxis(base(2, 1, 256)[0], 0, -1).astype(np.uint8), mode="LA").save("grey_alpha8.png")
Image.fromarray(np.moveaxis(base(3, 1, 256)[0], 0, -1).astype(np.uint8)).save("rgb8.png")
Image.fromarray(np.moveaxis(base(4, 1, 256)[0], 0, -1).astype(np.uint8)).save("rgba8.png")
p = Image.fromarray(grey(np.uint8, 16)[0], mode="P")
p.putpalette([v for i in range(16) for v in (i * 16, 255 - i * 16, i * 5)])
p.save("palette4.png", bits=4, transparency=bytes([i * 16 for i in range(16)]))
Image.fromarray(((base(1, 1, 2)[0, 0]) * 255).astype(np.uint8)).convert("1").save("bilevel.png")


def adam7_png(name, rows, bit_depth, colour_type):
    """Writes an interlaced (Adam7) PNG by hand (Pillow cannot). rows: (H, W, samples) integers.
    Each pass row uses filter 1 (Sub) when its index is odd, else 0 (None)."""
    import struct, zlib
    h, w, spp = rows.shape
    bpp = max(1, spp * bit_depth // 8)
    raw = bytearray()
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        sub = rows[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for r, line in enumerate(sub):
            if bit_depth == 16:
                data = line.astype(">u2").tobytes()
            elif bit_depth == 8:
                data = line.astype(np.uint8).tobytes()
            else:
                bits = "".join(format(int(v), "0%db" % bit_depth) for v in line.reshape(-1))
                bits += "0" * (-len(bits) % 8)
                data = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
            if r % 2 == 1:
                data = bytes((data[i] - (data[i - bpp] if i >= bpp else 0)) & 255 for i in range(len(data)))
                raw += b"\x01" + data
            else:
                raw += b"\x00" + data

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 1)
    with open(name, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


adam7_png("interlaced_grey8.png", grey(np.uint8, 256)[0][:, :, None], 8, 0)
adam7_png("interlaced_rgb16.png", np.moveaxis(base(3, 1, 4000)[0], 0, -1), 16, 2)
adam7_png("interlaced_grey1.png", base(1, 1, 2)[0, 0][:, :, None], 1, 0)
info = PngImagePlugin.PngInfo()
info.add_text("Comment", "made by make_fixtures.py")
Image.fromarray(grey(np.uint8, 256)[0]).save("grey8_phys.png", pnginfo=info, dpi=(25400 / 0.5, 25400 / 0.5))

# A PNG with a .tif name (must be detected by content).
Image.fromarray(grey(np.uint8, 256)[0]).save("png_named.tif", format="PNG")

# --- MRC (written by hand: header fields per MRC2014) -----------------------------------------
def mrc(name, data, mode, cell, imod_unsigned=False, big=False, ext=0):
    nz, ny, nx = data.shape
    e = ">" if big else "<"
    header = bytearray(1024)
    np.array([nx, ny, nz, mode, 0, 0, 0, nx, ny, nz], dtype=e + "i4").tofile  # doc only
    header[0:40] = np.array([nx, ny, nz, mode, 0, 0, 0, nx, ny, nz], dtype=e + "i4").tobytes()
    header[40:52] = np.array(cell, dtype=e + "f4").tobytes()
    header[52:64] = np.array([90, 90, 90], dtype=e + "f4").tobytes()
    header[64:76] = np.array([1, 2, 3], dtype=e + "i4").tobytes()
    header[92:96] = np.array([ext], dtype=e + "i4").tobytes()
    header[104:108] = b"MRCO"
    header[108:112] = np.array([20140], dtype=e + "i4").tobytes()
    if imod_unsigned:
        header[152:160] = np.array([1146047817, 0], dtype=e + "i4").tobytes()
    header[208:212] = b"MAP "
    header[212:216] = bytes([0x11, 0x11, 0, 0]) if big else bytes([0x44, 0x44, 0, 0])
    with open(name, "wb") as f:
        f.write(bytes(header))
        f.write(bytes(ext))
        f.write(data.astype(data.dtype.newbyteorder(e)).tobytes())


mrc("mode0_int8.mrc", grey(np.int8, 200, 100, depth=2), 0, (32 * 1.5, 24 * 1.5, 2 * 1.5))
mrc("mode0_imod_uint8.mrc", grey(np.uint8, 256, depth=2), 0, (32.0, 24.0, 2.0), imod_unsigned=True)
mrc("mode1_int16_be_ext.mrc", grey(np.int16, 1000, 500, depth=3), 1, (64.0, 48.0, 6.0), big=True, ext=160)
mrc("mode2_float32.mrc", (grey(np.float32, 1000, depth=2) * 0.5 - 20.25).astype(np.float32), 2, (32.0, 24.0, 2.0))
mrc("mode6_uint16.mrc", grey(np.uint16, 4000, depth=2), 6, (320.0, 240.0, 20.0))
mrc("mode12_float16.mrc", (grey(np.float32, 1000, depth=2) * 0.5 - 20.25).astype(np.float16), 12, (32.0, 24.0, 2.0))
print("fixtures written")
