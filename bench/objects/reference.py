"""scikit-image reference for the objects benchmark: label + regionprops_table.

python3 reference.py MASK.png   → prints objects and seconds (label, measure, total)
"""
import sys
import time
import numpy as np
from PIL import Image
from skimage.measure import label, regionprops_table

mask = np.asarray(Image.open(sys.argv[1])) > 0
start = time.perf_counter()
labels = label(mask, connectivity=2)
labelled = time.perf_counter()
table = regionprops_table(labels, properties=(
    "label", "area", "perimeter", "centroid", "bbox", "eccentricity", "solidity",
    "equivalent_diameter_area", "orientation", "axis_major_length", "axis_minor_length"))
end = time.perf_counter()
print(f"skimage objects {len(table['label'])} label {labelled - start:.3f} s measure {end - labelled:.3f} s total {end - start:.3f} s")
