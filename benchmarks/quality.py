"""The slices' quality pass on the deepface sample: `slices.colourfulness` (OpenCV's per-channel max/min) against the plain numpy
formula it replaced (`img.astype(int16)`, max and min over the colour axis), the same number required; and one identification
study on cached embeddings, with the numpy formula put back and with facelab's, in the same run.

Run from the repository root: `.venv/bin/python benchmarks/quality.py [--repeats 3] [--no-write]`. Writes the `quality`
section of BENCHMARKS.md and prints it. The two ways run in turn, the fastest of `--repeats` kept; read the ratios.
"""
from __future__ import annotations
import os, platform, sys, tempfile, time
from pathlib import Path
from unittest import mock
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish, run_cli, fastest
from facelab.core import load_image, image_files, md_table
from facelab.datasets import deepface_folder
import facelab.slices as slices
from facelab.identify import identification_study

def numpy_colourfulness(img:np.ndarray) -> float:
    "The formula `colourfulness` had: max minus min over the colour axis of an int16 copy, averaged."
    if img.ndim == 2: return 0.0
    i = img.astype(np.int16)
    return float((i.max(2) - i.min(2)).mean())

def main(repeats:int=3, write:bool=True) -> str:
    start, load0 = time.strftime('%Y-%m-%d %H:%M'), os.getloadavg()
    imgs = [load_image(f) for f in image_files(deepface_folder())]
    same = all(numpy_colourfulness(i) == slices.colourfulness(i) for i in imgs)
    t_np = fastest(lambda: [numpy_colourfulness(i) for i in imgs], repeats)
    t_cv = fastest(lambda: [slices.colourfulness(i) for i in imgs], repeats)
    cache = Path(tempfile.mkdtemp())/'cache'
    study = lambda: identification_study('sample', 'SFace', 'yunet', n_boot=200, cache_dir=cache, progress=False)
    study()   # embeddings into the cache: both timed runs read them
    with mock.patch.object(slices, 'colourfulness', numpy_colourfulness): s_np = fastest(study, repeats)
    s_cv = fastest(study, repeats)
    rows = pd.DataFrame([dict(run='colourfulness of every sample photo', numpy_s=t_np, facelab_s=t_cv, speedup=t_np/t_cv),
                         dict(run='identification study, cached embeddings (n_boot=200)', numpy_s=s_np, facelab_s=s_cv,
                              speedup=s_np/s_cv)])
    text = (f"Run `.venv/bin/python benchmarks/quality.py --repeats {repeats}` on {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {start}; load averages {', '.join(f'{x:.2f}' for x in load0)} at the start. "
            f"{len(imgs)} deepface sample photos; the fastest of {repeats} runs each.\n\n"
            + md_table(rows, floatfmt='.3f') +
            f"\n\n- The same number from both formulas on every photo: {same}.\n"
            "- The study's other costs stay: the quality pass decodes each image again and re-runs the detector for its "
            "landmarks (the embeddings table holds no landmarks).")
    return publish('quality', 'Quality measures: colourfulness by channel planes', text, write)

if __name__ == '__main__': run_cli(main, __doc__)
