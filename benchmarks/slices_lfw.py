"""Errors by slice (issue 27) on LFW and on a degraded copy: does the slice table show the small faces' higher error?

    python benchmarks/slices_lfw.py [N_PEOPLE] [OUT]

A seeded subset of LFW (deep-funneled): N_PEOPLE people (default 500) with >= 2 photos, at most 4 photos each, as a folder of
links; `facelab.evaluate.evaluate` with the default pipeline (SFace + YuNet, cosine) and a metadata CSV giving each person a
made-up group (the first letter of the name: A-K or L-Z), so the group table and its worst/best ratio are exercised on a
folder of our own. Then a degraded copy of the same folder: a seeded half of each person's photos shrunk to 45 x 45 pixels
(their faces about 19 px, as in the adaptation tutorial, but not enlarged back: the face *is* small), the rest left at
250 x 250; all written as PNG so the file format is the same in both halves. Prints the face-size slices, the flagged
slices, the EDC ranking and the groups of both studies, and writes both report folders under OUT (default: a temp folder).
Needs FACELAB_DATA (or ../shared/data) with lfw/deepfunneled.
"""
import os, sys, random, tempfile, time, json
from pathlib import Path
import cv2, numpy as np, pandas as pd
from facelab.evaluate import evaluate

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix='slices_lfw_'))
DATA = Path(os.environ.get('FACELAB_DATA') or Path(__file__).resolve().parents[2]/'shared'/'data')
LFW = DATA/'lfw'/'deepfunneled'
SCALE = 45/250

def subset(n:int, per:int=4, seed:int=0) -> dict:
    "n seeded people with >= 2 photos: name -> their first `per` photos."
    people = sorted(p for p in LFW.iterdir() if p.is_dir() and len(list(p.glob('*.jpg'))) >= 2)
    pick = random.Random(seed).sample(people, n)
    return {p.name: sorted(p.glob('*.jpg'))[:per] for p in sorted(pick)}

def linked(people:dict, dest:Path) -> Path:
    "A `<person>/<photo>` folder of links to the photos."
    for name, files in people.items():
        (dest/name).mkdir(parents=True, exist_ok=True)
        for f in files:
            if not (dest/name/f.name).exists(): (dest/name/f.name).symlink_to(f)
    return dest

def degraded(people:dict, dest:Path, seed:int=0) -> Path:
    "A copy in which a seeded half of each person's photos is shrunk to 45 px (kept small); every photo as PNG."
    rng = random.Random(seed)
    for name, files in people.items():
        (dest/name).mkdir(parents=True, exist_ok=True)
        small = set(rng.sample(range(len(files)), len(files)//2))
        for i, f in enumerate(files):
            img = cv2.imread(str(f))
            if i in small: img = cv2.resize(img, (round(img.shape[1]*SCALE), round(img.shape[0]*SCALE)), interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(dest/name/(f.stem + '.png')), img)
    return dest

def show(res, title:str) -> dict:
    "Print and return what the issue asks to see."
    t = res.slices.table
    print(f"\n=== {title}: threshold {res.slices.info['threshold']:.4f} ({res.slices.info['threshold_what']}); "
          f"{res.settings['scored_pairs']} scored pairs, {res.settings['identities']} people")
    cols = ['slice', 'band', 'by', 'pairs', 'positives', 'people', 'false_rejects', 'fnmr', 'fnmr_lo', 'fnmr_hi', 'fmr', 'fmr_lo',
            'fmr_hi', 'flag', 'note']
    fs = t[(t.slice.isin(['all', 'face_size']))][cols]
    print(fs.to_string(index=False))
    print('\nflagged:'); print(t[t.flag != ''][cols].to_string(index=False))
    print('\nEDC ranking:'); print(res.slices.edc_rank.to_string(index=False))
    if len(res.slices.groups): print('\ngroups:'); print(res.slices.groups.to_string(index=False))
    return dict(face_size=fs.to_dict('records'), edc=res.slices.edc_rank.to_dict('records'),
                groups=res.slices.groups.to_dict('records'))

if __name__ == '__main__':
    people = subset(N)
    print(f"{len(people)} people, {sum(map(len, people.values()))} photos; reports under {OUT}")
    clean = linked(people, OUT/'lfw')
    meta = OUT/'groups.csv'
    pd.DataFrame(dict(identity=list(people), group=['A-K' if p[0] <= 'K' else 'L-Z' for p in people])).to_csv(meta, index=False)
    t0 = time.time()
    r1 = evaluate(clean, out=OUT/'report-lfw', max_negatives=20000, metadata=meta, progress=False)
    s1 = show(r1, f"LFW subset ({time.time() - t0:.0f} s)")
    low = degraded(people, OUT/'lfw-degraded')
    t0 = time.time()
    r2 = evaluate(low, out=OUT/'report-degraded', max_negatives=20000, progress=False)
    s2 = show(r2, f"LFW subset, half the photos shrunk to 45 px ({time.time() - t0:.0f} s)")
    (OUT/'summary.json').write_text(json.dumps(dict(lfw=s1, degraded=s2), indent=1, default=str))
