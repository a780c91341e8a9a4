"""Writing a study's report with and without its figures.

`evaluate.write_report` (sample-study, SFace + YuNet) and `identify.write_identification_report` (the sample), each on a
finished study: `plots=True` (every PNG drawn) against `plots=False` (`--no-plots`: the same tables, no figure).

Run from the repository root: `.venv/bin/python benchmarks/report_figures.py [--repeats 3] [--no-write]`. Writes the
`report_figures` section of BENCHMARKS.md and prints it. The ways run in turn, the fastest of `--repeats` kept; read the ratios.
"""
from __future__ import annotations
import os, platform, sys, tempfile, time
from pathlib import Path
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import publish, run_cli, fastest
from facelab.core import md_table
from facelab.evaluate import evaluate, write_report
from facelab.identify import identification_study, write_identification_report

def main(repeats:int=3, write:bool=True) -> str:
    start, load0 = time.strftime('%Y-%m-%d %H:%M'), os.getloadavg()
    tmp = Path(tempfile.mkdtemp())
    ver = evaluate('sample-study', cache_dir=tmp/'cache', progress=False)
    ide = identification_study('sample', cache_dir=tmp/'cache', progress=False)
    v_with = fastest(lambda: write_report(ver, tmp/'v-with'), repeats)
    v_without = fastest(lambda: write_report(ver, tmp/'v-without', plots=False), repeats)
    i_with = fastest(lambda: write_identification_report(ide, tmp/'i-with'), repeats)
    i_without = fastest(lambda: write_identification_report(ide, tmp/'i-without', plots=False), repeats)
    same_tables = all((tmp/'v-with'/f).read_text() == (tmp/'v-without'/f).read_text()
                      for f in ['pairs.csv', 'thresholds.csv', 'curves.csv'])
    rows = pd.DataFrame([
        dict(run='verification report, sample-study (25 photos, 300 pairs)', before_s=v_with, facelab_s=v_without,
             speedup=v_with/v_without),
        dict(run='identification report, the sample (61 photos)', before_s=i_with, facelab_s=i_without,
             speedup=i_with/i_without)])
    text = (f"Run `.venv/bin/python benchmarks/report_figures.py --repeats {repeats}` on {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {start}; load averages "
            f"{', '.join(f'{x:.2f}' for x in load0)} at the start. The fastest of {repeats} runs each, wall-clock. "
            "Reports: `before` is the report with its figures (`plots=True`), `facelab` without them (`plots=False`, "
            "`facelab evaluate --no-plots`), on the same finished study.\n\n"
            + md_table(rows, floatfmt='.3f') +
            f"\n\n- The same tables with and without figures: {same_tables}.\n"
            "- Drawing the figures is most of a report's time; the tables, the slices and report.md are the rest.")
    return publish('report_figures', 'Reports without figures', text, write)

if __name__ == '__main__': run_cli(main, __doc__)
