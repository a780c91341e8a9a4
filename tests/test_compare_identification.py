"""`facelab compare DIR --task identification` on ten real LFW people, run in this process: one seeded split for every row, every
row on the probes and gallery every combination could use (a grey image no detector finds a face in is left out of all of them),
each row's rank-1 and FNIR at FPIR computed again from `probes.csv` with plain numpy, and `split.csv` given back as the source
repeating a row exactly."""
import json, os, shutil
from pathlib import Path
import numpy as np, pandas as pd
import pytest
import cv2
from cli_runner import cli
from facelab.pairs import identities_from_folder
from facelab.identify import split_identities

LFW = Path(os.environ.get('FACELAB_DATA', Path(__file__).resolve().parents[2]/'shared'/'data'))/'lfw'/'deepfunneled'
PEOPLE, MIN, PER = 10, 4, 5   # ten people with at least 4 photos, at most 5 of each
pytestmark = pytest.mark.skipif(not LFW.is_dir(), reason=f"LFW images not found at {LFW}")
FILES = ['failures.csv', 'leaderboard.csv', 'probes.csv', 'report.md', 'settings.json', 'split.csv']

def build(folder:Path) -> str:
    """PEOPLE LFW people (links to their first PER photos), and an 8×8 grey image among the photos of the first person (with an
    underscore in the name) the seeded split (enrol 2, strangers 0.25, seed 0) makes it a mated probe of; that person's name."""
    names = sorted(p.name for p in LFW.iterdir() if p.is_dir() and len(list(p.iterdir())) >= MIN)[:PEOPLE]
    for who in names:
        (folder/who).mkdir(parents=True)
        for f in sorted((LFW/who).iterdir())[:PER]: (folder/who/f.name).symlink_to(f)
    for who in [n for n in names if '_' in n]:   # a name with an underscore: the report must escape it
        tiny = folder/who/'tiny.png'
        cv2.imwrite(str(tiny), np.full((8, 8, 3), 128, np.uint8))
        sp = split_identities(identities_from_folder(folder), 2, 0.25, 0)
        if sp.role[sp.file.str.endswith('tiny.png')].tolist() == ['mated probe']: return who
        tiny.unlink()
    raise AssertionError('no person for whom the grey image is a mated probe')

def compare(*args):
    r = cli('compare', *args, '--task', 'identification', '--bootstrap', '200')
    assert r.returncode == 0, r.stderr[-2000:]
    return r

def read(out:Path) -> tuple:
    return (pd.read_csv(out/'leaderboard.csv'), pd.read_csv(out/'probes.csv'), pd.read_csv(out/'split.csv'),
            json.loads((out/'settings.json').read_text()))

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "SFace and Dlib with YuNet; SFace with YuNet and `skip` on the first run's split.csv; SFace and Dlib on a split with more strangers."
    tmp = tmp_path_factory.mktemp('compare-id')
    who = build(tmp/'people')
    first = compare(tmp/'people', '--models', 'SFace,Dlib', '--detectors', 'yunet', '--out', tmp/'r1')
    second = compare(tmp/'r1'/'split.csv', '--models', 'SFace', '--detectors', 'yunet,skip', '--out', tmp/'r2')
    third = compare(tmp/'people', '--models', 'SFace,Dlib', '--strangers', '0.5', '--fpir', '0.3', '--out', tmp/'r3')
    return dict(tmp=tmp, who=who, folder=tmp/'people', stdout=[first.stdout, second.stdout, third.stdout])

def per_row(probes:pd.DataFrame) -> dict:
    "model + detector -> that combination's probes."
    return {f"{m} + {d}": g.reset_index(drop=True) for (m, d), g in probes.groupby(['model_name', 'detector_backend'], sort=False)}

def test_writes_the_report(runs):
    for out in ['r1', 'r2', 'r3']: assert sorted(p.name for p in (runs['tmp']/out).iterdir()) == FILES, out
    lb, p, sp, s = read(runs['tmp']/'r1')
    assert s['task'] == 'identification' and s['split_from'] == 'drawn' and (s['enrol'], s['strangers'], s['seed']) == (2, 0.25, 0)
    assert s['command'].startswith('facelab compare') and '--task identification' in s['command']
    assert [(c['model_name'], c['detector_backend']) for c in s['combinations']] == [('SFace', 'yunet'), ('Dlib', 'yunet')]
    out = runs['stdout'][0]
    assert 'sorted by FNIR at FPIR 0.01, then rank-1' in out and 'rank-1 %' in out and 'report: ' in out
    assert '1 image of the split left out of every row' in out
    md = (runs['tmp']/'r1'/'report.md').read_text()
    assert md.startswith('# facelab identification comparison') and '| model |' in md
    assert f"**Every row searches the same {s['probes']} probes ({s['mated']} mated, {s['nonmated']} non-mated)" in md
    esc = runs['who']   # LFW names have underscores: plain (GFM reads no emphasis inside a word); core.md_escape leaves them
    assert f"- tiny.png ({esc}, mated probe): not usable by SFace + yunet, Dlib + yunet" in md, md

def test_one_seeded_split_for_every_row(runs):
    lb, p, sp, s = read(runs['tmp']/'r1')
    drawn = split_identities(identities_from_folder(runs['folder']), 2, 0.25, 0)
    assert sp[['identity', 'file', 'role']].values.tolist() == drawn[['identity', 'file', 'role']].values.tolist()
    rows = per_row(p)
    assert list(rows) == ['SFace + yunet', 'Dlib + yunet'] and len(lb) == 2
    a, b = rows.values()
    pd.testing.assert_frame_equal(a[['file', 'identity', 'mated', 'fold']], b[['file', 'identity', 'mated', 'fold']])
    assert lb[['probes', 'mated', 'nonmated', 'gallery_people', 'gallery_faces']].drop_duplicates().shape[0] == 1
    # the second run read the first run's split.csv: the same roles, image for image
    sp2, s2 = pd.read_csv(runs['tmp']/'r2'/'split.csv'), json.loads((runs['tmp']/'r2'/'settings.json').read_text())
    assert s2['split_from'] == 'CSV'
    assert sp2[['identity', 'file', 'role']].values.tolist() == sp[['identity', 'file', 'role']].values.tolist()

def test_the_common_probe_rule(runs):
    "A probe that one combination could not search is in no row; every row searches exactly the scored probes of split.csv."
    for out, lost_by in [('r1', 'SFace + yunet, Dlib + yunet'), ('r2', 'SFace + yunet')]:
        lb, p, sp, s = read(runs['tmp']/out)
        tiny = sp.file.str.endswith('tiny.png')
        assert sp[tiny].scored.tolist() == [False] and sp[tiny].left_out.iloc[0].startswith(f"not usable by {lost_by} (")
        want = set(sp.file[sp.scored & (sp.role != 'enrol')])
        for lab, g in per_row(p).items():
            assert set(g.file) == want and len(g) == len(want) and g.acquired.all(), (out, lab)
        assert (lb.probes == len(want)).all()
        assert s['left_out'] == dict(images=int((~sp.scored).sum()), probes=int((~sp.scored & (sp.role != 'enrol')).sum()),
                                     enrolment_images=int((~sp.scored & (sp.role == 'enrol')).sum()), people=0)
    # `skip` (the image is the face) embeds the grey image; YuNet finds no face in it: left out of both rows all the same
    lb2 = pd.read_csv(runs['tmp']/'r2'/'leaderboard.csv').set_index('detector_backend')
    assert (lb2.loc['yunet', 'failed_images'], lb2.loc['skip', 'failed_images']) == (1, 0)
    assert (lb2.loc['yunet', 'fta_probes'], lb2.loc['skip', 'fta_probes']) == (1, 0)
    assert lb2.loc['skip', 'searchable_alone'] == lb2.loc['yunet', 'searchable_alone'] + 1 == lb2.loc['skip', 'probes'] + 1
    f = pd.read_csv(runs['tmp']/'r2'/'failures.csv')
    assert f[f.file.str.endswith('tiny.png')][['detector_backend', 'stage']].values.tolist() == [['yunet', 'probe']]

def test_each_rank1_from_its_probes(runs):
    for out in ['r1', 'r2', 'r3']:
        lb, p, sp, s = read(runs['tmp']/out)
        rows = per_row(p)
        for r in lb.itertuples():
            g = rows[f"{r.model_name} + {r.detector_backend}"]
            m = g[g.mated]
            hits = int(np.sum(m['rank'].to_numpy(float) == 1))
            assert r.rank1_hits == hits and r.mated == len(m) and r.nonmated == int((~g.mated).sum()), (out, r)
            assert abs(r.rank1 - hits/len(m)) < 1e-12 and r.rank1_lo <= r.rank1 <= r.rank1_hi, (out, r)

def test_fnir_at_fpir_refused_then_measured(runs):
    lb, p, sp, s = read(runs['tmp']/'r1')
    # a dozen strangers' photos cannot measure FPIR 1% (it takes 800): NaN with the study's reason, never a number; rank-1 orders
    assert lb['fnir@fpir=0.01'].isna().all() and lb['fnir@fpir=0.01_threshold'].isna().all()
    assert lb.reason.str.contains('too few non-mated probes to measure FPIR=0.01').all()
    assert lb.rank1.is_monotonic_decreasing
    assert 'undefined (every row): FNIR at FPIR 0.01: too few non-mated probes' in runs['stdout'][0]
    # half the people strangers, FPIR 0.3: measured; FNIR again from the probes at the row's threshold
    lb, p, sp, s = read(runs['tmp']/'r3')
    assert s['fpir'] == 0.3 and s['nonmated'] >= 14
    rows = per_row(p)
    for _, r in lb.iterrows():
        g, t = rows[f"{r.model_name} + {r.detector_backend}"], r['fnir@fpir=0.3_threshold']
        assert np.isfinite(t), r
        d, rank1, mated = g.top1_distance.to_numpy(float), g['rank'].to_numpy(float) == 1, g.mated.to_numpy(bool)
        fnir = 1 - np.mean((rank1 & (d <= t))[mated])      # missed, or answered with the wrong person
        fpir = np.mean((d <= t)[~mated])                   # strangers accepted as someone
        assert abs(r['fnir@fpir=0.3'] - fnir) < 1e-12 and fpir <= 0.3, (r.model_name, fnir, fpir)
        assert r['fnir@fpir=0.3_lo'] <= fnir <= r['fnir@fpir=0.3_hi']
    key = list(zip(lb['fnir@fpir=0.3'], -lb.rank1))
    assert key == sorted(key)   # lower FNIR first, then the higher rank-1

def test_a_row_on_the_same_split_is_the_same_row(runs):
    "SFace + YuNet of the first run and of the second (its split.csv, another companion): the same probes, the same numbers."
    a = pd.read_csv(runs['tmp']/'r1'/'leaderboard.csv').set_index(['model_name', 'detector_backend']).loc[('SFace', 'yunet')]
    b = pd.read_csv(runs['tmp']/'r2'/'leaderboard.csv').set_index(['model_name', 'detector_backend']).loc[('SFace', 'yunet')]
    cols = ['probes', 'mated', 'nonmated', 'rank1', 'rank1_lo', 'rank1_hi', 'threshold', 'threshold_lo', 'threshold_hi',
            'threshold_fnir', 'threshold_fpir']
    pd.testing.assert_series_equal(a[cols], b[cols], check_names=False)

def test_options_of_the_other_task_are_refused(runs, tmp_path):
    for args, words in [(['--enrol', '3'], '--enrol belongs to --task identification'),
                        (['--fpir', '0.1'], '--fpir belongs to --task identification'),
                        (['--task', 'identification', '--tune', 'best-f1'], '--tune belongs to the verification leaderboard'),
                        (['--task', 'identification', '--max-negatives', '10'], '--max-negatives belongs to the verification'),
                        (['--task', 'identification', '--fpir', '1.5'], 'fpir must be a rate in (0, 1)'),
                        (['--task', 'identification', '--strangers', '1'], 'strangers must be the share')]:
        r = cli('compare', runs['folder'], '--models', 'SFace', *args, '--out', tmp_path/'x')
        assert r.returncode == 2 and words in r.stderr and 'Traceback' not in r.stderr, (args, r.stderr)
    assert not (tmp_path/'x').exists()
