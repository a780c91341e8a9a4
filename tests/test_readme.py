"README.md is generated from nbs/index.ipynb, and its two set-up commands are what CI runs."
import re, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root/'tools'))
import make_readme

def sh_blocks(): return re.findall(r"```sh\n(.*?)\n```", (root/'README.md').read_text(), re.S)

def test_readme_matches_index_notebook():
    assert (root/'README.md').read_text() == make_readme.render(), "README.md is stale: run `python tools/make_readme.py`"

def test_exactly_two_setup_commands():
    blocks = sh_blocks()
    assert len(blocks) == 2 and all('\n' not in b for b in blocks)
    assert 'facelab evaluate sample' in blocks[0] and 'nbdev-test' in blocks[1] and 'pytest' in blocks[1]

def test_ci_runs_the_readme_test_command():
    assert sh_blocks()[1] in (root/'.ci'/'run').read_text()
