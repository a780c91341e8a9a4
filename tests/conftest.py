"""What the tests share: the test run's own FACELAB_HOME, the paths of the checkout, the two ways to run `facelab`, the sample
folders the CLI tests build, and one Dask cluster for the session.

- **A home of its own.** The whole run (and every process it starts: `facelab` subprocesses, notebook kernels, JupyterLab,
  Dask workers) uses a fresh `FACELAB_HOME` under pytest's temporary folder, so no test reads or writes the embedding and
  detection caches of the user's `~/.facelab`. The weights are not copied: `DEEPFACE_HOME` keeps pointing at the installed
  ones (`facelab weights install`), and a data cache (`~/.facelab/data`) is linked in, so nothing is downloaded.
- **`cli(...)`** runs `facelab ARGS` in this process (`facelab.cli.main`, what the console script calls); **`facelab_process(...)`**
  runs the installed console script, for the tests where a real process matters (the entry point, SIGKILL, two processes).
- **The notebooks run beside the tests.** `tests/test_plain_kernel.py` runs every notebook in a plain kernel; those runs start
  with the session's first test, two kernels at a time in the background, while the other tests run (the machine's two cores
  are kept busy), and the notebooks' own tests are moved to the end of the run, where they collect the results.
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

# ---- the notebooks in plain kernels, in the background
NOTEBOOK_TEST = 'test_notebook_runs_in_a_plain_kernel'

def pytest_collection_modifyitems(items):
    "The notebooks' tests last: they wait for the background runs (`plain_runs`), so every other test runs beside those."
    items.sort(key=lambda it: getattr(it, 'originalname', '') == NOTEBOOK_TEST)   # a stable sort: the order is kept otherwise

def in_jupyterlab(items) -> dict:
    """The notebooks that `tests/test_browser.py` runs whole in JupyterLab in this session (its test selected and Chromium and
    Playwright here): notebook -> that test's id. Their plain-kernel run would repeat a subset of it, so it is left out."""
    if not any('test_browser.py' in it.nodeid for it in items): return {}
    import test_browser
    if test_browser.browser_missing(): return {}
    return {nb: it.nodeid for it in items if 'test_browser.py' in it.nodeid and (nb := test_browser.notebook_of(it))}

@pytest.fixture(scope='session', autouse=True)
def plain_runs(request, facelab_home, tmp_path_factory) -> dict:
    """The notebooks this session runs in a plain kernel, started in the background at its first test: path -> a future of
    `test_plain_kernel.run_one`'s tuple, or the id of the browser test that runs it instead (`in_jupyterlab`). Empty when no
    notebook's test is selected or FACELAB_SKIP_PLAIN_KERNEL is set."""
    fns = [it.callspec.params['fn'] for it in request.session.items if getattr(it, 'originalname', '') == NOTEBOOK_TEST]
    if not fns or os.environ.get('FACELAB_SKIP_PLAIN_KERNEL'):
        yield {}
        return
    in_lab = in_jupyterlab(request.session.items)
    from test_plain_kernel import start_runs
    pool, runs = start_runs([f for f in fns if rel(f) not in in_lab], tmp_path_factory.mktemp('plain-kernel'))
    yield {**runs, **{f: in_lab[rel(f)] for f in fns if rel(f) in in_lab}}
    pool.shutdown(wait=True, cancel_futures=True)

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
