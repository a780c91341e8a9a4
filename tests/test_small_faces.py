"Small faces from the command line: the video default, --min-face, and the settings written beside the table."
import numpy as np, pandas as pd
from facelab.datasets import deepface_folder
from facelab.detect import VIDEO_DETECTOR
from conftest import cli as run   # in this process, as the console script runs it

def test_detect_video_default_and_min_face(tmp_path):
    from facelab.video import synthetic_clip
    synthetic_clip(tmp_path/'moving.avi', deepface_folder()/'img1.jpg', n=3, face_w=60)
    r = run('detect', tmp_path/'moving.avi', '--out', tmp_path/'d.parquet', '--no-cache')
    assert r.returncode == 0, r.stderr
    d = pd.read_parquet(tmp_path/'d.parquet')
    assert len(d) == 3 and set(d.detector_backend) == {VIDEO_DETECTOR}
    s = __import__('json').loads((tmp_path/'d.settings.json').read_text())   # how the table was made, written beside it
    assert s['detector_backend'] == VIDEO_DETECTOR and s['min_face'] is None and s['detector']['settings']['full_frame']['settings']['max_side'] == 640
    r = run('detect', tmp_path/'moving.avi', '--out', tmp_path/'big.parquet', '--no-cache', '--min-face', 1000)
    assert r.returncode == 1 and 'no face' in r.stdout   # every face is smaller than 1000 px: nothing left, said so
    r = run('detect', tmp_path/'moving.avi', '--out', tmp_path/'x.csv', '--min-face', -3)
    assert r.returncode != 0 and '--min-face' in r.stderr + r.stdout

def test_detect_photo_default_is_yunet_and_min_face(tmp_path):
    photo = deepface_folder()/'couple.jpg'
    r = run('detect', photo, '--out', tmp_path/'d.parquet', '--no-cache')
    assert r.returncode == 0, r.stderr
    d = pd.read_parquet(tmp_path/'d.parquet')
    assert set(d.detector_backend) == {'yunet'} and len(d) == 2
    small = float(np.minimum(d.x2-d.x1, d.y2-d.y1).min())
    r = run('detect', photo, '--out', tmp_path/'m.parquet', '--no-cache', '--min-face', small + 1)
    m = pd.read_parquet(tmp_path/'m.parquet')
    assert len(m) == 1 and __import__('json').loads((tmp_path/'m.settings.json').read_text())['min_face'] == small + 1
