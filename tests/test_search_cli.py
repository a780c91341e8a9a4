"""`facelab gallery build` and `facelab find` as a user runs them, on real photos with real models, in-process through
`facelab.cli.main` (what the console script calls)."""
from pathlib import Path
import numpy as np, pandas as pd
import pytest
from facelab.cli import main
from facelab.datasets import deepface_sample, deepface_folder, sample_folder
from conftest import cli as run, people_folder

@pytest.fixture(scope='module')
def gallery(tmp_path_factory):
    "A gallery folder of three people (every photo of theirs but the last), built from a folder tree holding one unreadable photo."
    tmp = tmp_path_factory.mktemp('search')
    people = deepface_sample()
    people_folder(tmp/'people', ['Angelina', 'Jennifer', 'Mark'], -1, broken='Mark')
    r = run('gallery', 'build', tmp/'people', '--out', tmp/'g')
    assert r.returncode == 0, r.stderr
    return tmp, r, people

def test_build_writes_parquet_and_json_and_names_the_bad_photo(gallery):
    tmp, r, people = gallery
    assert {p.name for p in (tmp/'g').iterdir()} >= {'gallery.parquet', 'gallery.json', 'failures.csv'}
    assert not list((tmp/'g').glob('*.pkl')) and not list((tmp/'g').glob('*.pickle'))
    t = pd.read_parquet(tmp/'g'/'gallery.parquet')
    assert set(t.identity) == {'Angelina', 'Jennifer', 'Mark'}
    assert t.file.nunique() == len(people['Angelina']) + len(people['Jennifer']) + len(people['Mark']) - 3
    assert 'broken.jpg' in r.stdout and '1 images could not be embedded' in r.stdout
    fails = pd.read_csv(tmp/'g'/'failures.csv')    # the unreadable photo, and the faces that are not the largest of their image
    assert list(fails.columns) == ['file', 'stage', 'reason'] and set(fails.stage) == {'load', 'enrol'}, fails
    assert t.groupby('file').size().max() == 1 and (fails.stage == 'enrol').sum() == 3     # img54.jpg: Jennifer and three more
    assert '3 extra faces not enrolled' in r.stdout
    info = run('gallery', 'info', tmp/'g')
    assert info.returncode == 0 and 'Gallery:' in info.stdout and 'Jennifer' in info.stdout

def test_find_known_unknown_and_two_faces(gallery):
    tmp, _, people = gallery
    couple = deepface_folder()/'couple.jpg'
    r = run('find', people['Jennifer'][-1], people['Elon'][0], couple, '--gallery', tmp/'g', '-k', '3', '--out', tmp/'found.csv')
    assert r.returncode == 0, r.stderr
    lines = {l.split(' face ')[0].split('/')[-1] + ' ' + l.split(' face ')[1].split(':')[0]: l for l in r.stdout.splitlines() if ' face ' in l and ': ' in l}
    assert ': Jennifer (nearest Jennifer' in lines[Path(people['Jennifer'][-1]).name + ' 0']
    assert ': not in database (nearest' in lines[Path(people['Elon'][0]).name + ' 0']
    assert {'couple.jpg 0', 'couple.jpg 1'} <= set(lines)       # two faces, two answers
    found = pd.read_csv(tmp/'found.csv')
    assert (found['rank'] <= 3).all()
    assert set(found[found['query'] == people['Jennifer'][-1]].identity) == {'Jennifer'}
    assert set(found[found['query'] == people['Jennifer'][-1]].answer) == {'Jennifer'}
    stranger = found[found['query'] == people['Elon'][0]]          # "not in database" is an answer too: it reaches the file
    assert stranger.answer.tolist() == ['not in database'] and (stranger.distance > stranger.threshold).all()
    known = found[found.answer != 'not in database']
    assert (known.distance <= known.threshold).all()
    assert set(found.drop_duplicates(['query', 'query_face']).answer) <= {'Jennifer', 'Angelina', 'Mark', 'not in database'}
    assert (found['query'] == str(couple)).sum() >= 2

def test_find_searches_once(gallery, tmp_path, monkeypatch):
    "`facelab find` answers and lists the nearest from one search: the photos embedded once, the index searched once."
    import facelab.search as S
    tmp, _, people = gallery
    calls = {'embed': 0, 'search': 0}
    qf, search = S._query_faces, S.ExactIndex.search
    def count_qf(*a, **k): calls['embed'] += 1; return qf(*a, **k)
    def count_search(self, *a, **k): calls['search'] += 1; return search(self, *a, **k)
    monkeypatch.setattr(S, '_query_faces', count_qf); monkeypatch.setattr(S.ExactIndex, 'search', count_search)
    assert main(['find', people['Mark'][-1], people['Elon'][0], '--gallery', str(tmp/'g'), '-k', '2', '--out', str(tmp_path/'f.csv')]) == 0
    assert calls == {'embed': 1, 'search': 1}, calls
    assert pd.read_csv(tmp_path/'f.csv').drop_duplicates('query').answer.tolist() == ['Mark', 'not in database']

def test_find_reports_bad_photo_and_missing_gallery(gallery, tmp_path):
    tmp, _, people = gallery
    bad = tmp_path/'bad.jpg'; bad.write_bytes(b'GIF89a truncated')
    r = run('find', bad, people['Mark'][-1], '--gallery', tmp/'g')
    assert r.returncode == 1 and 'bad.jpg: could not be searched' in r.stdout and ': Mark (nearest Mark' in r.stdout
    r = run('find', people['Mark'][-1], '--gallery', tmp_path/'nowhere')
    assert r.returncode == 2 and 'not a facelab gallery' in r.stderr and 'Traceback' not in r.stderr
    r = run('gallery', 'build', tmp_path/'nowhere', '--out', tmp_path/'g')
    assert r.returncode == 2 and 'not a folder' in r.stderr

def test_detect_and_find_report_the_same_faces(gallery, tmp_path):
    "One pipeline: `facelab detect` and `facelab find` see the same three faces in obama_and_biden.jpg, in the same order and place."
    tmp, _, _ = gallery
    from facelab.datasets import sample_path
    photo = sample_path('face_recognition/knn_examples/test/obama_and_biden.jpg')
    d = run('detect', photo, '--out', tmp_path/'dets.csv')
    assert d.returncode == 0, d.stderr
    dets = pd.read_csv(tmp_path/'dets.csv')
    f = run('find', photo, '--gallery', tmp/'g', '-k', '1', '--threshold', '2', '--out', tmp_path/'found.csv')
    assert f.returncode == 0, f.stderr
    found = pd.read_csv(tmp_path/'found.csv').drop_duplicates('query_face').sort_values('query_face')
    assert len(dets) == 3 and found.query_face.tolist() == dets.face_idx.tolist()
    assert (abs(found.query_x1.to_numpy() - dets.x1.to_numpy()) < 1e-3).all()

def test_gallery_enrols_the_largest_face_of_each_image(tmp_path):
    "face_recognition's biden2.jpg: a face in the painting behind Biden (YuNet, confidence 0.70) is not filed as Biden by default."
    knn = sample_folder('face_recognition/knn_examples/train')
    r = run('gallery', 'build', knn, '--out', tmp_path/'g')
    assert r.returncode == 0, r.stderr
    t, f = pd.read_parquet(tmp_path/'g'/'gallery.parquet'), pd.read_csv(tmp_path/'g'/'failures.csv')
    assert t.groupby('file').size().max() == 1 and t.file.nunique() == 9 and (t.identity == 'biden').sum() == 2
    assert len(f) == 1 and f.stage[0] == 'enrol' and f.file[0].endswith('biden/biden2.jpg'), f
    assert f.reason[0].startswith('extra face (confidence 0.70, box '), f.reason[0]
    assert f.reason[0].endswith("only the largest face of each image is enrolled; faces='all' (`--faces all`) keeps every face")
    assert '1 extra face not enrolled' in r.stdout and 'biden2.jpg enrol extra face (confidence 0.70' in r.stdout, r.stdout
    assert str(tmp_path/'g'/'failures.csv') in r.stdout
    r = run('gallery', 'build', knn, '--out', tmp_path/'all', '--faces', 'all')   # opted in: the painting's face is filed as Biden
    assert r.returncode == 0, r.stderr
    t = pd.read_parquet(tmp_path/'all'/'gallery.parquet')
    assert len(t) == 10 and (t.identity == 'biden').sum() == 3 and len(pd.read_csv(tmp_path/'all'/'failures.csv')) == 0

@pytest.mark.parametrize('by', ['identity', 'template'])
def test_find_by_identity_and_template(gallery, tmp_path, by):
    "--by sample ranks gallery faces (a person's photos fill the top k); --by identity and --by template rank people, one row each."
    tmp, _, people = gallery
    queries = [people['Jennifer'][-1], people['Mark'][-1]]
    found = {}
    for b in ['sample', by]:
        r = run('find', *queries, '--gallery', tmp/'g', '-k', '3', '--threshold', '2', '--by', b, '--out', tmp_path/f'{b}.csv')
        assert r.returncode == 0 and 'Traceback' not in r.stderr, (b, r.stdout[-1000:], r.stderr[-3000:])
        found[b] = pd.read_csv(tmp_path/f'{b}.csv')
        assert found[b].groupby('query')['rank'].apply(list).tolist() == [[1, 2, 3]]*2, (b, found[b])
    for q, who in zip(queries, ['Jennifer', 'Mark']):
        assert found['sample'].query('query == @q').identity.tolist() == [who]*3   # three photos of the same person
        ids = found[by].query('query == @q').identity.tolist()
        assert ids[0] == who and sorted(ids) == ['Angelina', 'Jennifer', 'Mark'], (by, ids)
        assert set(found[by].query('query == @q').answer) == {who}
    if by == 'identity':   # each person's nearest face: the top one is the nearest face of the per-face ranking
        assert np.allclose(found['identity'].groupby('query').distance.min(), found['sample'].groupby('query').distance.min())

def test_find_metric(gallery, tmp_path):
    "--metric euclidean_l2: distances on that scale (sqrt(2 cosine) on unit vectors) and the model's threshold for it."
    tmp, _, people = gallery
    q = people['Jennifer'][-1]
    for metric in ['cosine', 'euclidean_l2']:
        r = run('find', q, '--gallery', tmp/'g', '-k', '3', '--metric', metric, '--out', tmp_path/f'{metric}.csv')
        assert r.returncode == 0 and ': Jennifer (nearest Jennifer' in r.stdout, (r.stdout, r.stderr)
    cos, l2 = pd.read_csv(tmp_path/'cosine.csv'), pd.read_csv(tmp_path/'euclidean_l2.csv')
    assert cos.file.tolist() == l2.file.tolist()   # the same neighbours, in the same order
    np.testing.assert_allclose(l2.distance, np.sqrt(2*cos.distance), rtol=1e-4)
    assert l2.threshold.iloc[0] != cos.threshold.iloc[0] and l2.threshold.nunique() == 1
