"The `facelab` command as a user runs it: a real subprocess, real photos, real models."
import os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest
from facelab.datasets import deepface_sample

exe = Path(sys.executable).parent/'facelab'

def run(*args, **kw):
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=600, **kw)

def test_weights_status_lists_offline_models_available():
    r = run('weights', 'status')
    assert r.returncode == 0, r.stderr
    rows = {l.split()[0]: l.split()[2] for l in r.stdout.splitlines()[1:] if l.strip()}
    for name in ['SFace', 'yunet', 'centerface']: assert rows[name] == 'True', r.stdout
    assert rows['ArcFace'] in ('True', 'False')

def test_weights_import_refuses_unknown_names(tmp_path):
    (tmp_path/'src').mkdir(); (tmp_path/'src'/'mystery.bin').write_bytes(b'x')
    env = {**os.environ, 'DEEPFACE_HOME': str(tmp_path/'home')}
    r = run('weights', 'import', tmp_path/'src', env=env)
    assert r.returncode == 1 and 'refused' in r.stdout
    assert not (tmp_path/'home'/'.deepface'/'weights'/'mystery.bin').exists()

def test_evaluate_a_folder_with_a_broken_photo(tmp_path):
    "A folder tree with one unreadable photo: the run finishes, scores the rest and names the bad file."
    people = deepface_sample()
    for name in ['Angelina', 'Jennifer', 'Mark']:
        (tmp_path/'people'/name).mkdir(parents=True)
        for f in people[name][:3]: shutil.copy(f, tmp_path/'people'/name)
    (tmp_path/'people'/'Mark'/'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    r = run('evaluate', tmp_path/'people', '--out', tmp_path/'report', '--no-cache')
    assert r.returncode == 0, r.stderr
    pairs = pd.read_csv(tmp_path/'report'/'pairs.csv')
    assert len(pairs) == 10*9//2
    bad = pairs.file_x.str.endswith('broken.jpg') | pairs.file_y.str.endswith('broken.jpg')
    assert bad.sum() == 9 and pairs.distance[bad].isna().all() and pairs.distance[~bad].notna().all()
    fails = pd.read_csv(tmp_path/'report'/'failures.csv')
    assert len(fails) == 1 and fails.file[0].endswith('broken.jpg') and fails.stage[0] == 'load'   # one row per image, not per pair
    assert pairs.error[bad].str.contains('broken.jpg').all()
    assert (tmp_path/'report'/'report.md').read_text().startswith('# facelab verification report')

def test_evaluate_missing_folder_is_a_clear_error(tmp_path):
    r = run('evaluate', tmp_path/'nope')
    assert r.returncode == 2 and 'nope' in r.stderr and 'Traceback' not in r.stderr

def test_evaluate_with_the_offline_facenet_and_retinaface(tmp_path):
    "Every model and detector of the registries runs from the CLI: Sandberg's FaceNet with RetinaFace-MobileNet, offline."
    r = run('evaluate', 'sample-study', '--model', 'Facenet-CASIA', '--detector', 'retinaface-mobilenet', '--out', tmp_path/'r',
            '--tune', 'best-f1', '--no-cache')
    assert r.returncode == 0, r.stderr
    s = __import__('json').loads((tmp_path/'r'/'settings.json').read_text())
    assert (s['model_name'], s['detector_backend'], s['scored_pairs']) == ('Facenet-CASIA', 'retinaface-mobilenet', 300)
    assert 'Facenet-CASIA + retinaface-mobilenet' in r.stdout

def test_unknown_model_or_detector_is_a_clear_error(tmp_path):
    for flag, value, msg in [('--model', 'NoSuchNet', "unknown model 'NoSuchNet'"), ('--detector', 'nodetector', "unknown detector 'nodetector'")]:
        r = run('evaluate', 'sample-study', flag, value, '--out', tmp_path/'r', '--no-cache')
        assert r.returncode == 2 and msg in r.stderr, r.stderr

def test_validate_refuses_ground_truth_of_another_video(tmp_path):
    "The CVAT sample (a 25×20-pixel video, frames 10-19) against the 640×360 Hamilton clip: exit 2, the file and the problem named."
    from facelab.datasets import sample_path, data_dir
    video, gt = sample_path('videos/hamilton_clip.mp4'), data_dir()/'cvat_samples'/'video'/'annotations.xml'
    query = deepface_sample()['Angelina'][0]
    r = run('validate', video, '--gt', gt, '--query', query, '--out', tmp_path/'r')
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert str(gt) in r.stderr and "drawn on 25×20-pixel frames, the video's are 640×360" in r.stderr and '--allow-mismatch' in r.stderr
    assert not (tmp_path/'r'/'report.md').exists()
    # asked to go on: scored, and the output and report say what did not fit and which label was taken, and why
    r = run('validate', video, '--gt', gt, '--query', query, '--out', tmp_path/'r', '--allow-mismatch', '--every-n', '10',
            '--iou', '0.4', '--tol', '15', '--no-cache')
    assert r.returncode == 0, r.stderr
    assert "label II, the only person label in the ground truth (1 box, frames 10-10)" in r.stdout, r.stdout
    assert 'does not fit the video' in r.stdout and 'IoU ≥ 0.4' in r.stdout and '< 15 px' in r.stdout
    assert "vs the ground truth's tracks" in r.stdout and 'idf1' in r.stdout and 'track-mean' in r.stdout, r.stdout   # the tracking table
    rep = (tmp_path/'r'/'report.md').read_text()
    assert 'label `II`, the only person label' in rep and 'does not fit the video' in rep and 'IoU ≥ 0.4' in rep and '< 15 px' in rep

def _quick_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert 'Traceback' not in r.stderr and all(w in r.stderr for w in words), r.stderr

def test_bad_settings_and_outputs_are_refused_before_any_work(tmp_path):
    "Each of these ends in exit 2 with a clear message and nothing embedded: the embedding cache stays empty."
    (tmp_path/'afile').write_text('')
    env = {**os.environ, 'FACELAB_HOME': str(tmp_path/'home')}
    for args, words in [(['--out', tmp_path/'afile'], ['afile', 'report folder is an existing file']),
                        (['--out', tmp_path/'afile'/'r'], ['report folder cannot be written']),
                        (['--folds', '0'], ['folds must be a whole number >= 3']),
                        (['--max-negatives', '-1'], ['max_negatives must be a whole number >= 0']),
                        (['--bootstrap', '-1'], ['n_boot']),
                        (['--tune', 'far:-0.1'], ["tuning method 'far:-0.1'"]),
                        (['--detector', 'nope'], ["unknown detector 'nope'"])]:
        _quick_error(run('evaluate', 'sample-study', '--out', tmp_path/'r', *args, env=env), *words)
    assert not (tmp_path/'home'/'cache').exists()

def test_an_unwritable_facelab_home_is_refused_before_embedding(tmp_path):
    (tmp_path/'afile').write_text('')
    env = {**os.environ, 'FACELAB_HOME': str(tmp_path/'afile'/'home')}   # under a file: not writable, even as root
    _quick_error(run('evaluate', 'sample-study', '--out', tmp_path/'r', env=env), 'embedding cache cannot be written', 'FACELAB_HOME')
    r = run('evaluate', 'sample-study', '--out', tmp_path/'r', '--no-cache', '--tune', 'best-f1', '--bootstrap', '0', env=env)
    assert r.returncode == 0, r.stderr   # without the cache it runs

def test_evaluate_where_no_pair_can_be_scored_reports_every_reason(tmp_path):
    for who in ['a', 'b', 'c']:
        (tmp_path/'junk'/who).mkdir(parents=True)
        for i in range(2): (tmp_path/'junk'/who/f'{i}.jpg').write_text('not a photo')
    r = run('evaluate', tmp_path/'junk', '--out', tmp_path/'r', '--no-cache')
    _quick_error(r, 'no pair could be scored: 6 of 6 images', 'failures.csv')
    fails = pd.read_csv(tmp_path/'r'/'failures.csv')
    assert len(fails) == 6 and fails.reason.str.contains('not an image').all()

def test_detect_and_find_refuse_missing_inputs_and_bad_outputs(tmp_path):
    (tmp_path/'afile').write_text('')
    _quick_error(run('detect', tmp_path/'missing.jpg', '--out', tmp_path/'d.csv'), 'missing.jpg', 'no such image')
    _quick_error(run('detect', deepface_sample()['Angelina'][0], '--out', tmp_path/'afile'/'d.csv'), 'is an existing file')
    _quick_error(run('detect', deepface_sample()['Angelina'][0], '--out', tmp_path/'d.csv', '--every-n', '0'), '--every-n')
    (tmp_path/'bad.jpg').write_text('not a photo')
    r = run('detect', tmp_path/'bad.jpg', '--out', tmp_path/'d.csv', '--no-cache')
    assert r.returncode == 1 and 'not an image' in r.stdout, (r.stdout, r.stderr)   # every input failed: non-zero
    _quick_error(run('find', tmp_path/'bad.jpg', '--gallery', tmp_path/'g', '-k', '-1'), '-k must be at least 1')

def test_evaluate_with_the_flip_test(tmp_path):
    r = run('evaluate', 'sample-study', '--flip', '--out', tmp_path/'r', '--tune', 'best-f1', '--bootstrap', '0', '--no-cache')
    assert r.returncode == 0, r.stderr
    assert 'SFace + yunet, cosine, flip test' in r.stdout
    s = __import__('json').loads((tmp_path/'r'/'settings.json').read_text())
    assert s['embedding']['flip'] is True and s['scored_pairs'] == 300

def test_compare_two_models_on_the_same_pairs(tmp_path):
    r = run('compare', 'sample-study', '--models', 'SFace,Facenet-CASIA', '--detectors', 'yunet', '--bootstrap', '0', '--out', tmp_path/'c', '--no-cache')
    assert r.returncode == 0, r.stderr
    lb = pd.read_csv(tmp_path/'c'/'leaderboard.csv')
    assert sorted(lb.model_name) == ['Facenet-CASIA', 'SFace'] and lb.pairs.nunique() == 1 and lb.pairs.iloc[0] == 300
    assert 'each scored on the same 300 pairs' in r.stdout and (tmp_path/'c'/'report.md').exists()

def test_adapt_then_use_the_head_as_a_model(tmp_path):
    "Too few people to learn from: the head is the identity map, and says why; it is still a model `evaluate` takes."
    r = run('adapt', 'sample', '--out', tmp_path/'head')
    assert r.returncode == 0, r.stderr
    assert 'chosen: identity: 13 people, fewer than min_people=16' in r.stdout and (tmp_path/'head'/'head.json').is_file()
    r = run('evaluate', 'sample-study', '--model', f"SFace+head:{tmp_path/'head'}", '--tune', 'best-f1', '--bootstrap', '0', '--out', tmp_path/'r')
    assert r.returncode == 0, r.stderr
    assert 'is a learned head: its output has no published threshold' in r.stdout
    t = pd.read_csv(tmp_path/'r'/'thresholds.csv')
    assert set(t.protocol) == {'oracle', 'k-fold'} and (t.n_pairs == 300).all()

def test_adapt_lists_the_images_it_skipped(tmp_path):
    "`facelab adapt` writes failures.csv next to the head: one row per skipped image (file, stage, reason), as `evaluate` does."
    import cv2, numpy as np
    people = deepface_sample()
    for name in ['Angelina', 'Jennifer']:
        (tmp_path/'d'/name).mkdir(parents=True)
        for f in people[name][:2]: shutil.copy(f, tmp_path/'d'/name)
    cv2.imwrite(str(tmp_path/'d'/'Angelina'/'blank.jpg'), np.full((120, 120, 3), 128, np.uint8))   # no face
    (tmp_path/'d'/'Jennifer'/'broken.jpg').write_bytes(b'not a jpeg')
    r = run('adapt', tmp_path/'d', '--out', tmp_path/'head', '--no-cache')
    assert r.returncode == 0, r.stderr
    f = pd.read_csv(tmp_path/'head'/'failures.csv')
    assert list(f.columns) == ['file', 'stage', 'reason'] and len(f) == 2, f
    assert {Path(p).name for p in f.file} == {'blank.jpg', 'broken.jpg'} and f.reason.str.len().gt(0).all()
    assert '4 faces of 2 people (2 images without a usable face, listed in' in r.stdout, r.stdout
    # a rerun without failures leaves an empty table, not the old one
    (tmp_path/'d'/'Angelina'/'blank.jpg').unlink(); (tmp_path/'d'/'Jennifer'/'broken.jpg').unlink()
    r = run('adapt', tmp_path/'d', '--out', tmp_path/'head', '--no-cache')
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path/'head'/'failures.csv')) == 0
