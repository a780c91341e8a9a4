"""Caches under faults, in real subprocesses: two processes on one cache, a run killed by SIGKILL and run again (see
`cache_faults.py`). The embedding scenarios run on every third sample photo (21 of 61: six batches of four, enough for two
processes to share and for a run killed after two of them to resume); `benchmarks/reliability_caches.py` runs them on all 61."""
import pytest
import cache_faults as cf

@pytest.fixture(scope='module')
def photos():
    "Every third sample photo, read when a test needs it (collecting this module reads no data)."
    return cf.photos()[::3]

@pytest.fixture(scope='module')
def clean_dets(): return cf.clean_detections()

@pytest.fixture(scope='module')
def clean_emb(photos): return cf.clean_embeddings(photos)

def test_two_detect_video_processes_on_one_cache(clean_dets, tmp_path):
    r = cf.two_detect_video(clean_dets, tmp_path)
    assert r['ok'] and r['same'], r

def test_two_represent_processes_embed_each_photo_once(clean_emb, photos, tmp_path):
    r = cf.two_represent(clean_emb, tmp_path, files=photos)
    assert r['ok'] and r['same'], r
    assert r['once'], r   # together they embedded each unique photo once, not twice

def test_detect_video_killed_and_resumed(clean_dets, tmp_path):
    r = cf.killed_detect_video(clean_dets, tmp_path)
    assert r['killed'] and r['ok'] and r['same'], r

def test_represent_killed_and_resumed(clean_emb, photos, tmp_path):
    r = cf.killed_represent(clean_emb, tmp_path, files=photos)
    assert r['killed'] and r['ok'] and r['same'], r
