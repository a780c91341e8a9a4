"Shared by the benchmark scripts: write a section of BENCHMARKS.md between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers."
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]/'BENCHMARKS.md'
HEADER = ("# Benchmarks\n\nEvery number here comes from a script in `benchmarks/` that anyone can rerun; facelab is compared with "
          "deepface's own calls in the same run, as ratios.\n")

def update_section(name:str, heading:str, text:str, path=BENCHMARKS):
    "Replace the `name` section's text in BENCHMARKS.md (appending it under `heading` the first time), leaving the rest alone."
    body = path.read_text() if path.exists() else HEADER
    block = f"<!-- {name}:start -->\n{text}\n<!-- {name}:end -->"
    if f"<!-- {name}:start -->" in body:
        body = re.sub(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", lambda m: block, body, flags=re.S)
    else: body = body.rstrip() + f"\n\n## {heading}\n\n{block}\n"
    path.write_text(body)
