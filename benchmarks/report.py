"Shared by the benchmark scripts: write a section of BENCHMARKS.md between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers."
import argparse, re, time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]/'BENCHMARKS.md'
HEADER = ("# Benchmarks\n\nEvery number here comes from a script in `benchmarks/` that anyone can rerun; facelab is compared with "
          "deepface's own calls in the same run, as ratios.\n")

RELIABILITY = BENCHMARKS.parent/'RELIABILITY.md'
RELIABILITY_HEADER = ("# Reliability\n\nWhat facelab does with bad input, faults and neighbours, measured by the scripts in `benchmarks/` "
                      "(`reliability_*.py`) that anyone can rerun; each section says which script and command wrote it. The same scenarios "
                      "run, one trial each, in the test suite (`tests/test_fuzz.py`, `tests/test_bad_inputs.py`, `tests/test_cache_faults.py`).\n")

def update_section(name:str, heading:str, text:str, path=BENCHMARKS):
    "Replace the `name` section's text in BENCHMARKS.md or RELIABILITY.md (appending it under `heading` the first time), leaving the rest alone."
    path = Path(path)
    body = path.read_text() if path.exists() else (RELIABILITY_HEADER if path.name == 'RELIABILITY.md' else HEADER)
    block = f"<!-- {name}:start -->\n{text}\n<!-- {name}:end -->"
    if f"<!-- {name}:start -->" in body:
        body = re.sub(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", lambda m: block, body, flags=re.S)
    else: body = body.rstrip() + f"\n\n## {heading}\n\n{block}\n"
    path.write_text(body)

def fastest(f, repeats:int) -> float:
    "The fastest of `repeats` wall-clock runs of `f()`, in seconds."
    best = float('inf')
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best

def publish(name:str, heading:str, text:str, write:bool) -> str:
    "Print a section's text and, if `write`, put it in BENCHMARKS.md (`update_section`); returns the text."
    if write: update_section(name, heading, text)
    print(text)
    return text

def run_cli(main, doc:str):
    "The command line of a section script: `--repeats N` (the fastest kept) and `--no-write`, passed to `main(repeats, write)`."
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--no-write', action='store_true', help="print the section, leave BENCHMARKS.md as it is")
    a = ap.parse_args()
    main(a.repeats, not a.no_write)
