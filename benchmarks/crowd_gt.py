"""Detectors and tracking scored against the hand-checked ground truth of the real crowd clip (`crowd_1080p.mp4`).

For each detector, on the 21 annotated frames (0, 5, ..., 100): detection AP at IoU 0.5 (`facelab.validate.average_precision`;
ignore regions count for nothing; a second AP with the occluded faces as ignore regions), recall and precision at the detector's
own threshold (`match_detections`, `detection_metrics`), faces found per frame against the ground truth's, seconds per frame; then
`facelab.track.track_faces` on those detections and `tracking_metrics` (MOTA, IDF1, ID switches) against the ground-truth tracks.
With `--every 1` the tracker also runs on every frame of the clip (105 frames), still scored on the 21 annotated ones.

Run from the repository root: `nice -n 10 .venv/bin/python benchmarks/crowd_gt.py [--detectors a,b] [--every 1] [--no-write]`.
Writes the section "Real crowd clip: hand-checked ground truth" of BENCHMARKS.md. Timings depend on the machine and its load.
"""
from __future__ import annotations
import argparse, os, platform, sys, time
from functools import partial
from pathlib import Path
import numpy as np, pandas as pd

import facelab.core  # noqa: F401  (sets DEEPFACE_BACKEND_ENGINE / DEEPFACE_HOME)
from facelab.annotations import GroundTruth
from facelab.datasets import crowd_clip, crowd_ground_truth, CROWD_FRAMES
from facelab.detect import DETECTORS, Tiled, detect_image, get_detector
from facelab.validate import average_precision, match_detections, detection_metrics
from facelab.video import read_frame, video_info, VIDEO_DETECTOR
try: from facelab.track import track_faces, tracking_metrics
except ImportError: track_faces = tracking_metrics = None

sys.path.insert(0, str(Path(__file__).parent))
from report import update_section

SMALL = 32   # px, a face's shorter side below which it counts as small
BASE = ['yunet', 'yunet-full', 'centerface', 'retinaface-mobilenet']

def detectors() -> list:
    "The base detectors, every tiled detector registered in `DETECTORS`, and deepface's own YuNet."
    tiled = [n for n, f in DETECTORS.items() if isinstance(f, partial) and f.func is Tiled or f is Tiled]
    return BASE + [n for n in tiled if n not in BASE] + ['deepface:yunet']

def detect_frames(name:str, images:dict, source:str) -> tuple:
    "Detections of `name` on `images` (frame -> BGR) as a detection table, and the seconds each frame took (after one warm-up call)."
    get_detector(name); detect_image(next(iter(images.values())), name)   # build and warm up
    rows, secs = [], []
    for f, img in images.items():
        t = time.perf_counter(); found, _ = detect_image(img, name, align=False); secs.append(time.perf_counter() - t)
        rows += [dict(r, source=source, frame=f, timestamp=f/25) for r in found]
    cols = ['source', 'frame', 'timestamp', 'face_idx', 'x1', 'y1', 'x2', 'y2', 'confidence']
    det = pd.DataFrame(rows, columns=cols + [c for c in (rows[0] if rows else {}) if c not in cols])
    return det, np.array(secs)

def track_scores(det:pd.DataFrame, gt:GroundTruth, frames, fps:float) -> dict:
    "MOTA, IDF1, ID switches and tracks of `track_faces` on `det`, scored on the annotated frames."
    tracked = track_faces(det, frames=list(frames), fps=fps)
    return tracking_metrics(gt, tracked, frames=list(CROWD_FRAMES))

def row_for(name, det, secs, gt, all_det=None, all_frames=range(105)) -> dict:
    "One table row: detection AP, recall/precision at the detector's threshold, counts, speed, tracking."
    boxes = gt.boxes.reset_index(drop=True)   # match_detections' gt_idx are positions in these
    faces = boxes[~boxes.ignore]
    mt = match_detections(gt, det); m = detection_metrics(mt)
    small = set(faces.index[np.minimum(faces.x2-faces.x1, faces.y2-faces.y1) < SMALL])
    o = mt[mt.gt_idx.isin(small)].outcome
    r = dict(detector=name, ap=average_precision(gt, det), ap_occ=average_precision(gt, det, ignore_occluded=True),
             recall=m['recall'], recall_small=(o == 'TP').sum()/len(small) if small else np.nan, precision=m['precision'], found=len(det)/len(CROWD_FRAMES), gt=len(faces)/len(CROWD_FRAMES),
             s_frame=float(np.mean(secs)))
    if track_faces is not None and len(det):
        t = track_scores(det, gt, CROWD_FRAMES, 25.)
        r.update(mota=t['mota'], idf1=t['idf1'], idsw=t['id_switches'], tracks=t['tracks'], gt_tracks=t['gt_tracks'])
        if all_det is not None:
            t = track_scores(all_det, gt, all_frames, 25.)   # the frames `all_det` was detected on (every n-th)
            r.update(mota_all=t['mota'], idf1_all=t['idf1'], idsw_all=t['id_switches'], tracks_all=t['tracks'])
    return r

def oracle(gt:GroundTruth, source:str) -> dict:
    "Tracking scores when the detections are the ground truth's own boxes (ignore regions too): the tracker's share of the errors."
    b = gt.boxes
    det = b.drop(columns=['track_id']).assign(source=source, timestamp=b.frame/25, face_idx=0, confidence=1.)
    return track_scores(det, gt, CROWD_FRAMES, 25.)

def fmt(v, spec='.3f'):
    return 'NaN' if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)

def report(rows:list, every:int, cmd:str='', perfect:dict|None=None) -> str:
    gt = crowd_ground_truth().boxes; faces = gt[~gt.ignore]
    lines = [f"`benchmarks/crowd_gt.py{cmd}` on {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}: every detector on the 21 hand-checked frames of `crowd_1080p.mp4` "
             f"(real footage, 1920×1080; ground truth `facelab/data/crowd_1080p_faces.xml`, made by looking at every frame, see its "
             f"provenance `crowd_1080p_faces.md`): {len(faces)} faces of {faces.track_id.nunique()} people, {int(faces.occluded.sum())} of them "
             f"occluded, plus {int(gt.ignore.sum())} ignore regions. AP at IoU 0.5 over the detector's whole confidence range (ignore regions "
             f"count for nothing; *AP, occl. ignored*: partly hidden faces as ignore regions too); recall and precision at the detector's own "
             f"threshold, over all faces and over the small ones (shorter side under {SMALL} px); faces found per frame against the {len(faces)/21:.1f} the ground truth has; seconds per frame on this machine "
             f"(one process, after a warm-up frame; the machine is shared, so read them as rough: two runs differed by up to 2×). "
             f"`{VIDEO_DETECTOR}` is the default detector for video.", ""]
    trk = any('mota' in r for r in rows)
    n_small = int((np.minimum(faces.x2-faces.x1, faces.y2-faces.y1) < SMALL).sum())
    head = f"| detector | AP@0.5 | AP, occl. ignored | recall | recall < {SMALL} px ({n_small} faces) | precision | found / frame | s / frame |"
    if trk: head += " MOTA | IDF1 | ID switches | tracks |"
    if any('mota_all' in r for r in rows): head += f" MOTA, every {every} | IDF1, every {every} | ID switches, every {every} |"
    lines += [head, '|' + '---|'*(head.count('|')-1)]
    for r in rows:
        s = (f"| `{r['detector']}`{' (default for video)' if r['detector'] == VIDEO_DETECTOR else ''} | {fmt(r['ap'])} | {fmt(r['ap_occ'])} | "
             f"{fmt(r['recall'])} | {fmt(r['recall_small'])} | {fmt(r['precision'])} | {r['found']:.1f} | {r['s_frame']:.2f} |")
        if trk: s += f" {fmt(r.get('mota'))} | {fmt(r.get('idf1'))} | {r.get('idsw', '')} | {r.get('tracks', '')} |"
        if any('mota_all' in q for q in rows):
            s += f" {fmt(r['mota_all'])} | {fmt(r['idf1_all'])} | {r['idsw_all']} |" if 'mota_all' in r else " not run | not run | not run |"
        lines.append(s)
    if trk:
        lines += ["", f"Tracking: `facelab.track.track_faces` (its defaults) on each detector's boxes of the 21 frames (0.2 s apart), "
                  f"scored by `tracking_metrics` (motmetrics) against the {faces.track_id.nunique()} ground-truth tracks on the same frames"
                  + (f"; *every {every}*: the same detector and tracker on every {'' if every == 1 else str(every) + '. '}frame of the clip (105 frames, 0.04 s apart), scored on the same 21." if any('mota_all' in r for r in rows) else ".")]
    else: lines += ["", "Tracking: `facelab.track` is not available in this checkout, so no MOTA/IDF1 here."]
    if perfect: lines[-1] += (f" Given the ground truth's own boxes as detections, the tracker gets MOTA {perfect['mota']:.3f}, IDF1 "
                              f"{perfect['idf1']:.3f} and {perfect['id_switches']} ID switches on the 21 frames: its own share of the errors.")
    by = {r['detector']: r for r in rows}
    best = max(rows, key=lambda r: r['ap'])
    read = [f"Reading: `{best['detector']}` has the best AP ({best['ap']:.3f}) and recall ({best['recall']:.3f})"
            + (f", at precision {best['precision']:.3f} (its false positives are mostly the heraldic figures of the coat of arms above "
               "the entrance)" if best['detector'] == 'centerface' else "") + "."]
    if VIDEO_DETECTOR in by and 'centerface' in by:
        v, c = by[VIDEO_DETECTOR], by['centerface']
        read.append(f"The default for video, `{VIDEO_DETECTOR}`, finds {v['recall']/c['recall']:.0%} of the faces centerface finds "
                    f"(recall {v['recall']:.3f} against {c['recall']:.3f}) at precision {v['precision']:.3f}.")
    if 'deepface:yunet' in by:
        read.append(f"deepface's own YuNet (it shrinks the frame to 640 px) finds {by['deepface:yunet']['found']:.1f} faces a frame of the "
                    f"{len(faces)/21:.1f} there are.")
    lines += ["", " ".join(read)]
    return "\n".join(lines)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--detectors', help='comma-separated names (default: every base and tiled detector, and deepface:yunet)')
    ap.add_argument('--every', type=int, default=0, help='also track on every n-th frame of the clip (scored on the annotated frames)')
    ap.add_argument('--every-for', help='comma-separated detectors to track on every n-th frame (default: all of them)')
    ap.add_argument('--no-write', action='store_true', help='print only, leave BENCHMARKS.md alone')
    a = ap.parse_args()
    video, gt = crowd_clip(), crowd_ground_truth()
    assert video_info(video)['frames'] == 105
    images = {f: read_frame(video, f) for f in CROWD_FRAMES}
    rows = []
    for name in (a.detectors.split(',') if a.detectors else detectors()):
        det, secs = detect_frames(name, images, str(video))
        all_det, more = None, {}
        if a.every and track_faces is not None and (not a.every_for or name in a.every_for.split(',')):
            more = {f: read_frame(video, f) for f in range(0, 105, a.every)}
            all_det, _ = detect_frames(name, more, str(video))
        rows.append(row_for(name, det, secs, gt, all_det, list(more)))
        print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
    perfect = oracle(gt, str(video)) if track_faces is not None else None
    text = report(rows, a.every, ''.join(' ' + x for x in sys.argv[1:] if x != '--no-write'), perfect)
    print(text)
    if not a.no_write: update_section('crowd-gt', 'Real crowd clip: hand-checked ground truth', text)
