# Scores a cleave locate run: synthetic (truth folder) or a labelled real set (patch-labels.csv with X/F/M or A/B/C).
import csv, sys, json, numpy as np, tifffile, os
def synthetic(run, sample, cov=0.02):
    rows = list(csv.DictReader(open(run + '/patches.csv')))
    masks = {}; tp=fp=fn=tn=ign=0; barpicked=0; barany=0; maxbar=0.0
    for r in rows:
        stem = r['image'].rsplit('.',1)[0]
        if stem not in masks:
            masks[stem] = (tifffile.imread(f'{sample}/truth/{stem}_particles.tif')>0, tifffile.imread(f'{sample}/truth/{stem}_gridbars.tif')>0)
        p, b = masks[stem]
        x,y,w,h = int(r['x']),int(r['y']),int(r['width']),int(r['height'])
        pf = p[y:y+h, x:x+w].mean(); bf = b[y:y+h, x:x+w].mean()
        picked = r['picked']=='1'
        if picked and bf > 0: barany += 1; maxbar = max(maxbar, bf)
        if picked and bf >= 0.5: barpicked += 1
        if bf > 0: ign += 1; continue  # truth does not allow: the patch holds bar pixels (its place is the dark group)
        if pf >= cov: tp += picked; fn += not picked
        elif pf == 0: fp += picked; tn += not picked
        else: ign += 1
    P = tp/max(1,tp+fp); R = tp/max(1,tp+fn); F = 2*P*R/max(1e-9,P+R)
    return dict(f1=round(F,3), precision=round(P,3), recall=round(R,3), tp=tp, fp=fp, fn=fn, picked_with_bar=barany, picked_half_bar=barpicked, max_bar_in_picked=round(maxbar,3))
def labelled(run, labels):
    rows = {(r['image'], int(r['row']), int(r['col'])): r for r in csv.DictReader(open(run + '/patches.csv'))}
    lab = list(csv.DictReader(open(labels)))
    tp=fp=fn=0
    for l in lab:
        if l['class'] == 'M': continue
        r = rows[(l['image'], int(l['row']), int(l['col']))]
        picked = r['picked']=='1'; pos = l['class'] == 'X'
        tp += picked and pos; fp += picked and not pos; fn += (not picked) and pos
    P = tp/max(1,tp+fp); R = tp/max(1,tp+fn); F = 2*P*R/max(1e-9,P+R)
    return dict(f1=round(F,3), precision=round(P,3), recall=round(R,3), tp=tp, fp=fp, fn=fn)
if __name__ == '__main__':
    run, ref = sys.argv[1], sys.argv[2]
    s = json.load(open(run + '/summary.json'))
    info = dict(film=s.get('film_level'), method=s.get('film_level_method'), clusters=s['clusters'], picked=s['picked'])
    print(json.dumps({**(synthetic(run, ref) if os.path.isdir(ref) else labelled(run, ref)), **info}))
