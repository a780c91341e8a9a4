"""Verification benchmark: deepface's per-pair `DeepFace.verify` loop (the threshold study's method) vs `facelab.verify.verify_pairs`.

Same pairs, model, detector and machine, in one run. Models are built before any timing on both sides. Model calls are counted
by wrapping the recognition model's `forward` (images embedded). Writes its table into BENCHMARKS.md between the
`verification` markers and prints it.

Run: .venv/bin/python benchmarks/verification.py [--quick] [--no-write]
"""
import os, sys, time, tempfile, platform, re
from pathlib import Path
import numpy as np, pandas as pd
import facelab.core  # points deepface at facelab's weights, onnx engine
from deepface import DeepFace
from deepface.modules import modeling
from facelab.datasets import deepface_sample
from facelab.pairs import make_pairs
from facelab.verify import verify_pairs
sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import update_section

MODEL, DETECTOR, METRIC = 'SFace', 'yunet', 'cosine'
root = Path(__file__).resolve().parents[1]

model = modeling.build_model(task='facial_recognition', model_name=MODEL)
modeling.build_model(task='face_detector', model_name=DETECTOR)
calls = {'images': 0}
_forward = model.forward
def counting_forward(img):
    calls['images'] += 1 if img.ndim == 3 else img.shape[0]
    return _forward(img)
model.forward = counting_forward

def load(): return os.getloadavg()[0]

def run_loop(pairs):
    "The study's method: one DeepFace.verify call per pair."
    calls['images'] = 0; t = time.perf_counter()
    d = [DeepFace.verify(x, y, model_name=MODEL, detector_backend=DETECTOR, distance_metric=METRIC, enforce_detection=False)['distance']
         for x, y in zip(pairs.file_x, pairs.file_y)]
    return time.perf_counter() - t, calls['images'], np.array(d)

def run_facelab(pairs, cache):
    calls['images'] = 0; t = time.perf_counter()
    v = verify_pairs(pairs, model_name=MODEL, detector_backend=DETECTOR, distance_metric=METRIC, deepface_compat=True, cache_dir=cache, progress=False)
    return time.perf_counter() - t, calls['images'], v.distance.to_numpy()

def bench(name, identities):
    pairs = make_pairs(identities)
    n_img = len(pd.unique(pd.concat([pairs.file_x, pairs.file_y])))
    cache = Path(tempfile.mkdtemp())
    t_loop, c_loop, d_loop = run_loop(pairs); l_loop = load()
    t_cold, c_cold, d_cold = run_facelab(pairs, cache); l_cold = load()
    t_warm, c_warm, d_warm = run_facelab(pairs, cache); l_warm = load()
    diff = float(np.max(np.abs(d_loop - d_cold)))
    assert np.array_equal(d_cold, d_warm)
    P = len(pairs)
    return [dict(set=name, images=n_img, pairs=P, method='DeepFace.verify loop', seconds=t_loop, pairs_per_s=P/t_loop, model_calls=c_loop, speedup=1.0, max_abs_diff=0.0, load=l_loop),
            dict(set=name, images=n_img, pairs=P, method='verify_pairs, cold cache', seconds=t_cold, pairs_per_s=P/t_cold, model_calls=c_cold, speedup=t_loop/t_cold, max_abs_diff=diff, load=l_cold),
            dict(set=name, images=n_img, pairs=P, method='verify_pairs, warm cache', seconds=t_warm, pairs_per_s=P/t_warm, model_calls=c_warm, speedup=t_loop/t_warm, max_abs_diff=diff, load=l_warm)]

def markdown(df):
    fmt = {'seconds': '{:.3f}', 'pairs_per_s': '{:,.2f}', 'load': '{:.1f}', 'speedup': '{:,.1f}×', 'max_abs_diff': '{:.1e}'}
    cols = list(df.columns)
    rows = ['| ' + ' | '.join(cols) + ' |', '|' + '---|'*len(cols)]
    for r in df.itertuples(index=False):
        rows.append('| ' + ' | '.join(fmt.get(c, '{}').format(getattr(r, c)) for c in cols) + ' |')
    return '\n'.join(rows)

if __name__ == '__main__':
    quick = '--quick' in sys.argv
    sets = [('study: 9 identities', deepface_sample(study=True))]
    if not quick: sets.append(('sample: 13 identities', deepface_sample()))
    df = pd.DataFrame([r for name, ids in sets for r in bench(name, ids)])
    import deepface, onnxruntime
    text = (f"Run `{' '.join(['python', 'benchmarks/verification.py'] + [x for x in sys.argv[1:] if x != '--no-write'])}` on {platform.machine()}, {platform.python_version()}, "
            f"deepface {deepface.__version__}, onnxruntime {onnxruntime.__version__}, {MODEL} + {DETECTOR}, {METRIC}, CPU, "
            f"{time.strftime('%Y-%m-%d')}.\n\n" + markdown(df) + "\n\n"
            "`model_calls` counts images passed through the recognition model. `speedup` is the loop's time over the row's time, "
            "in the same run. `max_abs_diff` is the largest |facelab distance − DeepFace.verify distance| over all pairs "
            "(deepface rounds its distances to 6 decimals). `load`: the machine's 1-minute load average after the row was measured "
            f"({os.cpu_count()} CPUs); rows measured under very different load are not comparable.")
    print(text)
    if '--no-write' not in sys.argv: update_section('verification', 'Verification: `verify_pairs` vs the `DeepFace.verify` loop', text)
