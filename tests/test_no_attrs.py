"""Nothing a user needs rides in `DataFrame.attrs` on the video / ground-truth side.

pandas drops `attrs` on `concat`, `merge` and a CSV file, so what the readers, stages and studies of the video side know beyond
their rows is in the fields of typed results (`GroundTruth`, `VideoResult`, `DetectResult`, `TrackResult`, `Outcomes`,
`TrackOutcomes`, `PeopleResult`, `VideoStudyResult`, `SynthClip`, `ChallengeResult`), never on a table. Each test below runs them
on small real inputs -- the CVAT samples, the crowd clip's hand-checked ground truth, a clip of `facelab.video.synthetic_clip`,
a generated crowd clip -- and walks every table of every result; the last one reads facelab's source and fails on any assignment to
`.attrs` (`ALLOWED` lists the ones that must stay, with the reason).
"""
import ast, dataclasses
from pathlib import Path
import numpy as np, pandas as pd, pytest
import facelab
from facelab.datasets import data_dir, deepface_folder, crowd_ground_truth, CROWD_FRAMES
from facelab.annotations import (GroundTruth, as_ground_truth, read_annotations, read_cvat, read_cvat_video, read_cvat_images,
                                 read_coco, read_mot, write_coco, write_mot, write_cvat_video)

def tables(x, where:str='result'):
    "Every DataFrame in `x` (a table, a typed result, a NamedTuple, or a dict or list of them), with where it was found."
    if isinstance(x, pd.DataFrame): yield where, x
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x): yield from tables(getattr(x, f.name), f"{where}.{f.name}")
    elif isinstance(x, tuple) and hasattr(x, '_fields'):
        for k in x._fields: yield from tables(getattr(x, k), f"{where}.{k}")
    elif isinstance(x, dict):
        for k, v in x.items(): yield from tables(v, f"{where}[{k!r}]")
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x): yield from tables(v, f"{where}[{i}]")

def no_attrs(x, at_least:int=1) -> list:
    "Assert that every table in `x` has empty `attrs` (and that there are at least `at_least` tables); return them."
    found = list(tables(x))
    assert len(found) >= at_least, (type(x).__name__, [w for w, _ in found])
    bad = {w: dict(t.attrs) for w, t in found if t.attrs}
    assert not bad, bad
    return found

# ---------------------------------------------------------------- readers
def test_readers_return_a_ground_truth_whose_tables_carry_nothing(tmp_path):
    cvat = data_dir()/'cvat_samples'
    video, images = read_cvat_video(cvat/'video'/'annotations.xml'), read_cvat_images(cvat/'images'/'annotations.xml')
    crowd = crowd_ground_truth()
    results = [video, images, crowd, read_cvat(cvat/'video'/'annotations.xml'), read_annotations(cvat/'images'/'annotations.xml'),
               read_coco(write_coco(images, tmp_path/'c.json')), read_mot(write_mot(crowd, tmp_path/'gt.txt')),
               read_cvat(write_cvat_video(crowd, tmp_path/'crowd.xml')), as_ground_truth(crowd.boxes)]
    for gt in results:
        assert isinstance(gt, GroundTruth), type(gt)
        no_attrs(gt)
    # what the readers used to put in `attrs` is in fields
    assert (video.frame_size, video.task['start'], video.task['step'], video.skipped_shapes, video.annotated_frames) == ((25, 20), 10, 3, 4, [10, 13, 16])
    assert video.source == str(cvat/'video'/'annotations.xml')
    assert (images.image_sizes, images.annotated_images, images.annotated_frames) == ({'img0.jpg': (8, 8), 'img1.jpg': (10, 10)}, ['img0.jpg', 'img1.jpg'], [0])
    assert (crowd.annotated_frames, crowd.frame_size, crowd.video) == (list(CROWD_FRAMES), (1920, 1080), 'videos/crowd_1080p.mp4')
    assert results[7].annotated_frames == list(CROWD_FRAMES) and results[-1].annotated_frames is None   # a plain table does not say

# ---------------------------------------------------------------- stages and studies on a clip of one moving face
@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    "A synthetic clip (`facelab.video.synthetic_clip`, 4 frames), its detections, and a ground truth made of them: one person, 'me'."
    from facelab.video import synthetic_clip, detect_video
    path = tmp_path_factory.mktemp('clip')/'moving.avi'
    synthetic_clip(path, deepface_folder()/'img1.jpg', n=4, face_w=60)
    res = detect_video(path, cache_dir=None, progress=False)
    gt = GroundTruth(res.detections[['frame', 'x1', 'y1', 'x2', 'y2']].assign(track_id=0, label='me'), annotated_frames=res.frames.frame)
    return path, res, gt

def test_detection_and_tracking_stages(clip):
    from facelab.detect import detect_faces
    from facelab.track import track_faces, tracking_metrics
    path, res, gt = clip
    no_attrs(res, 3)
    assert len(res.detections) == 4
    dets, fails = detect_faces([deepface_folder()/'img1.jpg'], progress=False)   # still two tables to unpack
    no_attrs((dets, fails), 2)
    tr = track_faces(res.detections, res.frames)
    no_attrs(tr, 3)
    assert tr.frames.frame.tolist() == res.frames.frame.tolist() and tr.settings['videos'][str(path)]['frames'] == 4
    assert tracking_metrics(gt, tr)['idf1'] == 1.0

def test_the_video_study_with_and_without_a_query(clip, tmp_path):
    from facelab.video_study import validate_video, write_video_report
    path, res, gt = clip
    found = validate_video(path, gt, deepface_folder()/'img1.jpg', identity='me', cache_dir=None, progress=False, work_dir=tmp_path/'w')
    where = [w for w, _ in no_attrs(found, 8)]
    assert "result.outcomes['iou'].table" in where and "result.outcomes['iou'].matches" in where and "result.tracks['track-mean'].table" in where
    assert found.outcomes['iou'].gt_boxes == 4 and found.detection['precision'] == 1.0
    people = validate_video(path, gt, cache_dir=None, progress=False, work_dir=tmp_path/'w2')
    no_attrs(people.people, 6)
    assert people.people.enrolled.label.tolist() == ['person 0']
    write_video_report(found, tmp_path/'rep'); write_video_report(people, tmp_path/'rep2')   # and the reports are written from them
    assert (tmp_path/'rep'/'report.md').is_file() and (tmp_path/'rep2'/'report.md').is_file()
    off = validate_video(path, gt, deepface_folder()/'img1.jpg', identity='me', cache_dir=None, progress=False, work_dir=tmp_path/'w3', track=False)
    write_video_report(off, tmp_path/'rep3')   # without tracks: no tracking table, no tracks section
    assert off.tracking is None and '## Tracks' not in (tmp_path/'rep3'/'report.md').read_text()

# ---------------------------------------------------------------- scoring against the crowd clip's ground truth
def test_scoring_the_crowd_ground_truth():
    "Detections on the crowd clip's annotated faces (its own boxes, an embedding per person): every scorer's tables are plain."
    from facelab.validate import match_detections, legacy_corner_match, precision_recall_curve, recognition_outcomes, recognition_metrics
    from facelab.track import track_faces, tracking_metrics, track_outcomes
    from facelab.video_study import people_study
    crowd = crowd_ground_truth()
    faces = crowd.boxes[~crowd.boxes.ignore].reset_index(drop=True)
    rng = np.random.default_rng(0)
    who = {t: rng.normal(size=16) for t in faces.track_id.unique()}
    det = faces[['frame', 'x1', 'y1', 'x2', 'y2']].assign(source='crowd.mp4', timestamp=faces.frame/25, confidence=.9,
                                                         embedding=[(who[t] + rng.normal(scale=.1, size=16)).astype(np.float32) for t in faces.track_id])
    for t in (match_detections(crowd, det), legacy_corner_match(crowd, det), precision_recall_curve(crowd, det)): no_attrs(t)
    tr = track_faces(det, frames=list(CROWD_FRAMES))
    no_attrs(tr, 3)
    assert tracking_metrics(crowd, tr)['mota'] > 0.5
    person = faces.label.iloc[0]
    o = recognition_outcomes(tr.detections, who[faces.track_id.iloc[0]], crowd, person, threshold=0.3)
    no_attrs(o, 2)
    assert recognition_metrics(o)['missed'] == o.missed == 0
    no_attrs(track_outcomes(tr, who[faces.track_id.iloc[0]], crowd, person, threshold=0.3, scored=o), 16)
    p = people_study(tr.detections, crowd, threshold=0.3)
    no_attrs(p, 6)
    assert len(p.enrolled) == 13

# ---------------------------------------------------------------- generated crowd clips
def test_synth_clip_and_challenges(tmp_path):
    from facelab.synth import synth_video, challenge_recall, EASY_CHALLENGES
    c = synth_video(tmp_path/'c', n_frames=4, seed=1)
    no_attrs(c)
    assert c.gt.annotated_frames == [0, 1, 2, 3] and c['video'] == c.video   # still read like the dict it was
    r = challenge_recall(tmp_path/'ch', ['normal'], seeds=(1,), n_frames=4, presets=EASY_CHALLENGES)
    no_attrs(r, 2)
    assert r.table.clips.tolist() == [1] and len(r.runs) == 1

# ---------------------------------------------------------------- the source
ALLOWED = {}   # (module, the line) -> why it must stay: none

def _attrs_writes(path:Path):
    "(line number, line) of every assignment to `X.attrs`, `X.attrs[k]`, or call that changes it (`X.attrs.update(...)`, ...) in `path`."
    text = path.read_text(); lines = text.splitlines()
    for node in ast.walk(ast.parse(text)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        if any(isinstance(s, ast.Attribute) and s.attr == 'attrs' for t in targets for s in ast.walk(t)):
            yield node.lineno, lines[node.lineno-1].strip()
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == 'attrs' and node.func.attr in ('update', 'setdefault', '__setitem__', 'pop', 'popitem', 'clear')):
            yield node.lineno, lines[node.lineno-1].strip()

def test_no_module_writes_dataframe_attrs():
    src = Path(facelab.__file__).parent
    found = {(p.name, line): n for p in sorted(src.glob('*.py')) for n, line in _attrs_writes(p)}
    left = {f"{m}:{n}: {line}" for (m, line), n in found.items() if not any(m == am and line.startswith(al) for am, al in ALLOWED)}
    assert not left, "assignments to DataFrame.attrs (pandas drops them on concat, merge and CSV): put them in a result's field or a column\n" + '\n'.join(sorted(left))

def test_the_attrs_finder_finds_them(tmp_path):
    (tmp_path/'m.py').write_text("df.attrs['a'] = 1\ndf.attrs = {}\nt.attrs.update(b=2)\nx = df.attrs.get('a')\nf(attrs=3)\n")
    assert [n for n, _ in _attrs_writes(tmp_path/'m.py')] == [1, 2, 3]
