"facelab.metrics must give scikit-learn's numbers on random inputs (and NaN, not 0 or an exception, where they are undefined)."
import warnings
import numpy as np, pandas as pd
from hypothesis import given, settings, strategies as st
from sklearn.metrics import precision_recall_fscore_support, accuracy_score, confusion_matrix
from facelab.metrics import confusion_counts, metrics_from_counts, metrics_from_labels, metrics_table

labels = st.lists(st.sampled_from(['Yes', 'No']), min_size=1, max_size=60)

def _sk(y, p):
    "scikit-learn's precision, recall, F1 (NaN where undefined) and accuracy."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pr, rc, f1, _ = precision_recall_fscore_support(y, p, pos_label='Yes', average='binary', labels=['No', 'Yes'],
                                                        zero_division=np.nan)
    return [pr, rc, f1, accuracy_score(y, p)]

def _same(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-12, atol=1e-12)

@settings(max_examples=200, deadline=None)
@given(st.data())
def test_metrics_equal_sklearn(data):
    y = data.draw(labels)
    p = data.draw(st.lists(st.sampled_from(['Yes', 'No']), min_size=len(y), max_size=len(y)))
    c = confusion_counts(y, p)
    tn, fp, fn, tp = confusion_matrix(y, p, labels=['No', 'Yes']).ravel()
    assert c == dict(tp=tp, fp=fp, tn=tn, fn=fn)
    m = metrics_from_labels(y, p)
    _same([m['precision'], m['recall'], m['f1'], m['accuracy']], _sk(y, p))
    assert (m['reason'] == '') == (not np.isnan([m[k] for k in ('precision', 'recall', 'f1', 'fmr', 'fnmr')]).any())

@settings(max_examples=300, deadline=None)
@given(st.tuples(*[st.integers(0, 10**6)]*4))
def test_counts_metrics_match_formulas(c):
    tp, fp, tn, fn = c
    m = metrics_from_counts(tp, fp, tn, fn)
    _same(m['precision'], tp/(tp+fp) if tp+fp else np.nan)
    _same(m['recall'], tp/(tp+fn) if tp+fn else np.nan)
    _same(m['f1'], 2*tp/(2*tp+fp+fn) if 2*tp+fp+fn else np.nan)
    _same(m['accuracy'], (tp+tn)/(tp+fp+tn+fn) if tp+fp+tn+fn else np.nan)

@settings(max_examples=100, deadline=None)
@given(st.data())
def test_metrics_table_equals_per_threshold_sklearn(data):
    y = data.draw(labels)
    dist = st.floats(0, 2, allow_nan=False).map(lambda x: round(x, 2))  # rounding makes ties likely
    d = data.draw(st.lists(dist, min_size=len(y), max_size=len(y)))
    ts = data.draw(st.lists(dist, min_size=1, max_size=8))
    df = pd.DataFrame(dict(decision=y, distance=d))
    tab = metrics_table(df, ts)
    assert tab.threshold.tolist() == ts
    for row, t in zip(tab.itertuples(), ts):
        p = np.where(np.asarray(d) <= t, 'Yes', 'No')
        assert (row.tp, row.fp, row.tn, row.fn) == tuple(confusion_counts(y, p).values())
        _same([row.precision, row.recall, row.f1, row.accuracy], _sk(y, p))

@settings(max_examples=40, deadline=None)
@given(st.data())
def test_kfold_threshold_ignores_the_scored_fold(data):
    "Rewriting the held-out fold's distances never changes the threshold chosen for it."
    from facelab.metrics import kfold_evaluate
    n = data.draw(st.integers(12, 40))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32-1)))
    df = pd.DataFrame(dict(decision=rng.choice(['Yes', 'No'], n), distance=rng.random(n).round(3), fold=rng.integers(0, 3, n)))
    method = data.draw(st.sampled_from(['best-f1', 'best-accuracy', 'sigma:2', 'tree']))
    k = data.draw(st.sampled_from(sorted(df.fold.unique())))
    before = kfold_evaluate(df, method).set_index('fold').threshold[k]
    moved = df.copy(); moved.loc[moved.fold == k, 'distance'] = rng.random((moved.fold == k).sum()) * 5
    after = kfold_evaluate(moved, method).set_index('fold').threshold[k]
    assert (np.isnan(before) and np.isnan(after)) or before == after

@settings(max_examples=30, deadline=None)
@given(st.data())
def test_identity_kfold_thresholds_never_see_their_people(data):
    "Rewriting one person's pair distances never changes the thresholds that score that person's pairs (identity folds)."
    from facelab.metrics import _kfold
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32-1)))
    n_ids, n = data.draw(st.integers(4, 9)), data.draw(st.integers(30, 80))
    ix, iy = rng.integers(0, n_ids, n), rng.integers(0, n_ids, n)
    df = pd.DataFrame(dict(identity_x=[f"p{i}" for i in ix], identity_y=[f"p{i}" for i in iy], distance=rng.random(n).round(3)))
    df['decision'] = np.where(ix == iy, 'Yes', 'No')
    folds = data.draw(st.integers(3, n_ids))
    method = data.draw(st.sampled_from(['best-f1', 'best-accuracy', 'sigma:2', 'tree']))
    kw = dict(label='decision', distance='distance', positive='Yes')
    who = f"p{data.draw(st.integers(0, n_ids-1))}"
    mine = ((df.identity_x == who) | (df.identity_y == who)).to_numpy()
    _, before = _kfold(df, method, folds, 'fold', kw)
    moved = df.copy(); moved.loc[mine, 'distance'] = rng.random(mine.sum()) * 5
    _, after = _kfold(moved, method, folds, 'fold', kw)
    assert np.array_equal(before[mine], after[mine], equal_nan=True)
