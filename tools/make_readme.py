"""Write README.md from nbs/index.ipynb (Quarto, which `nbdev-readme` needs, is not installable everywhere).

Markdown cells are copied as they are; code cells become ```python blocks (cells marked `#| hide` are left out,
`#|` directives are dropped); outputs are not copied. `tests/test_readme.py` fails when README.md is stale.
Run: python tools/make_readme.py
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    "README text for the notebook at `nb_path`."
    cells = json.loads(Path(nb_path).read_text())['cells']
    out = ["<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->"]
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': out.append(src.strip())
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.strip().replace(' ', '') in ('#|hide', '#|export', '#|exporti') for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if code: out.append(f"```python\n{code}\n```")
    return '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    (root/'README.md').write_text(render())
    print('README.md written', file=sys.stderr)
