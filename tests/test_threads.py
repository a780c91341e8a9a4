"""One process, every core: `represent`'s worker threads give what one thread gives (rows, order, failures, cache parts), the
pieces they rest on (`Registry.thread_builds`, `one_thread`, claims of batches in flight), and `detect_video`'s reader thread
and flat per-frame memory. Equality of results only; timing is in BENCHMARKS.md ("One process, every core")."""
import os, subprocess, sys, tempfile, threading
from pathlib import Path
import numpy as np, pandas as pd, cv2, pytest
import pyarrow.parquet as pq
from fastcore.xtras import modified_env
from facelab.core import Registry, FacelabError, image_files
from facelab.datasets import deepface_folder, sample_path
from facelab.detect import YuNet, detect_image, detections_frame, faces_from_arrays
from facelab.models import SFace, Embedder, get_model
from facelab.store import EmbeddingCache, Claims, EMBEDDING_CACHE_COLS
from facelab.embed import represent, default_threads
from facelab.video import detect_video, VideoFrames, prefetch, _FrameLog, _frames_part

@pytest.fixture(scope='module')
def mixed(tmp_path_factory):
    "Sample photos with a repeat, a file that is no image, a cut JPEG, a missing file, a photo without a face and a couple."
    tmp = tmp_path_factory.mktemp('mixed')
    photos = image_files(deepface_folder())
    (tmp/'notes.jpg').write_text('not a photo')
    (tmp/'cut.jpg').write_bytes(Path(photos[0]).read_bytes()[:2000])
    cv2.imwrite(str(tmp/'wall.png'), np.full((200, 200, 3), 90, np.uint8))
    return [*photos[:18], tmp/'notes.jpg', photos[0], tmp/'missing.jpg', tmp/'wall.png', tmp/'cut.jpg', deepface_folder()/'couple.jpg', photos[1]]

@pytest.fixture(scope='module')
def one_core():
    "SFace on a session of one intra-op thread, as a Dask worker's (`FACELAB_THREADS=1`)."
    with modified_env(FACELAB_THREADS='1'): return SFace()

def run(files, n, **kw):
    "represent with `n` threads on a fresh cache: the result and the rows of each cache part, in the order they were written."
    c = Path(tempfile.mkdtemp())
    res = represent(files, cache_dir=c, batch_size=4, progress=False, threads=n, **kw)
    return res, [pq.read_table(p).to_pandas() for p in sorted(c.glob('*/part-*.parquet'))]

def same(a, b):
    "Two `run`s give the same tables, embeddings bit for bit, and the same cache parts."
    pd.testing.assert_frame_equal(a[0].embeddings.drop(columns='embedding'), b[0].embeddings.drop(columns='embedding'))
    assert np.stack(a[0].embeddings.embedding).tobytes() == np.stack(b[0].embeddings.embedding).tobytes()
    pd.testing.assert_frame_equal(a[0].failures, b[0].failures)
    assert len(a[1]) == len(b[1])
    for p, q in zip(a[1], b[1]):
        pd.testing.assert_frame_equal(p.drop(columns='embedding'), q.drop(columns='embedding'))
        assert [None if e is None else np.asarray(e).tobytes() for e in p.embedding] == [None if e is None else np.asarray(e).tobytes() for e in q.embedding]

class Picky(Embedder):
    "A model that refuses a blank crop (one batch at a time: not onnxruntime's)."
    name = 'picky'
    def embed(self, crops):
        if any(c.std() < 1 for c in crops): raise ValueError("a blank crop")
        return np.ones((len(crops), 4), np.float32)

def test_default_threads():
    with modified_env('FACELAB_THREADS'): assert default_threads() == len(os.sched_getaffinity(0))   # unset
    with modified_env(FACELAB_THREADS='3'): assert default_threads() == 3
    with modified_env(FACELAB_THREADS='many'), pytest.raises(FacelabError, match='FACELAB_THREADS must be'): default_threads()
    with pytest.raises(FacelabError, match='threads must be'): represent([], cache_dir=None, threads=0)

def test_worker_threads_give_what_one_thread_gives(mixed, one_core):
    cv_before = cv2.getNumThreads()
    ref = run(mixed, 1, model_name=one_core)
    assert len(ref[1]) == 5 and ref[0].failures.stage.tolist() == ['read', 'load', 'load']   # 20 unique images that load: 5 parts
    for n in (2, 3): same(ref, run(mixed, n, model_name=one_core))
    assert cv2.getNumThreads() == cv_before   # OpenCV's threads put back
    same(run(mixed, 1, model_name=one_core, enforce_detection=True), run(mixed, 2, model_name=one_core, enforce_detection=True))
    same(run(mixed, 1, model_name=one_core, detector_backend='skip'), run(mixed, 2, model_name=one_core, detector_backend='skip'))
    same(run(mixed, 1, model_name=one_core, detector_backend=YuNet()), run(mixed, 2, model_name=one_core, detector_backend=YuNet()))   # shared detector
    same(run(mixed, 1, model_name=Picky()), run(mixed, 2, model_name=Picky()))   # a model that refuses a crop, called one at a time

def test_default_session_within_float_sums(mixed):
    a, b = (represent(mixed, cache_dir=None, progress=False, threads=n) for n in (1, 2))
    pd.testing.assert_frame_equal(a.embeddings.drop(columns='embedding'), b.embeddings.drop(columns='embedding'))
    pd.testing.assert_frame_equal(a.failures, b.failures)
    assert np.abs(np.stack(a.embeddings.embedding) - np.stack(b.embeddings.embedding)).max() < 1e-4

def test_a_model_error_stops_the_workers(mixed):
    class Stops(Embedder):
        name = 'stops'
        def embed(self, crops): raise FacelabError("the model stops the run")
    cv_before = cv2.getNumThreads()
    with pytest.raises(FacelabError, match='stops the run'):
        represent(mixed, model_name=Stops(), cache_dir=None, progress=False, threads=2, batch_size=2)
    assert cv2.getNumThreads() == cv_before and not any(t.name.startswith('facelab-embed') for t in threading.enumerate())

def test_registry_thread_builds():
    reg, own = Registry('widget', {'c': object}), []
    def worker():
        reg.thread_builds()
        own.extend([reg.get_built('c', lambda f: f()), reg.get_built('c', None)])
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert own[0] is own[1] and own[0] is not reg.get_built('c', lambda f: f())

def test_one_thread_session():
    sface = get_model('SFace')
    one = sface.one_thread()
    assert one is sface.one_thread() and one.one_thread() is one and one.sess.get_session_options().intra_op_num_threads == 1
    crops = [np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8) for _ in range(3)]
    np.testing.assert_allclose(one.embed(crops), sface.embed(crops), atol=1e-4)

def test_claims_of_batches_in_flight(tmp_path):
    fake = lambda hs: pd.DataFrame([dict(hash=h, face_idx=0, embedding=np.zeros(2, np.float32), x1=0., y1=0., x2=1., y2=1.,
                                         confidence=1., face_detected=True, reason='') for h in hs], columns=EMBEDDING_CACHE_COLS)
    settings = dict(model_name='SFace', detector_backend='yunet')
    mine, theirs = EmbeddingCache(tmp_path, settings), EmbeddingCache(tmp_path, settings)
    mine.load()
    watch = Claims(mine.path)
    it = mine.batches(['k0', 'k1', 'k2', 'k3', 'k4'], 2, in_flight=2)
    b0, b1 = next(it), next(it)   # two batches in the air: the first one's claim stays while the caller takes the second
    with watch.mutex: assert watch.taken() == {'k0', 'k1', 'k2', 'k3'}
    mine.append(fake(b0))
    b2 = next(it)
    with watch.mutex: assert watch.taken() == {'k2', 'k3', 'k4'}
    mine.append(fake(b1))
    mine.append(fake(b2))
    assert all(b == [] for b in it)   # written: the claims go, one empty batch each ("write what you hold")
    with watch.mutex:
        assert watch.taken() == set()
        watch.claim(['k5'])   # all that is left is another run's: an empty batch (write what you hold), not a wait
    it = mine.batches(['k5'], 2, wait=0.01, in_flight=2)
    assert next(it) == []
    theirs.append(fake(['k5']))
    watch.close()
    assert list(it) == []

def test_the_last_batches_stay_claimed_until_written(tmp_path):
    """Every image claimed, the last batches still embedding: their claims stay until their parts are written. (They were given up
    when the claiming ended, and a second process waiting on the same cache embedded those images again.)"""
    fake = lambda hs: pd.DataFrame([dict(hash=h, face_idx=0, embedding=np.zeros(2, np.float32), x1=0., y1=0., x2=1., y2=1.,
                                         confidence=1., face_detected=True, reason='') for h in hs], columns=EMBEDDING_CACHE_COLS)
    mine = EmbeddingCache(tmp_path, dict(model_name='SFace', detector_backend='yunet'))
    mine.load()
    watch = Claims(mine.path)
    it = mine.batches(['k0', 'k1', 'k2', 'k3'], 2, in_flight=3)
    b0, b1 = next(it), next(it)
    assert next(it) == []   # nothing left to claim, two batches held: "write what you hold", not the end
    with watch.mutex: assert watch.taken() == {'k0', 'k1', 'k2', 'k3'}
    mine.append(fake(b0))
    assert next(it) == []
    with watch.mutex: assert watch.taken() == {'k2', 'k3'}
    mine.append(fake(b1))
    assert list(it) == []
    with watch.mutex: assert watch.taken() == set()
    watch.close()

def test_prefetch():
    assert list(prefetch(range(10), 3)) == list(range(10))
    def boom():
        yield 1
        raise FacelabError('cannot read on')
    with pytest.raises(FacelabError, match='cannot read on'): list(prefetch(boom()))
    closed = []
    def many():
        try: yield from range(1000)
        finally: closed.append(True)
    for x in prefetch(many()):
        if x == 3: break
    assert closed == [True]   # stopped early: the reader stopped and its source was closed

def test_frame_log():
    rows = [dict(source='v', frame=k, timestamp=k/25, n_faces=k % 3, error='boom' if k == 4 else '') for k in range(7)]
    log = _FrameLog()
    log.add(rows[:5])
    log.add(rows[5:])
    pd.testing.assert_frame_equal(log.table('v'), _frames_part(rows))

def test_detect_video_equals_decode_then_detect():
    clip = sample_path('videos/hamilton_clip.mp4')
    res = detect_video(clip, 'yunet', fps=2, cache_dir=None, progress=False)
    plain = [dict(source=str(clip), frame=f.index, timestamp=f.timestamp, **r, detector_backend='yunet', crop=None)
             for f in VideoFrames(clip, fps=2) for r in detect_image(f.image, 'yunet')[0]]
    pd.testing.assert_frame_equal(res.detections, detections_frame(plain))

_FLAT = """
import sys, tracemalloc
from pathlib import Path
import numpy as np, cv2
from facelab.detect import faces_from_arrays
from facelab.video import detect_video
class NoFaces:
    name, settings = 'no-faces', {}
    def detect(self, img): return faces_from_arrays()
tmp = Path(sys.argv[1])
w = cv2.VideoWriter(str(tmp/'long.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 25, (16, 16))
for k in range(3000): w.write(np.full((16, 16, 3), k % 250, np.uint8))
w.release()
def peak(end_s):
    tracemalloc.start()
    detect_video(tmp/'long.avi', NoFaces(), end=end_s, cache_dir=tmp/'cache', progress=False)
    p = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return p
print((peak(120) - peak(20)) / 2500)
"""

def test_detect_video_memory_is_flat(tmp_path):
    """Tiny frames, a detector that finds nothing: the peak of Python's allocations does not grow with the frames (it grew
    1.1 KB a frame). Measured in a fresh interpreter: tracemalloc sees every thread, and this process's Dask cluster
    (in-process workers) allocates while it runs."""
    r = subprocess.run([sys.executable, '-c', _FLAT, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    per_frame = float(r.stdout.split()[-1])
    assert per_frame < 200, per_frame
