"""The bad-image batch: `facelab evaluate` on a folder of real photos mixed with every kind of bad file, next to `DeepFace.represent`
called on each bad file alone (the peer), in the same run.

The batch is `tests/bad_images.py`'s (also run by `tests/test_bad_inputs.py`): a 40000×40000 PNG, a 20000×20000 PNG, a truncated
JPEG, an empty file, text named .jpg, an 8×8 image, a broken and a looping link, among 10 good photos (one a PGM, one a WebP named
.jpg). Each deepface call runs in its own process under a 6 GiB address-space limit and a 5-minute timeout, so one that blows up
cannot take this script down. The table goes into the `bad_images` section of RELIABILITY.md.

    python benchmarks/reliability_bad_images.py            # about 2 minutes
    python benchmarks/reliability_bad_images.py --no-peer --no-write
"""
import argparse, json, os, platform, resource, subprocess, sys, tempfile, textwrap, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'benchmarks')); sys.path.insert(0, str(ROOT/'tests'))
from report import update_section, RELIABILITY
import pandas as pd
import facelab
import bad_images as bi

LIMIT = 6 * 2**30
PEER = textwrap.dedent("""
    import sys, json, resource
    resource.setrlimit(resource.RLIMIT_AS, (%d, %d))
    import facelab.core   # points deepface at facelab's weights, onnx engine
    from deepface import DeepFace
    try:
        faces = DeepFace.represent(sys.argv[1], model_name='SFace', detector_backend='yunet', enforce_detection=False)
        print(json.dumps(dict(outcome=f"returned {len(faces)} embedding(s)")))
    except BaseException as e:
        name = type(e).__name__ if type(e).__module__ == 'builtins' else f"{type(e).__module__}.{type(e).__name__}"
        print(json.dumps(dict(outcome=f"{name}: {' '.join(str(e).split())[:90]}")))
    """ % (LIMIT, LIMIT))

def peer(path:str) -> str:
    "What `DeepFace.represent(path)` does with one file, run in its own limited process."
    try: r = subprocess.run([sys.executable, '-c', PEER, path], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired: return 'still running after 5 minutes (killed)'
    lines = [l for l in r.stdout.splitlines() if l.startswith('{')]
    if lines: return json.loads(lines[-1])['outcome']
    return f"process died (exit {r.returncode}): {' '.join(r.stderr.split())[-120:]}"

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--no-peer', action='store_true', help='skip the DeepFace.represent calls')
    p.add_argument('--no-write', action='store_true', help='print the table, do not write RELIABILITY.md')
    a = p.parse_args(argv)
    t = Path(tempfile.mkdtemp(prefix='facelab-bad-'))
    batch = bi.make_batch(t/'people')
    t0 = time.perf_counter()
    r = subprocess.run([str(Path(sys.executable).parent/'facelab'), 'evaluate', t/'people', '--out', t/'report', '--tune', 'best-f1',
                        '--bootstrap', '0'], capture_output=True, text=True, timeout=1800, env={**os.environ, 'FACELAB_HOME': str(t/'home')})
    secs, peak = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/2**20
    if r.returncode: print(r.stderr[-3000:], file=sys.stderr); return 1
    res = bi.check_run(t/'report', batch)
    names = {Path(f).name: f for f in batch['bad']}
    res['peer'] = [peer(names[f]) if f in names and not a.no_peer else '' for f in res.file]
    rows = ["| file | what it is | facelab: in failures.csv, with the reason | `DeepFace.represent` on it alone |", "|---|---|---|---|"]
    for x in res.itertuples():
        if x.file.startswith('('): continue
        mark = '✓' if x.expected else '✗'
        cell = lambda v: str(v).replace('|', '/')
        rows.append(f"| `{x.file}` | {x.what} | {mark} {cell(x.reason[:110])} | {cell(x.peer) or '—'} |")
    last = res.iloc[-1]
    ok = bool(res.expected.all())
    text = '\n'.join([
        f"`python benchmarks/reliability_bad_images.py` (facelab {facelab.__version__}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}). `facelab evaluate` on the folder (3 people, {len(batch['good'])} good photos among "
        f"{len(batch['bad'])} bad files, SFace + YuNet): exit code {r.returncode}, {secs:.0f} s, peak memory of the run "
        f"{peak:.2f} GiB. Every bad file listed in failures.csv with its reason: **{'yes' if res.expected.iloc[:-1].all() else 'NO'}**; "
        f"pairs of two good photos scored: **{last.reason}**. The peer column is deepface's own call on each bad file "
        f"(SFace, YuNet, `enforce_detection=False`, in a process limited to {LIMIT/2**30:.0f} GiB): a loop of such calls over the "
        "folder stops at the first exception.", '', *rows])
    print(text)
    if not a.no_write: update_section('bad_images', 'The bad-image batch', text, path=RELIABILITY)
    return 0 if ok else 1

if __name__ == '__main__': sys.exit(main())
