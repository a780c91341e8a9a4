"Caches under faults, in real subprocesses: two processes on one cache, a run killed by SIGKILL and run again (see `cache_faults.py`)."
import pytest
import cache_faults as cf

@pytest.fixture(scope='module')
def clean_dets(): return cf.clean_detections()

@pytest.fixture(scope='module')
def clean_emb(): return cf.clean_embeddings()

def test_two_detect_video_processes_on_one_cache(clean_dets, tmp_path):
    r = cf.two_detect_video(clean_dets, tmp_path)
    assert r['ok'] and r['same'], r

def test_two_represent_processes_embed_each_photo_once(clean_emb, tmp_path):
    r = cf.two_represent(clean_emb, tmp_path)
    assert r['ok'] and r['same'], r
    assert r['once'], r   # together they embedded each unique photo once, not twice

def test_detect_video_killed_and_resumed(clean_dets, tmp_path):
    r = cf.killed_detect_video(clean_dets, tmp_path)
    assert r['killed'] and r['ok'] and r['same'], r

def test_represent_killed_and_resumed(clean_emb, tmp_path):
    r = cf.killed_represent(clean_emb, tmp_path)
    assert r['killed'] and r['ok'] and r['same'], r
