"Tracking: the dependency set it rests on, and the behaviour a move to another ByteTrack must keep (small hand-built tables, no video)."
import importlib.metadata as md
import numpy as np, pandas as pd
from facelab.track import track_faces, tracking_metrics, frame_step

def test_supervision_brings_no_opencv_package():
    "supervision must not pull `opencv-python` (a second cv2 next to opencv-contrib-python-headless)."
    reqs = [r.split(';')[0].split('>')[0].split('=')[0].split('<')[0].strip().lower() for r in md.requires('supervision') or [] if 'extra ==' not in r]
    assert not any(r.startswith('opencv') for r in reqs), reqs
    import supervision as sv
    assert hasattr(sv, 'ByteTrack'), sv.__version__   # 0.31 removed it: keep the pin <0.31 until facelab moves to another tracker

def _walk(frames, x0, vx, y, src='v.mp4', fps=25):
    return [dict(source=src, frame=f, timestamp=f/fps, x1=x0+vx*f, y1=y, x2=x0+vx*f+30, y2=y+40, confidence=.9) for f in frames]

def test_every_nth_frame_and_fast_faces_keep_one_track_each():
    "Detections on every 5th frame, faces moving 1.3 widths between them: one track per person, no id shared in a frame."
    frames = range(0, 100, 5)
    d = pd.DataFrame(_walk(frames, 0, 8, 50) + _walk(frames, 900, -8, 300))
    r = track_faces(d); t = r.detections
    assert frame_step(d.frame) == 5 and r.settings['videos']['v.mp4']['step'] == 5
    assert t.track_id.notna().all() and t.groupby(d.y1 > 100).track_id.nunique().tolist() == [1, 1]
    gt = d.assign(track_id=(d.y1 > 100).astype(int), label='face')
    m = tracking_metrics(gt, t)
    assert (m['idf1'], m['id_switches'], m['frames']) == (1.0, 0, 20)

def test_two_videos_are_tracked_apart():
    d = pd.DataFrame(_walk(range(10), 0, 2, 50, 'a.mp4') + _walk(range(10), 0, 2, 50, 'b.mp4'))
    r = track_faces(d); t = r.detections
    assert sorted(r.settings['videos']) == ['a.mp4', 'b.mp4']
    assert t.groupby('source').track_id.nunique().tolist() == [1, 1]

def test_a_frames_table_of_two_videos_is_split_by_source():
    "Each video is stepped over its own frames looked at: a's every frame, b's every other."
    d = pd.DataFrame(_walk(range(10), 0, 2, 50, 'a.mp4') + _walk(range(0, 10, 2), 0, 2, 50, 'b.mp4'))
    frames = pd.DataFrame(dict(source=['a.mp4']*10 + ['b.mp4']*5, frame=[*range(10), *range(0, 10, 2)]))
    v = track_faces(d, frames).settings['videos']
    assert (v['a.mp4']['frames'], v['a.mp4']['step'], v['b.mp4']['frames'], v['b.mp4']['step']) == (10, 1, 5, 2)
