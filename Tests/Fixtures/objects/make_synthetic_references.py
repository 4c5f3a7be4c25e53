"""Reference numbers for the synthetic tests in ConnectedComponentsTests / DistanceTransformTests.

python3 Tests/Fixtures/objects/make_synthetic_references.py
"""
import numpy as np
from scipy import ndimage as ndi
from skimage.measure import label, regionprops

def pattern2d(h, w):
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 7 + y * 13 + (x * y) % 5) % 11) < 4

def pattern3d(d, h, w):
    z, y, x = np.mgrid[0:d, 0:h, 0:w]
    return ((x * 7 + y * 13 + z * 5 + (x * y * z) % 7) % 17) < 5

def checksum(lab):
    flat = lab.ravel().astype(np.int64)
    return int((flat * (np.arange(flat.size) % 97)).sum())

m2 = pattern2d(150, 203)
for c in (1, 2):
    lab = label(m2, connectivity=c)
    print("2D", c, lab.max(), checksum(lab))
m3 = pattern3d(9, 31, 27)
for c in (1, 3):
    lab = label(m3, connectivity=c)
    print("3D", c, lab.max(), checksum(lab))
# 3D region properties of the 26-connected labelling, spacing (z, y, x) = (1, 1, 1)
lab = label(m3, connectivity=3)
big = max(regionprops(lab), key=lambda r: r.area)
print("3D largest", big.label, int(big.area), big.centroid, big.bbox, big.axis_major_length, big.axis_minor_length)
# anisotropic EDT: sparse background pixels
y, x = np.mgrid[0:20, 0:25]
mask = ((x * 7 + y * 13 + (x * y) % 5) % 37) != 0
print("EDT", [round(float(v), 12) for v in ndi.distance_transform_edt(mask, sampling=(2.0, 0.5))[[3, 7, 12, 19], [4, 9, 20, 0]]])
z, y, x = np.mgrid[0:6, 0:8, 0:9]
m3e = ((x * 7 + y * 13 + z * 5 + (x * y * z) % 7) % 41) != 0
print("EDT3", [round(float(v), 12) for v in ndi.distance_transform_edt(m3e, sampling=(3.0, 1.0, 0.5))[[2, 3, 5, 0], [1, 4, 7, 0], [0, 5, 8, 0]]])
