"""Detection benchmark. Part `ap`: every offline detector on the hand-checked frames of the real crowd clip, scored as
detection papers score it -- AP@0.5, AP@0.75, COCO's mAP@[.5:.95], AP by face size, WIDER FACE's AP -- on detections
down to `facelab.detect.AP_SCORE`, with the operating point at the detector's own threshold and frames/s at both
thresholds. Part `throughput`: frames/s and faces/s of yunet and centerface on the two sample clips, facelab's
overhead against calling the detector object directly on the same frames, and peak memory on a clip versus the same
clip four times over.

Run from the repository root: `.venv/bin/python benchmarks/detection.py [--part ap|throughput|all] [--quick]
[--no-write]`. Part `ap` writes its block of the "Detection and video" section of BENCHMARKS.md (between the
`detection-ap` markers); part `throughput` prints a markdown report. Timings depend on the machine and its load;
read the ratios, not the absolute numbers.
"""
from __future__ import annotations
import argparse, os, platform, resource, subprocess, sys, tempfile, time, json, contextlib, io, importlib.util
from pathlib import Path
import cv2, numpy as np, pandas as pd
from tqdm.auto import tqdm

import facelab.core  # noqa: F401  (sets DEEPFACE_BACKEND_ENGINE / DEEPFACE_HOME)
from facelab.annotations import GroundTruth
from facelab.datasets import data_dir, crowd_clip, crowd_ground_truth
from facelab.detect import AP_SCORE, get_detector, low_score_detector, score_threshold
from facelab.validate import COCO_IOUS, SIZE_BANDS, coco_precision, detection_report, greedy_matches
from facelab.video import VideoFrames, detect_video, read_frame, video_info

sys.path.insert(0, str(Path(__file__).parent))
from report import update_section

class Timed:
    "A detector wrapper that adds up the time spent inside `detect` (same name, so nothing else changes)."
    def __init__(self, backend): self.det, self.name, self.t = get_detector(backend), backend, 0.
    def detect(self, img):
        t = time.perf_counter(); r = self.det.detect(img); self.t += time.perf_counter() - t
        return r

def raw_run(path, backend, every_n):
    "Decode the same frames as facelab (grab skipped ones, read kept ones) and call the deepface detector directly."
    det = Timed(backend)
    sel = VideoFrames(path, every_n=every_n)
    cap = cv2.VideoCapture(str(path)); frames = faces = 0
    t = time.perf_counter()
    for i in range(video_info(path)['frames']):
        if sel.selected(i):
            ok, img = cap.read()
            if not ok: break
            faces += len(det.detect(img).boxes); frames += 1
        elif not cap.grab(): break
    dt = time.perf_counter() - t
    cap.release()
    return frames, faces, dt, dt - det.t

def facelab_run(path, backend, every_n):
    "facelab's `detect_video` on the same frames, cache off, no progress bar."
    det = Timed(backend)
    t = time.perf_counter()
    res = detect_video(path, det, every_n=every_n, cache_dir=None, progress=False)
    dt = time.perf_counter() - t
    return len(res.frames), len(res.detections), dt, dt - det.t

def throughput(clips, configs, repeats):
    rows = []
    for backend, per_clip in configs.items():
        get_detector(backend)  # build once, outside the timings
        for name, path in clips.items():
            every_n = per_clip[name]
            raw, fl = [], []
            for _ in range(repeats):   # interleave so load changes hit both
                raw.append(raw_run(path, backend, every_n)); fl.append(facelab_run(path, backend, every_n))
            rf, rn, rt, ro = min(raw, key=lambda r: r[2]); ff, fn, ft, fo = min(fl, key=lambda r: r[2])
            assert (rf, rn) == (ff, fn), f"raw and facelab disagree: {(rf, rn)} vs {(ff, fn)}"
            rows.append(dict(backend=backend, clip=name, every_n=every_n, frames=ff, faces=fn,
                             raw_fps=rf/rt, facelab_fps=ff/ft, facelab_faces_s=fn/ft, ratio=(ff/ft)/(rf/rt),
                             raw_other_ms=1000*ro/rf, facelab_other_ms=1000*fo/ff))
            print(f"  {backend:10s} {name:18s} raw {rf/rt:6.2f} fps  facelab {ff/ft:6.2f} fps", file=sys.stderr)
    return rows

def repeat_clip(src, dst, times):
    "Re-encode `src` `times` times over into `dst` (mp4v), so 1x and 4x are encoded alike."
    info = video_info(src)
    w = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*'mp4v'), info['fps'], (info['width'], info['height']))
    for _ in range(times):
        cap = cv2.VideoCapture(str(src))
        while True:
            ok, img = cap.read()
            if not ok: break
            w.write(img)
        cap.release()
    w.release()
    return dst

CHILD = """
import sys, json, threading, time, os
from facelab.video import detect_video
from facelab.detect import get_detector
page = os.sysconf('SC_PAGE_SIZE')
def rss(): return int(open('/proc/self/statm').read().split()[1])*page   # resident bytes now (Linux)
get_detector(sys.argv[2])
base, peak, stop = rss(), [0], threading.Event()
def sample():
    while not stop.is_set(): peak[0] = max(peak[0], rss()); time.sleep(0.005)
th = threading.Thread(target=sample); th.start()
res = detect_video(sys.argv[1], sys.argv[2], cache_dir=None, progress=False)
stop.set(); th.join()
print(json.dumps(dict(frames=len(res.frames), faces=len(res.detections), base_kb=base/1024, peak_kb=max(peak[0], rss())/1024)))
"""

def memory(src, backend, tmp):
    rows = []
    for times in (1, 4):
        path = repeat_clip(src, Path(tmp)/f"x{times}.mp4", times)
        out = subprocess.run([sys.executable, '-c', CHILD, str(path), backend], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1]); r['times'] = times; rows.append(r)
    return rows

AP_DETECTORS = ['yunet', 'yunet-full', 'yunet-2scale', 'centerface', 'retinaface-mobilenet']

AP_ABOUT = """\
Each detector on the {frames} hand-checked frames of `crowd_1080p.mp4` (`facelab.datasets.crowd_ground_truth`:
{faces} faces, {ignore} ignore regions; only annotated frames are scored), run through
`facelab.detect.low_score_detector` so that it keeps faces down to `AP_SCORE` = {ap_score}, and scored by
`facelab.validate.detection_report`. AP@0.5, AP@0.75 and mAP@[.5:.95] (IoU 0.50:0.05:0.95) are COCO's: 101-point
interpolated precision (the mean of the precision envelope at recall 0, 0.01, ..., 1), COCO's greedy matching by
confidence, ignore regions as `iscrowd`. AP by size: mAP@[.5:.95] over COCO's area bands of the box w × h -- small
under 32² px², medium 32²-96², large over 96² (faces per band in brackets; COCO's rule: faces, and unmatched
detections, outside the band count for nothing). *recall at {ap_score}*: how far the curve goes. *own threshold*: the
score the registry's detector keeps faces at; precision and recall there are read off the same curve. *WIDER AP*:
the same detections scored by WIDER FACE's official protocol (`facelab.validate.wider_evaluation`: +1-pixel box
sizes, its per-image matching, 1000-threshold curve on normalised scores, `voc_ap` envelope area; every face kept,
ignore regions outside the setting). *cut*: the same scores on the detector run as it is (its own threshold), which
is how AP was computed before. frames/s: `detect` on a decoded 1920×1080 frame, after a warm-up frame, one process
(the machine was shared: read them as rough)."""

def detect_table(det, images:dict) -> tuple:
    "Detections of `det` on `images` (frame -> BGR) as a table, and seconds per frame (after a warm-up call)."
    det.detect(next(iter(images.values())))
    rows, secs = [], []
    for f, img in images.items():
        t = time.perf_counter()
        found = det.detect(img)
        secs.append(time.perf_counter() - t)
        rows += [dict(frame=f, x1=b[0], y1=b[1], x2=b[2], y2=b[3], confidence=c)
                 for b, c in zip(found.boxes, found.confidence)]
    return pd.DataFrame(rows, columns=['frame', 'x1', 'y1', 'x2', 'y2', 'confidence']), np.array(secs)

def same_faces(low:pd.DataFrame, own:pd.DataFrame, thr:float) -> float:
    "Largest box difference between the low-score run cut at `thr` and the detector's own run (inf: other faces)."
    cut = low[low.confidence >= thr]
    if len(cut) != len(own) or (cut.groupby('frame').size() != own.groupby('frame').size()).any(): return np.inf
    a = cut.sort_values(['frame', 'confidence']).reset_index(drop=True)
    b = own.sort_values(['frame', 'confidence']).reset_index(drop=True)
    xyxy = ['x1', 'y1', 'x2', 'y2']
    return float(np.abs(a[xyxy].to_numpy() - b[xyxy].to_numpy()).max(initial=0))

def pycocotools_diff(gt:GroundTruth, det:pd.DataFrame) -> float:
    "Largest difference of facelab's T×101 COCO precision from pycocotools' COCOeval, all faces and each band."
    if importlib.util.find_spec('pycocotools') is None: return np.nan
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    frames = gt.annotated_frames
    gt, det = gt.select(gt.boxes.frame.isin(frames)), det[det.frame.isin(frames)]
    ids = {f: i+1 for i, f in enumerate(frames)}
    box = lambda r: [r.x1, r.y1, r.x2-r.x1, r.y2-r.y1]
    anns = [dict(id=k+1, image_id=ids[r.frame], category_id=1, bbox=box(r), area=(r.x2-r.x1)*(r.y2-r.y1),
                 iscrowd=int(r.ignore)) for k, r in enumerate(gt.boxes.itertuples())]
    res = [dict(image_id=ids[r.frame], category_id=1, bbox=box(r), score=r.confidence) for r in det.itertuples()]
    worst = 0.
    for lo, hi in [(0, np.inf), *SIZE_BANDS.values()]:
        with contextlib.redirect_stdout(io.StringIO()):   # pycocotools prints its progress
            c = COCO()
            c.dataset = dict(images=[dict(id=i) for i in ids.values()], annotations=anns, categories=[dict(id=1)])
            c.createIndex()
            E = COCOeval(c, c.loadRes(res), 'bbox')
            E.params.maxDets, E.params.areaRng, E.params.areaRngLbl = [10**6], [[lo, min(hi, 1e10)]], ['band']
            E.evaluate()
            E.accumulate()
        ours = coco_precision(greedy_matches(gt, det, COCO_IOUS, area=(lo, hi)))
        worst = max(worst, float(np.abs(ours - E.eval['precision'][:, :, 0, 0, 0]).max()))
    return worst

def ap_study(names:list) -> list:
    "Per detector: `detection_report` of its low-score run on the annotated frames, the cut run's, speeds, checks."
    video, gt = crowd_clip(), crowd_ground_truth()
    images = {f: read_frame(video, f) for f in tqdm(gt.annotated_frames, desc='frames', leave=False)}
    rows = []
    for name in tqdm(names, desc='detectors'):
        low, own, thr = low_score_detector(name), get_detector(name), score_threshold(name)
        det, secs = detect_table(low, images)
        det_own, secs_own = detect_table(own, images)
        rep, cut = detection_report(gt, det, score=thr), detection_report(gt, det_own, score=thr)
        rows.append(dict(detector=name, threshold=thr, **rep, cut_ap50=cut['ap50'], cut_map=cut['map'],
                         cut_wider_ap=cut['wider_ap'], fps=len(images)/secs.sum(), fps_own=len(images)/secs_own.sum(),
                         same_op=same_faces(det, det_own, thr), coco_diff=pycocotools_diff(gt, det)))
        r = rows[-1]
        print(f"  {name:22s} AP50 {r['ap50']:.3f} (cut {r['cut_ap50']:.3f})  mAP {r['map']:.3f}  "
              f"WIDER {r['wider_ap']:.3f}  {r['fps']:.2f} frames/s", file=sys.stderr)
    return rows

def f3(v) -> str:
    "Three decimals, or NaN."
    return 'NaN' if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

def ap_report(rows:list, cmd:str) -> str:
    "The markdown block for BENCHMARKS.md."
    gt = crowd_ground_truth()
    faces = gt.boxes[~gt.boxes.ignore]
    area = (faces.x2-faces.x1)*(faces.y2-faces.y1)
    n = {b: int(((area >= lo) & (area <= hi)).sum()) for b, (lo, hi) in SIZE_BANDS.items()}
    head = (f"| detector | own threshold | AP@0.5 | AP@0.75 | mAP@[.5:.95] | AP small ({n['small']}) | "
            f"AP medium ({n['medium']}) | AP large ({n['large']}) | recall at {AP_SCORE} | "
            "precision at own threshold | recall at own threshold | WIDER AP | AP@0.5, cut | mAP, cut | "
            "WIDER AP, cut | "
            f"frames/s at {AP_SCORE} | frames/s at own threshold |")
    machine = (f"`.venv/bin/python benchmarks/detection.py{cmd}` on {platform.processor() or platform.machine()}, "
               f"{os.cpu_count()} CPUs, Python {platform.python_version()}, opencv {cv2.__version__}, "
               f"{time.strftime('%Y-%m-%d')}. ")
    about = ' '.join(AP_ABOUT.split('\n')).format(frames=len(gt.annotated_frames), faces=len(faces),
                                                  ignore=int(gt.boxes.ignore.sum()), ap_score=AP_SCORE)
    lines = ["### Accuracy on the crowd clip, as detection papers score it", "", machine + about, "",
             head, '|' + '---|'*(head.count('|')-1)]
    for r in rows:
        keys = ('ap50', 'ap75', 'map', 'ap_small', 'ap_medium', 'ap_large', 'max_recall', 'op_precision', 'op_recall',
                'wider_ap', 'cut_ap50', 'cut_map', 'cut_wider_ap')
        cells = [f"`{r['detector']}`", f"{r['threshold']:g}", *(f3(r[k]) for k in keys),
                 f"{r['fps']:.2f}", f"{r['fps_own']:.2f}"]
        lines.append('| ' + ' | '.join(cells) + ' |')
    same = [r['detector'] for r in rows if r['same_op'] < 1e-3]
    diffs = [r['coco_diff'] for r in rows if not np.isnan(r['coco_diff'])]
    peer = (f"pycocotools' `COCOeval` on the same detections (all faces and each band) differs from facelab's "
            f"precision arrays by at most {max(diffs):.1e}. " if diffs else
            "pycocotools is not installed here, so this run did not compare the COCO numbers with `COCOeval`. ")
    lines += ["", "**Checks in the same run.** The low-score run cut at the own threshold is the registry detector's "
              f"own output, box for box, for {len(same)} of {len(rows)} detectors, so the operating point is read "
              f"off the low-score curve without a second run. Peers for the AP definitions: {peer}`wider_evaluation` "
              "equals a "
              "line-for-line transcription of the official WIDER FACE Python port (wondervictor/WiderFace-Evaluation "
              "`evaluation.py`) on random images and on these frames (`nbs/10_validate.ipynb`: difference 0)."]
    lines += ["", reading(rows)]
    return "\n".join(lines)

def reading(rows:list) -> str:
    "A paragraph saying what the table shows: the cut AP against the recall there, the rankings, the best detector."
    gap = max(abs(r['cut_ap50'] - r['op_recall']) for r in rows)
    order = lambda k: ' > '.join(f"`{r['detector']}`" for r in sorted(rows, key=lambda r: -r[k]))
    best = max(rows, key=lambda r: r['map'])
    wider = max(abs(r['wider_ap'] - r['ap50']) for r in rows)
    hardest = all(r['ap_small'] <= min(r['ap_medium'], r['ap_large']) for r in rows)
    small = '; small faces (under 32² px²) are the hardest for every detector' if hardest else ''
    return (f"**Reading it.** Cut at its own threshold, every detector's AP@0.5 is within {gap:.3f} of its recall "
            "there: the cut AP says where the threshold is, not how well the detector ranks faces. By the cut AP@0.5 "
            f"the order is {order('cut_ap50')}; by mAP@[.5:.95] at {AP_SCORE} it is {order('map')}, and by AP@0.5 at "
            f"{AP_SCORE} {order('ap50')} (differences under 0.01 are within what {rows[0]['faces']} faces can "
            f"tell apart). `{best['detector']}` has the best mAP ({f3(best['map'])}){small}. WIDER FACE's AP is "
            f"within {wider:.3f} of COCO's AP@0.5 on the same detections: "
            "the two definitions (+1-pixel boxes, matching rule, envelope area against 101 points) differ by little "
            "here.")

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='fewer frames and one repeat (a smoke test)')
    p.add_argument('--part', choices=['ap', 'throughput', 'all'], default='all', help='which part (default: both)')
    p.add_argument('--detectors', help=f"comma-separated detectors for part ap (default: {','.join(AP_DETECTORS)})")
    p.add_argument('--no-write', action='store_true', help='print the ap block only, leave BENCHMARKS.md alone')
    a = p.parse_args()
    if a.part in ('ap', 'all'):
        rows = ap_study(a.detectors.split(',') if a.detectors else AP_DETECTORS)
        text = ap_report(rows, ''.join(' ' + x for x in sys.argv[1:] if x != '--no-write'))
        print(text)
        if not a.no_write: update_section('detection-ap', 'Detection accuracy', text)
    if a.part == 'ap': return
    vids = data_dir()/'videos'
    clips = {'crowd_1080p.mp4': vids/'crowd_1080p.mp4', 'hamilton_clip.mp4': vids/'hamilton_clip.mp4'}
    # CenterFace reloads its ONNX model on every call inside deepface (1-2 s a 1080p frame here): sample it more sparsely
    configs = {'yunet': {'crowd_1080p.mp4': 1, 'hamilton_clip.mp4': 1}, 'centerface': {'crowd_1080p.mp4': 5, 'hamilton_clip.mp4': 5}}
    if a.quick: configs = {'yunet': {'crowd_1080p.mp4': 10, 'hamilton_clip.mp4': 10}, 'centerface': {'crowd_1080p.mp4': 50, 'hamilton_clip.mp4': 50}}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible; python {platform.python_version()}, opencv {cv2.__version__}", file=sys.stderr)
    rows = throughput(clips, configs, repeats=1 if a.quick else 2)
    with tempfile.TemporaryDirectory() as tmp: mem = memory(clips['crowd_1080p.mp4'], 'yunet', tmp)

    print("### Throughput: facelab `detect_video` vs the deepface detector called directly\n")
    print("Same frames both ways (decoded with OpenCV, skipped frames grabbed, not decoded), cache off; best of "
          f"{1 if a.quick else 2} interleaved runs. `ratio` = facelab frames/s ÷ raw frames/s (target ≥ 0.90). "
          "`outside detector` = wall time per frame not spent in `detect_faces` (decoding, and for facelab its table and bookkeeping): "
          "the difference between the two columns is facelab's own cost, and is less sensitive to other load on the machine than the ratio.\n")
    print("| detector | clip | every_n | frames | faces | raw frames/s | facelab frames/s | facelab faces/s | ratio | raw outside detector (ms/frame) | facelab outside detector (ms/frame) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['clip']} | {r['every_n']} | {r['frames']} | {r['faces']} | {r['raw_fps']:.2f} | "
              f"{r['facelab_fps']:.2f} | {r['facelab_faces_s']:.1f} | {r['ratio']:.2f} | {r['raw_other_ms']:.1f} | {r['facelab_other_ms']:.1f} |")
    print("\n### Peak memory: crowd_1080p.mp4 once vs four times over (yunet, cache off, fresh process each)\n")
    print("Resident memory sampled every 5 ms while `detect_video` runs, against the resident memory just before (detector loaded).\n")
    print("| clip | frames | faces | RSS before (MB) | peak RSS during (MB) | peak − before (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in mem:
        print(f"| {r['times']}× | {r['frames']} | {r['faces']} | {r['base_kb']/1024:.0f} | {r['peak_kb']/1024:.0f} | {(r['peak_kb']-r['base_kb'])/1024:.0f} |")
    print(f"\nPeak RSS ratio 4× / 1×: {mem[1]['peak_kb']/mem[0]['peak_kb']:.2f}, growth during the run 4× / 1×: "
          f"{(mem[1]['peak_kb']-mem[1]['base_kb'])/1024:.0f} MB vs {(mem[0]['peak_kb']-mem[0]['base_kb'])/1024:.0f} MB (flat; one 1080p frame is 6 MB, "
          f"{mem[1]['frames']} of them would be {mem[1]['frames']*1920*1080*3/2**20:.0f} MB).")

if __name__ == '__main__': main()
