"The bad-image batch through `facelab evaluate`: the run completes, every bad file is in failures.csv, no good pair is lost."
import os, subprocess, sys
from pathlib import Path
import pandas as pd
import bad_images as bi

exe = Path(sys.executable).parent/'facelab'

def test_bad_image_batch(tmp_path):
    batch = bi.make_batch(tmp_path/'people')
    r = subprocess.run([str(exe), 'evaluate', tmp_path/'people', '--out', tmp_path/'report', '--tune', 'best-f1', '--bootstrap', '0'],
                       capture_output=True, text=True, timeout=900, env={**os.environ, 'FACELAB_HOME': str(tmp_path/'home')})
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr
    res = bi.check_run(tmp_path/'report', batch)
    assert res.expected.all(), res.to_string()
    fails = pd.read_csv(tmp_path/'report'/'failures.csv')
    assert len(fails) == len(batch['bad']), fails.to_string()   # one row per bad file, no good file among them
