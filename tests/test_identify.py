"""`facelab evaluate DIR --task identification` on real LFW people, run in this process, and every number of its tables
computed again from `probes.csv` alone with plain numpy (and scipy's beta for the exact intervals); then the k-fold leak
rule: the thresholds that judge a fold's probes do not move when that fold's people change."""
import json, os, shutil
from pathlib import Path
import numpy as np, pandas as pd
import pytest
from scipy.stats import beta
from conftest import cli, quick_error

LFW = Path(os.environ.get('FACELAB_DATA', Path(__file__).resolve().parents[2]/'shared'/'data'))/'lfw'/'deepfunneled'
PER = 8          # images per person
TUNE = 'fpir:0.2,fpir:0.01,best-accuracy'
pytestmark = pytest.mark.skipif(not LFW.is_dir(), reason=f"LFW images not found at {LFW}")

def people(n=12, skip=0):
    "The first `n` LFW people (alphabetically, after `skip`) with at least PER images."
    names = sorted(p.name for p in LFW.iterdir() if p.is_dir() and len(list(p.iterdir())) >= PER)
    return names[skip:skip + n]

def build(folder:Path, names):
    "A folder of `names`, PER photos each, copied from LFW."
    for who in names:
        (folder/who).mkdir(parents=True)
        for f in sorted((LFW/who).iterdir())[:PER]: shutil.copy(f, folder/who/f.name)
    return folder

def run(folder:Path, out:Path, *more):
    r = cli('evaluate', folder, '--task', 'identification', '--strangers', '0.5', '--tune', TUNE, '--bootstrap', '200',
            '--out', out, *more)
    assert r.returncode == 0, r.stderr
    return r

@pytest.fixture(scope='module')
def study(tmp_path_factory):
    """One run on 12 people (the embedding cache in a folder of its own), then two more, each with one fold's people
    changed: a stranger's photos replaced by copies of a gallery person's enrolment photos (each one now a false
    positive), and that gallery person's enrolment photos replaced by copies of the stranger's (the gallery changed
    under the others)."""
    tmp = tmp_path_factory.mktemp('identify')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('FACELAB_HOME', str(tmp/'home'))       # the cache only: the weights stay where DEEPFACE_HOME points
        first = run(build(tmp/'people', people()), tmp/'r1')
        split = pd.read_csv(tmp/'r1'/'split.csv')
        split['name'] = split.file.map(lambda f: Path(f).name)
        stranger = sorted(split.identity[split.role == 'non-mated probe'])[0]
        gallery = sorted(split.identity[split.role == 'mated probe'])[0]
        files = lambda who, role: split[(split.identity == who) & (split.role == role)].name.tolist()
        def changed(name, who, role, like):      # `who`'s photos of `role` replaced by copies of `like`, cycling
            folder = build(tmp/name, people())
            for i, f in enumerate(files(who, role)):
                (folder/who/f).unlink()
                shutil.copy(LFW/like[0]/like[1][i % len(like[1])], folder/who/f)
            # the copies under two people are the point: kept; only the tables are read
            run(folder, tmp/f"r-{name}", '--keep-duplicates', '--no-plots')
        changed('stranger', stranger, 'non-mated probe', (gallery, files(gallery, 'enrol')))
        changed('gallery', gallery, 'enrol', (stranger, files(stranger, 'non-mated probe')))
    return dict(tmp=tmp, out=tmp/'r1', stdout=first.stdout, stranger=stranger, gallery=gallery)

def read(out):
    return (pd.read_csv(out/'probes.csv'), pd.read_csv(out/'cmc.csv'), pd.read_csv(out/'thresholds.csv'),
            json.loads((out/'settings.json').read_text()))

def test_writes_the_report(study):
    out = study['out']
    for f in ['report.md', 'probes.csv', 'cmc.csv', 'thresholds.csv', 'split.csv', 'gallery_size.csv', 'failures.csv',
              'settings.json', 'cmc.png', 'fnir_fpir.png', 'distances.png', 'gallery_size.png', 'wrong_person.png',
              'accepted_strangers.png', 'rejected_mates.png']:
        assert (out/f).is_file(), f
    md = (out/'report.md').read_text()
    assert md.startswith('# facelab identification report') and '## Recommended threshold' in md
    assert 'rank-1' in study['stdout'] and 'recommended: ' in study['stdout'] and 'report: ' in study['stdout']
    p, cmc, t, s = read(out)
    assert s['command'].startswith('facelab evaluate') and '--task identification' in s['command']
    assert s['people'] == 12 and s['strangers_people'] == 6 and len(p) == s['mated'] + s['nonmated']
    assert list(pd.read_csv(out/'failures.csv').columns) == ['file', 'stage', 'reason']
    for c in ['file', 'identity', 'mated', 'rank', 'top1_identity', 'top1_distance', 'kfold_threshold', 'decision']:
        assert c in p.columns, c
    assert p['rank'][~p.mated].isna().all()                            # empty for non-mated probes

def rates_at(p, thr, prefix=''):
    "Counts and rates of probes.csv at a threshold (a number or one per probe), with numpy only."
    mated = p.mated.to_numpy(bool)
    rank, d = p[prefix + 'rank'].to_numpy(float), p[prefix + 'top1_distance'].to_numpy(float)
    with np.errstate(invalid='ignore'): acc = d <= np.asarray(thr, float)
    hit, wrong = mated & acc & (rank == 1), mated & acc & (rank != 1)
    fp = ~mated & acc
    nm, nn = mated.sum(), (~mated).sum()
    return dict(hits=hit.sum(), wrong=wrong.sum(), missed=nm - hit.sum() - wrong.sum(), false_pos=fp.sum(),
                rejected=nn - fp.sum(), fnir=1 - hit.sum()/nm, fpir=fp.sum()/nn, tpir=hit.sum()/nm,
                accuracy=(hit.sum() + nn - fp.sum())/(nm + nn))

def midpoints(v):
    "Every distinct decision threshold on the values `v`: one below, the midpoints, one above."
    u = np.unique(v)
    if len(u) == 1: return np.array([u[0] - 1e-3, u[0] + 1e-3])
    h = np.diff(u)/2
    return np.r_[u[0] - h[0], u[:-1] + h, u[-1] + h[-1]]

def oracle_threshold(p, method, prefix=''):
    mated = p.mated.to_numpy(bool)
    d = np.nan_to_num(p[prefix + 'top1_distance'].to_numpy(float), nan=np.inf)
    rank1 = p[prefix + 'rank'].to_numpy(float) == 1
    h, n = np.where(rank1, d, np.inf)[mated], d[~mated]
    if method.startswith('fpir:'):
        x = float(method.split(':')[1])
        c = midpoints(n[np.isfinite(n)])
        ok = [t for t in c if (n <= t).sum() <= np.floor(x*len(n) + 1e-9)]
        return max(ok)
    c = midpoints(np.r_[h[np.isfinite(h)], n[np.isfinite(n)]])
    acc = np.array([(h <= t).sum() + (n > t).sum() for t in c])
    best = np.flatnonzero(acc == acc.max())
    run = best[:np.flatnonzero(np.diff(best) > 1)[0] + 1] if (np.diff(best) > 1).any() else best
    return c[run[len(run)//2]]

def test_cmc_from_probes(study):
    p, cmc, _, s = read(study['out'])
    m = p[p.mated]
    for tpl, g in cmc.groupby('template'):
        prefix = '' if tpl == s['template'] else f"{tpl}_"
        rank = m[prefix + 'rank'].to_numpy(float)
        for r in g.itertuples():
            hits = int(np.sum(rank <= r.rank))
            assert (r.hits, r.n_mated) == (hits, len(m))
            assert r.rate == pytest.approx(hits/len(m), abs=1e-12)
            assert r.lo <= r.rate <= r.hi
            if r.interval == 'exact':
                lo = beta.ppf(0.025, hits, len(m) - hits + 1) if hits else 0.0
                hi = beta.ppf(0.975, hits + 1, len(m) - hits) if hits < len(m) else 1.0
                assert (r.lo, r.hi) == pytest.approx((lo, hi), abs=1e-9)
    assert set(cmc.template) == {'image', 'person'} and cmc[cmc.template == 'image']['rank'].tolist()[:3] == [1, 2, 3]

def test_thresholds_from_probes(study):
    p, _, t, s = read(study['out'])
    assert (t.n_mated + t.n_nonmated == len(p)).all()                   # every row on the same probes
    assert (t.n_mated == p.mated.sum()).all()
    for r in t.itertuples():
        prefix = '' if r.template == s['template'] else f"{r.template}_"
        if np.isnan(r.threshold):
            assert isinstance(r.reason, str) and r.reason, r
            continue
        if r.protocol == 'fixed': assert r.threshold == pytest.approx(s['default_threshold'])
        if r.protocol == 'oracle':
            assert r.threshold == pytest.approx(oracle_threshold(p, r.method, prefix), abs=1e-12), r.method
            thr = r.threshold
        elif r.protocol == 'k-fold':
            thr = p[f"kfold[{r.method}]"].to_numpy(float)
            assert r.threshold == pytest.approx(thr.mean(), abs=1e-12)
            assert (r.threshold_lo, r.threshold_hi) == pytest.approx((thr.min(), thr.max()), abs=1e-12)
        else: thr = r.threshold
        want = rates_at(p, thr, prefix)
        for k, v in want.items(): assert getattr(r, k) == pytest.approx(v, abs=1e-12), (r.method, r.protocol, k)
        for k in ('fnir', 'fpir', 'tpir', 'accuracy'):
            assert getattr(r, f"{k}_lo") <= getattr(r, k) <= getattr(r, f"{k}_hi"), (r.method, r.protocol, k)
    main = t[t.template == s['template']]
    assert set(main.protocol) == {'fixed', 'oracle', 'k-fold'}
    refused = main[main.method == 'fpir:0.01']
    assert refused.threshold.isna().all() and refused.reason.str.contains('too few non-mated probes').all()
    assert main[(main.method == 'fpir:0.2')].threshold.notna().all()
    rec = s['recommended']
    k = main[(main.method == rec['method']) & (main.protocol == 'k-fold')].iloc[0]
    assert rec['fnir'] == pytest.approx(k.fnir) and rec['fpir'] == pytest.approx(k.fpir)
    assert p.kfold_threshold.to_numpy() == pytest.approx(p[f"kfold[{rec['method']}]"].to_numpy())

def test_decisions_follow_the_kfold_threshold(study):
    p, _, _, _ = read(study['out'])
    acc = p.top1_distance.to_numpy(float) <= p.kfold_threshold.to_numpy(float)
    answered = np.where(acc, p.top1_identity.fillna(''), 'not in database')
    answered = np.where(p.acquired, answered, 'no face')
    assert (answered == p.decision.fillna('').to_numpy()).all()

def test_kfold_folds_are_whole_people(study):
    p, _, _, _ = read(study['out'])
    assert (p.groupby('identity').fold.nunique() == 1).all()            # a person (gallery or stranger) in one fold
    for c in [c for c in p.columns if c.startswith('kfold')]:
        assert (p.groupby('fold')[c].nunique(dropna=False) == 1).all(), c   # one threshold per fold
    assert p[~p.mated].fold.nunique() > 1 and p[p.mated].fold.nunique() > 1

@pytest.mark.parametrize('kind', ['stranger', 'gallery'])
def test_kfold_thresholds_never_see_the_scored_people(study, kind):
    "One fold's person changed: every threshold judging that fold's probes is the same; folds that train on it move."
    p1, _, t1, _ = read(study['out'])
    p2, _, t2, _ = read(study['tmp']/f"r-{kind}")
    name = lambda p: p.file.map(lambda f: Path(f).name)
    assert (name(p1) == name(p2)).all() and (p1.identity == p2.identity).all() and (p1.fold == p2.fold).all()
    who = study[kind]
    same = (p1.fold == p1.fold[p1.identity == who].iloc[0]).to_numpy()
    kcols = [c for c in p1.columns if c.startswith('kfold')]
    for c in kcols: assert np.array_equal(p1[c][same].to_numpy(), p2[c][same].to_numpy(), equal_nan=True), c
    assert not np.allclose(p1.top1_distance, p2.top1_distance, equal_nan=True)       # the change reached the scores
    moved = [c for c in kcols if not np.array_equal(p1[c][~same].to_numpy(), p2[c][~same].to_numpy(), equal_nan=True)]
    assert moved, 'the change moved no other fold\'s threshold: the test would prove nothing'

def test_split_csv_repeats_the_run(study, tmp_path):
    "split.csv given back as the source: the same probes, ranks and answers."
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('FACELAB_HOME', str(study['tmp']/'home'))
        r = cli('evaluate', study['out']/'split.csv', '--task', 'identification', '--tune', TUNE, '--bootstrap', '0', '--no-plots',
                '--out', tmp_path/'again')
    assert r.returncode == 0, r.stderr
    a, b = pd.read_csv(study['out']/'probes.csv'), pd.read_csv(tmp_path/'again'/'probes.csv')
    assert (a.file == b.file).all() and a['rank'].equals(b['rank']) and (a.top1_identity == b.top1_identity).all()
    assert (a.kfold_threshold == b.kfold_threshold).all()

def test_verification_options_are_refused(tmp_path):
    quick_error(cli('evaluate', 'sample', '--task', 'identification', '--max-negatives', '10', '--out', tmp_path/'r'),
                '--max-negatives belongs to the verification study')
    quick_error(cli('evaluate', 'sample', '--task', 'identification', '--strangers', '1', '--out', tmp_path/'r'),
                'strangers must be the share')
    r = cli('evaluate', 'sample', '--task', 'identification', '--template', 'album', '--out', tmp_path/'r')
    assert r.returncode == 2 and "invalid choice: 'album'" in r.stderr

def boot(person, success, total, n_boot, seed):
    "Percentile bounds (2.5, 97.5) of rates over resamples of the people: a person drawn m times counts m times."
    n = person.max() + 1
    A, B = np.zeros((n, success.shape[1])), np.zeros((n, success.shape[1]))
    np.add.at(A, person, success)
    np.add.at(B, person, total)
    W = np.random.default_rng(seed).multinomial(n, np.full(n, 1/n), size=n_boot).astype(float)
    with np.errstate(invalid='ignore', divide='ignore'): R = (W @ A)/(W @ B)
    return np.nanpercentile(R, [2.5, 97.5], axis=0)

def exact(k, n):
    return (beta.ppf(0.025, k, n - k + 1) if k else 0.0, beta.ppf(0.975, k + 1, n - k) if k < n else 1.0)

def bounds(k, n, lo, hi):
    "The bootstrap bounds, or the exact ones where the rate is 0 or 1, the bounds meet, or it rests on under 20 probes."
    return exact(k, n) if k in (0, n) or n < 20 or lo == hi else (lo, hi)

def test_intervals_from_probes(study):
    "Every interval of thresholds.csv and cmc.csv again, from probes.csv, the seed and the number of resamples."
    p, cmc, t, s = read(study['out'])
    mated = p.mated.to_numpy(bool)
    person = pd.factorize(p.identity)[0]
    for tpl, rows in t.groupby('template', sort=False):
        prefix = '' if tpl == s['template'] else f"{tpl}_"
        rank1 = p[prefix + 'rank'].to_numpy(float) == 1
        d = p[prefix + 'top1_distance'].to_numpy(float)
        succ, tot = [], []
        for r in rows.itertuples():
            thr = p[f"kfold[{r.method}]"].to_numpy(float) if r.protocol == 'k-fold' else r.threshold
            with np.errstate(invalid='ignore'): acc = d <= thr
            hit = mated & rank1 & acc
            succ += [mated & ~hit, ~mated & acc, hit | (~mated & ~acc)]
            tot += [mated, ~mated, np.ones(len(p), bool)]
        lo, hi = boot(person, np.stack(succ, 1), np.stack(tot, 1), s['n_boot'], s['seed'])
        for i, r in enumerate(rows.itertuples()):
            if np.isnan(r.threshold): continue
            kn = dict(fnir=(r.wrong + r.missed, r.n_mated), fpir=(r.false_pos, r.n_nonmated),
                      accuracy=(r.hits + r.rejected, r.n_mated + r.n_nonmated))
            for j, k in enumerate(('fnir', 'fpir', 'accuracy')):
                want = bounds(*kn[k], lo[3*i + j], hi[3*i + j])
                got = (getattr(r, f"{k}_lo"), getattr(r, f"{k}_hi"))
                assert got == pytest.approx(want, abs=1e-9), (tpl, r.method, r.protocol, k)
            assert (r.tpir_lo, r.tpir_hi) == pytest.approx((1 - r.fnir_hi, 1 - r.fnir_lo), abs=1e-12)
    m = p[mated]
    who = pd.factorize(m.identity)[0]
    for tpl, rows in cmc.groupby('template', sort=False):
        prefix = '' if tpl == s['template'] else f"{tpl}_"
        hit = m[prefix + 'rank'].to_numpy(float)[:, None] <= rows['rank'].to_numpy()[None, :]
        lo, hi = boot(who, hit, np.ones_like(hit), s['n_boot'], s['seed'])
        for j, r in enumerate(rows.itertuples()):
            assert (r.lo, r.hi) == pytest.approx(bounds(r.hits, r.n_mated, lo[j], hi[j]), abs=1e-9), (tpl, r.rank)
