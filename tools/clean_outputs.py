"""Make the stored outputs of notebooks fit to publish: no paths of the machine that ran them, no progress-bar noise, small images.

The documentation site shows the outputs as they are stored, so what a run leaves in them is what a reader sees:

- absolute paths of the machine are rewritten: the data folder becomes `$FACELAB_DATA`, facelab's home `~/.facelab`, the
  repository `.` (paths relative to it), a temporary folder `<tmp>`, any other home folder `~`;
- progress bars (tqdm's stderr lines and its widgets) are dropped;
- a PNG or JPEG over `max_bytes` is shrunk (at most `max_width` pixels wide; a PNG quantised to 256 colours, or stored as a
  JPEG when it is a photo that stays large), so that all
  notebooks together stay within the 5 MB `tests/test_docs.py` allows.

`tools/run_notebooks.py` runs this on every notebook it executes. Usage (from the repository root):

    .venv/bin/python tools/clean_outputs.py            # nbs/*.ipynb and nbs/tutorials/*.ipynb, in place
    .venv/bin/python tools/clean_outputs.py --check    # only report; exit status 1 if anything would change
"""
import argparse, base64, io, json, os, re, sys, tempfile
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def _data_dir() -> Path:
    "The data folder notebooks read (as `facelab.datasets.data_dir` resolves it), without importing facelab."
    d = os.environ.get('FACELAB_DATA')
    return Path(d).resolve() if d else (root.parent/'shared'/'data').resolve()

def path_rules() -> list:
    "(regex, replacement) pairs, most specific first, that turn machine paths into portable ones."
    home = Path(os.environ.get('FACELAB_HOME', Path.home()/'.facelab')).expanduser().resolve()
    tmp = re.escape(str(Path(tempfile.gettempdir()).resolve()))
    rules = [(re.escape(str(_data_dir())), '$FACELAB_DATA'), (re.escape(str(root.parent/'shared'/'data')), '$FACELAB_DATA'),
             (re.escape(str(home)), '~/.facelab'), (re.escape(str(root)) + r'/?', './'),
             (tmp + r'/[A-Za-z0-9_.-]+', '<tmp>'), (tmp + r'(?=/)', '<tmp>'),
             (re.escape(str(Path.home())), '~'), (r'/home/[A-Za-z0-9_.-]+', '~')]
    return [(re.compile(p), r) for p, r in rules]

MACHINE_PATH = re.compile(r"(?<![\w.$~<])/(?:root|home|work|tmp|Users|private/var)/")
PROGRESS = re.compile(r"\d+it \[|it/s\]|s/it\]|\d+%\|")

def clean_text(s:str, rules=None) -> str:
    "`s` with every machine path rewritten by `rules` (default `path_rules()`)."
    for p, r in (rules or path_rules()): s = p.sub(lambda m: r, s)
    return s

def _is_progress(o:dict) -> bool:
    "Whether an output is a progress bar: tqdm on stderr, or a tqdm widget."
    if o.get('output_type') == 'stream': return o.get('name') == 'stderr' and bool(PROGRESS.search(''.join(o.get('text', ''))))
    data = o.get('data', {})
    return 'application/vnd.jupyter.widget-view+json' in data and PROGRESS.search(''.join(data.get('text/plain', ''))) is not None

def shrink_image(b64:str, fmt:str='png', max_bytes:int=20_000, max_width:int=1000) -> tuple:
    """(format, base64) of an image made smaller when over `max_bytes`: at most `max_width` wide; a PNG quantised to 256 colours,
    or stored as a JPEG (quality 80) when it is a photo that stays large; a JPEG re-encoded at quality 75."""
    raw = base64.b64decode(b64)
    if len(raw) <= max_bytes: return fmt, b64
    from PIL import Image
    im = Image.open(io.BytesIO(raw)).convert('RGB')
    if im.width > max_width: im = im.resize((max_width, round(im.height*max_width/im.width)), Image.LANCZOS)
    def encode(f, **kw):
        buf = io.BytesIO()
        (im.quantize(256, method=Image.Quantize.MEDIANCUT) if f == 'png' else im).save(buf, format=f.upper(), optimize=True, **kw)
        return buf.getvalue()
    given = fmt
    if fmt == 'png':
        small = encode('png')
        if len(small) > 2*max_bytes: fmt, small = 'jpeg', min(small, encode('jpeg', quality=80), key=len)
    elif im.size != Image.open(io.BytesIO(raw)).size: small = encode('jpeg', quality=75)
    else: return given, b64   # a JPEG of the right width is kept as it is: no loss on every run (the cleaning is idempotent)
    if len(small) >= 0.8*len(raw): return given, b64
    return ('jpeg' if small[:2] == b'\xff\xd8' else 'png'), base64.b64encode(small).decode()

def _clean_value(v, rules):
    if isinstance(v, list): return [clean_text(x, rules) if isinstance(x, str) else x for x in v]
    return clean_text(v, rules) if isinstance(v, str) else v

def clean_notebook(nb:dict, rules=None, max_bytes:int=20_000) -> int:
    "Clean the outputs of `nb` in place; the number of outputs changed or dropped."
    rules, changed = rules or path_rules(), 0
    for c in nb.get('cells', []):
        if c.get('cell_type') != 'code': continue
        keep = []
        for o in c.get('outputs', []):
            if _is_progress(o): changed += 1; continue
            before = json.dumps(o, sort_keys=True)
            if 'text' in o: o['text'] = _clean_value(o['text'], rules)
            for k, v in list(o.get('data', {}).items()):
                if k in ('image/png', 'image/jpeg'):
                    fmt, img = shrink_image(v if isinstance(v, str) else ''.join(v), k.split('/')[1], max_bytes)
                    del o['data'][k]
                    o['data'][f'image/{fmt}'] = img
                elif k.startswith('text/'): o['data'][k] = _clean_value(v, rules)
            if 'traceback' in o: o['traceback'] = _clean_value(o['traceback'], rules)
            changed += json.dumps(o, sort_keys=True) != before
            keep.append(o)
        c['outputs'] = keep
    return changed

def notebooks() -> list:
    "Every notebook of the site: nbs/*.ipynb and nbs/tutorials/*.ipynb (names starting with `_` or `.` left out)."
    nbs = sorted((root/'nbs').glob('*.ipynb')) + sorted((root/'nbs'/'tutorials').glob('*.ipynb'))
    return [p for p in nbs if not p.name.startswith(('_', '.'))]

def clean_file(fn, check:bool=False) -> int:
    "Clean one notebook file in place (nbdev's JSON layout kept); with `check`, only count."
    fn = Path(fn)
    nb = json.loads(fn.read_text())
    n = clean_notebook(nb)
    if n and not check: fn.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n')   # nbdev's layout
    return n

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('paths', nargs='*', help='notebooks (default: all of nbs/ and nbs/tutorials/)')
    p.add_argument('--check', action='store_true', help='change nothing; exit 1 if any output would change')
    a = p.parse_args(argv)
    total = 0
    for fn in ([Path(x) for x in a.paths] or notebooks()):
        if n := clean_file(fn, a.check): print(f"{'would clean' if a.check else 'cleaned'} {n} outputs in {fn}", file=sys.stderr)
        total += n
    return int(a.check and total > 0)

if __name__ == '__main__': sys.exit(main())
