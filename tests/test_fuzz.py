"""Fuzzing the readers and metrics: random and near-valid input may only ever raise `FacelabError` (documented), nothing else.

Each target is a hypothesis strategy (random bytes, and near-valid files or tables with one field mutated, so the fuzzer reaches
deep code) and a function that feeds one example to facelab. The number of examples per target comes from `FACELAB_FUZZ_EXAMPLES`
(quick default for CI; `FACELAB_FUZZ_EXAMPLES=3000` is the deep profile). `benchmarks/reliability_fuzz.py` runs the same targets and
writes the counts to RELIABILITY.md.
"""
import json, math, os, tempfile, warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr, escape
import numpy as np, pandas as pd
from hypothesis import given, settings, HealthCheck, strategies as st
from facelab.core import FacelabError
from facelab.annotations import read_mot, read_coco, read_cvat
from facelab.pairs import read_lfw_pairs
from facelab import metrics as M

N = int(os.environ.get('FACELAB_FUZZ_EXAMPLES', '60'))
_TMP = Path(tempfile.mkdtemp(prefix='facelab-fuzz-'))

# ---------------------------------------------------------------- shared pieces
junk = st.sampled_from(['', 'x', 'nan', 'NaN', 'inf', '-inf', '1e400', '-1', '0', '1.5', ' 3 ', '"1"', '9'*25, '١', 'None', '\x00', '..'])
num_text = st.one_of(st.integers(-3, 60).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr), junk)
json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                                    st.text(max_size=5)),
                          lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids, max_size=3), max_leaves=6)

@st.composite
def mangled(draw, text):
    "The bytes of `text`, sometimes cut short, given a BOM, CRLF line ends, or a non-UTF-8 byte spliced in."
    b = text.encode('utf-8')
    how = draw(st.sampled_from(['as is', 'as is', 'cut', 'bom', 'crlf', 'latin1', 'splice']))
    if how == 'cut': b = b[:draw(st.integers(0, len(b)))]
    elif how == 'bom': b = b'\xef\xbb\xbf' + b
    elif how == 'crlf': b = b.replace(b'\n', b'\r\n')
    elif how == 'latin1': b = text.encode('latin-1', errors='replace') + b'\xe9\xff'
    elif how == 'splice':
        i = draw(st.integers(0, len(b))); b = b[:i] + draw(st.sampled_from([b'\xff', b'\x00', b'\xc3', b'\xe9', b'\r', b'\n'])) + b[i:]
    return b

def _file(data:bytes, name:str) -> Path:
    p = _TMP/name; p.write_bytes(data); return p

def _mutate(draw, fields:list) -> list:
    "`fields` with, sometimes, one of them replaced by junk."
    fields = list(fields)
    if fields and draw(st.booleans()): fields[draw(st.integers(0, len(fields)-1))] = draw(num_text)
    return fields

# ---------------------------------------------------------------- MOT
@st.composite
def mot_files(draw):
    if draw(st.integers(0, 9)) == 0: return draw(st.binary(max_size=200))
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        f = [str(draw(st.integers(1, 30))), str(draw(st.integers(-1, 5))), *(str(draw(st.integers(0, 200))) for _ in range(4)),
             str(draw(st.sampled_from([0, 1, 0.5, -1])))]
        f += [str(draw(st.integers(-1, 3))) for _ in range(draw(st.sampled_from([0, 2, 3, 4, 5])))]   # 7, 9, 10 columns (and too many)
        lines.append(','.join(_mutate(draw, f)))
    if lines and draw(st.integers(0, 4)) == 0: lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(['', ' ', '1,2', '#x', 'a,b,c,d,e,f,g'])))
    return draw(mangled('\n'.join(lines) + draw(st.sampled_from(['', '\n']))))

def run_read_mot(b): read_mot(_file(b, 'gt.txt'))

# ---------------------------------------------------------------- LFW pairs.txt
names = st.sampled_from(['Abel_Pacheco', 'Zoë_Ball', 'A', '..', '.', '/etc', 'a/b', 'a\\b', 'C:', '~', '-', 'x'*300])

@st.composite
def lfw_files(draw):
    if draw(st.integers(0, 9)) == 0: return draw(st.binary(max_size=200))
    folds, n = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    head = _mutate(draw, [str(folds), str(n)]) if draw(st.integers(0, 5)) == 0 else [str(folds), str(n)]
    sep = draw(st.sampled_from(['\t', ' ']))
    lines = [' '.join(head)]
    ok = lambda: draw(st.sampled_from(['Abel_Pacheco', 'Dean_Barker', 'Zoë_Ball']))
    for k in range(folds*2*n):
        same = k % (2*n) < n
        a, b = ok(), ok()
        f = [a, str(draw(st.integers(1, 9))), str(draw(st.integers(1, 9)))] if same else [a, str(draw(st.integers(1, 9))), b, str(draw(st.integers(1, 9)))]
        if draw(st.integers(0, 5)) == 0: f[draw(st.sampled_from([0, 2] if not same else [0]))] = draw(names)
        lines.append(sep.join(_mutate(draw, f) if draw(st.integers(0, 4)) == 0 else f))
    if draw(st.integers(0, 5)) == 0 and len(lines) > 1: del lines[draw(st.integers(1, len(lines)-1))]
    return draw(mangled('\n'.join(lines) + '\n'))

def run_read_lfw_pairs(b): read_lfw_pairs(_file(b, 'pairs.txt'), root=str(_TMP/'lfw'))

# ---------------------------------------------------------------- COCO
def _coco_base():
    return dict(images=[dict(id=1, file_name='a.jpg', width=10, height=10), dict(id=2, file_name='b.jpg', width=20, height=20)],
                annotations=[dict(id=1, image_id=1, category_id=1, bbox=[1, 2, 3, 4], iscrowd=0, attributes=dict(occluded=False, track_id=3)),
                             dict(id=2, image_id=2, category_id=1, bbox=[0.5, 0, 5, 5], iscrowd=1)],
                categories=[dict(id=1, name='face')])

_COCO_PATHS = [(), ('images',), ('images', 0), ('images', 0, 'id'), ('images', 0, 'file_name'), ('images', 0, 'width'), ('images', 1, 'height'),
               ('annotations',), ('annotations', 0), ('annotations', 0, 'image_id'), ('annotations', 0, 'category_id'),
               ('annotations', 0, 'bbox'), ('annotations', 0, 'bbox', 0), ('annotations', 0, 'bbox', 2), ('annotations', 1, 'bbox', 3),
               ('annotations', 0, 'iscrowd'), ('annotations', 1, 'iscrowd'), ('annotations', 0, 'attributes'),
               ('annotations', 0, 'attributes', 'occluded'), ('annotations', 0, 'attributes', 'track_id'),
               ('categories',), ('categories', 0), ('categories', 0, 'id'), ('categories', 0, 'name')]

@st.composite
def coco_files(draw):
    if draw(st.integers(0, 9)) == 0: return draw(st.binary(max_size=200))
    d = _coco_base()
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(_COCO_PATHS))
        v = draw(st.one_of(json_value, st.sampled_from(['0', '1', 'x', True, False, 2, -1, [1, 2], [1, 2, 3, 4, 5], ['1', '2', '3', '4'],
                                                          [float('nan')]*4, [1, 2, -3, 4], [float('inf'), 0, 1, 1]])))
        if not path: d = v; continue
        obj = d
        try:
            for k in path[:-1]: obj = obj[k]
            if draw(st.integers(0, 5)) == 0 and isinstance(obj, dict): obj.pop(path[-1], None)
            else: obj[path[-1]] = v
        except (KeyError, IndexError, TypeError): pass
    return draw(mangled(json.dumps(d, allow_nan=True)))

def run_read_coco(b): read_coco(_file(b, 'gt.json'))

# ---------------------------------------------------------------- CVAT
@st.composite
def cvat_files(draw):
    if draw(st.integers(0, 9)) == 0: return draw(st.binary(max_size=300))
    val = lambda good: draw(st.one_of(st.just(good), st.just(good), st.just(good), num_text, st.sampled_from(['50000000', '-5', '0', '1e9'])))
    if draw(st.booleans()):   # video
        meta = ''.join(f"<{k}>{escape(val(v))}</{k}>" for k, v in [('size', '25'), ('mode', 'interpolation'), ('start_frame', '0'),
                                                                      ('stop_frame', '24'), ('frame_filter', 'step=1')] if draw(st.integers(0, 6)))
        if draw(st.booleans()): meta += f"<original_size><width>{escape(val('640'))}</width><height>{escape(val('360'))}</height></original_size>"
        tracks = ''
        for t in range(draw(st.integers(0, 2))):
            boxes = ''
            for f in sorted(draw(st.lists(st.integers(0, 30), max_size=3))):
                a = dict(frame=str(f), outside=draw(st.sampled_from(['0', '0', '1'])), occluded='0', keyframe='1', xtl='1', ytl='2', xbr='11', ybr='12')
                a = {k: val(v) for k, v in a.items()} if draw(st.integers(0, 2)) == 0 else a
                attrs = ' '.join(f"{k}={quoteattr(v)}" for k, v in a.items() if draw(st.integers(0, 12)))
                boxes += f"<box {attrs}><attribute name=\"mask\">no</attribute></box>"
            if draw(st.integers(0, 4)) == 0: boxes += '<points frame="0" points="1,2"/>'
            tracks += f"<track id={quoteattr(val(str(t)))} label=\"face\">{boxes}</track>"
        xml = f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations><version>1.1</version><meta><task>{meta}</task></meta>\n{tracks}</annotations>"
    else:                     # images
        ims = ''
        for i in range(draw(st.integers(0, 2))):
            a = dict(id=str(i), name=f"img{i}.jpg", width='8', height='8')
            a = {k: val(v) for k, v in a.items()} if draw(st.integers(0, 2)) == 0 else a
            box = dict(label='face', occluded='0', xtl='0', ytl='2', xbr='4', ybr='4', group_id='1')
            box = {k: val(v) for k, v in box.items()} if draw(st.integers(0, 2)) == 0 else box
            ims += (f"<image {' '.join(f'{k}={quoteattr(v)}' for k, v in a.items() if draw(st.integers(0, 10)))}>"
                    f"<box {' '.join(f'{k}={quoteattr(v)}' for k, v in box.items() if draw(st.integers(0, 10)))}/></image>\n")
        root = draw(st.sampled_from(['annotations', 'annotations', 'annotations', 'x']))
        xml = f"<{root}><version>1.1</version><meta><task><mode>annotation</mode></task></meta>\n{ims}</{root}>"
    return draw(mangled(xml))

def run_read_cvat(b):
    read_cvat(_file(b, 'annotations.xml'))
    read_cvat(_file(b, 'annotations.xml'), frames='relative')

# ---------------------------------------------------------------- metrics
count = st.one_of(st.integers(0, 10**6), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                  st.booleans(), st.sampled_from(['3', 'x', np.int64(4), np.float32(2.5), np.nan, 1e300, [1], 2.0]))

def run_metrics_from_counts(c): M.metrics_from_counts(*c)

distance_v = st.one_of(st.floats(0, 2), st.floats(0, 2), st.floats(allow_nan=True, allow_infinity=True), st.none(),
                       st.sampled_from(['0.5', 'x', -1.0, 1e308, 0.5]))
decision_v = st.sampled_from(['Yes', 'No', 'Yes', 'No', 'yes', None, 1, np.nan])
person = st.sampled_from(['a', 'b', 'c', 'd', 'e', None, 1])

@st.composite
def pair_tables(draw):
    "A verified-pairs table of 0-30 rows with some columns missing, mistyped or NaN."
    n = draw(st.integers(0, 30))
    clean = draw(st.booleans())
    dist = st.floats(0, 2).map(lambda x: round(x, 2)) if clean else distance_v
    df = pd.DataFrame(dict(decision=draw(st.lists(st.sampled_from(['Yes', 'No']) if clean else decision_v, min_size=n, max_size=n)),
                           distance=draw(st.lists(dist, min_size=n, max_size=n)),
                           identity_x=draw(st.lists(person, min_size=n, max_size=n)), identity_y=draw(st.lists(person, min_size=n, max_size=n))))
    if not clean and n: df['distance'] = df.distance.astype(object)
    fold = draw(st.sampled_from(['none', 'none', 'ints', 'all-nan', 'some-nan', 'mixed']))
    if fold == 'ints': df['fold'] = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    elif fold == 'all-nan': df['fold'] = np.nan
    elif fold == 'some-nan': df['fold'] = draw(st.lists(st.sampled_from([0, 1, 2, np.nan]), min_size=n, max_size=n))
    elif fold == 'mixed': df['fold'] = pd.Series(draw(st.lists(st.sampled_from([0, 1, 'a', None]), min_size=n, max_size=n)), dtype=object)
    if draw(st.integers(0, 15)) == 0: df = df.drop(columns=[draw(st.sampled_from(list(df.columns)))])
    return df

far = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 0.0, -0.1, 1e-3, 0.1, 0.5, 1, 1.5, 1e-300, None, 'x']))
fars = st.one_of(st.lists(far, max_size=3).map(tuple), st.sampled_from([(), (0,), (1e-1, 1e-2), (0.1,)]))

def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); return f(*a, **k)

def run_curves(x):
    df, fs, n_boot = x
    for f in (M.roc_frame, M.roc_auc, M.det_frame, M.equal_error_rate):
        try: _quiet(f, df)
        except FacelabError: pass
    try: _quiet(M.tar_at_far, df, fs)
    except FacelabError: pass
    _quiet(M.curve_summary, df, fs, n_boot=n_boot)

method = st.one_of(st.sampled_from(['best-f1', 'best-accuracy', 'tree', 'sigma:1', 'sigma:2', 'far:1e-3', 'far:0.1', 'far:0', 'far:-0.1',
                                    'far:x', 'far:nan', 'far:inf', 'far:1', 'far:2', 'sigma:nan', 'sigma:inf', 'sigma:-1', 'sigma:', 'far:',
                                    '', 'x', 'tree:1', 0.5, float('nan'), float('inf'), -1, None, True]),
                   st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True))

def run_tune_threshold(x):
    df, m = x
    _quiet(M.tune_threshold, df, m)

def run_evaluate_thresholds(x):
    df, ms, folds, n_boot, level = x
    t = _quiet(M.evaluate_thresholds, df, ms, folds=folds, n_boot=n_boot, level=level)
    M.recommend_threshold(t)

def run_metrics_table(x):
    df, ts = x
    _quiet(M.metrics_table, df, ts)

def run_kfold_evaluate(x):
    df, m, folds = x
    per = _quiet(M.kfold_evaluate, df, m, folds=folds)
    M.kfold_summary(per)

def run_negatives_needed(x):
    f, r = x
    M.negatives_needed(f, r)

label_v = st.sampled_from(['Yes', 'No', pd.NA, None, np.nan, True, 1, 'x'])
def _labels_of(draw_list, kind):
    "A list, an object array or a pandas string array of the drawn labels."
    if kind == 'string': return pd.array([v if isinstance(v, str) or v is pd.NA else pd.NA for v in draw_list], dtype='string')
    return np.array(draw_list, dtype=object) if kind == 'array' else list(draw_list)

def run_confusion_counts(x):
    labels, preds, kind = x
    M.confusion_counts(_labels_of(labels, kind), _labels_of(preds, kind))
    M.metrics_from_labels(_labels_of(labels, kind), _labels_of(preds, kind))

def run_bootstrap_metrics(x):
    y, a, n_boot = x
    n = min(len(y), len(a))
    codes = np.arange(n) % 3
    M.bootstrap_metrics(y[:n], a[:n], codes, codes[::-1].copy(), 3, n_boot=n_boot)

def run_tune_tree_extreme(x):
    ds, ys = x
    n = min(len(ds), len(ys))
    _quiet(M.tune_tree, pd.DataFrame(dict(decision=ys[:n], distance=ds[:n])))

thresholds = st.one_of(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([None, 'x', 0.5])), max_size=4),
                       st.dictionaries(st.text(max_size=3), st.floats(allow_nan=True), max_size=3), st.floats(allow_nan=True))
level = st.one_of(st.just(0.95), st.sampled_from([0.5, 0, 1, 1.5, -1, float('nan'), None]))
n_folds = st.one_of(st.integers(3, 6), st.integers(-2, 12))

TARGETS = {
    'read_mot': (mot_files(), run_read_mot),
    'read_lfw_pairs': (lfw_files(), run_read_lfw_pairs),
    'read_coco': (coco_files(), run_read_coco),
    'read_cvat': (cvat_files(), run_read_cvat),
    'metrics_from_counts': (st.tuples(count, count, count, count), run_metrics_from_counts),
    'metrics_table': (st.tuples(pair_tables(), thresholds), run_metrics_table),
    'curves (roc, det, eer, tar_at_far, curve_summary)': (st.tuples(pair_tables(), fars, st.integers(0, 3)), run_curves),
    'tune_threshold': (st.tuples(pair_tables(), method), run_tune_threshold),
    'kfold_evaluate': (st.tuples(pair_tables(), method, n_folds), run_kfold_evaluate),
    'evaluate_thresholds': (st.tuples(pair_tables(), st.lists(method, max_size=3), n_folds, st.integers(0, 3), level), run_evaluate_thresholds),
    'confusion_counts': (st.tuples(st.lists(label_v, max_size=8), st.lists(label_v, max_size=8),
                                   st.sampled_from(['list', 'array', 'string'])), run_confusion_counts),
    'bootstrap_metrics': (st.tuples(st.lists(st.sampled_from([True, False, pd.NA, None]), max_size=8),
                                    st.lists(st.sampled_from([True, False, pd.NA, np.nan]), max_size=8), st.integers(0, 3)),
                          run_bootstrap_metrics),
    'tune_tree': (st.tuples(st.lists(st.sampled_from([0.1, 0.5, 1e308, 1.7e308, 3.5e38, 1e-300, 0.0]), max_size=8),
                            st.lists(st.sampled_from(['Yes', 'No']), max_size=8)), run_tune_tree_extreme),
    'negatives_needed': (st.tuples(far, st.one_of(st.just(2), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1, 0, -1, 1.01]))),
                         run_negatives_needed),
}

def _fuzz(name):
    "A test feeding `N` examples of target `name`; only `FacelabError` may escape facelab."
    strategy, run = TARGETS[name]
    @settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def test(x):
        try: run(x)
        except FacelabError: pass
    test.__name__ = f"test_fuzz_{name.split()[0]}"
    return test

test_fuzz_read_mot = _fuzz('read_mot')
test_fuzz_read_lfw_pairs = _fuzz('read_lfw_pairs')
test_fuzz_read_coco = _fuzz('read_coco')
test_fuzz_read_cvat = _fuzz('read_cvat')
test_fuzz_metrics_from_counts = _fuzz('metrics_from_counts')
test_fuzz_metrics_table = _fuzz('metrics_table')
test_fuzz_curves = _fuzz('curves (roc, det, eer, tar_at_far, curve_summary)')
test_fuzz_tune_threshold = _fuzz('tune_threshold')
test_fuzz_kfold_evaluate = _fuzz('kfold_evaluate')
test_fuzz_evaluate_thresholds = _fuzz('evaluate_thresholds')
test_fuzz_negatives_needed = _fuzz('negatives_needed')
test_fuzz_confusion_counts = _fuzz('confusion_counts')
test_fuzz_bootstrap_metrics = _fuzz('bootstrap_metrics')
test_fuzz_tune_tree = _fuzz('tune_tree')
