"""`cleave register` on synthetic EDS maps of sandstone slice 0000, against the truth and scikit-image.

For each case a map is made with make_eds_map.py (labels of 0000 downsampled, rotated 17°, shifted,
mirrored or not, 10 % of border pixels relabelled, a corner cropped) and registered to the labels
and to the grey image of 0000, with the command as a user types it (all outputs written). Reports
the corner error over the sample (px), the rotation error (°), η², z-score and wall time.

Reference (the comparable step, after scikit-image's recipe for rotation + scale + translation,
https://scikit-image.org/docs/stable/auto_examples/registration/plot_register_rotation.html):
the coarse search built from scikit-image primitives -- downscale_local_mean to the same 256 px
working size, the same edge images (class borders of the map, Gaussian gradient magnitude of the
fixed image), Hann window, |FFT| with the same high-pass, warp_polar(scaling='log') and
phase_cross_correlation for rotation and scale, then the warped map and phase_cross_correlation
for translation. It is told the mirror (Cleave tries both and scores 8 candidates) and has no
refinement and no chance test, so its accuracy is that of a coarse search and its time a lower bound.

Usage: python3 bench/register/bench.py CLEAVE DATA_DIR [--out DIR]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import filters, registration, transform
from skimage.filters import window

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import make_eds_map  # noqa: E402


def err(found, truth, shape):
    """Largest distance (fixed px) between found and true images of 4 points inside the sample, and the angle error."""
    A, T = np.array(found), np.array(truth)
    h, w = shape
    pts = np.array([[fx * (w - 1), fy * (h - 1), 1] for fx in (0.2, 0.8) for fy in (0.2, 0.8)])
    d = np.hypot(*((pts @ A.T) - (pts @ T.T)).T).max()
    ang = lambda M: np.degrees(np.arctan2(-M[0][1], M[1][1]))
    a = abs(ang(A) - ang(T)) % 360
    return d, min(a, 360 - a)


def class_edges(m):
    e = np.zeros(m.shape, np.float32)
    d = (m[:, 1:] != m[:, :-1]) & (m[:, 1:] > 0) & (m[:, :-1] > 0)
    e[:, 1:] += d; e[:, :-1] += d
    d = (m[1:] != m[:-1]) & (m[1:] > 0) & (m[:-1] > 0)
    e[1:] += d; e[:-1] += d
    return np.minimum(e, 1)


def skimage_reference(moving, fixed, mirrored):
    """The coarse search with scikit-image primitives (downscale_local_mean, warp_polar,
    phase_cross_correlation): the same working size (256), edge images, Hann windows and high-pass
    as Cleave's search. Told the mirror (Cleave tries both). Returns (affine moving->fixed, seconds)."""
    start = time.perf_counter(); cpu = time.process_time()
    km = -(-max(moving.shape) // 256); kf = -(-max(fixed.shape) // 256)
    em = ndi.gaussian_filter(transform.downscale_local_mean(class_edges(moving), (km, km)), 1)
    ef = ndi.gaussian_gradient_magnitude(transform.downscale_local_mean(fixed.astype(np.float32), (kf, kf)), 1)
    n = 1 << int(np.ceil(np.log2(max(em.shape + ef.shape))))

    def spectrum(a):
        a = (a - a.mean()) * window("hann", a.shape)
        o = np.zeros((n, n)); o[:a.shape[0], :a.shape[1]] = a
        mag = np.abs(np.fft.fftshift(np.fft.fft2(o)))
        yy, xx = np.mgrid[0:n, 0:n]
        mag *= np.minimum(2 * np.hypot(yy - n / 2, xx - n / 2) / (n / 2), 1)
        return transform.warp_polar(np.log1p(mag), radius=0.95 * n / 2, output_shape=(512, 128), scaling="log")[:256]

    lm = spectrum(em[:, ::-1] if mirrored else em)
    lf = spectrum(ef)
    shifts, _, _ = registration.phase_cross_correlation(lf, lm, upsample_factor=10)
    angle = shifts[0] * 180 / 256  # warp_polar's angle runs clockwise on screen (rows down)
    klog = 128 / np.log(0.95 * n / 2)
    scale = np.exp(-shifts[1] / klog) * kf / km
    best = None
    for turn in (0, 180):
        th = np.radians(angle + turn)
        c, s = np.cos(th) * scale, np.sin(th) * scale
        lin = np.array([[c, -s], [s, c]]) @ (np.diag([-1.0, 1.0]) if mirrored else np.eye(2))
        cm = np.array([(moving.shape[1] - 1) / 2, (moving.shape[0] - 1) / 2])
        cf = np.array([(fixed.shape[1] - 1) / 2, (fixed.shape[0] - 1) / 2])
        t0 = cf - lin @ cm
        # fixed working -> moving working, in (row, col) order for ndimage
        full = np.array([[kf, 0, (kf - 1) / 2], [0, kf, (kf - 1) / 2], [0, 0, 1]])
        inv = np.linalg.inv(np.r_[np.c_[lin, t0], [[0, 0, 1]]])
        tom = np.linalg.inv(np.array([[km, 0, (km - 1) / 2], [0, km, (km - 1) / 2], [0, 0, 1]]))
        W = tom @ inv @ full
        out = ndi.affine_transform(em, W[:2, :2][::-1, ::-1], offset=W[:2, 2][::-1], output_shape=ef.shape, order=1)
        shift, e, _ = registration.phase_cross_correlation(ef * window("hann", ef.shape), out * window("hann", ef.shape),
                                                           upsample_factor=10)
        if best is None or e < best[0]:
            best = (e, np.c_[lin, t0 + kf * shift[::-1]])
    return best[1].tolist(), time.perf_counter() - start, time.process_time() - cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cleave")
    p.add_argument("data")
    p.add_argument("--out", default="bench/out/register")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    labels = tifffile.imread(f"{a.data}/sandstone-xrm/labels/Sandstone_Versa0000.tif")
    grey = tifffile.imread(f"{a.data}/sandstone-xrm/images/Sandstone_Versa0000.tif")
    cases = [("x2", 2.0, False, (12, -7), 1), ("x2-mirrored", 2.0, True, (-9, 15), 2), ("1k", 1.25, False, (5, 3), 3)]
    rows = []
    for name, factor, mirrored, shift, seed in cases:
        moving, truth = make_eds_map.make(labels, factor, 17, mirrored, shift, 0.1, True, seed)
        mpath = f"{a.out}/eds-{name}.tif"
        tifffile.imwrite(mpath, moving)
        for kind, fixed in (("labels", labels), ("images", grey)):
            fpath = f"{a.data}/sandstone-xrm/{kind}/Sandstone_Versa0000.tif"
            out = f"{a.out}/{name}-{kind}"
            best = None; best_cpu = None
            for _ in range(3):
                t0 = time.perf_counter(); c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                r = subprocess.run([a.cleave, "register", mpath, fpath, "--out", out], capture_output=True, text=True)
                seconds = time.perf_counter() - t0; c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
                best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
                if r.returncode != 0:
                    print(f"{name} -> {kind}: cleave failed: {r.stderr.strip()}"); break
                best = seconds if best is None else min(best, seconds)
            if best is None:
                continue
            report = json.load(open(f"{out}/transform.json"))
            d, ang = err(report["affine"], truth["affine"], moving.shape)
            ref, ref_s, ref_cpu = skimage_reference(moving, fixed, mirrored)
            rd, rang = err(ref, truth["affine"], moving.shape)
            rows.append((name, moving.shape, kind, d, ang, report["quality"]["correlationRatio"], report["quality"]["zScore"], best, rd, rang, ref_s))
            print(f"{name:12s} {moving.shape[1]}x{moving.shape[0]} -> {kind:6s}: cleave error {d:.2f} px {ang:.3f}°, "
                  f"η² {report['quality']['correlationRatio']:.3f}, z {report['quality']['zScore']:.1f}, {best:.2f} s wall / {best_cpu:.2f} s CPU (best of 3, whole command) | "
                  f"skimage coarse search error {rd:.1f} px {rang:.2f}°, {ref_s:.2f} s wall / {ref_cpu:.2f} s CPU | ratio wall {ref_s / best:.2f}x, CPU {ref_cpu / best_cpu:.2f}x", flush=True)
    return rows


if __name__ == "__main__":
    main()
