"""Lines over 120 characters in the code cells of notebooks (export cells, and the rest with --all), per notebook.

    .venv/bin/python tools/long_lines.py [--all] [--show] nbs/*.ipynb
"""
import json, re, sys
WIDTH = 120

def long_lines(fn:str, every:bool=False) -> list:
    "(cell id, line) of the code lines over WIDTH in `fn`'s export cells (every code cell with `every`)."
    out = []
    for c in json.load(open(fn))['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not (every or re.search(r'^#\|\s*export', src, re.M)): continue
        out += [(c.get('id'), l) for l in src.splitlines() if len(l) > WIDTH]
    return out

if __name__ == '__main__':
    args = sys.argv[1:]
    every, show = '--all' in args, '--show' in args
    total = 0
    for fn in [a for a in args if not a.startswith('--')]:
        ls = long_lines(fn, every)
        total += len(ls)
        if ls: print(f"{len(ls):5d} {fn}")
        if show:
            for cid, l in ls: print(f"      {cid} {len(l)}: {l[:160]}")
    print(f"{total:5d} in all")
