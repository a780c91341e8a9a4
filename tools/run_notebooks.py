"""Execute notebooks in place so they keep their outputs (plots, tables) for the documentation site, then clean them.

The site is built from the notebooks as they are stored (`nbdev-docs` does not re-run them), so a chapter shows plots and
tables only when its outputs were saved. This runs each notebook top to bottom the way `nbdev-test` does (execnb, the
current Python, the notebook's folder as working directory), writes the outputs back, runs `nbdev-clean` on it and
`tools/clean_outputs.py` (no machine paths, no progress bars, small images).

- Cells carrying a skip flag (default `weights`: they need model weights that are not installed everywhere) are not run
  and keep whatever outputs they had; so are cells nbdev-test never runs (`#| eval: false`, `skip_exec` notebooks).
- A notebook that raises is left untouched; the others still run; the exit status is 1 if any failed.

Usage (from the repository root):
    .venv/bin/python tools/run_notebooks.py                         # nbs/*.ipynb and nbs/tutorials/*.ipynb
    .venv/bin/python tools/run_notebooks.py nbs/12_widgets.ipynb    # only these
    .venv/bin/python tools/run_notebooks.py --skip "weights slow"   # skip more flags
"""
import argparse, sys, time, traceback
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from clean_outputs import clean_file

root = Path(__file__).resolve().parents[1]

def notebooks(paths=()) -> list:
    "The notebooks to run: `paths`, or every notebook in nbs/ and nbs/tutorials/ (names starting with `_` or `.` left out)."
    if paths: return [Path(p).resolve() for p in paths]
    nbs = sorted((root/'nbs').glob('*.ipynb')) + sorted((root/'nbs'/'tutorials').glob('*.ipynb'))
    return [p for p in nbs if not p.name.startswith(('_', '.'))]

def run_notebook(fn, # notebook path
                 skip=('weights',), # cells with any of these flags are not run
                 mpl_format:str='png', # matplotlib output format ('png' keeps the notebooks small; 'retina' is sharper)
                 cell_timeout:int|None=600, # seconds per cell
                ) -> int: # number of cells run
    "Run `fn` as nbdev-test would (skipping `skip`-flagged cells), write its outputs back and clean it with nbdev-clean."
    from fastcore.nbio import read_nb, write_nb
    from fastcore.xtras import working_directory
    from execnb.shell import CaptureShell
    from nbdev.test import nb_test_cells
    from nbdev.clean import nbdev_clean
    fn = Path(fn).resolve()
    run = {c.idx_ for c in nb_test_cells(fn, skip_flags=list(skip))}   # same cell selection as nbdev-test
    nb = read_nb(fn)
    shell = CaptureShell(fn, mpl_format=mpl_format)
    with working_directory(fn.parent):
        shell.run_all(nb, exc_stop=True, preproc=lambda c: c.idx_ not in run, cell_timeout=cell_timeout)
    write_nb(nb, fn)
    nbdev_clean.__wrapped__(fname=str(fn))
    clean_file(fn)   # no machine paths, no progress bars, small images (tools/clean_outputs.py)
    return len(run)

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('paths', nargs='*', help='notebooks (default: all of nbs/ and nbs/tutorials/)')
    p.add_argument('--skip', default='weights', help='space-separated cell flags not to run (default: weights)')
    p.add_argument('--mpl-format', default='png', help="matplotlib format: png (default) or retina")
    a = p.parse_args(argv)
    failed = []
    for fn in notebooks(a.paths):
        t = time.time()
        try: n = run_notebook(fn, a.skip.split(), a.mpl_format)
        except Exception:
            failed.append(fn); print(f"FAILED {fn.relative_to(root)} (left unchanged)\n{traceback.format_exc()}", file=sys.stderr)
        else: print(f"ok {fn.relative_to(root)}: {n} cells in {time.time()-t:.1f}s", file=sys.stderr)
    if failed: print(f"{len(failed)} notebook(s) failed: {', '.join(str(f.relative_to(root)) for f in failed)}", file=sys.stderr)
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
