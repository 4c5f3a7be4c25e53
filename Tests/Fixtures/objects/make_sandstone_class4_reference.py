"""Reference region properties for class 4 of Sandstone_Versa0150 (scikit-image 0.26).

Run from the repository root:
    python3 Tests/Fixtures/objects/make_sandstone_class4_reference.py
Writes sandstone_class4_regionprops_c2.csv (8-connectivity) and _c1.csv (4-connectivity).
"""
import os
import numpy as np
import tifffile
from skimage.measure import label, regionprops

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..", "..", "..", "shared", "data")
classes = tifffile.imread(os.path.join(root, "sandstone-xrm/labels/Sandstone_Versa0150.tif"))
mask = classes == 4
columns = ["label", "area", "perimeter", "centroid_row", "centroid_col", "eccentricity",
           "solidity", "area_convex", "equivalent_diameter", "orientation",
           "major_axis_length", "minor_axis_length", "feret_diameter_max",
           "bbox_min_row", "bbox_min_col", "bbox_max_row", "bbox_max_col"]
for connectivity in (1, 2):
    labels = label(mask, connectivity=connectivity)
    with open(os.path.join(here, f"sandstone_class4_regionprops_c{connectivity}.csv"), "w") as out:
        out.write(",".join(columns) + "\n")
        for r in regionprops(labels):
            values = [r.label, int(r.area), r.perimeter, r.centroid[0], r.centroid[1],
                      r.eccentricity, r.solidity, int(r.area_convex), r.equivalent_diameter_area,
                      r.orientation, r.axis_major_length, r.axis_minor_length,
                      r.feret_diameter_max, *r.bbox]
            out.write(",".join(f"{v:.10g}" if isinstance(v, float) else str(v) for v in values) + "\n")
