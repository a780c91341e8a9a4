"""Large photos decoded at a reduced scale for detection (JPEG's DCT scaling, `cv2.IMREAD_REDUCED_COLOR_2/4/8`), the face aligned from
the full-resolution pixels: what it saves and what it changes, on the deepface sample (SFace + YuNet at deepface's 640 px).

Run from the repository root: `.venv/bin/python benchmarks/reduced_decode.py`; prints a table for BENCHMARKS.md ("One process, every
core") and writes nothing. OpenCV decodes no region of a JPEG alone, so aligning from the full-resolution pixels needs the full
decode as well; the script also measures the variant that saves time, aligning from the reduced pixels.
"""
from __future__ import annotations
import time
import numpy as np, pandas as pd, cv2
import facelab.core  # noqa: F401
from facelab.core import load_image, image_files
from facelab.datasets import deepface_folder
from facelab.detect import get_detector, detect_image, LANDMARKS
from facelab.models import get_model
from facelab.evaluate import md_table

FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}

def faces(img, det, model, scale=1., full=None):
    "Embeddings of the faces YuNet finds in `img`, landmarks scaled by `scale` and aligned from `full` (default `img`)."
    rows, _ = detect_image(img, det)
    src = img if full is None else full
    crops = [model.align(src, [r[k]*scale for k in ('x1', 'y1', 'x2', 'y2')],
                         np.array([[r[f"{l}_x"], r[f"{l}_y"]] for l in LANDMARKS])*scale) for r in rows]
    return model.embed(crops) if crops else np.zeros((0, 128), np.float32)

def main():
    det, model = get_detector('yunet'), get_model('SFace')
    rows = []
    for f in image_files(deepface_folder()):
        buf = np.fromfile(f, np.uint8)
        t = time.perf_counter(); full = cv2.imdecode(buf, cv2.IMREAD_COLOR); t_full = time.perf_counter() - t
        if full is None or max(full.shape[:2]) < 2*640: continue   # the detector's input is not far smaller than the photo
        k = max(s for s in FLAGS if max(full.shape[:2]) / s >= 640)
        t = time.perf_counter(); small = cv2.imdecode(buf, FLAGS[k]); t_small = time.perf_counter() - t
        ref, scale = faces(full, det, model), full.shape[1] / small.shape[1]
        a, b = faces(small, det, model, scale, full), faces(small, det, model, scale)
        same = len(a) == len(ref)
        cos = lambda x, y: 1 - np.sum(x*y, 1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
        rows.append(dict(photo=f.split('/')[-1], size=f"{full.shape[1]}×{full.shape[0]}", factor=k, faces=len(ref), same_faces=same,
                         full_ms=1000*t_full, reduced_ms=1000*t_small,
                         max_diff_full_pixels=float(np.abs(a-ref).max()) if same and len(ref) else np.nan,
                         max_diff_reduced_pixels=float(np.abs(b-ref).max()) if len(b) == len(ref) and len(ref) else np.nan,
                         cosine_full_pixels=float(cos(a, ref).max()) if same and len(ref) else np.nan))
    t = pd.DataFrame(rows)
    print(f"{len(t)} of the sample's photos are at least twice the detector's 640 px; decoding them at 1/{t.factor.min()}-1/{t.factor.max()} "
          f"scale takes {t.reduced_ms.sum():.0f} ms against {t.full_ms.sum():.0f} ms in full ({t.reduced_ms.sum()/t.full_ms.sum():.0%}); "
          f"the same number of faces in {t.same_faces.sum()} of {len(t)}; embeddings aligned from the full pixels differ from today's by "
          f"at most {t.max_diff_full_pixels.max():.2e} (median of the per-photo maxima {t.max_diff_full_pixels.median():.2e}), from the "
          f"reduced pixels by at most {t.max_diff_reduced_pixels.max():.2e}; cosine distance to today's embedding, aligned from the "
          f"full pixels: up to {t.cosine_full_pixels.max():.3f} (SFace's threshold is 0.637).\n")
    print(md_table(t, '.3g'))

if __name__ == '__main__': main()
