"""Synthetic "EDS map" of a sandstone slice for `cleave register` tests and benchmarks.

Takes a label image (the fixed plane's truth), and writes a moving class map seen through a known
similarity transform: downsampled by --factor (default 2), rotated --angle degrees (default 17),
shifted, optionally mirrored (columns flipped), 10 % of the class-border pixels relabelled to a
neighbouring class, and one corner of the sample cropped away (set to 0 = no data). Pixels outside
the fixed image are 0 as well.

Writes MOVING.tif (uint8 class map) and MOVING.json with the truth: "affine" [[a, b, tx], [c, d, ty]]
mapping a moving pixel (x = column, y = row) to fixed pixel coordinates (the `cleave register`
contract), plus the angle, scale and mirror.

Usage: python3 make_eds_map.py LABELS.tif OUT.tif [--factor 2] [--angle 17] [--mirror] [--seed 1]
       [--shift 12,-7] [--relabel 0.1] [--no-crop]
"""
import argparse
import json

import numpy as np
import tifffile


def make(labels, factor, angle, mirror, shift, relabel, crop, seed):
    rng = np.random.default_rng(seed)
    h, w = labels.shape
    scale = float(factor)  # moving -> fixed
    th = np.deg2rad(angle)
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    flip = np.diag([-1.0, 1.0]) if mirror else np.eye(2)
    lin = scale * rot @ flip
    # Canvas big enough for the rotated, downsampled plane.
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], float)
    inv = np.linalg.inv(lin)
    mc = corners @ inv.T
    mw = int(np.ceil(mc[:, 0].max() - mc[:, 0].min())) + 24
    mh = int(np.ceil(mc[:, 1].max() - mc[:, 1].min())) + 24
    cm = np.array([(mw - 1) / 2 + shift[0], (mh - 1) / 2 + shift[1]])
    cf = np.array([(w - 1) / 2, (h - 1) / 2])
    t = cf - lin @ cm
    # Majority of 4 sub-samples per moving pixel (an area-like downsampling of a class map).
    vv, uu = np.mgrid[0:mh, 0:mw].astype(float)
    votes = []
    for du, dv in ((-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)):
        x = lin[0, 0] * (uu + du) + lin[0, 1] * (vv + dv) + t[0]
        y = lin[1, 0] * (uu + du) + lin[1, 1] * (vv + dv) + t[1]
        xi, yi = np.rint(x).astype(int), np.rint(y).astype(int)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        votes.append(np.where(inside, labels[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)], 0))
    votes = np.stack(votes)
    classes = np.unique(labels)
    counts = np.stack([(votes == c).sum(0) for c in classes])
    out = classes[np.argmax(counts, 0)].astype(np.uint8)
    out[(votes == 0).sum(0) >= 2] = 0
    # Relabel a fraction of the border pixels to a neighbouring class.
    pad = np.pad(out, 1)
    neigh = np.stack([pad[:-2, 1:-1], pad[2:, 1:-1], pad[1:-1, :-2], pad[1:-1, 2:]])
    border = (out > 0) & np.any((neigh != out) & (neigh > 0), 0)
    ys, xs = np.nonzero(border)
    pick = rng.random(len(ys)) < relabel
    for y, x in zip(ys[pick], xs[pick]):
        options = [c for c in neigh[:, y, x] if c > 0 and c != out[y, x]]
        out[y, x] = options[rng.integers(len(options))]
    # Crop one corner of the sample: everything above the line through 30 % of the top and left
    # edges of the content's bounding box becomes no-data.
    if crop:
        ys, xs = np.nonzero(out)
        x0, y0 = xs.min(), ys.min()
        span = 0.3 * (xs.max() - x0 + ys.max() - y0)
        out[(uu - x0) + (vv - y0) < span] = 0
    truth = {
        "affine": [[lin[0, 0], lin[0, 1], t[0]], [lin[1, 0], lin[1, 1], t[1]]],
        "angleDegrees": angle, "scale": scale, "mirrored": bool(mirror),
        "fixedShape": [h, w], "movingShape": [mh, mw], "relabelledBorderFraction": relabel,
    }
    return out, truth


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("labels")
    p.add_argument("out")
    p.add_argument("--factor", type=float, default=2)
    p.add_argument("--angle", type=float, default=17)
    p.add_argument("--mirror", action="store_true")
    p.add_argument("--shift", default="12,-7")
    p.add_argument("--relabel", type=float, default=0.1)
    p.add_argument("--no-crop", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    labels = tifffile.imread(a.labels)
    out, truth = make(labels, a.factor, a.angle, a.mirror, [float(v) for v in a.shift.split(",")],
                      a.relabel, not a.no_crop, a.seed)
    tifffile.imwrite(a.out, out)
    with open(a.out.rsplit(".", 1)[0] + ".json", "w") as f:
        json.dump(truth, f, indent=1)


if __name__ == "__main__":
    main()
