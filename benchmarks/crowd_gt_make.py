"""How the hand-checked ground truth of `crowd_1080p.mp4` was made, and how to remake or re-check it.

Three detectors run with low thresholds on every 5th frame as *proposals*; overlapping proposals are merged into numbered
candidates; a facelab developer looked at every annotated frame (numbered candidates drawn on 1.5x zoomed halves of the frame,
and closer zooms where unsure) and decided for each candidate: a face (which track), not a face (why), occluded, or an ignore
region; faces no detector proposed were added by hand (`ADDED`). `DECISIONS` below is that record, one entry per candidate.

    .venv/bin/python benchmarks/crowd_gt_make.py review OUT_DIR   # candidates + numbered review images (to re-check by eye)
    .venv/bin/python benchmarks/crowd_gt_make.py build            # candidates + DECISIONS -> the log CSV and the CVAT XML

The box of an accepted candidate is the mean of the proposals that overlap its best proposal (IoU >= 0.5; at most one per
detector), so no single detector's box convention is the ground truth's. See facelab/data/crowd_1080p_faces.md.
"""
from __future__ import annotations
import sys, re
from pathlib import Path
import cv2, numpy as np, pandas as pd
import xml.etree.ElementTree as ET
from defusedxml.ElementTree import parse as safe_parse

import facelab.core  # noqa: F401
from facelab.datasets import sample_path
from facelab.detect import YuNet, CenterFace, RetinaFaceMobileNet
from facelab.video import read_frame
from facelab.annotations import GroundTruth, write_cvat_video

ROOT = Path(__file__).resolve().parents[1]
XML, LOG = ROOT/'facelab'/'data'/'crowd_1080p_faces.xml', ROOT/'facelab'/'data'/'crowd_1080p_faces_log.csv'
FRAMES = list(range(0, 105, 5))
SIZE, N_FRAMES = (1920, 1080), 105
PROPOSERS = {  # low thresholds: proposals, not decisions
    # full resolution only, as when DECISIONS were taken: YuNet's extra 640-px pass for large faces (`large_faces`, on by default
    # since) proposes more boxes, which renumbers the candidates DECISIONS refers to
    'yunet-full': lambda: YuNet(full_resolution=True, score_threshold=0.3, large_faces=False),
    'centerface': lambda: CenterFace(threshold=0.15),
    'retinaface-mobilenet': lambda: RetinaFaceMobileNet(score_threshold=0.3),
}

CREST = 'x Royal Opera House coat of arms (heraldic figures, not a person)'
WIN = 'T12 ign inside the shop window (reflection or display figure), cannot tell'
DECISIONS = {
    0: {0: 'T1', 1: 'T2', 2: 'T3', 3: 'x top of T4 hair', 4: 'T4', 5: 'T5 ign dark blurred head in background, no features', 6: 'T6',
        7: 'T7', 8: CREST, 9: CREST, 10: CREST, 11: CREST, 12: CREST, 13: 'T8', 14: 'T9 occ looking down, hair over face', 15: 'T10'},
    5: {0: 'T1', 1: 'x red scarf and hand of T1', 2: 'T2', 3: 'T3', 4: 'x T4 hair', 5: 'T4', 6: 'x offset duplicate of T4 (hair+forehead)',
        7: 'x back of a grey head (person walking away)', 8: 'T6', 9: 'T7', 10: CREST, 11: CREST, 12: CREST, 13: 'T8', 14: 'T11',
        15: 'T10 occ face turned away to the right, blurred', 16: 'T12 ign face-like figure in the red-framed shop window (reflection or display), cannot tell'},
    10: {0: 'T1', 1: 'T3', 2: 'T2', 3: 'x T4 hair', 4: 'T4', 5: 'x offset duplicate of T4', 6: 'T6', 7: 'T7', 8: CREST, 9: CREST,
        10: CREST, 11: CREST, 12: 'T8', 13: 'x dark hair, back of a head', 14: 'T11'},
    15: {0: 'T1', 1: 'T3', 2: 'x T4 hair', 3: 'T4', 4: 'x T4 hair', 5: 'T2', 6: 'T6', 7: CREST, 8: 'T7', 9: CREST, 10: CREST, 11: CREST,
        12: 'T8', 13: 'x loose duplicate of T11 (includes hair and scarf; candidate 14 fits the face)', 14: 'T11'},
    20: {0: 'T1', 1: 'T3', 2: 'x T4 hair', 3: 'T4', 4: 'x T4 hair', 5: 'x back of a grey head behind T4', 6: 'T6', 7: CREST, 8: 'T7',
        9: 'T2', 10: CREST, 11: CREST, 12: CREST, 13: CREST, 14: CREST, 15: 'T8', 16: 'T11', 17: 'x huge box over the pillars', 18: WIN},
    25: {0: 'T1', 1: 'T3', 2: 'x item in the shop display left of T4', 3: 'x T4 hair', 4: 'T4', 5: 'x back of a grey head behind T4',
        6: 'T6', 7: CREST, 8: 'T7', 9: CREST, 10: CREST, 11: CREST, 12: 'T13 occ face half hidden behind T7', 13: 'T8', 14: CREST,
        15: 'T14 small face in the doorway behind T8', 16: 'T2', 17: 'T11'},
    30: {0: 'T1', 1: 'T3 occ half hidden behind T4', 2: 'x T4 hair', 3: 'T4', 4: 'x T4 hair', 5: 'x back of a grey head (walking away)',
        6: 'T6', 7: CREST, 8: 'T7', 9: CREST, 10: CREST, 11: CREST, 12: 'T13', 13: CREST, 14: 'T14',
        15: 'x back of the blonde head of T9 (walking away)', 16: 'x scarf/coat of T2 at the bottom edge',
        17: 'T11 occ partly behind the blonde head', 18: 'T2'},
    35: {0: 'T1', 1: 'T4', 2: 'x back of a grey head (walking away)', 3: 'x top of the same grey head', 4: 'x part of T6 (loose)',
        5: 'x part of T6 (loose)', 6: 'T6', 7: CREST, 8: 'T7', 9: CREST, 10: 'T13', 11: CREST, 12: 'T14',
        13: 'x back of the blonde head of T9', 14: 'T11', 15: 'x back of a grey head (woman in fur collar walking away)', 16: 'T2'},
    40: {0: 'T1', 1: 'T4', 2: 'x T4 forehead and hair (loose)', 3: 'x T4 hair', 4: 'x back of a grey head (walking away)',
        5: 'T6 occ turned down and away', 6: CREST, 7: 'T7', 8: CREST, 9: CREST, 10: CREST, 11: CREST, 12: 'T13', 13: 'x collar below T13',
        14: 'T14', 15: 'x back of the blonde head of T9', 16: 'T11'},
    45: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'x back of a grey head (walking away)',
        5: 'x loose box over T6 and her collar', 6: 'T6 occ turned down and away', 7: CREST, 8: 'T7', 9: CREST, 10: CREST, 11: CREST,
        12: CREST, 13: 'T8 occ half hidden behind T7 and T13', 14: CREST, 15: CREST, 16: 'T13', 17: 'T14',
        18: 'x back of the blonde head of T9', 19: 'x back of the blonde head of T9', 20: 'T11',
        21: 'x back of a grey head (woman in fur collar walking away)'},
    50: {0: 'T1', 1: 'T4', 2: 'x T4 hair', 3: 'x back of a grey head (walking away)', 4: 'T7', 5: CREST, 6: CREST, 7: CREST, 8: CREST,
        9: CREST, 10: CREST, 11: CREST, 12: 'T8', 13: 'T13', 14: 'x back of the blonde head of T9', 15: 'x back of the blonde head of T9',
        16: 'T11'},
    55: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'x back of a grey head (walking away)', 5: 'T7', 6: 'x top of T7 hair',
        7: CREST, 8: CREST, 9: CREST, 10: CREST, 11: CREST, 12: CREST, 13: 'T8', 14: CREST, 15: CREST, 16: 'T13',
        17: 'x back of the blonde head of T9', 18: 'T11', 19: 'x back of a grey head (woman in fur collar walking away)'},
    60: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'x back of the curly head of T6 (turned away)', 5: 'T7', 6: CREST, 7: CREST,
        8: CREST, 9: CREST, 10: 'T8', 11: CREST, 12: 'T13', 13: 'T11', 14: 'x dark coat of a person behind the pillar'},
    65: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'x back of the curly head of T6 (turned away)', 5: 'T7', 6: CREST, 7: CREST,
        8: CREST, 9: 'T8', 10: CREST, 11: 'T13', 12: 'x back of the blonde head of T9',
        13: 'x upper part of T11 (hair and forehead; 14 fits the face)', 14: 'T11',
        15: 'T15 occ man stepping out from behind the pillar, partly hidden', 16: 'x dark coat below T15'},
    70: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'x back of the curly head of T6 (turned away)', 5: 'T7', 6: CREST, 7: CREST,
        8: CREST, 9: CREST, 10: 'T8', 11: 'T13', 12: 'T11', 13: 'T15'},
    75: {0: 'T1', 1: 'T4', 2: 'x T4 hair', 3: 'T7', 4: CREST, 5: CREST, 6: CREST, 7: CREST, 8: CREST, 9: CREST, 10: 'T8', 11: 'T13',
        12: 'T11', 13: 'T15'},
    80: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'T7', 5: CREST, 6: CREST, 7: 'T8', 8: 'T13',
        9: 'x blonde hair / shoulder of T9', 10: 'x blonde hair of T9', 11: 'T11',
        12: 'T15 occ head bowed, lower face behind the grey-haired woman'},
    85: {0: 'T1', 1: 'x T4 hair', 2: 'T4', 3: 'x back of the bald head of T3 (walking away)', 4: 'T7', 5: CREST, 6: CREST, 7: CREST,
        8: CREST, 9: CREST, 10: CREST, 11: 'T8', 12: 'T13', 13: 'x collar / hair of T9', 14: 'x blonde hair of T9', 15: 'T11', 16: 'T15'},
    90: {0: 'T1', 1: 'T4', 2: 'x back of the bald head of T3', 3: 'T7', 4: CREST, 5: CREST, 6: CREST, 7: CREST,
        8: 'T16 ign small blurred figure behind the glass doors, cannot tell if a face', 9: CREST, 10: CREST,
        11: 'T8 occ partly behind T13', 12: 'T13', 13: 'x dark hair behind T9 (T11 hidden)', 14: 'T15'},
    95: {0: 'T1 occ half hidden behind the shoulder of T4', 1: 'T4', 2: 'T7', 3: 'T6 (turned back towards the camera)', 4: CREST, 5: CREST,
        6: CREST, 7: CREST, 8: CREST, 9: CREST, 10: 'T8 occ partly behind T13', 11: 'T13', 12: 'T15'},
    100: {0: 'T1 occ mostly hidden behind T4', 1: 'x T4 hair', 2: 'T4', 3: 'x T4 hair', 4: 'T7', 5: 'T6', 6: CREST, 7: CREST, 8: CREST,
        9: CREST, 10: 'T17 ign small head behind the glass doors (mannequin or person), cannot tell', 11: 'T8', 12: 'T13', 13: 'T15',
        14: 'T11 occ partly behind T15', 15: 'x back of a grey head (woman in fur collar walking away)'},
}
ADDED = {  # faces no detector proposed, boxes estimated from the zoomed view: frame -> [(track, x1, y1, x2, y2, flags, note)]
    10: [(12, 1762, 629, 1796, 677, 'ign', 'face-like figure in the shop window, as on frame 5 (not proposed); box estimated +-15 px')],
    15: [(12, 1760, 655, 1797, 705, 'ign', 'figure in the shop window (not proposed); box estimated +-15 px')],
    25: [(12, 1762, 630, 1805, 705, 'ign', 'white-haired figure in the shop window (not proposed); box estimated +-15 px')],
}

def iou(a, b) -> float:
    "IoU of two x1, y1, x2, y2 boxes."
    ix, iy = max(0, min(a[2], b[2]) - max(a[0], b[0])), max(0, min(a[3], b[3]) - max(a[1], b[1]))
    u = (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - ix*iy
    return ix*iy/u if u > 0 else 0.

def proposals(video) -> pd.DataFrame:
    "Every proposer's boxes on the annotated frames."
    dets, rows = {k: f() for k, f in PROPOSERS.items()}, []
    for f in FRAMES:
        img = read_frame(video, f)
        for name, d in dets.items():
            faces = d.detect(img)
            rows += [dict(frame=f, det=name, x1=b[0], y1=b[1], x2=b[2], y2=b[3], conf=float(c)) for b, c in zip(faces.boxes, faces.confidence)]
    return pd.DataFrame(rows)

def candidates(P:pd.DataFrame) -> pd.DataFrame:
    "Merge proposals (greedy by confidence, IoU > 0.3) into candidates numbered left to right per frame."
    out = []
    for f, g in P.groupby('frame'):
        clusters = []
        for r in g.sort_values('conf', ascending=False, kind='stable').itertuples():
            b = (r.x1, r.y1, r.x2, r.y2)
            for c in clusters:
                if iou(c['box'], b) > 0.3: c['members'].append(r); break
            else: clusters.append(dict(box=b, members=[r]))
        for k, c in enumerate(sorted(clusters, key=lambda c: c['box'][0])):
            best = {}
            for m in c['members']:   # one proposal per detector: its most confident one that overlaps the cluster's best box
                if iou(c['box'], (m.x1, m.y1, m.x2, m.y2)) >= 0.5 and m.det not in best: best[m.det] = m
            box = np.mean([[m.x1, m.y1, m.x2, m.y2] for m in best.values()], axis=0)
            conf = {f"conf_{n}": max((m.conf for m in c['members'] if m.det == n), default=np.nan) for n in PROPOSERS}
            out.append(dict(frame=f, candidate=k, x1=box[0], y1=box[1], x2=box[2], y2=box[3], n_detectors=len(best), **conf))
    return pd.DataFrame(out).round(dict(x1=1, y1=1, x2=1, y2=1, **{f"conf_{n}": 3 for n in PROPOSERS}))

def _decide(text:str) -> dict:
    "A DECISIONS entry as log columns."
    if text.startswith('x '): return dict(decision='not a face', track_id=np.nan, occluded=False, ignore=False, note=text[2:])
    m = re.match(r"T(\d+)((?: (?:occ|ign))*)\s*(.*)", text)
    if not m: raise ValueError(f"bad decision {text!r}")
    flags = m.group(2).split()
    return dict(decision='ignore region' if 'ign' in flags else 'face', track_id=int(m.group(1)), occluded='occ' in flags,
                ignore='ign' in flags, note=m.group(3))

def decision_log(C:pd.DataFrame) -> pd.DataFrame:
    "Candidates with the decision taken for each, plus the faces added by hand."
    rows = []
    for r in C.to_dict('records'):
        d = DECISIONS[r['frame']].get(r['candidate'])
        if d is None: raise ValueError(f"frame {r['frame']}: candidate {r['candidate']} has no decision")
        rows.append(dict(r, source='candidate', **_decide(d)))
    for f, g in C.groupby('frame'):
        extra = set(DECISIONS[f]) - set(g.candidate)
        if extra: raise ValueError(f"frame {f}: decisions for candidates that do not exist: {sorted(extra)}")
    for f, added in ADDED.items():
        for t, x1, y1, x2, y2, flags, note in added:
            rows.append(dict(frame=f, candidate=np.nan, x1=x1, y1=y1, x2=x2, y2=y2, n_detectors=0, source='added by hand',
                             **_decide(f"T{t} {flags} {note}")))
    log = pd.DataFrame(rows).sort_values(['frame', 'source', 'candidate'], kind='stable').reset_index(drop=True)
    log[['candidate', 'track_id']] = log[['candidate', 'track_id']].astype('Int64')   # integers, empty where there is none
    dup = log[log.track_id.notna()].duplicated(['frame', 'track_id'], keep=False)
    if dup.any(): raise ValueError(f"two boxes of one track on one frame:\n{log[log.track_id.notna()][dup]}")
    return log

def write_xml(log:pd.DataFrame, path=XML) -> Path:
    "The accepted boxes as CVAT for video 1.1 (`write_cvat_video` writes the `ignore` attribute and keyframes on the annotated frames)."
    boxes = log[log.track_id.notna()].assign(label='face', track_id=lambda d: d.track_id.astype(int))
    gt = GroundTruth(boxes, annotated_frames=FRAMES, frame_size=SIZE)   # only these frames were looked at: keyframes there, nothing claimed in between
    return write_cvat_video(gt, path, size=SIZE, n_frames=N_FRAMES, source='crowd_1080p.mp4')

def review(C:pd.DataFrame, video, out:Path):
    "Numbered candidates drawn on 1.5x zoomed left and right halves of each annotated frame, with a 50 px ruler."
    out.mkdir(parents=True, exist_ok=True)
    for f in FRAMES:
        img = read_frame(video, f)
        for side, (x0, x1) in dict(left=(100, 1060), right=(960, 1920)).items():
            y0, y1, s = 380, 980, 1.5
            crop = cv2.resize(img[y0:y1, x0:x1], None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
            P = lambda x, y: (int((x-x0)*s), int((y-y0)*s))
            for g in range((x0//50+1)*50, x1, 50): cv2.putText(crop, str(g), (P(g, y0)[0]+2, 14), 0, 0.4, (255, 255, 0), 1)
            for g in range((y0//50+1)*50, y1, 50): cv2.putText(crop, str(g), (2, P(x0, g)[1]-2), 0, 0.4, (255, 255, 0), 1)
            for r in C[C.frame == f].itertuples():
                cv2.rectangle(crop, P(r.x1, r.y1), P(r.x2, r.y2), (0, 255, 0), 1); cv2.putText(crop, str(r.candidate), P(r.x1, r.y1-2), 0, 0.5, (0, 0, 255), 1)
            cv2.imwrite(str(out/f"f{f:03d}_{side}.png"), crop)

if __name__ == '__main__':
    video = sample_path('videos/crowd_1080p.mp4')
    C = candidates(proposals(video))
    if sys.argv[1:2] == ['review']:
        out = Path(sys.argv[2]); review(C, video, out); C.to_csv(out/'candidates.csv', index=False); print(f"review images in {out}")
    elif sys.argv[1:2] == ['build']:
        log = decision_log(C); log.to_csv(LOG, index=False); write_xml(log)
        print(log.groupby('decision').size().to_string(), f"\nwrote {LOG} and {XML}")
    else: sys.exit(__doc__)
