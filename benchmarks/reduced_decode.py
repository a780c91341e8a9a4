"""Large photos decoded at a reduced scale for detection (JPEG's DCT scaling, `cv2.IMREAD_REDUCED_COLOR_2/4/8`), the face aligned from
the full-resolution pixels: what it saves and what it changes, on the deepface sample (SFace + YuNet at deepface's 640 px).

Run from the repository root: `.venv/bin/python benchmarks/reduced_decode.py [--no-write]`; writes the `reduced-decode` section of
BENCHMARKS.md. OpenCV decodes no region of a JPEG alone, so aligning from the full-resolution pixels needs the full
decode as well; the script also measures the variant that saves time, aligning from the reduced pixels.
"""
from __future__ import annotations
import os, platform, sys, time
from pathlib import Path
import numpy as np, pandas as pd, cv2
import facelab.core  # noqa: F401
from facelab.core import load_image, image_files
from facelab.datasets import deepface_folder
from facelab.detect import get_detector, detect_image, LANDMARKS
from facelab.models import get_model
from facelab.evaluate import md_table
sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import update_section

FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}

def faces(img, det, model, scale=1., full=None):
    "Embeddings of the faces YuNet finds in `img`, landmarks scaled by `scale` and aligned from `full` (default `img`)."
    rows, _ = detect_image(img, det)
    rows = sorted(rows, key=lambda r: (round(r['x1']*scale/8), round(r['y1']*scale/8)))   # the same faces in the same order at both scales
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
    cos = t.cosine_full_pixels.dropna()
    text = (f"Run `.venv/bin/python benchmarks/reduced_decode.py` on {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}.\n\n"
            f"{len(t)} of the deepface sample's photos are at least twice YuNet's 640 px. Decoded at 1/{t.factor.min()} to "
            f"1/{t.factor.max()} scale they take {t.reduced_ms.sum():.0f} ms against {t.full_ms.sum():.0f} ms in full "
            f"({t.reduced_ms.sum()/t.full_ms.sum():.0%}), and YuNet finds as many faces in {t.same_faces.sum()} of them. But the "
            "landmarks found on the reduced pixels move the alignment: with the face aligned from the full-resolution pixels (which "
            f"needs the full decode as well: OpenCV decodes no region of a JPEG alone), SFace's embeddings differ from today's by a "
            f"cosine distance of {cos.median():.3f} (median photo) to {cos.max():.3f} (largest; SFace's threshold is 0.637), against "
            f"the 1e-3 allowed; aligned from the reduced pixels, by up to {t.max_diff_reduced_pixels.max():.1f} in a coordinate. "
            "**Left off**: every photo is decoded in full, as before. LFW's 250×250 photos are never reduced, so its accuracy is "
            "unchanged either way.")
    print(text)
    if '--no-write' not in sys.argv: update_section('reduced-decode', 'Large photos: decoding at a reduced scale (left off)', text)
    print(f"{len(t)} of the sample's photos are at least twice the detector's 640 px; decoding them at 1/{t.factor.min()}-1/{t.factor.max()} "
          f"scale takes {t.reduced_ms.sum():.0f} ms against {t.full_ms.sum():.0f} ms in full ({t.reduced_ms.sum()/t.full_ms.sum():.0%}); "
          f"the same number of faces in {t.same_faces.sum()} of {len(t)}; embeddings aligned from the full pixels differ from today's by "
          f"at most {t.max_diff_full_pixels.max():.2e} (median of the per-photo maxima {t.max_diff_full_pixels.median():.2e}), from the "
          f"reduced pixels by at most {t.max_diff_reduced_pixels.max():.2e}; cosine distance to today's embedding, aligned from the "
          f"full pixels: up to {t.cosine_full_pixels.max():.3f} (SFace's threshold is 0.637).\n")
    print(md_table(t, '.3g'))

if __name__ == '__main__': main()
