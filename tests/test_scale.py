"""`--dask` on the command line as a user runs it (in-process through `facelab.cli.main`, real photos): once with `local:2`, the
local cluster of 2 worker processes a user starts, and otherwise joining the session's cluster (`conftest.dask_threads`: worker
threads, tasks serialised over TCP); and a worker process killed by the operating system in the middle of a `represent` run (see
nbs/17_scale.ipynb for the chapter's smaller checks)."""
import os, signal, threading, time
import numpy as np, pandas as pd
import pytest
pytest.importorskip('distributed')
from facelab.datasets import deepface_sample
from facelab.embed import represent
from facelab.scale import connect
from conftest import cli as run, people_folder, hamilton_with_cvat_sample

@pytest.fixture(scope='module')
def people(tmp_path_factory):
    "A folder of two people, three photos each, and one broken photo."
    tmp = tmp_path_factory.mktemp('scale')
    people_folder(tmp/'people', ['Angelina', 'Jennifer'], 3, broken='Jennifer')
    return tmp

def test_gallery_build_with_dask_equals_without(people):
    tmp = people
    here = run('gallery', 'build', tmp/'people', '--out', tmp/'g1', '--no-cache')
    there = run('gallery', 'build', tmp/'people', '--out', tmp/'g2', '--no-cache', '--dask', 'local:2')
    assert here.returncode == 0, here.stderr
    assert there.returncode == 0, there.stderr
    assert 'Dask: a local cluster of 2 worker processes; dashboard http' in there.stdout
    a, b = (pd.read_parquet(tmp/g/'gallery.parquet') for g in ('g1', 'g2'))
    pd.testing.assert_frame_equal(a.drop(columns='embedding'), b.drop(columns='embedding'))
    np.testing.assert_allclose(np.stack(a.embedding), np.stack(b.embedding), atol=1e-5)   # onnxruntime's threads: last bits only
    pd.testing.assert_frame_equal(pd.read_csv(tmp/'g1'/'failures.csv'), pd.read_csv(tmp/'g2'/'failures.csv'))
    assert 'broken.jpg' in there.stdout

def test_dask_refuses_a_bad_scheduler(people, monkeypatch):
    r = run('gallery', 'build', people/'people', '--out', people/'g3', '--dask', 'local:zero')
    assert r.returncode == 2 and 'local:N needs a number of workers' in r.stderr
    import facelab.scale, distributed
    class Impatient(distributed.Client):   # gives up on the closed port after 3 s, not connect()'s 20 s: the same refusal, sooner
        def __init__(self, *a, timeout=None, **k): super().__init__(*a, timeout='3s' if timeout else timeout, **k)
    monkeypatch.setattr(facelab.scale, 'Client', Impatient)
    r = run('gallery', 'build', people/'people', '--out', people/'g3', '--dask', 'tcp://127.0.0.1:1')
    assert r.returncode == 2 and 'cannot reach the Dask scheduler' in r.stderr

def test_detect_video_with_dask(people, tmp_path, dask_threads):
    from facelab.video import synthetic_clip
    clip = tmp_path/'clip.avi'; synthetic_clip(clip, deepface_sample()['Angelina'][0], n=30)
    here = run('detect', clip, '--detector', 'yunet', '--every-n', '2', '--out', tmp_path/'a.csv', '--no-cache')
    there = run('detect', clip, '--detector', 'yunet', '--every-n', '2', '--out', tmp_path/'b.csv', '--no-cache',
                '--dask', dask_threads.scheduler_address)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    assert f"Dask: joined {dask_threads.scheduler_address}" in there.stdout
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path/'a.csv'), pd.read_csv(tmp_path/'b.csv'))
    photos = run('detect', people/'people', '--out', tmp_path/'c.csv', '--dask', dask_threads.scheduler_address)
    assert photos.returncode == 2 and '--dask applies to videos' in photos.stderr

def test_killed_worker_loses_nothing(tmp_path):
    "Twenty images in batches of one; once the first batch is cached, the worker running another is SIGKILLed."
    files = [f for v in deepface_sample().values() for f in v][:20]
    with connect('local:2', quiet=True) as client:
        calm = represent(files, cache_dir=None, batch_size=1, progress=False, client=client)
        pids, out, killed = client.run(os.getpid), {}, []
        t = threading.Thread(target=lambda: out.update(res=represent(files, cache_dir=tmp_path, batch_size=1, progress=False, client=client)))
        t.start()
        while not killed and t.is_alive():
            busy = [w for w, keys in client.processing().items() if keys]
            if busy and list(tmp_path.glob('*/part-*.parquet')):
                os.kill(pids[busy[0]], signal.SIGKILL); killed.append(busy[0])
            time.sleep(0.05)
        t.join()
    assert killed, "the run finished before a worker could be killed"
    res = out['res']
    pd.testing.assert_frame_equal(calm.embeddings.drop(columns='embedding'), res.embeddings.drop(columns='embedding'))
    assert np.array_equal(np.stack(calm.embeddings.embedding), np.stack(res.embeddings.embedding))   # bit for bit
    pd.testing.assert_frame_equal(calm.failures, res.failures)
    cached = represent(files, cache_dir=tmp_path, progress=False)   # every image is in the cache the workers wrote
    assert np.array_equal(np.stack(cached.embeddings.embedding), np.stack(res.embeddings.embedding))

def test_validate_with_dask_reports_the_same(tmp_path, dask_threads):
    "The video study on the Hamilton clip (every 10th frame): the same metrics printed with and without a Dask cluster."
    video, gt = hamilton_with_cvat_sample()
    args = ['validate', video, '--gt', gt, '--query', deepface_sample()['Angelina'][0], '--allow-mismatch', '--every-n', '10', '--no-cache']
    here, there = run(*args, '--out', tmp_path/'a'), run(*args, '--out', tmp_path/'b', '--dask', dask_threads.scheduler_address)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    keep = lambda r: [l for l in r.stdout.splitlines() if not l.startswith(('Dask:', 'report:'))]
    assert keep(here) == keep(there) and 'idf1' in there.stdout
