"""Scale out on Dask, measured: images per second of `represent` (SFace + YuNet, cold embedding cache) on a local cluster of 1, 2, ...
worker processes (one thread each), against single-process `represent` in the same run.

The images are made from the deepface sample photos: each copy is cropped by a few pixels and re-encoded at its own JPEG quality, so
every image has its own content hash and none is a cache hit or a duplicate (written to a temporary folder, removed at the end).

Run from the repository root, on a machine doing nothing else:
`.venv/bin/python benchmarks/scale.py --images 3000 --workers 1 2` (on a 16-core machine: `--workers 1 2 4 8 16`).
Writes the `scale` section of BENCHMARKS.md (`--no-write`: only print it). Every run starts with a fresh embedding cache; the models
are built before the clock starts (in this process, and on every worker by a warm-up batch of other images).
"""
from __future__ import annotations
import argparse, os, platform, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import update_section
from facelab.datasets import deepface_sample
from facelab.embed import represent
from facelab.models import MODELS
from facelab.detect import DETECTORS
from facelab.evaluate import md_table

def make_images(n:int, folder:Path, offset:int=0) -> list:
    "`n` unique JPEGs in `folder`: sample photos cropped by (k mod 7, k mod 5) pixels and saved at quality 60 + k mod 37."
    photos = sorted({f for v in deepface_sample().values() for f in v})
    imgs = {f: cv2.imread(f) for f in photos}
    folder.mkdir(parents=True, exist_ok=True); out = []
    for i in range(offset, offset + n):
        src = photos[i % len(photos)]; k = i // len(photos)
        img = imgs[src][k % 5:, k % 7:]
        if k >= 5*7*37: img = img[:-(k // (5*7*37)) or None]   # past 6,475 copies of a photo: crop the bottom too
        p = folder/f"{i:06d}_{Path(src).stem}.jpg"
        cv2.imwrite(str(p), img, [cv2.IMWRITE_JPEG_QUALITY, 60 + k % 37]); out.append(str(p))
    return out

def pin_threads(n:int|None):
    "This process's onnxruntime and OpenCV threads: `n` (None: their defaults); models are rebuilt on next use."
    if n is None: os.environ.pop('FACELAB_THREADS', None); cv2.setNumThreads(os.cpu_count())
    else: os.environ['FACELAB_THREADS'] = str(n); cv2.setNumThreads(n)
    MODELS.built.clear(); DETECTORS.built.clear()

def timed(files, warm, cache:Path, client=None, batch_size=16, repeats=1):
    "The fastest of `repeats` runs of `represent(files)`, each on a fresh cache (after a warm-up batch that builds the models): seconds, result."
    represent(warm, cache_dir=None, batch_size=batch_size, progress=False, client=client)
    best = None
    for r in range(repeats):
        t = time.perf_counter()
        res = represent(files, cache_dir=cache/str(r), batch_size=batch_size, progress=False, client=client)
        best = min(best or np.inf, time.perf_counter() - t)
    return best, res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--images', type=int, default=3000, help='unique images to embed (default 3000)')
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2], help='local cluster sizes to measure (default 1 2)')
    ap.add_argument('--batch-size', type=int, default=16, help='images per model call, and per Dask task (default 16)')
    ap.add_argument('--repeats', type=int, default=1, help='runs per configuration, the fastest reported (default 1; more on a busy machine)')
    ap.add_argument('--no-write', action='store_true', help='print the section, do not write BENCHMARKS.md')
    a = ap.parse_args()
    from facelab.scale import connect
    t0, tmp = time.time(), Path(tempfile.mkdtemp(prefix='facelab-scale-'))
    try:
        files = make_images(a.images, tmp/'images')
        warm = make_images(2*max(a.workers)*a.batch_size, tmp/'warm', offset=10**6)   # two batches per worker, other images
        mb = sum(Path(f).stat().st_size for f in files) / 1e6
        rows, results = [], {}
        pin_threads(None)
        s, results['single'] = timed(files, warm, tmp/'c-single', batch_size=a.batch_size, repeats=a.repeats)
        rows.append(dict(run='single process', workers=1, threads=f"all ({os.cpu_count()})", seconds=s))
        pin_threads(1)
        s, results['single-1'] = timed(files, warm, tmp/'c-single-1', batch_size=a.batch_size, repeats=a.repeats)
        rows.append(dict(run='single process', workers=1, threads='1', seconds=s))
        pin_threads(None)
        for n in a.workers:
            with connect(f'local:{n}', quiet=True) as client:
                s, results[n] = timed(files, warm, tmp/f'c-{n}', client, a.batch_size, a.repeats)
            rows.append(dict(run='Dask LocalCluster', workers=n, threads='1 per worker', seconds=s))
        t = pd.DataFrame(rows)
        t['images_per_s'] = a.images / t.seconds
        base = t[(t.run == 'Dask LocalCluster') & (t.workers == min(a.workers))].images_per_s.iloc[0]
        one = t[(t.run == 'single process') & (t.threads == '1')].images_per_s.iloc[0]
        t['vs_1_worker'] = t.images_per_s / base
        t['vs_single_1_thread'] = t.images_per_s / one
        ref = np.stack(results['single-1'].embeddings.embedding)
        same = {k: bool(len(r.embeddings) == len(ref) and np.array_equal(np.stack(r.embeddings.embedding), ref)
                        and r.failures.equals(results['single-1'].failures)) for k, r in results.items() if k not in ('single', 'single-1')}
        close = {k: float(np.abs(np.stack(r.embeddings.embedding) - np.stack(results['single'].embeddings.embedding)).max())
                 for k, r in results.items() if k != 'single' and len(r.embeddings) == len(results['single'].embeddings)}
        lines = [f"Run `.venv/bin/python benchmarks/scale.py --images {a.images} --workers {' '.join(map(str, a.workers))} --repeats {a.repeats}` on "
                 f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; load average "
                 f"{os.getloadavg()[0]:.1f} at the end, {time.time()-t0:.0f} s in all. SFace + YuNet, batches of {a.batch_size} images "
                 f"(one Dask task each), the fastest of {a.repeats} run(s) per row, a fresh embedding cache per run, models built before the clock starts; {a.images} unique images "
                 f"({mb:.0f} MB of JPEG) made from the deepface sample photos, each cropped by a few pixels and re-encoded at its own quality.",
                 "", md_table(t.round({'seconds': 1, 'images_per_s': 1, 'vs_1_worker': 2, 'vs_single_1_thread': 2}), floatfmt='.2f'), ""]
        if 2 in a.workers and 1 in a.workers:
            r2 = t[(t.run == 'Dask LocalCluster') & (t.workers == 2)].vs_1_worker.iloc[0]
            lines.append(f"- 2 workers against 1: **{r2:.2f}×** (target ≥ 1.7×: {'met' if r2 >= 1.7 else 'not met'}).")
        if 1 in a.workers:
            r1 = t[(t.run == 'Dask LocalCluster') & (t.workers == 1)].vs_single_1_thread.iloc[0]
            lines.append(f"- A 1-worker cluster against single-process `represent` with the same one thread: **{r1:.2f}×** (target within 10%, "
                         f"≥ 0.90×: {'met' if r1 >= 0.9 else 'not met'}); that is the overhead of Dask itself (the worker check, tasks, "
                         "results sent back as tables).")
        lines.append("- Single-process `represent` with every core (onnxruntime's and OpenCV's own threads, the default) is the row "
                     "`threads: all`: on one machine, a cluster of one-thread workers is worth it when it beats that row.")
        lines.append(f"- Results: every cluster run equals the single-process run with one thread bit for bit ({', '.join(f'{k}: {v}' for k, v in same.items())}); "
                     f"against the default threads, embeddings differ by at most {max(close.values(), default=float('nan')):.1e} "
                     "(the order of onnxruntime's float sums), boxes and failures equal.")
        if max(a.workers) < 16:
            lines.append("- Not measured: the 16-core curve (1, 2, 4, 8, 16 workers; target ≥ 0.8 of linear at 16). No such machine was "
                         "available; `--workers 1 2 4 8 16` measures it where there is one.")
        text = '\n'.join(lines)
        print(text)
        if not a.no_write: update_section('scale', 'Scale out on Dask', text)
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
