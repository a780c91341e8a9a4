"The bad-image batch through `facelab evaluate`: the run completes, every bad file is in failures.csv, no good pair is lost."
import pandas as pd
import bad_images as bi
from conftest import cli

def test_bad_image_batch(tmp_path, monkeypatch):
    batch = bi.make_batch(tmp_path/'people')
    monkeypatch.setenv('FACELAB_HOME', str(tmp_path/'home'))   # an empty cache: every file is read, none answered from a cache
    r = cli('evaluate', tmp_path/'people', '--out', tmp_path/'report', '--tune', 'best-f1', '--bootstrap', '0', '--no-plots')
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr
    res = bi.check_run(tmp_path/'report', batch)
    assert res.expected.all(), res.to_string()
    fails = pd.read_csv(tmp_path/'report'/'failures.csv')
    assert len(fails) == len(batch['bad']), fails.to_string()   # one row per bad file, no good file among them
