"""What the tests share: the test run's own FACELAB_HOME, the paths of the checkout, the two ways to run `facelab`, the sample
folders the CLI tests build, and one Dask cluster for the session.

- **A home of its own.** The whole run (and every process it starts: `facelab` subprocesses, notebook kernels, JupyterLab,
  Dask workers) uses a fresh `FACELAB_HOME` under pytest's temporary folder, so no test reads or writes the embedding and
  detection caches of the user's `~/.facelab`. The weights are not copied: `DEEPFACE_HOME` keeps pointing at the installed
  ones (`facelab weights install`), and a data cache (`~/.facelab/data`) is linked in, so nothing is downloaded.
- **`cli(...)`** runs `facelab ARGS` in this process (`facelab.cli.main`, what the console script calls); **`facelab_process(...)`**
  runs the installed console script, for the tests where a real process matters (the entry point, SIGKILL, two processes).
"""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
NOTEBOOKS = sorted(p for p in [*NBS.glob('*.ipynb'), *(NBS/'tutorials').glob('*.ipynb')] if not p.name.startswith(('_', '.')))
FACELAB = Path(sys.executable).parent/'facelab'   # the console script pip installed next to this interpreter

def rel(p:Path) -> str:
    "A notebook's path under nbs/ (`tutorials/threshold_study.ipynb`): the test ids and messages name notebooks by it."
    return Path(p).relative_to(NBS).as_posix()

# ---- the test run's FACELAB_HOME
# Set up before any test module imports facelab: `facelab.core` points DEEPFACE_HOME at FACELAB_HOME when it is unset, and the
# weights live in the user's home. So DEEPFACE_HOME is fixed to the user's home here, once, whatever FACELAB_HOME becomes later.
USER_HOME = Path(os.environ.get('FACELAB_HOME') or '~/.facelab').expanduser()
if not os.environ.get('DEEPFACE_HOME'): os.environ['DEEPFACE_HOME'] = str(USER_HOME)

@pytest.fixture(scope='session', autouse=True)
def facelab_home(tmp_path_factory) -> Path:
    "A fresh FACELAB_HOME for the whole run (inherited by every subprocess), with the installed weights and data in reach."
    home = tmp_path_factory.mktemp('facelab-home')
    if (USER_HOME/'data').is_dir(): (home/'data').symlink_to(USER_HOME/'data', target_is_directory=True)   # fetched samples, LFW
    old = os.environ.get('FACELAB_HOME')
    os.environ['FACELAB_HOME'] = str(home)
    yield home
    if old is None: os.environ.pop('FACELAB_HOME', None)
    else: os.environ['FACELAB_HOME'] = old

# ---- running `facelab`
from cli_runner import cli   # noqa: E402  `facelab ARGS` in this process: returncode, stdout, stderr

def facelab_process(*args, timeout:int=600, **kw) -> subprocess.CompletedProcess:
    "`facelab ARGS` as a real process (the installed console script), text output captured."
    return subprocess.run([str(FACELAB), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)

def quick_error(r, *words):
    "`r` (a `cli` or `facelab_process` result) is exit 2 with a message holding `words` and no traceback."
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert 'Traceback' not in r.stderr and all(w in r.stderr for w in words), r.stderr

# ---- sample inputs
def people_folder(dest, names, n=3, broken:str|None=None) -> Path:
    """`dest/<name>/` for each of `names`, holding that person's first `n` deepface sample photos (`n=-1`: all but the last),
    and, if `broken` names one of them, an unreadable `broken.jpg` in that person's folder. Returns `dest`."""
    from facelab.datasets import deepface_sample
    people, dest = deepface_sample(), Path(dest)
    for name in names:
        (dest/name).mkdir(parents=True, exist_ok=True)
        for f in people[name][:n]: shutil.copy(f, dest/name)
    if broken: (dest/broken/'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    return dest

def hamilton_with_cvat_sample() -> tuple:
    "The Hamilton clip (640×360) and the CVAT video sample's annotations (drawn on 25×20-pixel frames): ground truth that does not fit."
    from facelab.datasets import sample_path, data_dir
    return sample_path('videos/hamilton_clip.mp4'), data_dir()/'cvat_samples'/'video'/'annotations.xml'

# ---- Dask
@pytest.fixture(scope='session')
def _dask_threads_cluster():
    pytest.importorskip('distributed')
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol='tcp://', host='127.0.0.1',
                           dashboard_address=None)
    yield cluster
    cluster.close()

@pytest.fixture
def dask_threads(_dask_threads_cluster):
    """One local Dask cluster for the session, for the tests that need a scheduler to join (`--dask ADDRESS`,
    `.scheduler_address`) but not worker processes: two workers as threads of this process, on TCP, so every task is still
    serialised as for a remote cluster. facelab's worker plugin sets this process's FACELAB_THREADS and OpenCV's thread count
    for the workers; both are put back after the test."""
    import cv2
    env, threads = os.environ.get('FACELAB_THREADS'), cv2.getNumThreads()
    yield _dask_threads_cluster
    cv2.setNumThreads(threads)
    if env is None: os.environ.pop('FACELAB_THREADS', None)
    else: os.environ['FACELAB_THREADS'] = env
