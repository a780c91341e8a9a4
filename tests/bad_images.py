"""The bad-image batch, shared by `tests/test_bad_inputs.py` and `benchmarks/reliability_bad_images.py`.

`make_batch(root)` writes a folder of people (one subfolder each) in which real photos sit next to every kind of bad file that has
taken a run down before: a 40000×40000 PNG (a few MB on disk, 1.6 billion pixels), a 20000×20000 PNG, a truncated JPEG, an empty file,
text named `.jpg`, an 8×8 image with no face, a link to nothing and a link to itself -- and two good files in unusual dress (a PGM, a
WebP named `.jpg`). `check_run(report, batch)` reads the report folder of `facelab evaluate` on it and says, per bad file, whether it
is in failures.csv, and whether every pair of good photos was scored.
"""
import shutil, struct, zlib
from pathlib import Path
import numpy as np, pandas as pd, cv2
from facelab.datasets import deepface_sample
from facelab.core import abs_path

def blank_png(path, width:int, height:int):
    "A valid black 1-bit PNG of any size, written in a fraction of a second (zlib-compressed zeros)."
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t+d))
    z, rows = zlib.compressobj(1), b'\x00'*(1 + (width+7)//8)*1000
    data = b''.join([z.compress(rows) for _ in range(height//1000)] + [z.compress(rows[:(height%1000)*(1 + (width+7)//8)]), z.flush()])
    Path(path).write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0))
                           + chunk(b'IDAT', data) + chunk(b'IEND', b''))

# file name -> (what it is, a fragment of the reason facelab must give)
BAD = {
    'huge_40000x40000.png': ('PNG, 40000×40000 (1.6 billion pixels)', 'over the limit'),
    'big_20000x20000.png': ('PNG, 20000×20000 (400 million pixels, 1.2 GB decoded)', 'over the limit'),
    'truncated.jpg': ('JPEG cut at 3,000 bytes', 'truncated or corrupt'),
    'empty.jpg': ('zero-byte file', 'empty file'),
    'notes.jpg': ('text file named .jpg', 'not an image'),
    'tiny_8x8.png': ('8×8 grey image (no face)', 'no face detected'),
    'broken_link.jpg': ('symbolic link to a missing file', 'symbolic link to nothing'),
    'loop_link.jpg': ('symbolic link to itself', 'symbolic link to nothing'),
}

def make_batch(root) -> dict:
    "Write the batch under `root` (people Angelina, Jennifer, Scarlett: 3 real photos each, plus the bad files); returns good and bad paths."
    root, people = Path(root), deepface_sample()
    good = []
    for who in ['Angelina', 'Jennifer', 'Scarlett']:   # Scarlett's img47.jpg is a WebP named .jpg
        (root/who).mkdir(parents=True, exist_ok=True)
        for f in people[who][:3]: shutil.copy(f, root/who/Path(f).name); good.append(str((root/who/Path(f).name).resolve()))
    a, j, m = root/'Angelina', root/'Jennifer', root/'Scarlett'
    img = cv2.imread(people['Jennifer'][3])
    cv2.imwrite(str(j/'grey_face.pgm'), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)); good.append(str((j/'grey_face.pgm').resolve()))
    blank_png(a/'huge_40000x40000.png', 40000, 40000)
    blank_png(j/'big_20000x20000.png', 20000, 20000)
    (m/'truncated.jpg').write_bytes(Path(people['Scarlett'][3]).read_bytes()[:3000])
    (a/'empty.jpg').write_bytes(b'')
    (j/'notes.jpg').write_text('this is not a photo')
    cv2.imwrite(str(m/'tiny_8x8.png'), np.full((8, 8, 3), 128, np.uint8))
    (a/'broken_link.jpg').symlink_to(a/'gone.jpg')
    (j/'loop_link.jpg').symlink_to(j/'loop_link.jpg')
    bad = {str(p.absolute()): BAD[p.name] for p in root.rglob('*') if p.name in BAD}
    return dict(good=good, bad=bad)

def check_run(report, batch:dict) -> pd.DataFrame:
    "Per bad file: listed in failures.csv with the expected reason? Plus one row: were all pairs of good photos scored?"
    fails = pd.read_csv(Path(report)/'failures.csv')
    why = dict(zip(fails.file.map(lambda f: str(Path(f).absolute())), fails.reason))
    rows = [dict(file=Path(f).name, what=w, listed=f in why, reason=why.get(f, ''), expected=frag in why.get(f, ''))
            for f, (w, frag) in batch['bad'].items()]
    pairs = pd.read_csv(Path(report)/'pairs.csv')
    good = set(batch['good'])
    both = pairs.file_x.map(lambda f: str(abs_path(f))).isin(good) & pairs.file_y.map(lambda f: str(abs_path(f))).isin(good)
    n_good = len(good)*(len(good)-1)//2
    rows.append(dict(file='(every pair of two good photos)', what=f"{len(good)} good photos, {n_good} pairs", listed=False,
                     reason=f"{int((both & pairs.scored).sum())} of {n_good} scored",
                     expected=int(both.sum()) == n_good and bool(pairs.scored[both].all())))
    return pd.DataFrame(rows)
