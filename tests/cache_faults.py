"""Cache fault scenarios, shared by `tests/test_cache_faults.py` (one trial each) and `benchmarks/reliability_caches.py` (many).

Each scenario runs facelab in real subprocesses on real data -- two processes on one cache, or one killed with SIGKILL and run
again -- and returns a dict saying whether every process succeeded and whether its result equals a clean run without a cache.
"""
import json, os, signal, subprocess, sys, tempfile, textwrap, time
from pathlib import Path
import numpy as np, pandas as pd
from facelab.core import file_hash
from facelab.datasets import sample_path, deepface_sample

PY = sys.executable
EVERY_N = 5      # hamilton_clip.mp4: 275 frames, 55 looked at

# The run to be killed is held still at a known point instead of being raced: with FACELAB_TEST_PAUSE='PATTERN|N|MARKER' in its
# environment, the job, right after the N-th cache file matching PATTERN is put in place (facelab's caches write a file to a
# temporary name, then `os.replace` it: see facelab.store.write_atomic), creates MARKER and sleeps until it is killed. However
# fast the machine, it cannot finish before the SIGKILL; the run after it is not paused.
_PAUSE = textwrap.dedent("""
    import os, fnmatch, time
    if os.environ.get('FACELAB_TEST_PAUSE'):
        _pattern, _n, _marker = os.environ['FACELAB_TEST_PAUSE'].split('|')
        _replace, _done = os.replace, []
        def _paused_replace(src, dst, *a, **k):
            _replace(src, dst, *a, **k)
            if fnmatch.fnmatch(os.path.basename(os.fspath(dst)), _pattern):
                _done.append(dst)
                if len(_done) == int(_n):
                    open(_marker, 'w').close()
                    while True: time.sleep(60)   # held here, between two cache writes, until SIGKILL
        os.replace = _paused_replace
    """)

_DETECT = _PAUSE + textwrap.dedent("""
    import sys
    from facelab.video import detect_video
    video, cache, flush, out = sys.argv[1:5]
    r = detect_video(video, every_n=%d, cache_dir=cache, flush_every=int(flush), progress=False)
    r.detections.to_parquet(out)
    """ % EVERY_N)

_REPRESENT = _PAUSE + textwrap.dedent("""
    import sys, json
    from facelab.embed import represent, _EMBED_STATS
    files, cache, batch, out = open(sys.argv[1]).read().split(), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    emb, fails = represent(files, cache_dir=cache, batch_size=batch, progress=False)
    emb.to_parquet(out)
    print(json.dumps(dict(images=_EMBED_STATS['images'])))
    """)

def video() -> Path: return sample_path('videos/hamilton_clip.mp4')
def photos() -> list: return [f for fs in deepface_sample().values() for f in fs]

def _script(folder:Path, name:str, text:str) -> Path:
    p = folder/name; p.write_text(text); return p

def clean_detections() -> pd.DataFrame:
    "The video's detections from one run without a cache: what every faulted run must return."
    from facelab.video import detect_video
    return detect_video(video(), every_n=EVERY_N, cache_dir=None, progress=False).detections

def clean_embeddings(files=None) -> pd.DataFrame:
    "The embeddings of `files` (default: every sample photo) from one run without a cache."
    from facelab.embed import represent
    return represent(files or photos(), cache_dir=None, progress=False).embeddings

def same_table(a:pd.DataFrame, b:pd.DataFrame) -> bool:
    "Whether two detection or embedding tables are equal, value for value (embeddings compared as arrays)."
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if list(a.columns) != list(b.columns) or len(a) != len(b): return False
    if 'embedding' in a:
        if not all(np.array_equal(x, y) for x, y in zip(a.embedding, b.embedding)): return False
        a, b = a.drop(columns='embedding'), b.drop(columns='embedding')
    try: pd.testing.assert_frame_equal(a, b, check_dtype=False); return True
    except AssertionError: return False

def _wait(procs, timeout=600) -> list:
    out = []
    for p in procs:
        so, se = p.communicate(timeout=timeout); out.append((p.returncode, so, se))
    return out

def two_detect_video(clean:pd.DataFrame, folder=None) -> dict:
    "Two `detect_video` processes at once on one video and one cache (flushing every 5 frames): both succeed, both equal `clean`."
    t = Path(folder or tempfile.mkdtemp()); job = _script(t, 'detect.py', _DETECT)
    procs = [subprocess.Popen([PY, job, video(), t/'cache', '5', t/f'd{i}.parquet'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    res = _wait(procs)
    ok = all(rc == 0 for rc, _, _ in res)
    same = ok and all(same_table(pd.read_parquet(t/f'd{i}.parquet'), clean) for i in range(2))
    return dict(ok=ok, same=same, errors=[se[-800:] for rc, _, se in res if rc])

def two_represent(clean:pd.DataFrame, folder=None, batch:int=4, files=None) -> dict:
    "Two `represent` processes at once on the same photos and cache: both succeed and equal `clean`, and together embed each photo once."
    t = Path(folder or tempfile.mkdtemp()); job = _script(t, 'represent.py', _REPRESENT)
    files = files or photos()
    (t/'files.txt').write_text('\n'.join(files))
    procs = [subprocess.Popen([PY, job, t/'files.txt', t/'cache', str(batch), t/f'e{i}.parquet'], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    res = _wait(procs)
    ok = all(rc == 0 for rc, _, _ in res)
    images = [json.loads(so.strip().splitlines()[-1])['images'] for rc, so, _ in res] if ok else []
    same = ok and all(same_table(pd.read_parquet(t/f'e{i}.parquet'), clean) for i in range(2))
    n = len(set(file_hash(f) for f in files))
    return dict(ok=ok, same=same, images=images, unique=n, once=ok and sum(images) == n, errors=[se[-800:] for rc, _, se in res if rc])

def _start_paused(args, folder:Path, pattern:str, n:int) -> tuple:
    "Start job `args` to stop after its `n`-th cache file matching `pattern` (see `_PAUSE`): (process, the marker it will create)."
    marker = folder/'paused'
    env = {**os.environ, 'FACELAB_TEST_PAUSE': f"{pattern}|{n}|{marker}"}
    with open(folder/'paused.log', 'wb') as log:   # a file, not a pipe nobody reads: a full pipe would stop it short of the pause
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env), marker

def _kill_when(proc, marker:Path, timeout=300) -> bool:
    "SIGKILL `proc` once it has written `marker` (it is then held still, see `_PAUSE`); False if it ended or timed out first."
    t0 = time.time()
    while time.time() - t0 < timeout:
        if marker.exists(): proc.send_signal(signal.SIGKILL); proc.wait(); return True
        if proc.poll() is not None: return False
        time.sleep(0.02)
    proc.kill(); proc.wait(); return False

def killed_detect_video(clean:pd.DataFrame, folder=None) -> dict:
    "A `detect_video` run killed by SIGKILL after its first cache flush, then run again: the result equals `clean`."
    t = Path(folder or tempfile.mkdtemp()); job = _script(t, 'detect.py', _DETECT); (t/'cache').mkdir()
    p, marker = _start_paused([PY, job, video(), t/'cache', '5', t/'d.parquet'], t, 'dets-*.parquet', 2)
    killed = _kill_when(p, marker) and len(list((t/'cache').rglob('dets-*.parquet'))) == 2
    r = subprocess.run([PY, job, video(), t/'cache', '5', t/'d.parquet'], capture_output=True, text=True, timeout=600)
    same = r.returncode == 0 and same_table(pd.read_parquet(t/'d.parquet'), clean)
    return dict(killed=killed, ok=r.returncode == 0, same=same, errors=[r.stderr[-800:]] if r.returncode else [])

def killed_represent(clean:pd.DataFrame, folder=None, batch:int=4, files=None) -> dict:
    "A `represent` run killed by SIGKILL after two cached batches, then run again: the result equals `clean`."
    t = Path(folder or tempfile.mkdtemp()); job = _script(t, 'represent.py', _REPRESENT); (t/'cache').mkdir()
    (t/'files.txt').write_text('\n'.join(files or photos()))
    args = [PY, job, t/'files.txt', t/'cache', str(batch), t/'e.parquet']
    p, marker = _start_paused(args, t, 'part-*.parquet', 2)
    killed = _kill_when(p, marker) and len(list((t/'cache').rglob('part-*.parquet'))) == 2
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    same = r.returncode == 0 and same_table(pd.read_parquet(t/'e.parquet'), clean)
    return dict(killed=killed, ok=r.returncode == 0, same=same, errors=[r.stderr[-800:]] if r.returncode else [])
