"""Issue 26, "Reliability, round 2": each case as the user meets it, through the CLI or a real process. A case that used to hang
runs in a subprocess with a timeout, so a hang fails that test (TimeoutExpired), not the whole suite."""
import os, subprocess, sys, textwrap
from pathlib import Path
import pandas as pd
import pytest
from PIL import Image
from conftest import cli, facelab_process, people_folder, quick_error

HANG = 120   # seconds a case that used to hang may take before its test fails (the work itself takes a few)

@pytest.fixture(scope='module')
def small_gallery(tmp_path_factory):
    "A gallery of two people, and the folder it was built from."
    tmp = tmp_path_factory.mktemp('rel2')
    people_folder(tmp/'people', ['Angelina', 'Mark'], 2)
    r = cli('gallery', 'build', tmp/'people', '--out', tmp/'g')
    assert r.returncode == 0, r.stderr
    return tmp

# ---- hangs
@pytest.mark.parametrize('cache', [True, False], ids=['cache', 'no-cache'])
def test_find_on_a_fifo_a_folder_and_a_device_returns(small_gallery, tmp_path, cache):
    "A FIFO named q.jpg blocked the content hash forever: now it, a folder named x.jpg and /dev/zero are each 'not a regular file'."
    os.mkfifo(tmp_path/'q.jpg')
    (tmp_path/'x.jpg').mkdir()
    args = ['find', '--gallery', small_gallery/'g', tmp_path/'q.jpg', tmp_path/'x.jpg', '/dev/zero', *([] if cache else ['--no-cache'])]
    r = facelab_process(*args, timeout=HANG)
    assert r.returncode == 1 and 'Traceback' not in r.stderr, (r.returncode, r.stderr[-1000:])
    for what in ['q.jpg: could not be searched: read: not a regular file (a FIFO', 'x.jpg: could not be searched: read: not a regular file (a folder)',
                 '/dev/zero: could not be searched: read: not a regular file (a character device)']:
        assert what in r.stdout, r.stdout

def test_detect_and_annotations_on_a_fifo_return(tmp_path):
    "The image decoder and the annotation readers refuse a FIFO at once too (in a process of their own, with a timeout)."
    os.mkfifo(tmp_path/'p.jpg')
    os.mkfifo(tmp_path/'p.xml')
    code = textwrap.dedent(f"""
        from facelab.core import load_image, FacelabError
        from facelab.annotations import read_cvat
        for f in [lambda: load_image({str(tmp_path/'p.jpg')!r}), lambda: read_cvat({str(tmp_path/'p.xml')!r})]:
            try: f()
            except FacelabError as e: print(e)
        """)
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=HANG)
    assert r.returncode == 0, r.stderr[-1000:]
    assert r.stdout.count('not a regular file (a FIFO (named pipe))') == 2, r.stdout

# ---- wrong answers
def test_gallery_does_not_enrol_an_image_without_a_face(tmp_path):
    "A blank page and a 1×1 PNG filed under a person are listed (failures.csv, `gallery info`), not enrolled; --enrol-no-face enrols them."
    people_folder(tmp_path/'people', ['Mark'], 2)
    Image.new('RGB', (800, 1000), 'white').save(tmp_path/'people'/'Mark'/'page.png')
    Image.new('RGB', (1, 1), 'white').save(tmp_path/'people'/'Mark'/'dot.png')
    r = cli('gallery', 'build', tmp_path/'people', '--out', tmp_path/'g')
    assert r.returncode == 0, r.stderr
    t, fails = pd.read_parquet(tmp_path/'g'/'gallery.parquet'), pd.read_csv(tmp_path/'g'/'failures.csv')
    assert t.face_detected.all() and not t.file.str.endswith('.png').any(), t
    assert sorted(Path(f).name for f in fails.file) == ['dot.png', 'page.png'] and set(fails.stage) == {'detect'}, fails
    info = cli('gallery', 'info', tmp_path/'g')
    assert info.returncode == 0 and 'page.png' in info.stdout and 'dot.png' in info.stdout and 'no face detected' in info.stdout
    Image.new('RGB', (600, 800), 'white').save(tmp_path/'white.png')
    found = cli('find', tmp_path/'white.png', '--gallery', tmp_path/'g')   # a white page is nobody
    assert 'Mark' not in found.stdout.split('nearest')[0], found.stdout
    both = cli('gallery', 'build', tmp_path/'people', '--out', tmp_path/'g2', '--enrol-no-face')
    assert both.returncode == 0 and (~pd.read_parquet(tmp_path/'g2'/'gallery.parquet').face_detected).sum() == 2

def test_gallery_build_with_nothing_enrolled_fails(tmp_path):
    "0 faces and N failures was exit 0 and an empty gallery: now exit 2, failures.csv written, no gallery."
    (tmp_path/'people'/'A').mkdir(parents=True)
    (tmp_path/'people'/'B').mkdir()
    Image.new('RGB', (1, 1), 'white').save(tmp_path/'people'/'A'/'dot.png')
    (tmp_path/'people'/'B'/'broken.jpg').write_bytes(b'\xff\xd8\xff not a jpeg')
    r = cli('gallery', 'build', tmp_path/'people', '--out', tmp_path/'g')
    assert r.returncode == 2 and 'Traceback' not in r.stderr, (r.returncode, r.stderr)
    assert 'no face could be enrolled from 2 images' in r.stderr and 'failures.csv' in r.stderr, r.stderr
    assert len(pd.read_csv(tmp_path/'g'/'failures.csv')) == 2 and not (tmp_path/'g'/'gallery.json').exists()

def test_dask_address_of_a_web_server_and_an_unknown_scheme(tmp_path):
    "`--dask tcp://` at a plain HTTP server hung with no output; `--dask foo://bar` was a ValueError traceback: both are one error now."
    import http.server, threading
    web = http.server.ThreadingHTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        r = facelab_process('find', tmp_path/'q.jpg', '--gallery', tmp_path/'g', '--dask', f'tcp://127.0.0.1:{web.server_port}', timeout=HANG,
                            env={**os.environ, 'FACELAB_DASK_TIMEOUT': '2'})   # the wait for a handshake: 20 s by default
    finally: web.shutdown()
    assert r.returncode == 2 and 'Traceback' not in r.stderr, (r.returncode, r.stderr[-1000:])
    assert 'is not a Dask scheduler: an HTTP server (HTTP/1.0 200 OK' in r.stderr and 'handshake in 2 s' in r.stderr, r.stderr
    r = cli('find', tmp_path/'q.jpg', '--gallery', tmp_path/'g', '--dask', 'foo://bar')
    assert r.returncode == 2 and "unknown Dask address scheme 'foo://'" in r.stderr and "'tcp://host:8786'" in r.stderr, r.stderr

def test_a_stopped_neighbours_claims_are_named_at_once(tmp_path):
    "A live neighbour holding claims without writing stalled a run for 300 s, warning only at the end: now it says at once whom it waits for."
    setup = f"from facelab.store import Claims, EmbeddingCache\nc = EmbeddingCache({str(tmp_path)!r}, dict(model_name='m', detector_backend='d'))\n"
    neighbour = subprocess.Popen([sys.executable, '-c', setup + textwrap.dedent("""
        import time
        c.path.mkdir(parents=True, exist_ok=True)
        claims = Claims(c.path)
        with claims.mutex: claims.claim(['h1', 'h2'])
        print('ready', flush=True)
        time.sleep(600)   # alive, its lock held, never writing: as a run stopped by SIGSTOP""")], stdout=subprocess.PIPE, text=True)
    try:
        assert neighbour.stdout.readline().strip() == 'ready'
        run = setup + "import sys\nfor b in c.batches(['h1', 'h2'], 2): print('BATCH', b, file=sys.stderr, flush=True)"
        r = subprocess.run([sys.executable, '-c', run], capture_output=True, text=True, timeout=HANG, env={**os.environ, 'FACELAB_CLAIM_WAIT': '5'})
    finally: neighbour.kill()
    assert r.returncode == 0, r.stderr[-1500:]
    err = r.stderr
    said, end, got = (err.find(w) for w in ('waiting for other runs embedding the 2 images left', 'embedding them here too', 'BATCH'))
    assert -1 < said < end < got, err   # said when the wait began, before it ended
    assert f"process {neighbour.pid} (1 claim file: {tmp_path}" in err and 'At most 5 s' in err, err
    assert 'delete its claim files to take over now, or set FACELAB_CLAIM_WAIT' in err, err

def test_local_cluster_in_a_script_without_a_main_guard(tmp_path):
    "`connect('local:2')` at the top of a plain script failed with Dask's 'Nanny failed to start': now it says what to write."
    pytest.importorskip('distributed')
    script = tmp_path/'noguard.py'
    script.write_text("import facelab.scale\nclient = facelab.scale.connect('local:2', quiet=True)\nclient.close()\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=HANG, cwd=tmp_path)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()
    assert any(l.startswith('facelab.core.FacelabError: ') and 'under a guard' in l for l in last), r.stderr[-2000:]
    assert 'if __name__ == "__main__":' in r.stderr and "client = facelab.scale.connect('local:2')" in r.stderr

# ---- memory bounded by the input's real size
_HWM = """
import atexit, sys
def _hwm():   # the peak of this process's own memory: VmHWM belongs to the address space exec made, not to the parent's
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM'): sys.stderr.write(f"\\nVMHWM {int(line.split()[1])*1024}\\n")
atexit.register(_hwm)
"""

def _peak_run(code:str, timeout=HANG):
    """Run Python `code` in a process: (exit status, stderr, its peak resident memory in bytes, from its own VmHWM).
    Not `ru_maxrss`: Linux carries the forking process's (pytest's, gigabytes late in a run) size into it across exec."""
    import signal, threading
    p = subprocess.Popen([sys.executable, '-c', _HWM + code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(timeout, lambda: p.send_signal(signal.SIGKILL))
    timer.start()
    err = p.stderr.read()
    p.wait()
    timer.cancel()
    assert p.returncode != -signal.SIGKILL, f"killed after {timeout} s"
    peaks = [int(l.split()[1]) for l in err.splitlines() if l.startswith('VMHWM ')]
    assert peaks, err[-1500:]
    return p.returncode, err, peaks[-1]

def test_tiny_cvat_video_file_of_a_huge_task(tmp_path):
    "787 bytes of CVAT (4 one-box tracks, a 10,000,000-frame task) built 40 million rows (8.8 GB): refused at once, with the line."
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'benchmarks'))
    from reliability_memory import cvat_video
    (tmp_path/'long.xml').write_text(cvat_video(10_000_000))
    code = f"from facelab.annotations import read_cvat\nread_cvat({str(tmp_path/'long.xml')!r})"
    rc, err, peak = _peak_run(code)
    assert rc == 1 and 'FacelabError' in err and "long.xml: line 1: track 0 lasts from frame 0 to the task's last frame, 9,999,999" in err, err[-1500:]
    assert peak < 1.5*2**30, f"peak {peak/2**30:.2f} GiB"
    from conftest import FACELAB, hamilton_with_cvat_sample
    video, _ = hamilton_with_cvat_sample()   # 275 frames: `facelab validate` reads the tracks over those only
    argv = ['validate', str(video), '--gt', str(tmp_path/'long.xml'), '--out', str(tmp_path/'report')]
    rc, err, peak = _peak_run(f"from facelab.cli import main\nsys.exit(main({argv!r}))")
    assert rc == 2 and 'Traceback' not in err and 'it annotates frames up to 9999999, the video has 275' in err, err[-1500:]
    assert peak < 1.5*2**30, f"peak {peak/2**30:.2f} GiB"

def test_validate_without_query_where_nobody_can_be_scored(tmp_path):
    "`validate VIDEO --gt FILE` (no --query) where no person has two detected faces crashed with a KeyError on the empty pooled table."
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'benchmarks'))
    from reliability_memory import cvat_video
    from conftest import hamilton_with_cvat_sample
    video, _ = hamilton_with_cvat_sample()
    (tmp_path/'short.xml').write_text(cvat_video(275))   # 4 one-box tracks: each person has at most one face
    r = cli('validate', video, '--gt', tmp_path/'short.xml', '--out', tmp_path/'report', '--no-cache')
    assert r.returncode == 1 and 'Traceback' not in r.stderr, (r.returncode, r.stderr[-1500:])
    why = 'nothing to score: no person has one detected face to enrol and another to score (person 0: '
    assert why in r.stdout, r.stdout
    assert why.replace('nothing', '**Nothing').replace('score: ', 'score:** ') in (tmp_path/'report'/'report.md').read_text()

# ---- clear errors: a full disk
def _fill_then_full(real_name):
    "A stand-in for a writer that puts a few bytes where it writes, then fails as a full disk does (ENOSPC)."
    import errno
    def write(obj, where=None, *a, **kw):
        where = kw.get('path', kw.get('fname', kw.get('where', where)))
        if hasattr(where, 'write'): where.write(b'PAR1 half')
        elif where is not None: Path(where).write_bytes(b'PAR1 half')
        raise OSError(errno.ENOSPC, f'No space left on device ({real_name})')
    return write

def _leftovers(folder:Path) -> list:
    "Temporary or half-written files a user would find in `folder` (a staging folder, a `.tmp`, a file holding the fake writer's bytes)."
    out = [p for p in folder.rglob('*') if p.name.endswith('.tmp') or p.name.startswith('.staged-')]
    return out + [p for p in folder.rglob('*') if p.is_file() and p.read_bytes()[:9] == b'PAR1 half']

def test_full_disk_at_the_embedding_cache_and_the_gallery(tmp_path, monkeypatch):
    "A full disk writing a cache part or a gallery was an OSError traceback: now one error naming the folder and the space needed."
    people_folder(tmp_path/'people', ['Mark'], 2)
    monkeypatch.setenv('FACELAB_HOME', str(tmp_path/'home'))
    monkeypatch.setattr('pyarrow.parquet.write_table', _fill_then_full('write_table'))
    r = cli('gallery', 'build', tmp_path/'people', '--out', tmp_path/'g')
    quick_error(r, 'no space left on the disk while writing a part of the embedding cache (', 'it needs about', 'are free there')
    folder = next((tmp_path/'home').rglob('settings.json')).parent   # the embedding cache of these settings
    assert f"{folder}: no space" in r.stderr and not list(folder.glob('part-*')) and not _leftovers(tmp_path/'home'), r.stderr
    r = cli('gallery', 'build', tmp_path/'people', '--out', tmp_path/'g', '--no-cache')
    quick_error(r, f"{tmp_path/'g'}: no space left on the disk while writing the gallery (2 faces): it needs about ")
    assert not (tmp_path/'g'/'gallery.json').exists() and not _leftovers(tmp_path/'g'), list((tmp_path/'g').iterdir())

def test_full_disk_at_the_video_cache(tmp_path, monkeypatch):
    "A full disk flushing the video detection cache: one error naming the cache folder; no part is left half-written."
    from facelab.datasets import sample_path
    monkeypatch.setenv('FACELAB_HOME', str(tmp_path/'home'))
    monkeypatch.setattr('pyarrow.parquet.write_table', _fill_then_full('write_table'))
    r = cli('detect', sample_path('videos/hamilton_clip.mp4'), '--out', tmp_path/'dets.csv', '--every-n', 50)
    quick_error(r, 'no space left on the disk while writing the video detection cache (frames 0 to ', 'it needs about')
    assert str(tmp_path/'home') in r.stderr and not _leftovers(tmp_path/'home'), r.stderr
    assert not list((tmp_path/'home').rglob('*.parquet'))

def test_full_disk_at_the_report(tmp_path, monkeypatch):
    "A full disk writing report.md's figures: one error naming the report folder; none of the report's files is left."
    import matplotlib.figure
    people_folder(tmp_path/'people', ['Mark', 'Angelina'], 2)
    monkeypatch.setattr(matplotlib.figure.Figure, 'savefig', lambda self, f, *a, **k: _fill_then_full('savefig')(None, f))
    r = cli('evaluate', tmp_path/'people', '--out', tmp_path/'report', '--no-cache')
    quick_error(r, f"{tmp_path/'report'}: no space left on the disk while writing the verification report: it needs about ")
    assert not [p for p in (tmp_path/'report').rglob('*') if p.is_file()], list((tmp_path/'report').rglob('*'))

# ---- clear errors: failure reasons in the user's words
def test_thin_images_are_a_failures_row_in_words(tmp_path):
    "A 100000×1 image was an OpenCV assertion (resize to 640×0) as its failure reason; embedded whole it asked for 28 GiB."
    from facelab.detect import detect_faces
    from facelab.embed import represent
    Image.new('RGB', (100000, 1), 'white').save(tmp_path/'wide.png')
    Image.new('RGB', (1, 100000), 'white').save(tmp_path/'tall.png')
    files, why = [tmp_path/'wide.png', tmp_path/'tall.png'], ['image too thin to detect faces (100000×1 pixels)',
                                                              'image too thin to detect faces (1×100000 pixels)']
    d = detect_faces(files, progress=False)
    assert not len(d.detections) and d.failures.reason.tolist() == why and set(d.failures.stage) == {'detect'}, d.failures
    for kw in [{}, dict(enforce_detection=True), dict(detector_backend='skip')]:
        r = represent(files, cache_dir=None, progress=False, **kw)
        assert not len(r.embeddings) and r.failures.reason.tolist() == why, (kw, r.failures)

# ---- security
def sface_copy(dest:Path) -> Path:
    "A copy of the installed SFace weight file at `dest` (its folder made); the test is skipped where SFace is not installed."
    from facelab.weights import weights_dir
    sface = weights_dir()/'face_recognition_sface_2021dec.onnx'
    if not sface.is_file(): pytest.skip('SFace weights not installed')
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(sface.read_bytes())
    return dest

def test_weights_import_refuses_another_models_file(tmp_path, monkeypatch):
    "SFace's file offered as GhostFaceNet (no pinned checksum, a size that fits) was imported: its shapes give it away now."
    sface_copy(tmp_path/'dl'/'ghostfacenet_v1.onnx')
    monkeypatch.setenv('DEEPFACE_HOME', str(tmp_path/'home'))   # a throwaway weights folder
    r = cli('weights', 'import', tmp_path/'dl')
    assert 'refused: shaped like another model: ghostfacenet_v1.onnx gives 128-d embeddings, not 512-d' in r.stdout, r.stdout
    assert not (tmp_path/'home'/'.deepface'/'weights'/'ghostfacenet_v1.onnx').exists()

def test_onnx_floor_refuses_symlinked_external_data():
    "pyproject's onnx floor is a version that refuses external data behind a symbolic link (1.21; 1.15-1.20 follow the link)."
    import re, onnx
    text = (Path(__file__).resolve().parents[1]/'pyproject.toml').read_text()
    floor = tuple(int(x) for x in re.search(r'"onnx>=([0-9.]+)"', text).group(1).split('.'))
    assert floor >= (1, 21), floor
    assert tuple(int(x) for x in onnx.__version__.split('.')[:2]) >= floor[:2]

def test_gallery_onnx_model_by_sha256_and_resolved_against_the_gallery(tmp_path, monkeypatch):
    "A gallery built with `--model models/my.onnx` finds that file from any folder, and refuses a changed file of the same name and size."
    sface_copy(tmp_path/'models'/'my.onnx')
    people_folder(tmp_path/'people', ['Mark'], 2)
    monkeypatch.chdir(tmp_path)
    r = cli('gallery', 'build', 'people', '--out', 'g', '--model', 'models/my.onnx', '--no-cache')
    assert r.returncode == 0, r.stderr
    import json
    s = json.loads((tmp_path/'g'/'gallery.json').read_text())['settings']
    assert s['model_name'] == '../models/my.onnx' and len(s['model']['settings']['sha256']) == 64, s
    (tmp_path/'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path/'elsewhere')   # models/my.onnx is not here: the gallery's own path to it is used
    q = str(next((tmp_path/'people'/'Mark').iterdir()))
    r = cli('find', q, '--gallery', tmp_path/'g', '--no-cache', '--threshold', '0.6')
    assert r.returncode == 0 and 'Mark' in r.stdout, (r.stdout, r.stderr)
    b = bytearray((tmp_path/'models'/'my.onnx').read_bytes())
    b[-1] ^= 1   # same name, same size, other bytes
    (tmp_path/'models'/'my.onnx').write_bytes(bytes(b))
    r = cli('find', q, '--gallery', tmp_path/'g', '--no-cache', '--threshold', '0.6')
    assert r.returncode == 2 and 'sha256' in r.stderr and 'other settings than the gallery' in r.stderr, r.stderr

def test_report_names_are_escaped(tmp_path):
    "A person and a file named as HTML, with a `|` and a newline, stay text in report.md (no tag, no split table row)."
    src = tmp_path/'evil'
    people_folder(src, ['Angelina', 'Jennifer', 'Scarlett'], 3)
    bad = src/'<img src=x onerror=alert(1)>|x'   # a person whose photos hold no face: named in the first lines and the failures
    bad.mkdir()
    for i, name in enumerate(['a\nb<script>.png', 'plain.png']):
        Image.new('RGB', (64 + i, 64), 'white').save(bad/name, format='PNG')
    r = cli('evaluate', src, '--out', tmp_path/'r', '--bootstrap', '0', '--tune', 'best-f1')
    assert r.returncode == 0, r.stderr
    md = (tmp_path/'r'/'report.md').read_text()
    assert '<img' not in md and '<script' not in md, md
    assert '&lt;img src=x onerror=alert(1)&gt;\\|x (no face detected' in md and 'b&lt;script&gt;.png' in md
    rows = [l for l in md.splitlines() if l.startswith('| ')]
    assert rows and all(l.endswith(' |') for l in rows)   # no row split by the newline in a name
