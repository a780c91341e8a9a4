"""Memory bounded by the input's real size: the peak memory of reading a tiny CVAT *video* export whose task claims millions of frames.

A 781-byte `annotations.xml` (4 tracks, one box each, no `outside` box to end them, `<size>` N frames) asks `read_cvat` to expand
every track to the task's end: N × 4 rows. Each case runs in a fresh process (its peak resident memory is the process's
`ru_maxrss`), so cases do not share memory. Run it against another checkout (`PYTHONPATH=/old/checkout`) for the figures before a
change; the figures go in RELIABILITY.md (`--write`).

    python benchmarks/reliability_memory.py [--sizes 1000000 10000000] [--write]
"""
import argparse, json, os, platform, re, resource, subprocess, sys, tempfile, time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def cvat_video(size:int, tracks:int=4) -> str:
    "A CVAT for video 1.1 export of a task of `size` frames: `tracks` tracks of one visible box each, none ended by an outside box."
    boxes = ''.join(f'<track id="{i}" label="face"><box frame="0" xtl="{10*i}" ytl="10" xbr="{10*i+8}" ybr="20" outside="0" '
                    f'occluded="0" keyframe="1"/></track>' for i in range(tracks))
    return (f'<?xml version="1.0" encoding="utf-8"?><annotations><version>1.1</version><meta><task><size>{size}</size>'
            f'<mode>interpolation</mode><start_frame>0</start_frame><stop_frame>{size-1}</stop_frame>'
            f'<original_size><width>640</width><height>360</height></original_size></task></meta>{boxes}</annotations>')

CHILD = r"""
import json, resource, sys, time
t = time.perf_counter()
from facelab.annotations import read_cvat
from facelab.core import FacelabError
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kw = json.loads(sys.argv[2])
try: out = dict(rows=len(read_cvat(sys.argv[1], **kw).boxes), error=None)
except FacelabError as e: out = dict(rows=None, error=str(e))
out.update(peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, import_kib=base, seconds=time.perf_counter() - t)
print(json.dumps(out))
"""

def measure(size:int, n_frames=None, timeout:int=900) -> dict:
    "Read the export of a `size`-frame task in a fresh process (with `n_frames=` when given): rows, error, peak memory, seconds."
    with tempfile.TemporaryDirectory() as d:
        f = Path(d)/'annotations.xml'
        f.write_text(cvat_video(size))
        kw = {} if n_frames is None else dict(n_frames=n_frames)
        r = subprocess.run([sys.executable, '-c', CHILD, str(f), json.dumps(kw)], capture_output=True, text=True, timeout=timeout)
        if r.returncode: raise SystemExit(f"the reading process failed:\n{r.stderr[-2000:]}")
        return dict(size=size, file_bytes=f.stat().st_size, n_frames=n_frames, **json.loads(r.stdout.strip().splitlines()[-1]))

def table(results:list) -> str:
    "The results as a Markdown table."
    rows = ["| task size (frames) | file | `n_frames=` | rows read | peak memory of the process | time | outcome |", "|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        n = f"{r['n_frames']:,}" if r['n_frames'] is not None else '—'
        got = f"{r['rows']:,}" if r['rows'] is not None else '—'
        what = 'read' if r['error'] is None else 'refused: ' + r['error'].split(': ', 1)[-1][:140].replace('|', '\\|') + '…'
        rows.append(f"| {r['size']:,} | {r['file_bytes']} B | {n} | {got} | {r['peak_kib']/2**20:.2f} GiB "
                    f"(import alone {r['import_kib']/2**20:.2f}) | {r['seconds']:.1f} s | {what} |")
    return '\n'.join(rows)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[100_000, 1_000_000, 10_000_000], help='task sizes (frames) to read')
    p.add_argument('--n-frames', type=int, default=275, help="also read the largest with n_frames= (the video's frame count) this (0: not)")
    p.add_argument('--write', action='store_true', help='put the table in RELIABILITY.md (between the memory markers)')
    a = p.parse_args()
    t0 = time.time()
    res = [measure(s) for s in a.sizes] + ([measure(max(a.sizes), a.n_frames)] if a.n_frames else [])
    import facelab
    head = (f"`python benchmarks/reliability_memory.py --sizes {' '.join(map(str, a.sizes))}` (facelab {facelab.__version__}, "
            f"Python {platform.python_version()}, {date.today()}; {time.time()-t0:.0f} s). A CVAT for video export of 4 tracks, one "
            f"box each, no `outside` box ending them, read by `read_cvat` in a fresh process each:")
    out = head + '\n\n' + table(res)
    print(out)
    if a.write:
        f = ROOT/'RELIABILITY.md'
        s = f.read_text()
        block = f"<!-- memory:start -->\n{out}\n<!-- memory:end -->"
        s = re.sub(r'<!-- memory:start -->.*<!-- memory:end -->', lambda m: block, s, flags=re.S) if '<!-- memory:start -->' in s else s + '\n' + block + '\n'
        f.write_text(s)

if __name__ == '__main__': main()
