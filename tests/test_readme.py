"README.md is generated from nbs/index.ipynb, and its two set-up commands are what CI runs."
import re, sys
from pathlib import Path

from conftest import ROOT as root
sys.path.insert(0, str(root/'tools'))
import make_readme

def sh_blocks(): return re.findall(r"```sh\n(.*?)\n```", (root/'README.md').read_text(), re.S)

def test_readme_matches_index_notebook():
    assert (root/'README.md').read_text() == make_readme.render(), "README.md is stale: run `python tools/make_readme.py`"

def test_exactly_two_setup_commands():
    "The second command runs all the tests: pytest on tests/, which runs the notebooks too (tests/test_plain_kernel.py), once."
    blocks = sh_blocks()
    assert len(blocks) == 2 and all('\n' not in b for b in blocks)
    assert 'facelab evaluate sample' in blocks[0] and blocks[1].endswith('.venv/bin/pytest -q tests/')
    assert 'nbdev-test' not in blocks[1], "the notebooks run in tests/test_plain_kernel.py: nbdev-test before pytest runs them twice"
    assert (root/'tests'/'test_plain_kernel.py').is_file()

def test_ci_runs_the_readme_test_command():
    assert sh_blocks()[1] in (root/'.ci'/'run').read_text()

def section(title) -> str:
    "The text of the README's `## title` section, up to the next `## ` heading."
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", (root/'README.md').read_text(), re.S | re.M)
    assert m, f"README.md has no `## {title}` section"
    return m.group(1)

def test_use_it_comes_first_with_facelab_commands_that_parse():
    "The PyPI reader's section: `pip install facelab`, then `facelab` commands the installed CLI accepts, before the clone commands."
    import shlex
    from facelab.cli import parser
    text = (root/'README.md').read_text()
    assert text.index('## Use it') < text.index('## From a fresh clone') < text.index(sh_blocks()[0])
    lines = re.findall(r"```bash\n(.*?)\n```", section('Use it'), re.S)[0].splitlines()
    assert lines[0] == 'pip install facelab' and 'facelab weights install' in lines and 'facelab evaluate sample --out facelab-report' in lines
    for line in lines[1:]:
        words = shlex.split(line)
        assert words[0] == 'facelab', line
        parser().parse_args(words[1:])   # exits (SystemExit) on a command or option the CLI does not have

def test_use_it_python_calls_exist():
    "Every `from facelab.X import Y` of the Use-it Python imports, and the keywords it passes are the function's."
    import ast, importlib, inspect
    for block in re.findall(r"```python\n(.*?)\n```", section('Use it'), re.S):
        tree, names = ast.parse(block), {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for a in node.names: names[a.asname or a.name] = getattr(importlib.import_module(node.module), a.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
                params = inspect.signature(names[node.func.id]).parameters
                assert all(k.arg in params for k in node.keywords), ast.unparse(node)

def chapter_table_pages() -> list:
    "The pages linked from table rows of the README's Chapters section, relative to the site (`core.html`, `tutorials/x.html`)."
    site = re.search(r'site-url:\s*"?([^"\s]+)', (root/'nbs'/'nbdev.yml').read_text()).group(1).rstrip('/') + '/'
    rows = [l for l in section('Chapters').splitlines() if l.startswith('|')]
    return [u[len(site):] for l in rows for u in re.findall(r"\]\(([^)\s]+)\)", l) if u.startswith(site)]

def test_chapter_tables_list_every_chapter_and_tutorial():
    "Each notebook of nbs/ and nbs/tutorials/ (but index and `_*`) has a row, and each row's link is a notebook's page."
    from nbdev.config import nbpath2html
    nbs = root/'nbs'
    notebooks = [p for p in [*nbs.glob('*.ipynb'), *(nbs/'tutorials').glob('*.ipynb')]
                 if p.stem != 'index' and not p.name.startswith(('_', '.'))]
    pages = {nbpath2html(p.relative_to(nbs)).as_posix(): p for p in notebooks}
    linked = chapter_table_pages()
    assert not (missing := sorted(set(pages) - set(linked))), f"no row in README's chapter tables (nbs/index.ipynb) for {missing}"
    assert not (dead := sorted(set(linked) - set(pages))), f"chapter-table rows link to pages no notebook makes: {dead}"
