"The contract of `facelab evaluate`'s slices (issue 27): slices.csv's columns, its counts recomputed from the written pairs/probes, the report's section, --metadata's errors."
import json
import numpy as np, pandas as pd
import pytest
from conftest import cli, people_folder, quick_error
from facelab.slices import PAIR_SLICE_COLS, PROBE_SLICE_COLS, SLICE_FILES

NAMES = ['Angelina', 'Jennifer', 'Scarlett', 'Mark', 'Jack', 'Elon']

@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    "Six sample people, three photos each, and a metadata CSV: a group per person, a camera for two photos."
    root = people_folder(tmp_path_factory.mktemp('people'), NAMES, n=3)
    files = sorted(p.relative_to(root).as_posix() for p in root.glob('*/*.jpg'))
    rows = [f",{n},{'AB'[i % 2]}," for i, n in enumerate(NAMES)] + [f"{f},,,phone" for f in files[:2]]
    (root.parent/'meta.csv').write_text('file,identity,group,camera\n' + '\n'.join(rows) + '\n')
    return root

def _read(out):
    s = json.loads((out/'settings.json').read_text())
    return pd.read_csv(out/'slices.csv', keep_default_na=False, na_values=['']), s

def test_verification_slices(folder, tmp_path):
    out = tmp_path/'report'
    r = cli('evaluate', folder, '--out', out, '--metadata', folder.parent/'meta.csv', '--bootstrap', '50', '--no-cache')
    assert r.returncode == 0, r.stderr[-2000:]
    assert all((out/f).exists() for f in SLICE_FILES)
    sl, s = _read(out)
    assert list(sl.columns) == PAIR_SLICE_COLS
    t = s['slices']['threshold']
    pairs = pd.read_csv(out/'pairs.csv')
    p = pairs[pairs.scored]
    y, d = (p.decision == 'Yes').to_numpy(), p.distance.to_numpy(float)
    first = sl.iloc[0]
    assert (first.slice, first.pairs, first.positives) == ('all', len(p), int(y.sum()))
    assert first.false_rejects == int((y & (d > t)).sum()) and first.false_accepts == int((~y & (d <= t)).sum())
    # the user's column, both images: recomputed from pairs.csv and the CSV with numpy
    phone = {str(folder/f) for f in sorted(q.relative_to(folder).as_posix() for q in folder.glob('*/*.jpg'))[:2]}
    both = np.array([fx in phone and fy in phone for fx, fy in zip(p.file_x, p.file_y)])
    row = sl[(sl.slice == 'camera') & (sl.band == 'phone')].iloc[0]
    assert (row.by, row.pairs, row.positives) == ('both images', int(both.sum()), int((both & y).sum()))
    assert row.false_rejects == int((both & y & (d > t)).sum())
    for _, g in sl[sl.by == 'worse image'].groupby('slice'): assert g.pairs.sum() == len(p)   # every pair in one band
    assert ((sl.fnmr_lo <= sl.fnmr + 1e-12) | sl.fnmr.isna()).all() and ((sl.fnmr <= sl.fnmr_hi + 1e-12) | sl.fnmr.isna()).all()
    groups = pd.read_csv(out/'groups.csv')
    assert set(groups.group) == {'A', 'B', 'worst/best'} and groups.people.iloc[:2].tolist() == [3, 3]
    assert 'fewer than 10' in groups.note.iloc[-1]   # three people a group: no ratio, and why
    md = (out/'report.md').read_text()
    assert '## Errors by slice' in md and 'How to read an EDC curve' in md and '![edc](edc.png)' in md

def test_identification_slices(folder, tmp_path):
    out = tmp_path/'id-report'
    r = cli('evaluate', folder, '--task', 'identification', '--out', out, '--metadata', folder.parent/'meta.csv',
            '--bootstrap', '50', '--no-cache', '--no-plots')
    assert r.returncode == 0, r.stderr[-2000:]
    sl, s = _read(out)
    assert list(sl.columns) == PROBE_SLICE_COLS
    t = s['slices']['threshold']
    pr = pd.read_csv(out/'probes.csv')
    mated, d = pr.mated.to_numpy(bool), pr.top1_distance.to_numpy(float)
    hit = mated & (pr['rank'].to_numpy(float) == 1) & (d <= t)
    first = sl.iloc[0]
    assert (first.probes, first.mated, first.nonmated) == (len(pr), int(mated.sum()), int((~mated).sum()))
    assert first.misses == int((mated & ~hit).sum()) and first.false_positives == int((~mated & (d <= t)).sum())
    assert '## Errors by slice' in (out/'report.md').read_text()

def test_bad_metadata(folder, tmp_path):
    bad = tmp_path/'bad.csv'
    bad.write_text('file,camera\na.jpg,phone\na.jpg,dslr\n')
    quick_error(cli('evaluate', folder, '--out', tmp_path/'x', '--metadata', bad, '--bootstrap', '0', '--no-cache'), str(bad), 'line 3')
