"""Reference region properties for the particle masks of a `cleave sample` set (scikit-image 0.26).

The set is small and deterministic: seed 3, 1 row x 2 columns, 512-pixel tiles, all other
options at their defaults (overlap 48, gridbars, 10 particles per tile, dose 250, 5 nm pixels).
Run from the repository root after `swift build -c release`:
    .build/release/cleave sample --out /tmp/cleave-sample-seed3 --seed 3 --rows 1 --columns 2 --tile-size 512
    python3 Tests/Fixtures/objects/make_sample_particles_reference.py /tmp/cleave-sample-seed3
Writes sample_seed3_particles_regionprops.csv (8-connectivity, one row per object, `tile` = 1-based
tile column) and sample_seed3_particles_masks.csv (per tile: foreground pixel count and a
checksum of the mask, so the test can check that its in-process mask is the file the CLI wrote).
"""
import os
import sys
import numpy as np
import tifffile
from skimage.measure import label, regionprops

here = os.path.dirname(os.path.abspath(__file__))
folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/cleave-sample-seed3"
columns = ["tile", "label", "area", "perimeter", "centroid_row", "centroid_col", "eccentricity",
           "solidity", "bbox_min_row", "bbox_min_col", "bbox_max_row", "bbox_max_col"]


def checksum(mask):
    # sum over foreground pixels of (flat index mod 9973) + 1
    flat = np.flatnonzero(mask.ravel())
    return int(((flat % 9973) + 1).sum())


with open(os.path.join(here, "sample_seed3_particles_regionprops.csv"), "w") as out, \
        open(os.path.join(here, "sample_seed3_particles_masks.csv"), "w") as masks:
    out.write(",".join(columns) + "\n")
    masks.write("tile,foreground,checksum\n")
    for tile in (1, 2):
        mask = tifffile.imread(os.path.join(folder, "truth", f"Tile_001-{tile:03d}_particles.tif")) > 0
        masks.write(f"{tile},{int(mask.sum())},{checksum(mask)}\n")
        for r in regionprops(label(mask, connectivity=2)):
            values = [tile, r.label, int(r.area), r.perimeter, r.centroid[0], r.centroid[1],
                      r.eccentricity, r.solidity, *r.bbox]
            out.write(",".join(f"{v:.17g}" if isinstance(v, float) else str(v) for v in values) + "\n")
