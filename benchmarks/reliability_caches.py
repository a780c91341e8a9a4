"""Caches under faults: two processes on one cache, and runs killed by SIGKILL then run again, each trial against a clean run.

The scenarios are those of `tests/test_cache_faults.py` (`tests/cache_faults.py`: real subprocesses, the real clip
`hamilton_clip.mp4` every 5th frame with YuNet, and deepface's 61 sample photos with SFace + YuNet); here each runs `--trials`
times and the counts go into the `caches` section of RELIABILITY.md.

    python benchmarks/reliability_caches.py              # 5 trials each (about 3 minutes on 2 cores)
    python benchmarks/reliability_caches.py --trials 2 --no-write
"""
import argparse, platform, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'benchmarks')); sys.path.insert(0, str(ROOT/'tests'))
from report import update_section, RELIABILITY
import facelab
import cache_faults as cf

SCENARIOS = [
    ('two `detect_video` processes, one video, one cache', 'dets', cf.two_detect_video),
    ('two `represent` processes, the same photos, one cache', 'emb', cf.two_represent),
    ('`detect_video` killed (SIGKILL) after 2 cache flushes, run again', 'dets', cf.killed_detect_video),
    ('`represent` killed (SIGKILL) after 2 cached batches, run again', 'emb', cf.killed_represent),
]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--trials', type=int, default=5)
    p.add_argument('--no-write', action='store_true', help='print the table, do not write RELIABILITY.md')
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    clean = dict(dets=cf.clean_detections(), emb=cf.clean_embeddings())
    rows = ["| scenario | trials | every process succeeded | result identical to a clean run | notes |", "|---|---:|---:|---:|---|"]
    bad = 0
    for name, kind, run in SCENARIOS:
        res = [run(clean[kind], tempfile.mkdtemp(prefix='facelab-faults-')) for _ in range(a.trials)]
        ok, same = sum(r['ok'] for r in res), sum(r['same'] for r in res)
        notes = []
        if 'killed' in res[0]: notes.append(f"killed mid-run in {sum(r['killed'] for r in res)} of {len(res)}")
        if 'once' in res[0]:
            notes.append(f"photos embedded by the two together: {', '.join(str(sum(r['images'])) for r in res)} "
                         f"(unique photos: {res[0]['unique']}); each once in {sum(r['once'] for r in res)} of {len(res)}")
        for r in res:
            for e in r['errors']: print(f"{name}: {e}", file=sys.stderr)
        bad += (ok < len(res)) + (same < len(res)) + ('once' in res[0] and sum(r['once'] for r in res) < len(res))
        rows.append(f"| {name} | {len(res)} | {ok} of {len(res)} | {same} of {len(res)} | {'; '.join(notes) or '—'} |")
        print(rows[-1], flush=True)
    text = '\n'.join([
        f"`python benchmarks/reliability_caches.py --trials {a.trials}` (facelab {facelab.__version__}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; {(time.perf_counter()-t0)/60:.1f} min). Real subprocesses on real data: `hamilton_clip.mp4` "
        "(every 5th frame, YuNet, the cache flushed every 5 frames) and deepface's sample photos (SFace + YuNet, batches of 4). "
        "\"Identical\" means the detections or embeddings equal, value for value, those of one run without any cache.", '', *rows])
    print(text)
    if not a.no_write: update_section('caches', 'Caches: two processes, and kill -9 then resume', text, path=RELIABILITY)
    return 0 if bad == 0 else 1

if __name__ == '__main__': sys.exit(main())
