"""Reading chosen frames of a video, and measuring the same photos' quality twice in one session.

- The crowd clip's 21 annotated frames (every 5th of 0-100, 1080p): `video.read_frame` for each (a seek each: OpenCV decodes
  on from the keyframe before the frame) against `video.read_frames_at` (one pass: decodes on through gaps of up to
  `SEEK_GAP` frames, seeks across longer ones), the same pixels required; and a 12-frame contact sheet of the clip as
  `contact_sheet` drew it before (a `read_frame` per frame) and as it draws it now.
- One identification study on cached embeddings, run a second time in the same process: with `face_quality`'s memo cleared
  before it (every image decoded and detected again, as before) and kept (each image measured once per process).

Run from the repository root: `.venv/bin/python benchmarks/frames.py [--repeats 3] [--no-write]`. Writes the `frames`
section of BENCHMARKS.md and prints it. The ways run in turn, the fastest of `--repeats` kept; read the ratios.
"""
from __future__ import annotations
import os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish, run_cli, fastest
from facelab.core import md_table
from facelab.datasets import crowd_clip, crowd_ground_truth
from facelab.video import read_frame, read_frames_at, video_info
import facelab.slices as slices
from facelab.identify import identification_study

def main(repeats:int=3, write:bool=True) -> str:
    start, load0 = time.strftime('%Y-%m-%d %H:%M'), os.getloadavg()
    clip, frames = crowd_clip(), list(crowd_ground_truth().annotated_frames)
    same = all(np.array_equal(f.image, read_frame(clip, f.index)) for f in read_frames_at(clip, frames))
    t_seek = fastest(lambda: [read_frame(clip, i) for i in frames], repeats)
    t_pass = fastest(lambda: list(read_frames_at(clip, frames)), repeats)
    n = video_info(clip)['frames']
    sheet = np.unique(np.linspace(0, n - 1, 12).round().astype(int))
    s_seek = fastest(lambda: [read_frame(clip, i) for i in sheet], repeats)
    s_pass = fastest(lambda: list(read_frames_at(clip, sheet)), repeats)
    cache = Path(tempfile.mkdtemp())/'cache'
    study = lambda: identification_study('sample', 'SFace', 'yunet', n_boot=200, cache_dir=cache, progress=False)
    study()   # embeddings into the cache, quality into the memo
    def cleared():
        slices._quality_memo.clear()
        return study()
    q_cleared = fastest(cleared, repeats)
    study()
    q_kept = fastest(study, repeats)
    rows = pd.DataFrame([
        dict(run=f"the crowd clip's {len(frames)} annotated frames (1080p)", before_s=t_seek, facelab_s=t_pass,
             speedup=t_seek/t_pass),
        dict(run=f"a {len(sheet)}-frame contact sheet's frames of the crowd clip ({n} frames)", before_s=s_seek,
             facelab_s=s_pass, speedup=s_seek/s_pass),
        dict(run='an identification study on cached embeddings, run again in the session (n_boot=200)',
             before_s=q_cleared, facelab_s=q_kept, speedup=q_cleared/q_kept)])
    text = (f"Run `.venv/bin/python benchmarks/frames.py --repeats {repeats}` on {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {start}; load averages {', '.join(f'{x:.2f}' for x in load0)} at the start. "
            f"The fastest of {repeats} runs each. `before`: a `read_frame` (a seek) per frame, and the study with "
            "`face_quality`'s memo cleared; `facelab`: `read_frames_at`, and the memo kept.\n\n"
            + md_table(rows, floatfmt='.3f') +
            f"\n\n- The same pixels from both ways, on every annotated frame: {same}.\n"
            "- The memo saves the quality pass only when a process measures the same photos again (a comparison of "
            "models, a second study on the same folder); a first study still decodes each image again and re-runs "
            "the detector for its landmarks.")
    return publish('frames', 'Reading chosen frames; measuring quality once a session', text, write)

if __name__ == '__main__': run_cli(main, __doc__)
