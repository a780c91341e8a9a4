"""Check that a re-wrapped notebook still means what it meant: each code cell's AST against the same cell (by id) at a git
revision, and each function's documented parameters (a docment is a comment on the parameter's line or, when that has
none, the comment lines right above it; fastcore's `docments` reads nothing else).

    .venv/bin/python tools/same_code.py [--rev HEAD] nbs/NN_chapter.ipynb [...]

Prints the cells whose code changed (string literals compared as text, so a reworded message shows; docstrings are left
out: reword them freely) and the parameters that lost their docment; exits 1 if there is any.
"""
import ast, io, json, subprocess, sys, tokenize

def _cells(text:str) -> dict:
    "Cell id -> source of a notebook's code cells."
    return {c.get('id'): ''.join(c['source']) for c in json.loads(text)['cells'] if c['cell_type'] == 'code'}

def _python(src:str) -> str:
    "A cell's Python: magics and shell lines blanked, so it parses."
    return '\n'.join('' if l.lstrip().startswith(('%', '!')) else l for l in src.splitlines())

def _tree(src:str):
    "The cell's AST dump without positions and without docstrings (None if it does not parse)."
    try: tree = ast.parse(_python(src))
    except SyntaxError: return None
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and ast.get_docstring(n) is not None:
            n.body[0] = ast.Pass()
    return ast.dump(tree, include_attributes=False)

def docment_lines(src:str) -> tuple:
    """Where fastcore's `docments` finds each parameter's comment: the comment on the parameter's line or, when that has none,
    the comment lines right above it. Returns (function -> {parameter or 'return': its comment lines}, and the comment-only
    lines inside signatures that no parameter takes, as `name: comment`: a docment continued there never reaches the docs)."""
    try: tree = ast.parse(_python(src))
    except SyntaxError: return {}, []
    comments = {}
    try:
        for tk in tokenize.generate_tokens(io.StringIO(_python(src)).readline):
            if tk.type == tokenize.COMMENT: comments[tk.start[0]] = tk.string
    except (tokenize.TokenError, IndentationError): return {}, []
    lines, found, lost = src.splitlines(), {}, []
    for f in ast.walk(tree):
        if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
        a = f.args
        params = {x.arg: x.lineno for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]}
        if f.returns is not None: params['return'] = f.returns.lineno
        taken = {}
        for name, ln in params.items():
            if ln in comments: taken[name] = [ln]
            else:
                above = []
                while ln - 1 - len(above) in comments and ln - 1 - len(above) not in params.values():
                    above.append(ln - 1 - len(above))
                if above: taken[name] = above
        found[f.name] = taken
        used = {ln for ls in taken.values() for ln in ls}
        for ln in range(f.lineno + 1, f.body[0].lineno):   # the signature's lines after the `def` line
            if ln in comments and lines[ln - 1].strip().startswith('#') and ln not in used:
                lost.append(f"{f.name}: {lines[ln - 1].strip()[:60]}")
    return found, lost

def _documented(src:str) -> dict:
    "function name -> the parameters (and 'return') that have a docment."
    return {f: set(ps) for f, ps in docment_lines(src)[0].items()}

def check(fn:str, rev:str='HEAD') -> list:
    "Problems of notebook `fn` against its version at `rev`."
    try: old = _cells(subprocess.run(['git', 'show', f'{rev}:{fn}'], capture_output=True, text=True, check=True).stdout)
    except subprocess.CalledProcessError: return []   # a new notebook
    new, probs = _cells(open(fn).read()), []
    for cid, src in new.items():
        if cid not in old: continue
        if _tree(src) != _tree(old[cid]): probs.append(f"{fn} cell {cid}: the code changed (first line: {src.splitlines()[0][:80]!r})")
        was, now = _documented(old[cid]), _documented(src)
        for f, ps in was.items():
            if lost := ps - now.get(f, set()): probs.append(f"{fn} cell {cid}: {f}() lost the docment of {sorted(lost)}")
    return probs

if __name__ == '__main__':
    args, rev = sys.argv[1:], 'HEAD'
    if args[:1] == ['--rev']: rev, args = args[1], args[2:]
    probs = [p for fn in args for p in check(fn, rev)]
    print('\n'.join(probs) or 'same code, same docments')
    sys.exit(1 if probs else 0)
