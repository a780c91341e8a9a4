"""Fuzz every public reader and metric with hypothesis and count the exceptions that are not `FacelabError` (undocumented).

The targets and their strategies (random bytes, and near-valid files or tables with one field mutated) are those of
`tests/test_fuzz.py`; here each runs `--examples` examples (default 3000) without stopping at the first failure, and the counts
(examples tried, undocumented exceptions by type, with where they were raised) go into the `fuzz` section of RELIABILITY.md.

    python benchmarks/reliability_fuzz.py                    # every target, 3000 examples each (about 10-15 minutes on 2 cores)
    python benchmarks/reliability_fuzz.py -n 200 --only read_mot --no-write
"""
import argparse, platform, sys, time, traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'benchmarks')); sys.path.insert(0, str(ROOT/'tests'))
from report import update_section, RELIABILITY
from hypothesis import given, settings, HealthCheck, Phase
import hypothesis, facelab
from facelab.core import FacelabError
import test_fuzz

def _where(e) -> str:
    "file:line of the innermost frame of `e`'s traceback inside facelab (or the innermost overall)."
    tb = traceback.extract_tb(e.__traceback__)
    ours = [f for f in tb if '/facelab/' in f.filename.replace('\\', '/')]
    f = (ours or tb)[-1]
    return f"{Path(f.filename).name}:{f.lineno}"

def fuzz(name:str, n:int) -> dict:
    "Run target `name` on `n` examples: examples tried, documented (FacelabError) and undocumented exceptions by type and place."
    strategy, run = test_fuzz.TARGETS[name]
    tried, documented, bad, sample = 0, 0, Counter(), {}
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def go(x):
        nonlocal tried, documented
        tried += 1
        try: run(x)
        except FacelabError: documented += 1
        except Exception as e:
            key = f"{type(e).__name__} at {_where(e)}"
            bad[key] += 1; sample.setdefault(key, (repr(x)[:300], str(e)[:200]))
    t0 = time.perf_counter(); go()
    return dict(target=name, tried=tried, documented=documented, undocumented=sum(bad.values()), by_type=bad, sample=sample,
                seconds=time.perf_counter()-t0)

def table(results, n) -> str:
    "The markdown section: one row per target."
    rows = ["| target | examples tried | refused with `FacelabError` | undocumented exceptions | by type |", "|---|---:|---:|---:|---|"]
    for r in results:
        types = '; '.join(f"{k} ×{v}" for k, v in r['by_type'].most_common()) or '—'
        rows.append(f"| `{r['target']}` | {r['tried']:,} | {r['documented']:,} | {r['undocumented']:,} | {types} |")
    total = sum(r['undocumented'] for r in results)
    return '\n'.join([
        f"`python benchmarks/reliability_fuzz.py -n {n}` (hypothesis {hypothesis.__version__}, facelab {facelab.__version__}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; {sum(r['seconds'] for r in results)/60:.1f} min). "
        "Each target gets random bytes and near-valid inputs with one field mutated (the strategies of `tests/test_fuzz.py`, "
        "whose quick profile runs in CI; `FACELAB_FUZZ_EXAMPLES=3000 pytest tests/test_fuzz.py` is this deep one). The only "
        "documented error is `FacelabError`, naming the file and line or the argument; anything else counts as undocumented.", '',
        *rows, '', f"**{total} undocumented exception{'s'*(total != 1)}** over {sum(r['tried'] for r in results):,} examples."])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('-n', '--examples', type=int, default=3000, help='examples per target')
    p.add_argument('--only', nargs='*', help='targets to run (default: all)')
    p.add_argument('--no-write', action='store_true', help='print the table, do not write RELIABILITY.md')
    a = p.parse_args(argv)
    names = [k for k in test_fuzz.TARGETS if not a.only or any(o in k for o in a.only)]
    results = []
    for name in names:
        r = fuzz(name, a.examples); results.append(r)
        print(f"{name}: {r['tried']} tried, {r['documented']} FacelabError, {r['undocumented']} undocumented ({r['seconds']:.0f} s)", flush=True)
        for k, v in r['by_type'].most_common(): print(f"   {v:5d} {k}\n         e.g. {r['sample'][k][0]}\n         -> {r['sample'][k][1]}", flush=True)
    text = table(results, a.examples)
    print(text)
    if not a.no_write: update_section('fuzz', 'Fuzzing the readers and metrics', text, path=RELIABILITY)
    return 0 if all(r['undocumented'] == 0 for r in results) else 1

if __name__ == '__main__': sys.exit(main())
