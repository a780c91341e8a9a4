"""Memory of the verification study's pair stage, and the two cases issue 26 measured (RELIABILITY.md, "Memory").

    .venv/bin/python benchmarks/reliability_pairs.py [--sizes 400 800] [--copies 3000]

For each size: a study of that many LFW images (4 per person, linked from $FACELAB_DATA/lfw/deepfunneled), run in a fresh
process; its peak resident memory and its pairs. Then 3,000 copies of one photo, filed under one person and under 3,000
people: a study of the copies reads one photo (one copy per person) or none (a photo under several people is left out).
"""
import argparse, json, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

def one(args):
    "Run one study in this process and print its numbers as JSON."
    from facelab.evaluate import evaluate
    from facelab.core import FacelabError
    t = time.time()
    try:
        r = evaluate(args.folder, out=args.out, cache_dir=args.cache, progress=False)
        pairs, what = r.settings['pairs'], 'scored'
    except FacelabError as e: pairs, what = 0, str(e).splitlines()[0][:160]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss*1024
    print(json.dumps(dict(pairs=pairs, peak_gb=round(peak/1e9, 2), seconds=round(time.time() - t), outcome=what)))

def lfw_subset(n:int, dst:Path):
    "n LFW images, 4 per person, as links."
    data = Path(os.environ.get('FACELAB_DATA', Path(__file__).resolve().parents[2]/'shared'/'data'))
    src = data/'lfw'/'deepfunneled'
    k = 0
    for p in sorted(q for q in src.iterdir() if q.is_dir() and len(list(q.iterdir())) >= 4):
        (dst/p.name).mkdir(parents=True)
        for f in sorted(p.iterdir())[:4]: os.symlink(f, dst/p.name/f.name)
        k += 4
        if k >= n: break

def run(folder, out, cache) -> dict:
    "One study in a fresh process (so its peak memory is its own)."
    r = subprocess.run([sys.executable, __file__, '--one', str(folder), '--out', str(out), '--cache', str(cache)],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', type=int, nargs='*', default=[400, 800])
    ap.add_argument('--copies', type=int, default=3000)
    ap.add_argument('--one'); ap.add_argument('--out'); ap.add_argument('--cache')
    a = ap.parse_args()
    if a.one:
        a.folder = a.one
        one(a)
        sys.exit()
    tmp = Path(tempfile.mkdtemp())
    cache = tmp/'cache'
    for n in a.sizes:
        lfw_subset(n, tmp/f'lfw{n}')
        r = run(tmp/f'lfw{n}', tmp/f'rep{n}', cache)
        print(f"LFW, {n} images: {r['pairs']:,} pairs, peak {r['peak_gb']} GB, {r['seconds']} s")
    from facelab.datasets import deepface_sample
    photo = deepface_sample()['Angelina'][0]
    for layout in ('one person', 'one person each'):
        d = tmp/f"copies-{layout.replace(' ', '-')}"
        for i in range(a.copies):
            who = d/('A' if layout == 'one person' else f'p{i:05d}')
            who.mkdir(parents=True, exist_ok=True)
            shutil.copy(photo, who/f'{i:05d}.jpg')
        r = run(d, tmp/'rep-copies', cache)
        print(f"{a.copies:,} copies of one photo, {layout}: {r['pairs']:,} pairs, peak {r['peak_gb']} GB, {r['seconds']} s: {r['outcome']}")
    shutil.rmtree(tmp, ignore_errors=True)
