import csv, sys, tifffile, numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi
run, sample = sys.argv[1], sys.argv[2]
rows=list(csv.DictReader(open(run+'/patches.csv'))); masks={}
t=[];c=[]
for r in rows:
    stem=r['image'].rsplit('.',1)[0]
    if stem not in masks: masks[stem]=tifffile.imread(f'{sample}/truth/{stem}_particles.tif')>0
    x,y,w,h=int(r['x']),int(r['y']),int(r['width']),int(r['height'])
    if masks[stem][y:y+h,x:x+w].any(): continue
    t.append(stem); c.append(r['cluster'])
print('film patches', len(t), 'NMI(tile, cluster)', round(nmi(t,c),3), 'clusters among film', {k:c.count(k) for k in sorted(set(c))})
