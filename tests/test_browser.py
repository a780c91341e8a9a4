"""Notebooks as a user runs them: a real JupyterLab, driven through its menus in a real Chromium (Playwright).

Each notebook is opened in JupyterLab and run with Run > Run All Cells; then the page is read the way a person reads it: no
error output, every figure an image (not the text `<Figure size 750x400 with 1 Axes>`), every widget rendered. In
`12_widgets.ipynb` the widgets are then used -- the threshold explorer's slider and buttons, the gallery's filter, order and
pages -- and each must change what is shown.

Needs Debian's Chromium (`apt-get install chromium`) and the `playwright` package (`pip install playwright`; never
`playwright install`: the system's Chromium is used). Without them the tests skip and say why. Marked `browser`
(`pytest -m "not browser"` leaves them out). `FACELAB_BROWSER_SCREENSHOTS=DIR` keeps the screenshots in DIR.

The kernels inherit this process's environment, so a regression can be staged without touching facelab/: e.g.
`IPYTHONDIR=DIR` with `DIR/profile_default/startup/x.py` doing `del facelab.core.Figure._repr_png_` makes the figures of
threshold_study and 12_widgets print as `<Figure size ...>` text, and these tests fail on it.
"""
import ast, base64, hashlib, json, os, queue, re, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest, warnings

pytestmark = pytest.mark.browser

from conftest import NBS
CHROMIUM = Path(os.environ.get('FACELAB_CHROMIUM', '/usr/bin/chromium'))   # Debian's; another Chromium build: FACELAB_CHROMIUM=path
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
# what the notebooks need in the copy JupyterLab serves: the tutorials, the widgets chapter, and nbdev's project files
COPY = ['tutorials', '12_widgets.ipynb', '_quarto.yml', 'nbdev.yml']
START_TIMEOUT = 90     # s, JupyterLab answering
RUN_TIMEOUT = 420      # s, one notebook's Run All
UI_TIMEOUT = 30_000    # ms, a widget reacting to a click
FIGURE_TEXT = re.compile(r"<Figure size \d+x\d+ with")


def browser_missing() -> str|None:
    "Why these tests cannot run here (what to install), or None when Chromium and Playwright are here."
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"browser test skipped: no Chromium at {CHROMIUM} (apt-get install chromium)"
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return "browser test skipped: the playwright Python package is missing (.venv/bin/pip install playwright)"


def _require_browser():
    "Skip (saying what to install) unless Chromium and Playwright are here."
    if why := browser_missing(): pytest.skip(why)


def notebook_of(item) -> str|None:
    """The notebook (its path under nbs/) that a collected test of this module runs whole in JupyterLab, or None.

    Run All runs every code cell, a superset of what `nbdev-test` runs, and the test fails on any error output or any figure shown
    as text: so `tests/conftest.py` does not run these notebooks a second time in a plain kernel when their test here runs."""
    name = getattr(item, 'originalname', '')
    if name == 'test_tutorial_runs_in_jupyterlab': return item.callspec.params['nb']
    if name == 'test_widgets_notebook_in_jupyterlab': return '12_widgets.ipynb'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _get(url: str, timeout: float = 5):
    with urllib.request.urlopen(url, timeout=timeout) as r: return json.loads(r.read() or b'null')


class Lab:
    "A JupyterLab server on 127.0.0.1 serving a temporary copy of `nbs/`."
    def __init__(self, tmp: Path):
        self.root, self.home = tmp/'nbs', tmp/'jupyter'
        self.root.mkdir()
        for name in COPY:
            src = NBS/name
            if src.is_dir(): shutil.copytree(src, self.root/name, ignore=shutil.ignore_patterns('.ipynb_checkpoints', '__pycache__'))
            elif src.exists(): shutil.copy2(src, self.root/name)
        # user settings of this server only: every cell in the DOM (no windowing), no news toast
        settings = self.home/'settings'
        for ext, value in [('@jupyterlab/notebook-extension/tracker', {'windowingMode': 'none'}),
                           ('@jupyterlab/apputils-extension/notification', {'fetchNews': 'false', 'checkForUpdates': False})]:
            (settings/ext).parent.mkdir(parents=True, exist_ok=True)
            (settings/f"{ext}.jupyterlab-settings").write_text(json.dumps(value))
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(self.home/'config'), 'JUPYTERLAB_SETTINGS_DIR': str(settings),
               'JUPYTERLAB_WORKSPACES_DIR': str(self.home/'workspaces'), 'JUPYTER_RUNTIME_DIR': str(self.home/'runtime')}
        env.pop('MPLBACKEND', None)   # a plain kernel, as a user starts it
        self.log_path = tmp/'jupyterlab.log'
        self.log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--allow-root', '--ServerApp.ip=127.0.0.1',
             f"--ServerApp.port={self.port}", '--ServerApp.port_retries=0', f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", '--LabApp.news_url=None', '--LabApp.extension_manager=readonly',
             '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
            cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait()

    def _wait(self):
        t0 = time.time()
        while time.time() - t0 < START_TIMEOUT:
            if self.proc.poll() is not None: break
            try: _get(self.api('status')); return
            except OSError: time.sleep(0.5)
        self.stop()
        pytest.fail(f"JupyterLab did not answer on {self.url} within {START_TIMEOUT} s:\n{self.log_text()[-3000:]}")

    def api(self, path: str) -> str: return f"{self.url}/api/{path}?token={self.token}"
    def lab_url(self, nb: str) -> str:
        "The notebook in a workspace of its own (JupyterLab would otherwise reopen, and start kernels for, the notebooks of earlier tests)."
        return f"{self.url}/lab/workspaces/{re.sub(r'[^A-Za-z0-9]+', '-', nb)}/tree/{nb}?token={self.token}"
    def log_text(self) -> str: return self.log_path.read_text(errors='replace')

    def sessions(self) -> list: return _get(self.api('sessions'))

    def kernel_eval(self, nb: str, **exprs) -> dict:
        """Python values of `exprs` in the kernel of `nb`: a second client on its connection file, silent (nothing shows in the
        page). A request with no reply in 30 s is asked again on a new connection, twice at most: once in a busy run a reply
        never came (cause not found; ipykernel 7 has stranded shell requests before, ipython/ipykernel#1554)."""
        from jupyter_client import BlockingKernelClient
        kid = next(s['kernel']['id'] for s in self.sessions() if s['path'] == nb)
        for attempt in range(3):
            kc = BlockingKernelClient(connection_file=str(self.home/'runtime'/f"kernel-{kid}.json"))
            kc.load_connection_file()
            kc.start_channels(hb=False)   # no heartbeat thread: on a busy machine one failed with 'Too many open files'
            try:
                msg_id = kc.execute('', silent=True, store_history=False, user_expressions=exprs)
                while (reply := kc.get_shell_msg(timeout=30))['parent_header'].get('msg_id') != msg_id: pass
                break
            except queue.Empty:
                if attempt == 2: raise
                print(f"kernel_eval({nb}): no reply in 30 s, asking again on a new connection")
            finally: kc.stop_channels()
        out = reply['content']['user_expressions']
        bad = {k: v for k, v in out.items() if v.get('status') != 'ok'}
        assert not bad, f"kernel_eval: {bad}"
        return {k: ast.literal_eval(v['data']['text/plain']) for k, v in out.items()}

    def shutdown_kernels(self):
        "Stop the kernels (each notebook's models stay in memory until then)."
        for s in self.sessions():
            req = urllib.request.Request(self.api(f"sessions/{s['id']}"), method='DELETE')
            try: urllib.request.urlopen(req, timeout=30).close()
            except OSError: pass

    def stop(self):
        if self.proc.poll() is None:
            try: os.killpg(self.proc.pid, 15); self.proc.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try: os.killpg(self.proc.pid, 9)
                except ProcessLookupError: pass
                self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    _require_browser()
    server = Lab(tmp_path_factory.mktemp('lab'))
    yield server
    server.stop()


@pytest.fixture(scope='module')
def browser(lab):
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close(); pw.stop()


@pytest.fixture
def page(browser, lab, request):
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1600})
    pg = ctx.new_page()
    failed = request.session.testsfailed
    yield pg
    if request.session.testsfailed > failed:
        name = 'browser_failed_' + re.sub(r'[^\w.-]+', '_', request.node.name) + '.png'
        print(f"screenshot: {_screenshot(pg, name, request)}")
    ctx.close()
    lab.shutdown_kernels()


def _screenshot(pg, name: str, request) -> Path:
    folder = Path(os.environ.get('FACELAB_BROWSER_SCREENSHOTS') or request.config._tmp_path_factory.getbasetemp())
    folder.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(folder/name))
    return folder/name


# ---- reading a notebook and driving JupyterLab ----

def _expected(lab, nb: str) -> dict:
    "From the notebook file JupyterLab serves: the cells whose saved outputs are images, and those showing widgets."
    cells = json.loads((lab.root/nb).read_text())['cells']
    kinds = lambda c: {k for o in c.get('outputs', []) for k in o.get('data', {})}
    return dict(cells=cells,
                images=[i for i, c in enumerate(cells) if kinds(c) & {'image/png', 'image/jpeg'}],
                widgets=[i for i, c in enumerate(cells) if 'application/vnd.jupyter.widget-view+json' in kinds(c)],
                code=[i for i, c in enumerate(cells) if c['cell_type'] == 'code'])


def _cell_index(lab, nb: str, needle: str) -> int:
    "The index of the one code cell of `nb` whose source contains `needle`."
    cells = json.loads((lab.root/nb).read_text())['cells']
    hits = [i for i, c in enumerate(cells) if c['cell_type'] == 'code' and needle in ''.join(c['source'])]
    assert len(hits) == 1, f"{nb}: {len(hits)} code cells contain {needle!r}"
    return hits[0]


NOTEBOOK = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook'
KERNEL_IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"


def _open(pg, lab, nb: str):
    "Open `nb` and wait for its kernel (accepting the kernel choice if JupyterLab asks for one)."
    pg.goto(lab.lab_url(nb), wait_until='domcontentloaded')
    pg.wait_for_selector(f"{NOTEBOOK} .jp-Cell", timeout=120_000)
    t0 = time.time()
    while time.time() - t0 < 120:
        dialog = pg.locator('.jp-Dialog')
        if dialog.count() and dialog.first.is_visible():
            text = dialog.first.inner_text()
            assert 'kernel' in text.lower(), f"unexpected dialog: {text}"
            dialog.first.locator('.jp-Dialog-button.jp-mod-accept').click()   # the default: the venv's Python 3
        kernel = next((s['kernel'] for s in lab.sessions() if s['path'] == nb), None)
        if kernel and kernel['execution_state'] == 'idle' and pg.locator(KERNEL_IDLE).count(): break
        pg.wait_for_timeout(250)
    else: pytest.fail(f"{nb}: no idle kernel in JupyterLab after 120 s:\n{lab.log_text()[-3000:]}")
    assert kernel['name'] == 'python3', f"{nb}: kernel {kernel}"
    name = pg.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName').first.inner_text()
    assert 'Python 3' in name, name


def _run_all(pg, nb: str) -> float:
    "Run > Run All Cells through the menu bar; wait until no cell is running or queued. The seconds it took."
    n_code = pg.locator(f"{NOTEBOOK} .jp-CodeCell").count()
    t0 = time.time()
    pg.locator('.lm-MenuBar-item', has_text=re.compile(r'^Run$')).click()
    pg.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
    done = f"""() => {{
        const nb = document.querySelector("{NOTEBOOK}");
        const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
        const idle = document.querySelector("{KERNEL_IDLE}") !== null;
        const failed = nb.querySelector("[data-mime-type='application/vnd.jupyter.error']") !== null
                    || [...nb.querySelectorAll('.jp-OutputArea-output')].some(o => o.textContent.includes('Traceback'));
        return idle && !prompts.some(p => p.includes('*')) && (failed || prompts.every(p => /\\d/.test(p)));
    }}"""
    pg.wait_for_timeout(500)
    pg.wait_for_function(done, timeout=RUN_TIMEOUT*1000, polling=500)
    dt = time.time() - t0
    assert pg.locator(f"{NOTEBOOK} .jp-CodeCell").count() == n_code
    return dt


def _cells(pg):
    "What each cell of the open notebook shows: its prompt, outputs (mime type, text), images, widgets."
    return pg.evaluate(f"""() => [...document.querySelector("{NOTEBOOK}").querySelectorAll(':scope .jp-Cell')].map(c => ({{
        prompt: (c.querySelector('.jp-InputPrompt') || {{}}).textContent || '',
        outputs: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => ({{
            mime: o.getAttribute('data-mime-type') || '', text: o.textContent}})),
        images: [...c.querySelectorAll('.jp-RenderedImage img')].map(i => [i.naturalWidth, i.naturalHeight]),
        widgets: c.querySelectorAll('.jupyter-widgets.widget-container, .jupyter-widgets.widget-inline-hbox, .jupyter-widgets.widget-inline-vbox').length,
        widget_imgs: [...c.querySelectorAll('.jupyter-widgets img')].map(i => i.naturalWidth),
    }}))""")


def _check_outputs(pg, lab, nb: str) -> list:
    "No errors, every saved figure an image again, no figure printed as text, every widget rendered. Returns the stderr texts."
    exp, cells = _expected(lab, nb), _cells(pg)
    assert len(cells) == len(exp['cells']), f"{nb}: JupyterLab shows {len(cells)} cells, the file has {len(exp['cells'])}"
    errors, stderr = [], []
    for i, c in enumerate(cells):
        for o in c['outputs']:
            if o['mime'] == 'application/vnd.jupyter.error' or 'Traceback' in o['text'] or re.search(r'^\w*(Error|Exception)\b', o['text'], re.M):
                errors.append(f"cell {i}: {o['text'][-1500:]}")
            elif o['mime'] == 'application/vnd.jupyter.stderr': stderr.append(f"cell {i}: {o['text'][:300]}")
    assert not errors, f"{nb}: error output:\n" + '\n'.join(errors)
    for i in exp['code']: assert re.search(r'\d', cells[i]['prompt']), f"{nb}: cell {i} did not run (prompt {cells[i]['prompt']!r})"
    as_text = [f"cell {i}: {m.group(0)}..." for i, c in enumerate(cells) for o in c['outputs'] if (m := FIGURE_TEXT.search(o['text']))]
    assert not as_text, f"{nb}: figures shown as text, not images:\n" + '\n'.join(as_text)
    for i in exp['images']:
        imgs = cells[i]['images']
        assert imgs and all(w > 0 and h > 0 for w, h in imgs), f"{nb}: cell {i} showed an image when saved, now {cells[i]['outputs']}"
    n_img = sum(len(c['images']) for c in cells)
    assert n_img >= len(exp['images']), f"{nb}: {n_img} images shown, the saved notebook has {len(exp['images'])}"
    broken = [f"cell {i}: {o['text'][:200]}" for i, c in enumerate(cells) for o in c['outputs']
              if 'Error displaying widget' in o['text'] or 'Loading widget' in o['text']]
    assert not broken, f"{nb}: widgets not displayed:\n" + '\n'.join(broken)
    for i in exp['widgets']:
        assert cells[i]['widgets'] > 0, f"{nb}: cell {i} shows no widget: {cells[i]['outputs']}"
        assert all(w > 0 for w in cells[i]['widget_imgs']), f"{nb}: cell {i}: a widget image did not load"
    return stderr


def _wait_widgets(pg, lab, nb: str):
    "Widget views render after the kernel is idle (the widget manager fetches their models): wait for them."
    want = _expected(lab, nb)['widgets']
    if not want: return
    js = f"""() => {{
        const cells = document.querySelector("{NOTEBOOK}").querySelectorAll(':scope .jp-Cell');
        return {json.dumps(want)}.every(i => cells[i].querySelector('.jupyter-widgets') !== null
            && ![...cells[i].querySelectorAll('.jupyter-widgets img')].some(im => !im.complete));
    }}"""
    try: pg.wait_for_function(js, timeout=60_000, polling=500)
    except Exception: pass   # _check_outputs says which cell


def run_notebook(pg, lab, nb: str) -> dict:
    _open(pg, lab, nb)
    dt = _run_all(pg, nb)
    _wait_widgets(pg, lab, nb)
    stderr = _check_outputs(pg, lab, nb)
    print(f"{nb}: Run All {dt:.1f} s" + ''.join(f"\n  stderr {s}" for s in stderr))
    return dict(seconds=dt, stderr=stderr)


# ---- the tests ----

@pytest.mark.parametrize('nb', ['tutorials/threshold_study.ipynb', 'tutorials/identification.ipynb'])
def test_tutorial_runs_in_jupyterlab(page, lab, nb):
    run_notebook(page, lab, nb)


def _text(loc) -> str: return loc.first.inner_text().strip()


def _changes(loc, old: str, what: str) -> str:
    "Wait until `loc` shows something other than `old`; what it shows then."
    t0 = time.time()
    while time.time() - t0 < UI_TIMEOUT/1000:
        if (new := _text(loc)) != old: return new
        time.sleep(0.2)
    pytest.fail(f"{what}: still {old!r} after {UI_TIMEOUT/1000:.0f} s")


def _until(fn, what: str, timeout: float = UI_TIMEOUT/1000):
    "Poll `fn` until it returns a true value; that value."
    t0 = time.time()
    while not (v := fn()):
        if time.time() - t0 > timeout: pytest.fail(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.25)
    return v


def _img_sha(pg, img) -> str:
    "SHA-256 of the bytes an <img> shows (a widget image's blob: URL, fetched in the page)."
    b64 = pg.evaluate("""async (img) => { const b = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let s = ''; for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192)); return btoa(s); }""",
        img.element_handle())
    return hashlib.sha256(base64.b64decode(b64)).hexdigest()


SHA = "__import__('hashlib').sha256({}).hexdigest()"


def test_widgets_notebook_in_jupyterlab(page, lab, request):
    nb = '12_widgets.ipynb'
    run_notebook(page, lab, nb)
    cells = page.locator(f"{NOTEBOOK} .jp-Cell")
    k = lambda **e: lab.kernel_eval(nb, **e)

    # -- the threshold explorer on the real distances (`exv`)
    ex = cells.nth(_cell_index(lab, nb, 'exv = ThresholdExplorer('))
    ex.scroll_into_view_if_needed()
    stats, readout, image = ex.locator('.facelab-metrics'), ex.locator('.widget-slider .widget-readout'), ex.locator('img.widget-image')
    # the browser shows the kernel's state: slider, numbers and figure (the figure's PNG, byte for byte)
    def shown():
        st = k(t='exv.threshold', png=SHA.format('exv.image.value'))
        ok = (_text(readout) == f"{st['t']:.4f}" and f"threshold {st['t']:.4f}" in _text(stats) and _img_sha(page, image) == st['png'])
        return ok and st
    t = _until(shown, "the explorer shows the kernel's threshold, metrics and figure")['t']
    shot = _screenshot(page, 'browser_widgets.png', request)
    print(f"screenshot: {shot}")
    buttons = {_text(b).rsplit(': ', 1)[0]: b for b in ex.locator('button').all() if ': ' in _text(b)}   # 'best-f1: 0.5306'
    assert set(buttons) == {'sigma:2', 'best-f1', 'far:1e-3'}, list(buttons)
    labels = {m: _text(b).rsplit(': ', 1)[1] for m, b in buttons.items()}
    s0, r0, sha0 = _text(stats), _text(readout), _img_sha(page, image)
    # the text: "the threshold explorer, starting at SFace's default threshold (0.637)"; its test cell puts it back there
    assert r0 == '0.6370' and abs(t - 0.637) < 1e-12, (f"{nb}: after Run All the explorer on the real distances shows threshold {r0} "
        f"(kernel: exv.threshold = {t!r}), not SFace's default 0.6370 that the notebook's text describes")
    w = stats.first.evaluate("""m => { let e = m.parentElement; while (e && getComputedStyle(e).overflowX === 'visible') e = e.parentElement;
        return [Math.round(m.getBoundingClientRect().right - e.getBoundingClientRect().right), m.scrollWidth]; }""")
    assert w[0] <= 1, (f"{nb}: {w[0]} px of the explorer's {w[1]} px metrics table lie beyond the right edge of the widget "
                       f"(browser window {page.viewport_size['width']} px wide, file browser open): hidden until scrolled sideways")

    # type a threshold into the slider's readout
    readout.click(); page.keyboard.press('Control+A'); page.keyboard.type('0.55'); page.keyboard.press('Enter')
    s1 = _changes(stats, s0, 'metrics after typing 0.55 into the slider')
    assert 'threshold 0.5500' in s1 and _text(readout) == '0.5500', (s1, _text(readout))
    _until(lambda: _img_sha(page, image) != sha0, "the explorer's figure redrawn after typing 0.55")
    assert abs(k(t='exv.threshold')['t'] - 0.55) < 1e-9   # the browser snaps to the slider's grid: 0.5499999999999999

    # arrow keys on the slider's handle: one step up
    ex.locator('.noUi-handle').first.focus(); page.keyboard.press('ArrowRight')
    s2 = _changes(stats, s1, 'metrics after ArrowRight on the slider')
    t2 = k(t='exv.threshold', step='exv.slider.step')
    assert t2['t'] > 0.55 and abs(t2['t'] - 0.55 - t2['step']) < 1e-9, t2
    assert f"threshold {t2['t']:.4f}" in s2 and _text(readout) == f"{t2['t']:.4f}", (t2, s2, _text(readout))

    # a tuned-threshold button jumps there
    for m in ['sigma:2', 'best-f1']:
        if buttons[m].is_disabled(): continue
        before = _text(stats)
        buttons[m].click()
        after = _changes(stats, before, f"metrics after clicking {m}")
        assert f"threshold {labels[m]}" in after, (m, labels[m], after)
        assert _text(readout) == labels[m], f"{m}: slider readout {_text(readout)!r}, button says {labels[m]}"
        assert f"{k(t='exv.threshold')['t']:.4f}" == labels[m]
    assert buttons['far:1e-3'].is_disabled() == (labels['far:1e-3'] == '–')

    # -- the gallery of the real pairs (`gv`)
    gv = cells.nth(_cell_index(lab, nb, 'gv = FaceGallery('))
    gv.scroll_into_view_if_needed()
    info, grid = gv.locator('div.widget-label'), gv.locator('.widget-gridbox')
    toggles = {_text(b).split(' ')[0]: b for b in gv.locator('.widget-toggle-button').all()}
    assert set(toggles) == {'all', 'TP', 'FP', 'FN', 'TN'}, list(toggles)
    count = lambda o: int(re.search(r'\((\d+)\)', _text(toggles[o])).group(1))
    captions = lambda: [t.strip() for t in grid.locator('.widget-html').all_inner_texts()]
    state = lambda: k(f='gv.filter.value', info='gv.info.value', page='gv.page', order='gv.order.value')
    i0, c0, st = _text(info), captions(), state()
    active = _text(gv.locator('.widget-toggle-button.mod-active')).split(' ')[0]
    assert (active, i0) == (st['f'], st['info']), f"the gallery shows {active}, {i0!r}; the kernel has {st}"
    print(f"gallery after Run All: {active}, {i0}")
    other = next(o for o in ['FP', 'TP', 'TN'] if o != active and count(o))
    toggles[other].click()
    i1 = _changes(info, i0, f"gallery page info after filter {other}")
    assert i1.startswith('page 1 /') and i1.endswith(f"of {count(other)}"), i1
    c1 = _until(lambda: (c := captions()) != c0 and c, f"gallery cards after filter {other}")
    assert all(c.startswith(other) for c in c1), c1
    assert grid.locator('img.widget-image').count() == len(c1) == min(8, count(other))
    assert state()['f'] == other

    toggles['all'].click()
    i2 = _changes(info, i1, 'gallery page info after filter all')
    assert i2.startswith('page 1 /') and i2.endswith(f"of {count('all')}"), i2
    prev, nxt = gv.locator('button', has_text='◀'), gv.locator('button', has_text='▶')
    _until(lambda: prev.is_disabled() and nxt.is_enabled(), 'page 1 of all: ◀ disabled, ▶ enabled')
    c2 = _until(lambda: (c := captions()) != c1 and c, 'gallery cards after filter all')
    nxt.click()
    i3 = _changes(info, i2, 'gallery page info after ▶')
    assert i3.startswith('page 2 /'), i3
    _until(lambda: captions() != c2 and prev.is_enabled(), 'page 2: new cards, ◀ enabled')
    assert state()['page'] == 1
    prev.click()
    i4 = _changes(info, i3, 'gallery page info after ◀')
    assert i4 == i2, (i4, i2)
    _until(lambda: captions() == c2, 'page 1 again: the same cards')

    gv.locator('.widget-dropdown select').select_option(label='by distance')
    c5 = _until(lambda: (c := captions()) != c2 and c, 'gallery cards ordered by distance')
    ds = [float(re.search(r'd = (\d+\.\d+)', c).group(1)) for c in c5]
    assert ds == sorted(ds), c5
    assert state()['order'] == 'distance'
