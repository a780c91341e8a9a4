"""Tracking cost: `facelab.track.track_faces` (supervision's ByteTrack plus facelab's bookkeeping) on a long generated detections
table and on the real crowd clip's detections, next to the time the detector took on those frames.

Run from the repository root: `.venv/bin/python benchmarks/track.py [--no-write]`. Writes the `track` section of BENCHMARKS.md
and prints it.
"""
from __future__ import annotations
import argparse, os, platform, sys, time
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import update_section
import supervision as sv
from facelab.datasets import crowd_clip, CROWD_FRAMES
from facelab.video import detect_video, video_info
from facelab.track import track_faces
from facelab.evaluate import md_table

def walkers(n_frames:int=1500, people:int=8, seed:int=0, dim:int=128) -> pd.DataFrame:
    "A detections table of `people` faces walking in straight lines over `n_frames` frames (25 fps), with random embeddings."
    rng = np.random.default_rng(seed)
    pos, vel = rng.uniform(100, 900, (people, 2)), rng.normal(0, 2, (people, 2))
    rows = []
    for f in range(n_frames):
        pos = pos + vel
        for k, (x, y) in enumerate(pos % 1800):
            rows.append(dict(source='walkers', frame=f, timestamp=f/25, x1=x, y1=y % 1000, x2=x+40, y2=y % 1000+50, confidence=.9,
                             embedding=rng.normal(size=dim).astype(np.float32)))
    return pd.DataFrame(rows)

def timed(fn, repeat:int=2) -> tuple:
    "Best wall time of `repeat` calls, and the last result."
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t)
    return best, out

def main(write:bool=True) -> str:
    t0 = time.time(); rows = []
    d = walkers()
    for name, table in [('generated, boxes only', d.drop(columns='embedding')), ('generated, with embeddings (re-join pass)', d)]:
        s, t = timed(lambda: track_faces(table))
        rows.append(dict(table=name, frames=table.frame.nunique(), detections=len(table), track_s=s, frames_per_s=table.frame.nunique()/s,
                         tracks=t.detections.track_id.nunique(), detect_frames_per_s=np.nan))
    real = crowd_clip(); end = (max(CROWD_FRAMES)+1)/video_info(real)['fps']
    for det in ('yunet-full', 'centerface'):
        ds, r = timed(lambda: detect_video(real, det, every_n=5, end=end, cache_dir=None, progress=False), repeat=1)
        s, t = timed(lambda: track_faces(r.detections, r.frames))
        rows.append(dict(table=f"crowd_1080p.mp4, {det}, every 5th frame", frames=len(r.frames), detections=len(r.detections), track_s=s,
                         frames_per_s=len(r.frames)/s, tracks=t.detections.track_id.nunique(), detect_frames_per_s=len(r.frames)/ds))
    df = pd.DataFrame(rows)
    import cv2
    text = (f"Run `.venv/bin/python benchmarks/track.py` on {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"supervision {sv.__version__}, opencv {cv2.__version__}, {time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f} at the end, "
            f"{time.time()-t0:.0f} s for this section.\n\n"
            "`track_faces` with its defaults, best of 2; `detect frames/s` is the detector on the same frames (cache off), for scale. "
            "The generated table is 8 faces walking for 1,500 frames (60 s at 25 fps); its random embeddings give the re-join pass "
            "every pair of fragments to compare and nothing to merge.\n\n"
            + md_table(df.rename(columns={'track_s': 'track (s)', 'frames_per_s': 'track frames/s', 'detect_frames_per_s': 'detect frames/s'}), floatfmt='.2f')
            + f"\n\n**Reading it.** Tracking costs {1000/df.frames_per_s.max():.1f}-{1000/df.frames_per_s.min():.1f} ms a frame, the detector "
            f"{1000/df.detect_frames_per_s.max():.0f}-{1000/df.detect_frames_per_s.min():.0f} ms on the 1080p frames here: tracking does not change a video run's speed.")
    if write: update_section('track', 'Tracking', text)
    return text

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-write', action='store_true', help='print the section, leave BENCHMARKS.md alone')
    print(main(write=not ap.parse_args().no_write))
