# Reference for FilmLevel.measure: Otsu split on 4096 bins over min..max of the regular subsample,
# film level = median (rank n//2) of the pixels >= split when eta >= 0.8 and dark median < 0.5 x bright median.
import numpy as np, tifffile, glob, sys
def measure(v):
    v = v.astype(np.float64)
    n = len(v); med = np.sort(v)[n//2]
    lo, hi = v.min(), v.max()
    scale = 4096/(hi-lo)
    b = np.minimum(4095, ((v-lo)*scale).astype(int))
    counts = np.bincount(b, minlength=4096).astype(float)
    centres = lo + (np.arange(4096)+0.5)/scale
    tot = (counts*centres).sum(); var = (counts*centres**2).sum()/n - (tot/n)**2
    w0 = np.cumsum(counts)[:-1]; s0 = np.cumsum(counts*centres)[:-1]; w1 = n-w0
    ok = (w0>0)&(w1>0)
    between = np.where(ok, w0*w1*(s0/np.maximum(w0,1)-(tot-s0)/np.maximum(w1,1))**2/n**2, -1)
    k = int(np.argmax(between)); t = np.float32(lo + (k+1)/scale)
    dark = np.sort(v[v < t]); bright = np.sort(v[v >= t])
    eta = between[k]/var
    dm, bm = dark[len(dark)//2], bright[len(bright)//2]
    bimodal = eta >= 0.8 and dm < 0.5*bm
    return dict(level=bm if bimodal else med, bimodal=bimodal, split=float(t), eta=round(eta,3), dark_share=round(len(dark)/n,3), dark_median=dm, bright_median=bm, median=med)
def subsample(imgs, maxs):
    total = sum(a.size for a in imgs); step = max(1, total//maxs)
    return np.concatenate([a.ravel()[::step] for a in imgs])
for d in sys.argv[1:]:
    files = sorted(glob.glob(d+'/*.tif'))
    imgs = [tifffile.imread(f) for f in files]
    print(d.split('/')[-1], 'SET', measure(subsample(imgs, 1_000_000)))
    for f, a in zip(files, imgs):
        print('   ', f.split('/')[-1], measure(subsample([a], 250_000)))
