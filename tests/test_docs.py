"""What can be checked of the documentation site without Quarto.

- links between chapters (`*.html` / `*.ipynb` in markdown cells) point at notebooks that exist;
- every notebook is in the sidebar (`nbs/sidebar.yml`, used because `custom_sidebar = true`) and every sidebar entry exists;
- every exported function, class and method has a docstring, so `show_doc` renders a useful API page;
- each notebook goes through nbdev's docs processors (what `nbdev-proc-nbs` / `nbdev-docs` run before Quarto: they execute
  the exported cells, every cell containing an import, and the `show_doc` cells, without the cells in between) without an
  error, and without a cell that mixes imports with other code (nbdev only warns "Found cells containing imports and other
  code"; CONTRIBUTING.md makes it a rule, so here it fails) -- about a minute; set FACELAB_SKIP_DOCS_EXEC=1 to skip it locally.

What only CI can show: that Quarto renders the processed notebooks to HTML and the site deploys.
"""
import ast, fnmatch, json, os, re, sys
from contextlib import contextmanager
from pathlib import Path
import pytest, yaml

from conftest import ROOT as root, NBS as nbs, NOTEBOOKS, rel

def html_name(p:Path) -> str:
    "The page a notebook becomes on the site, as nbdev names it (numeric prefix stripped): `nbs/06a_evaluate.ipynb` -> `evaluate.html`."
    from nbdev.config import nbpath2html
    return nbpath2html(p).as_posix()

PAGES = {html_name(Path(rel(p))): p for p in NOTEBOOKS} | {rel(p): p for p in NOTEBOOKS}

_link = re.compile(r"\]\(([^)\s]+)\)|href=[\"']([^\"']+)[\"']")

def local_links(md:str) -> list:
    "Relative links to `.html` / `.ipynb` pages in markdown text (anchors and query strings dropped)."
    out = []
    for a, b in _link.findall(md):
        url = (a or b).split('#')[0].split('?')[0]
        if url and not re.match(r'^[a-z][a-z0-9+.-]*:|^/', url) and url.endswith(('.html', '.ipynb')): out.append(url)
    return out

def test_local_links_finds_relative_pages_only():
    md = "[a](core.html) [b](tutorials/x.ipynb#y) [c](https://x.org/a.html) <a href='pairs.html'>p</a> [d](img.png)"
    assert local_links(md) == ['core.html', 'tutorials/x.ipynb', 'pairs.html']

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=rel)
def test_links_between_chapters_resolve(nb):
    cells = json.loads(nb.read_text())['cells']
    broken = []
    for c in cells:
        if c['cell_type'] != 'markdown': continue
        for url in local_links(''.join(c['source'])):
            target = os.path.normpath((Path(rel(nb)).parent/url).as_posix())
            if target not in PAGES: broken.append(url)
    assert not broken, f"{rel(nb)} links to pages that no notebook produces: {broken}"

def sidebar_entries(items=None) -> list:
    "Every file entry (or glob) in nbs/sidebar.yml."
    if items is None: items = yaml.safe_load((nbs/'sidebar.yml').read_text())['website']['sidebar']['contents']
    out = []
    for it in ([items] if isinstance(items, str) else items):
        if isinstance(it, str): out.append(it)
        elif isinstance(it, dict):
            if 'href' in it: out.append(it['href'])
            if 'contents' in it: out += sidebar_entries(it['contents'])
    return out

def test_custom_sidebar_is_used():
    import tomllib
    cfg = tomllib.loads((root/'pyproject.toml').read_text())['tool']['nbdev']
    assert cfg['custom_sidebar'] is True, "nbdev would overwrite nbs/sidebar.yml unless custom_sidebar = true"
    assert 'sidebar.yml' in yaml.safe_load((nbs/'_quarto.yml').read_text())['metadata-files']

def test_sidebar_entries_exist():
    missing = [e for e in sidebar_entries() if not ('*' in e or (nbs/e).exists())]
    assert not missing, f"nbs/sidebar.yml lists files that do not exist: {missing}"

def test_every_notebook_in_sidebar():
    entries = sidebar_entries()
    absent = [rel(p) for p in NOTEBOOKS if not any(fnmatch.fnmatch(rel(p), e) for e in entries)]
    assert not absent, f"add these to nbs/sidebar.yml so the site links to them: {absent}"

def exported_without_docstring(path:Path) -> list:
    "Functions and classes in `__all__` of a module that have no docstring (what `show_doc` puts on the API page)."
    tree = ast.parse(path.read_text())
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, 'id', None) == '__all__' for t in n.targets)), [])
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.name in names and not ast.get_docstring(n)]

def test_docstring_check_finds_missing(tmp_path):
    f = tmp_path/'m.py'
    f.write_text("__all__ = ['a', 'B', 'c']\ndef a(): 'doc'\nclass B: pass\ndef c(): pass\ndef _d(): pass\n")
    assert exported_without_docstring(f) == ['B', 'c']

@pytest.mark.parametrize('mod', sorted(p for p in (root/'facelab').glob('*.py') if not p.name.startswith('_')), ids=lambda p: p.name)
def test_exported_functions_have_docstrings(mod):
    bad = exported_without_docstring(mod)
    assert not bad, f"{mod.name}: exported without a docstring: {bad}"

def test_modidx_lists_every_module():
    from facelab._modidx import d
    mods = {f"facelab.{p.stem}" for p in (root/'facelab').glob('*.py') if not p.name.startswith('_')}
    assert mods <= set(d['syms']), f"not in facelab/_modidx.py (run nbdev-export): {sorted(mods - set(d['syms']))}"

MIXED_IMPORTS = 'Found cells containing imports and other code'   # nbdev.processors._do_eval's warning

@contextmanager
def config_read_once():
    """nbdev's `get_config`, read once per folder and arguments while the processors run: they ask for it for every cell, and
    each call parses pyproject.toml again (40% of the processing time). The settings are the same; only the reads are saved."""
    import nbdev.config
    mods = [m for name, m in list(sys.modules.items()) if name.startswith('nbdev') and getattr(m, 'get_config', None)
            is nbdev.config.get_config]
    read, seen = nbdev.config.get_config, {}
    def once(*args, **kw):
        key = (os.getcwd(), args, tuple(sorted(kw.items())))
        if key not in seen: seen[key] = read(*args, **kw)
        return seen[key]
    for m in mods: m.get_config = once
    try: yield
    finally:
        for m in mods: m.get_config = read

def docs_process(nb:Path) -> list:
    """Run `nb` through nbdev's docs processors (as `nbdev-proc-nbs` does, from the notebook's folder); an error raises. Returns the
    cells nbdev warned about for mixing imports with other code; its other warnings (fastcore's docments...) are passed on."""
    import warnings
    from fastcore.nbio import read_nb
    from nbdev.processors import FilterDefaults
    with warnings.catch_warnings(record=True) as caught, config_read_once():
        warnings.simplefilter('always')
        FilterDefaults()(read_nb(nb))
    for w in caught:
        if not str(w.message).startswith(MIXED_IMPORTS): warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return [str(w.message).split('---\n', 1)[-1].rstrip('-\n ') for w in caught if str(w.message).startswith(MIXED_IMPORTS)]

def test_docs_process_finds_mixed_import_cells(tmp_path, monkeypatch):
    import nbformat
    cells = [nbformat.v4.new_code_cell(c) for c in ['#| default_exp x', "#| export\ndef f():\n    'doc'\n    return 1",
                                                     'import os\nx = f()', 'import json', 'y = x + 1']]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path/'x.ipynb')
    monkeypatch.chdir(nbs); monkeypatch.setenv('IN_TEST', '1')   # nbdev's settings: this project's
    assert docs_process(tmp_path/'x.ipynb') == ['import os\nx = f()']

@pytest.mark.skipif(bool(os.environ.get('FACELAB_SKIP_DOCS_EXEC')), reason='FACELAB_SKIP_DOCS_EXEC is set')
@pytest.mark.parametrize('nb', NOTEBOOKS, ids=rel)
def test_docs_processing(nb, monkeypatch):
    """The notebook passes through nbdev's docs processors, as `nbdev-proc-nbs` runs them (no Quarto needed), and none of its
    cells mixes imports with other code (CONTRIBUTING.md, "A chapter": nbdev-docs runs such a cell without the cells before it)."""
    monkeypatch.chdir(nb.parent); monkeypatch.setenv('IN_TEST', '1')
    mixed = docs_process(nb)
    assert not mixed, (f"{rel(nb)}: {len(mixed)} cell(s) mix imports with other code; move the imports to the imports cells at the "
                       "top (CONTRIBUTING.md, 'A chapter'):\n" + '\n---\n'.join(c[:600] for c in mixed))

# ---- what the stored outputs show a reader (tools/clean_outputs.py keeps them so; tools/run_notebooks.py runs it)
sys.path.insert(0, str(root/'tools'))
from clean_outputs import MACHINE_PATH, PROGRESS, _is_progress

MAX_NOTEBOOKS_BYTES = 5*1024*1024

def _outputs(nb:Path):
    "(cell index, output) of every output stored in `nb`."
    for i, c in enumerate(json.loads(nb.read_text())['cells']):
        for o in c.get('outputs', []): yield i, o

def _texts(o:dict) -> list:
    "The text an output shows: stream text, text/* data, a traceback."
    parts = [o.get('text', '')] + [v for k, v in o.get('data', {}).items() if k.startswith('text/')] + [o.get('traceback', '')]
    return [''.join(p) if isinstance(p, list) else p for p in parts]

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=rel)
def test_outputs_show_no_machine_paths(nb):
    bad = [(i, m.group(0)) for i, o in _outputs(nb) for t in _texts(o) for m in MACHINE_PATH.finditer(t)]
    assert not bad, f"{rel(nb)}: outputs show paths of the machine that ran them (cell, path): {bad[:5]}; run tools/clean_outputs.py"

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=rel)
def test_outputs_hold_no_progress_bars(nb):
    bad = [i for i, o in _outputs(nb) if _is_progress(o)]
    assert not bad, f"{rel(nb)}: progress-bar output in cells {bad}; run tools/clean_outputs.py"

def test_notebooks_fit_the_size_budget():
    sizes = {rel(p): p.stat().st_size for p in NOTEBOOKS}
    total = sum(sizes.values())
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    assert total <= MAX_NOTEBOOKS_BYTES, f"notebooks hold {total/1e6:.1f} MB (budget 5 MiB); largest: {top}; run tools/clean_outputs.py"

def test_clean_outputs_rewrites_paths_and_drops_bars():
    from clean_outputs import clean_notebook, path_rules, _data_dir
    nb = {'cells': [{'cell_type': 'code', 'outputs': [
        {'output_type': 'stream', 'name': 'stdout', 'text': [f"{_data_dir()}/deepface/img1.jpg\n", f"{root}/nbs/x.csv\n"]},
        {'output_type': 'stream', 'name': 'stderr', 'text': ['100%|██████| 61/61 [00:02<00:00, 25.1it/s]\n']},
        {'output_type': 'execute_result', 'data': {'text/plain': ["PosixPath('/tmp/tmpab12_x/report')"]}}]}]}
    assert clean_notebook(nb, path_rules()) == 3
    outs = nb['cells'][0]['outputs']
    assert outs[0]['text'] == ['$FACELAB_DATA/deepface/img1.jpg\n', './nbs/x.csv\n']
    assert outs[1]['data']['text/plain'] == ["PosixPath('<tmp>/report')"] and len(outs) == 2
    assert not any(MACHINE_PATH.search(t) for o in outs for t in _texts(o))

def test_stored_outputs_are_already_clean():
    "tools/clean_outputs.py changes nothing in the stored notebooks (it was run, and running it again loses nothing)."
    from clean_outputs import clean_notebook, path_rules
    rules = path_rules()
    dirty = [rel(p) for p in NOTEBOOKS if clean_notebook(json.loads(p.read_text()), rules)]
    assert not dirty, f"run tools/clean_outputs.py: it would change {dirty}"

# ---- lines that fit a screen, docments that reach the API page (tools/ is on sys.path since the section above)
from long_lines import WIDTH, long_lines   # noqa: E402  (CONTRIBUTING.md: lines that fit a screen, 120 characters)
from same_code import docment_lines        # noqa: E402  (fastcore's rule for where a parameter's comment is)

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=rel)
def test_exported_lines_fit_the_width(nb):
    "Every line of an export cell (the library's source) fits in WIDTH characters."
    long = long_lines(str(nb))
    assert not long, f"{rel(nb)}: {len(long)} exported line(s) over {WIDTH} characters, e.g. cell {long[0][0]}: {long[0][1][:90]}"

def lost_docments(src:str) -> list:
    "Comment lines in a function's signature that fastcore's docments reads for no parameter: they never reach the API page."
    return docment_lines(src)[1]

def test_lost_docment_check_finds_a_continuation():
    src = "def f(a, # the first half\n      # the second half\n      b=1, # b\n     ):\n    'doc'\n"
    assert lost_docments(src) == ['f: # the second half']
    assert lost_docments("def g(\n    # above: read\n    a,\n):\n    'doc'\n") == []

@pytest.mark.parametrize('mod', sorted(p for p in (root/'facelab').glob('*.py') if not p.name.startswith('_')), ids=lambda p: p.name)
def test_no_docment_is_continued_on_a_second_line(mod):
    "A parameter's comment is one line: a continuation line under it is dropped from the API page (fastcore's docments)."
    assert not (bad := lost_docments(mod.read_text())), f"{mod.name}: {bad}"
