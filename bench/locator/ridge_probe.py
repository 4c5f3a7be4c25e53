# Approximation of Cleave's default pipeline in scikit-learn on Cleave's own patch tables
# (z-score, KMeans k=3, n_init=10, pick = highest mean lowtail/median), with and without a dark-ridge feature.
import numpy as np, tifffile, csv, glob, sys
from scipy import ndimage as ndi
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
def ridge_p999(img, sigma=3.0):
    a = img.astype(np.float64); a /= np.median(a)
    hxx=ndi.gaussian_filter(a,sigma,order=(0,2)); hyy=ndi.gaussian_filter(a,sigma,order=(2,0)); hxy=ndi.gaussian_filter(a,sigma,order=(1,1))
    tr=(hxx+hyy)/2; d=np.sqrt(((hxx-hyy)/2)**2+hxy**2)
    return sigma**2*np.clip((tr+d)-np.abs(tr-d),0,None)
def table(run, folder):
    rows=list(csv.DictReader(open(run+'/patches.csv'))); feats=list(rows[0].keys())[10:]
    X=np.array([[float(r[f]) for f in feats] for r in rows]); ridges={}
    R=[]
    for r in rows:
        if r['image'] not in ridges: ridges[r['image']]=ridge_p999(tifffile.imread(folder+'/'+r['image']))
        x,y,w,h=int(r['x']),int(r['y']),int(r['width']),int(r['height'])
        R.append(np.percentile(ridges[r['image']][y:y+h,x:x+w],99.9))
    score=np.array([float(r['lowtail'])/float(r['median']) for r in rows])
    return rows, X, np.array(R), score
def cluster(X, score, k=3, seed=0):
    Z=(X-X.mean(0))/np.where(X.std(0)>0,X.std(0),1)
    lab=KMeans(k,n_init=10,random_state=seed).fit_predict(Z)
    pick=max(range(k), key=lambda c: score[lab==c].mean())
    return lab, lab==pick
# Usage: python3 bench/locator/ridge_probe.py OUT [DATA]   (OUT: the folder bench/locator/film_level.sh wrote)
OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/cleave-film-level'
D = (sys.argv[2] if len(sys.argv) > 2 else '../shared/data') + '/tem-microcrystals'
for name, run, folder, labels in [('dataset1', OUT + '/d1', D+'/dataset1-graphite-30kx', D+'/dataset1-graphite-30kx/patch-labels.csv'),
                                  ('asbestos', OUT + '/asb', D+'/asbestos-fibres-holey-film', D+'/asbestos-fibres-holey-film/patch-labels.csv')]:
    rows, X, R, score = table(run, folder)
    lab = {(l['image'],int(l['row']),int(l['col'])): l['class'] for l in csv.DictReader(open(labels))}
    truth=[lab[(r['image'],int(r['row']),int(r['col']))] for r in rows]
    for variant, M in [('cleave features', X), ('+ ridge p99.9 σ3', np.column_stack([X,R]))]:
        res=[]
        for seed in range(5):
            l, picked = cluster(M, score, seed=seed)
            if name=='dataset1': res.append(adjusted_rand_score(truth, l))
            else:
                tp=sum(p and t=='X' for p,t in zip(picked,truth)); fp=sum(p and t=='F' for p,t in zip(picked,truth)); fn=sum((not p) and t=='X' for p,t in zip(picked,truth))
                res.append(2*tp/(2*tp+fp+fn))
        print(name, variant, 'ARI' if name=='dataset1' else 'X F1', np.round(res,3))
