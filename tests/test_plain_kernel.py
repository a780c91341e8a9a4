"""Every notebook, run once in a plain Jupyter kernel (nbclient + ipykernel), the way JupyterLab / VS Code run it.

`nbdev-test` runs the notebooks through execnb, which sets up `%matplotlib inline` (and more) itself; that hid a defect
(facelab figures showed as `<Figure size ...>` text in a real kernel). Here each notebook in `nbs/` and `nbs/tutorials/`
(names starting with `_` or `.` left out) is executed with `nbclient` in a fresh `python3` kernel of *this* interpreter,
with the notebook's folder as working directory, on an in-memory copy (the file is never written).

Cells are selected exactly as `nbdev-test` selects them (`nbdev.test.nb_test_cells` with `tst_flags` from
pyproject.toml's `[tool.nbdev]`): cells with a skip flag (`#| slow`, `#| weights`), `#| eval: false` cells and whole
`skip_exec` notebooks are blanked (nbclient does not run empty cells). Each notebook must:

- run without any cell raising (or timing out: `FACELAB_NB_CELL_TIMEOUT` seconds a cell, default 600);
- show no bare matplotlib figure: an output whose `text/plain` starts with `<Figure size` must also carry an image
  (`image/png`, which `facelab.core.Figure` provides; a jpeg or svg rendering would do too).

This is where CI runs the notebooks (`.ci/run` runs pytest, not `nbdev-test`): a cell that raises fails CI here.

The runs start with the session's first test (`tests/conftest.py`'s `plain_runs`), WORKERS kernels at a time, in the background
while the other tests run; the tests below come last and wait for them. The kernels' environment (the run's FACELAB_HOME) is
fixed when the runs start. A notebook that `tests/test_browser.py` runs whole in JupyterLab in the same session (Run All runs
every cell, and that test fails on any error or figure shown as text) is not run here again: its test skips, naming that one.
Set FACELAB_SKIP_PLAIN_KERNEL=1 to skip the notebooks (FACELAB_PLAIN_KERNEL_WORKERS at a time, default 2); FACELAB_PLAIN_KERNEL_OUT=DIR to write the
executed copies there (for looking at what a user would see).
"""
import json, os, re, sys, time
from pathlib import Path
import pytest

if os.environ.get('CI'):   # .ci/run runs the notebooks only here (no nbdev-test before it): a missing package must fail, not skip
    import nbformat, nbclient
else:
    nbformat = pytest.importorskip('nbformat')
    nbclient = pytest.importorskip('nbclient')

from conftest import ROOT as root, NOTEBOOKS, rel

CELL_TIMEOUT = int(os.environ.get('FACELAB_NB_CELL_TIMEOUT', 600))
skip_all = pytest.mark.skipif(bool(os.environ.get('FACELAB_SKIP_PLAIN_KERNEL')), reason='FACELAB_SKIP_PLAIN_KERNEL is set')

def skip_flags() -> list:
    "The cell flags nbdev-test skips: `tst_flags` of `[tool.nbdev]`."
    from nbdev.config import get_config
    f = get_config(root).tst_flags or []
    return f.split() if isinstance(f, str) else list(f)

def make_kernel_dir(d:Path) -> Path:
    "A kernel spec directory in `d` whose `python3` kernel is this interpreter (not whatever `python3` spec a user dir holds)."
    (d/'python3').mkdir(parents=True)
    spec = dict(argv=[sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
                display_name=f'Python 3 ({sys.executable})', language='python', metadata={'debugger': True})
    (d/'python3'/'kernel.json').write_text(json.dumps(spec))
    return d

@pytest.fixture(scope='session')
def kernel_dir(tmp_path_factory):
    return make_kernel_dir(tmp_path_factory.mktemp('kernels'))

def kernel_env(**extra) -> dict:
    "The kernel's environment: ours, less `MPLBACKEND` (so ipykernel picks its default backend, as in JupyterLab), plus `extra`."
    return {**{k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}, **extra}

# The background kernels run two at a time beside the other tests: three busy processes on this project's two cores. Each kernel
# gets one thread for onnxruntime and facelab's workers (`FACELAB_THREADS`) and for OpenBLAS/OpenMP, so that no library thread
# spins on a core another process needs (measured: about 5% of the kernels' time). A value set in the environment is kept.
# The default, multi-threaded paths are tested in this process (tests/test_threads.py).
ONE_THREAD = ('FACELAB_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')

def background_env() -> dict:
    "`kernel_env()` for the background runs: one thread per library, unless the environment sets a count."
    return kernel_env(**{k: os.environ.get(k, '1') for k in ONE_THREAD})

def prepare(fn:Path, prelude:str|None=None):
    "An in-memory copy of `fn` with the cells nbdev-test would not run blanked (and `prelude` as a first cell, if given)."
    from nbdev.test import nb_test_cells
    run = {c.idx_ for c in nb_test_cells(fn, skip_flags=skip_flags())}
    nb = nbformat.read(fn, as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        c.outputs, c.execution_count = [], None            # only what this run shows is checked (and saved)
        if i not in run: c.source = ''
    if prelude is not None: nb.cells.insert(0, nbformat.v4.new_code_cell(prelude))
    return nb, len(run)

def execute(fn:Path, kernel_dir:Path, prelude:str|None=None, nb=None, env:dict|None=None):
    """Run (a prepared copy of) `fn` in a fresh kernel, environment `env` (default `kernel_env()`): the executed notebook, or
    nbclient's error."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    if nb is None: nb, _ = prepare(fn, prelude)
    km = AsyncKernelManager(kernel_name='python3', kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
    client = nbclient.NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, kernel_name='python3',
                                     resources={'metadata': {'path': str(fn.parent)}})
    client.execute(env=env or kernel_env(), cleanup_kc=True)   # and shut the kernel down: nbclient keeps a kernel it did not start the manager of
    return nb

_ansi = re.compile(r'\x1b\[[0-9;]*m')

def failing_cell(nb) -> str:
    "Which cell of an executed `nb` raised: its index, id and first source line."
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'code' and any(o.output_type == 'error' for o in c.get('outputs', [])):
            return f"cell {i} (id {c.get('id')}): {c.source.splitlines()[0] if c.source else ''}"
    return 'cell unknown'

def bare_figures(nb) -> list:
    "Outputs that show a matplotlib figure as its text repr only: `text/plain` `<Figure size ...>` and no image (png; jpeg/svg also count)."
    out = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        for o in c.get('outputs', []):
            d = o.get('data', {})
            if str(d.get('text/plain', '')).startswith('<Figure size') and not any(k.startswith('image/') for k in d):
                out.append(f"cell {i} (id {c.get('id')}): {d['text/plain']!r} without an image; source: {c.source[:200]!r}")
    return out

def save_copy(nb, fn:Path):
    if d := os.environ.get('FACELAB_PLAIN_KERNEL_OUT'):
        dest = Path(d)/rel(fn)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)

def test_kernel_is_this_interpreter_in_the_notebook_folder(kernel_dir, tmp_path):
    "The kernel runs `sys.executable` (the venv's python) with the notebook's folder as working directory."
    fn = tmp_path/'probe.ipynb'
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('import sys, os; print(sys.executable); print(os.getcwd())')]), fn)
    nb = execute(fn, kernel_dir)
    exe, cwd = nb.cells[0].outputs[0].text.splitlines()
    assert exe == sys.executable and Path(cwd).resolve() == tmp_path.resolve()

def test_background_kernels_get_one_thread_per_library(monkeypatch):
    "The background kernels' libraries get one thread each; a count the environment sets is kept."
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.setenv('FACELAB_THREADS', '3')
    monkeypatch.setenv('MPLBACKEND', 'agg')
    env = background_env()
    assert env['OMP_NUM_THREADS'] == env['OPENBLAS_NUM_THREADS'] == '1' and env['FACELAB_THREADS'] == '3', env
    assert 'MPLBACKEND' not in env

def test_prepare_blanks_the_cells_nbdev_test_skips():
    "Cells with a `tst_flags` flag or `#| eval: false` are blanked; other code cells are kept as they are."
    from fastcore.nbio import read_nb
    from nbdev.frontmatter import nb_frontmatter
    assert skip_flags(), 'tst_flags is empty in pyproject.toml'
    flag = re.compile(r'^\s*#\s*\|\s*(eval\s*:\s*false|' + '|'.join(map(re.escape, skip_flags())) + r')\b', re.M)
    for fn in NOTEBOOKS:
        nb, _ = prepare(fn)
        orig = read_nb(fn)
        fm_skip = str(nb_frontmatter(orig).get('skip_exec', False)).lower() == 'true'
        orig = orig.cells
        for c, o in zip(nb.cells, orig):
            if o.cell_type != 'code': continue
            if fm_skip or flag.search(o.source): assert c.source == '', (rel(fn), o.source[:80])
            else: assert c.source == o.source, (rel(fn), o.source[:80])

def test_a_raising_cell_fails_the_notebook(kernel_dir, tmp_path):
    "A cell that raises is reported with its index and the error, and the cells after it do not run (as in nbdev-test)."
    fn = tmp_path/'broken.ipynb'
    cells = [nbformat.v4.new_code_cell(c) for c in ['x = 1', '1/0', "open('after', 'w').close()"]]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), fn)
    _, n, err, _ = run_one(fn, kernel_dir, prepared=prepare_all(fn))
    assert n == 3 and err and 'cell 1' in err and 'ZeroDivisionError' in err, err
    assert not (tmp_path/'after').exists()

def prepare_all(fn:Path):
    "An in-memory copy of `fn` with every code cell kept (a notebook outside nbs/, which nbdev's settings do not cover)."
    nb = nbformat.read(fn, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    return nb, sum(c.cell_type == 'code' for c in nb.cells)

WORKERS = int(os.environ.get('FACELAB_PLAIN_KERNEL_WORKERS', 2))

def run_one(fn:Path, kernel_dir:Path, prepared=None, env:dict|None=None) -> tuple:
    "Run `fn` as nbdev-test would, in a plain kernel: (executed copy, cells run, error text or None, seconds)."
    nb, n = prepared or prepare(fn)
    if n == 0: return nb, 0, None, 0.
    t, err = time.time(), None
    try: execute(fn, kernel_dir, nb=nb, env=env)
    except nbclient.exceptions.CellTimeoutError as e: err = f"a cell ran over {CELL_TIMEOUT}s in a plain kernel: {e}"
    except nbclient.exceptions.CellExecutionError as e: err = f"{failing_cell(nb)} raised in a plain kernel:\n{_ansi.sub('', str(e))}"
    return nb, n, err, time.time() - t

# The longest notebooks first (measured in plain kernels beside the other tests, 2 at a time: 45-105 s; most others under 40 s), so that
# the workers finish together instead of one of them starting the longest notebook last. Only the order changes.
LONGEST = ['tutorials/crowd_video_study.ipynb', '08_search.ipynb', '15_compare.ipynb', '14_adapt.ipynb', '06a_evaluate.ipynb',
           '10a_video_study.ipynb', '16_track.ipynb']

def run_order(notebooks:list) -> list:
    "`notebooks` with those named in `LONGEST` first, in its order; the others after them, as they were."
    rank = {n: i for i, n in enumerate(LONGEST)}
    return sorted(notebooks, key=lambda fn: rank.get(rel(fn), len(LONGEST)))

def test_run_order_keeps_every_notebook():
    order = run_order(NOTEBOOKS)
    assert sorted(order) == sorted(NOTEBOOKS) and [rel(f) for f in order[:len(LONGEST)]] == LONGEST, [rel(f) for f in order[:9]]

def start_runs(fns:list, tmp:Path) -> tuple:
    """Start running `fns` (longest first) in plain kernels, `WORKERS` at a time, in the background: (pool, path -> future).

    The kernels' environment is this process's when they start (`background_env`: one thread per library), fixed then: a test's
    `monkeypatch.setenv` meanwhile does not reach them. They share the run's FACELAB_HOME, and so its caches, with the tests, as any processes share them (facelab's
    caches take concurrent processes: each image is embedded once, by whichever process claims it first)."""
    from concurrent.futures import ThreadPoolExecutor
    kdir, env = make_kernel_dir(tmp/'kernels'), background_env()
    pool = ThreadPoolExecutor(WORKERS, thread_name_prefix='plain-kernel')
    return pool, {fn: pool.submit(run_one, fn, kdir, env=env) for fn in run_order(fns)}

@skip_all
@pytest.mark.parametrize('fn', NOTEBOOKS, ids=rel)
def test_notebook_runs_in_a_plain_kernel(fn, plain_runs):
    if isinstance(plain_runs[fn], str): pytest.skip(f"run whole in JupyterLab instead, by {plain_runs[fn]}")
    nb, n, err, secs = plain_runs[fn].result()
    if n == 0: pytest.skip('nbdev-test runs no cell of it (skip_exec, or only skipped cells)')
    print(f"{rel(fn)}: {n} cells in {secs:.1f}s")
    save_copy(nb, fn)
    if err: pytest.fail(f"{rel(fn)}: {err}", pytrace=False)
    bad = bare_figures(nb)
    assert not bad, f"{rel(fn)}: figure(s) shown as text only in a plain kernel:\n" + '\n'.join(bad)

def test_notebooks_left_to_jupyterlab_are_the_ones_it_runs(request):
    "Each notebook not run here because `tests/test_browser.py` runs it is a notebook of nbs/, named by that browser test."
    from conftest import in_jupyterlab
    left = in_jupyterlab(request.session.items)
    if not left: pytest.skip('no browser test runs in this session (not selected, or no Chromium/Playwright)')
    assert set(left) <= {rel(f) for f in NOTEBOOKS}, left
    for nb, test in left.items():
        stem = Path(nb).stem.split('_', 1)[-1]   # 'threshold_study', 'identification', 'widgets'
        assert nb in test or f"test_{stem}_" in test, (nb, test)
