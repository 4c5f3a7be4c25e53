"""Makes the benchmark files and times the Python reference readers in-process.

    python3 bench_reference.py make OUTDIR          # writes the test files
    python3 bench_reference.py time FILE READER N   # READER: tifffile | pillow; prints best/median ms

Files (4096 x 4096 uint16, a smooth TEM-like image with Poisson-like noise, seed 1):
  u16_raw.tif       uncompressed (tifffile)
  u16_lzw.tif       LZW, horizontal predictor (Pillow / libtiff)
  u16_deflate.tif   Deflate (Adobe), horizontal predictor (Pillow / libtiff)
  rgb8_lzw.tif      the real sandstone RGB mask tiled 4x4 to 3984 x 4096, LZW + predictor (libtiff)
"""
import sys
import time
import numpy as np


def make(out):
    import tifffile
    from PIL import Image
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:4096, 0:4096].astype(np.float32)
    smooth = 8000 + 2000 * np.sin(x / 300) * np.cos(y / 410) + 0.3 * (x - 2048)
    blobs = np.zeros_like(smooth)
    for cx, cy, r in rng.uniform(0, 4096, (60, 3)):
        blobs -= 3000 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (r / 40 + 20) ** 2))
    image = np.clip(smooth + blobs + rng.normal(0, 90, smooth.shape), 0, 65535).astype(np.uint16)
    tifffile.imwrite(f"{out}/u16_raw.tif", image)
    Image.fromarray(image).save(f"{out}/u16_lzw.tif", compression="tiff_lzw", tiffinfo={317: 2})
    Image.fromarray(image).save(f"{out}/u16_deflate.tif", compression="tiff_adobe_deflate", tiffinfo={317: 2})
    mask = np.array(Image.open(sys.argv[3])) if len(sys.argv) > 3 else np.zeros((1024, 996, 3), np.uint8)
    Image.fromarray(np.tile(mask, (4, 4, 1))).save(f"{out}/rgb8_lzw.tif", compression="tiff_lzw", tiffinfo={317: 2})


def read(path, reader):
    if reader == "tifffile":
        import tifffile
        return tifffile.imread(path)
    from PIL import Image
    with Image.open(path) as im:
        im.load()
        return np.asarray(im)


def timeit(path, reader, repeats):
    read(path, reader)  # warm-up (imports, page cache)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a = read(path, reader)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"file={path} reader={reader} best_ms={times[0]:.3f} median_ms={times[len(times) // 2]:.3f} "
          f"repeats={repeats} shape={a.shape}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        timeit(sys.argv[2], sys.argv[3], int(sys.argv[4]))
