"""The `facelab` command as a user runs it, on real photos with real models, in-process through `facelab.cli.main` (what the
console script calls; `conftest.cli`). The environment a test changes (FACELAB_HOME, DEEPFACE_HOME) is read by facelab at each
call, so `monkeypatch.setenv` stands in for a subprocess's environment; one test runs the installed console script itself."""
import argparse, json, shutil
from pathlib import Path
import numpy as np, pandas as pd
import pytest
import facelab
from facelab.cli import parser
from facelab.datasets import deepface_sample, deepface_folder
from conftest import cli, facelab_process, quick_error as _quick_error, people_folder, hamilton_with_cvat_sample

FEW = ['Angelina', 'Jennifer', 'Mark']   # `people_folder(..., FEW, n=4)`: a study small enough to run every stage quickly

def test_console_script_is_installed():
    "`facelab` on the PATH of the venv runs `facelab.cli.main` (the entry point of pyproject.toml's [project.scripts])."
    r = facelab_process('--version')
    assert r.returncode == 0 and r.stdout.strip() == f"facelab {facelab.__version__}", (r.stdout, r.stderr[-2000:])

def test_weights_status_lists_offline_models_available():
    r = cli('weights', 'status')
    assert r.returncode == 0, r.stderr
    rows = {l.split()[0]: l.split()[2] for l in r.stdout.splitlines()[1:] if l.strip()}
    for name in ['SFace', 'yunet', 'centerface']: assert rows[name] == 'True', r.stdout
    assert rows['ArcFace'] in ('True', 'False')

def test_weights_import_refuses_unknown_names(tmp_path, monkeypatch):
    (tmp_path/'src').mkdir(); (tmp_path/'src'/'mystery.bin').write_bytes(b'x')
    monkeypatch.setenv('DEEPFACE_HOME', str(tmp_path/'home'))
    r = cli('weights', 'import', tmp_path/'src')
    assert r.returncode == 1 and 'refused' in r.stdout
    assert not (tmp_path/'home'/'.deepface'/'weights'/'mystery.bin').exists()
    r = cli('weights', 'import', tmp_path/'src', '--trust')   # trust covers unverifiable content, never an unknown name
    assert r.returncode == 1 and 'refused: not a weight file' in r.stdout, r.stdout
    assert not (tmp_path/'home'/'.deepface'/'weights'/'mystery.bin').exists()

def test_weights_import_trust_takes_an_unverifiable_file(tmp_path, monkeypatch):
    "`--trust`: a file under a known name that facelab cannot verify (here: far too small) is refused without it, imported with it."
    name = 'face_recognition_sface_2021dec.onnx'
    (tmp_path/'src').mkdir(); (tmp_path/'src'/name).write_bytes(b'x'*1000)
    monkeypatch.setenv('DEEPFACE_HOME', str(tmp_path/'home'))   # never the installed weights
    dest = tmp_path/'home'/'.deepface'/'weights'/name
    r = cli('weights', 'import', tmp_path/'src')
    assert r.returncode == 1 and 'refused: 1,000 bytes' in r.stdout and 'facelab weights import --trust' in r.stdout, r.stdout
    assert not dest.exists()
    r = cli('weights', 'import', tmp_path/'src', '--trust')
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert f"imported as {name} (trusted: 1,000 bytes" in r.stdout, r.stdout
    assert dest.read_bytes() == b'x'*1000

def test_evaluate_a_folder_with_a_broken_photo(tmp_path):
    "A folder tree with one unreadable photo: the run finishes, scores the rest and names the bad file."
    people_folder(tmp_path/'people', ['Angelina', 'Jennifer', 'Mark'], 3, broken='Mark')
    r = cli('evaluate', tmp_path/'people', '--out', tmp_path/'report', '--no-cache')
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
    r = cli('evaluate', tmp_path/'nope')
    assert r.returncode == 2 and 'nope' in r.stderr and 'Traceback' not in r.stderr

def test_evaluate_with_the_offline_facenet_and_retinaface(tmp_path):
    "Every model and detector of the registries runs from the CLI: Sandberg's FaceNet with RetinaFace-MobileNet, offline."
    few = people_folder(tmp_path/'few', FEW, n=4)   # 12 photos, 66 pairs: enough to run every stage, a fifth of sample-study
    r = cli('evaluate', few, '--model', 'Facenet-CASIA', '--detector', 'retinaface-mobilenet', '--out', tmp_path/'r',
            '--tune', 'best-f1', '--no-cache', '--no-plots')
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path/'r'/'settings.json').read_text())
    assert (s['model_name'], s['detector_backend'], s['scored_pairs']) == ('Facenet-CASIA', 'retinaface-mobilenet', 66)
    assert 'Facenet-CASIA + retinaface-mobilenet' in r.stdout

def test_unknown_model_or_detector_is_a_clear_error(tmp_path):
    for flag, value, msg in [('--model', 'NoSuchNet', "unknown model 'NoSuchNet'"), ('--detector', 'nodetector', "unknown detector 'nodetector'")]:
        r = cli('evaluate', 'sample-study', flag, value, '--out', tmp_path/'r', '--no-cache')
        assert r.returncode == 2 and msg in r.stderr, r.stderr

def test_validate_refuses_ground_truth_of_another_video(tmp_path):
    "The CVAT sample (a 25×20-pixel video, frames 10-19) against the 640×360 Hamilton clip: exit 2, the file and the problem named."
    video, gt = hamilton_with_cvat_sample()
    query = deepface_sample()['Angelina'][0]
    r = cli('validate', video, '--gt', gt, '--query', query, '--out', tmp_path/'r')
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert str(gt) in r.stderr and "drawn on 25×20-pixel frames, the video's are 640×360" in r.stderr and '--allow-mismatch' in r.stderr
    assert not (tmp_path/'r'/'report.md').exists()
    # asked to go on: scored, and the output and report say what did not fit and which label was taken, and why
    r = cli('validate', video, '--gt', gt, '--query', query, '--out', tmp_path/'r', '--allow-mismatch', '--every-n', '10',
            '--iou', '0.4', '--tol', '15', '--no-cache')
    assert r.returncode == 0, r.stderr
    assert "label II, the only person label in the ground truth (1 box, frames 10-10)" in r.stdout, r.stdout
    assert 'does not fit the video' in r.stdout and 'IoU ≥ 0.4' in r.stdout and '< 15 px' in r.stdout
    assert "vs the ground truth's tracks" in r.stdout and 'idf1' in r.stdout and 'track-mean' in r.stdout, r.stdout   # the tracking table
    rep = (tmp_path/'r'/'report.md').read_text()
    assert 'label `II`, the only person label' in rep and 'does not fit the video' in rep and 'IoU ≥ 0.4' in rep and '< 15 px' in rep
    assert {'tracking.csv', 'track_metrics.csv'} <= {p.name for p in (tmp_path/'r').iterdir()}
    # --no-track: the same study without linking faces into tracks: no tracking table, no per-track rows, the frame metrics unchanged
    r2 = cli('validate', video, '--gt', gt, '--query', query, '--out', tmp_path/'r2', '--allow-mismatch', '--every-n', '10',
             '--iou', '0.4', '--tol', '15', '--no-track')
    assert r2.returncode == 0, r2.stderr
    assert "vs the ground truth's tracks" not in r2.stdout and 'idf1' not in r2.stdout and 'track-mean' not in r2.stdout, r2.stdout
    files = {p.name for p in (tmp_path/'r2').iterdir()}
    assert 'metrics.csv' in files and not {'tracking.csv', 'track_metrics.csv'} & files, files
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path/'r'/'metrics.csv'), pd.read_csv(tmp_path/'r2'/'metrics.csv'))

def test_bad_settings_and_outputs_are_refused_before_any_work(tmp_path, monkeypatch):
    "Each of these ends in exit 2 with a clear message and nothing embedded: the embedding cache stays empty."
    (tmp_path/'afile').write_text('')
    monkeypatch.setenv('FACELAB_HOME', str(tmp_path/'home'))
    for args, words in [(['--out', tmp_path/'afile'], ['afile', 'report folder is an existing file']),
                        (['--out', tmp_path/'afile'/'r'], ['report folder cannot be written']),
                        (['--folds', '0'], ['folds must be a whole number >= 3']),
                        (['--max-negatives', '-1'], ['max_negatives must be a whole number >= 0']),
                        (['--bootstrap', '-1'], ['n_boot']),
                        (['--tune', 'far:-0.1'], ["tuning method 'far:-0.1'"]),
                        (['--detector', 'nope'], ["unknown detector 'nope'"])]:
        _quick_error(cli('evaluate', 'sample-study', '--out', tmp_path/'r', *args), *words)
    assert not (tmp_path/'home'/'cache').exists()

def test_an_unwritable_facelab_home_is_refused_before_embedding(tmp_path, monkeypatch):
    (tmp_path/'afile').write_text('')
    monkeypatch.setenv('FACELAB_HOME', str(tmp_path/'afile'/'home'))   # under a file: not writable, even as root
    _quick_error(cli('evaluate', 'sample-study', '--out', tmp_path/'r'), 'embedding cache cannot be written', 'FACELAB_HOME')
    r = cli('evaluate', 'sample-study', '--out', tmp_path/'r', '--no-cache', '--tune', 'best-f1', '--bootstrap', '0', '--no-plots')
    assert r.returncode == 0, r.stderr   # without the cache it runs

def test_evaluate_where_no_pair_can_be_scored_reports_every_reason(tmp_path):
    for who in ['a', 'b', 'c']:
        (tmp_path/'junk'/who).mkdir(parents=True)
        for i in range(2): (tmp_path/'junk'/who/f'{i}.jpg').write_text(f'not a photo of {who}, {i}')
    r = cli('evaluate', tmp_path/'junk', '--out', tmp_path/'r', '--no-cache')
    _quick_error(r, 'no pair could be scored: 6 of 6 images', 'failures.csv')
    fails = pd.read_csv(tmp_path/'r'/'failures.csv')
    assert len(fails) == 6 and fails.reason.str.contains('not an image').all()

def test_detect_and_find_refuse_missing_inputs_and_bad_outputs(tmp_path):
    (tmp_path/'afile').write_text('')
    _quick_error(cli('detect', tmp_path/'missing.jpg', '--out', tmp_path/'d.csv'), 'missing.jpg', 'no such image')
    _quick_error(cli('detect', deepface_sample()['Angelina'][0], '--out', tmp_path/'afile'/'d.csv'), 'is an existing file')
    _quick_error(cli('detect', deepface_sample()['Angelina'][0], '--out', tmp_path/'d.csv', '--every-n', '0'), '--every-n')
    (tmp_path/'bad.jpg').write_text('not a photo')
    r = cli('detect', tmp_path/'bad.jpg', '--out', tmp_path/'d.csv', '--no-cache')
    assert r.returncode == 1 and 'not an image' in r.stdout, (r.stdout, r.stderr)   # every input failed: non-zero
    _quick_error(cli('find', tmp_path/'bad.jpg', '--gallery', tmp_path/'g', '-k', '-1'), '-k must be at least 1')

def test_evaluate_with_the_flip_test(tmp_path):
    few = people_folder(tmp_path/'few', FEW, n=4)
    r = cli('evaluate', few, '--flip', '--out', tmp_path/'r', '--tune', 'best-f1', '--bootstrap', '0', '--no-cache', '--no-plots')
    assert r.returncode == 0, r.stderr
    assert 'SFace + yunet, cosine, flip test' in r.stdout
    s = json.loads((tmp_path/'r'/'settings.json').read_text())
    assert s['embedding']['flip'] is True and s['scored_pairs'] == 66

def test_evaluate_no_plots_writes_every_table_and_no_figure(tmp_path):
    "--no-plots, both tasks: the tables and output of a full run, no PNG, and a report.md that says so and links none."
    from facelab.core import NO_PLOTS
    few = people_folder(tmp_path/'few', FEW, n=4)
    for task in ('verification', 'identification'):
        runs = {name: cli('evaluate', few, '--task', task, '--bootstrap', '0', '--out', tmp_path/f"{task}-{name}", *extra)
                for name, extra in [('full', []), ('quick', ['--no-plots'])]}
        full, quick = (tmp_path/f"{task}-{name}" for name in runs)
        assert all(r.returncode == 0 for r in runs.values()), [r.stderr[-1000:] for r in runs.values()]
        assert runs['full'].stdout.replace(str(full), str(quick)) == runs['quick'].stdout
        assert not list(quick.glob('*.png')) and len(list(full.glob('*.png'))) >= 6, task
        assert sorted(p.name for p in quick.iterdir()) == sorted(p.name for p in full.iterdir() if p.suffix != '.png')
        for f in quick.glob('*.csv'): assert f.read_text() == (full/f.name).read_text(), (task, f.name)
        md = (quick/'report.md').read_text()
        assert NO_PLOTS in md and '.png' not in md and '.png' in (full/'report.md').read_text(), task

def test_compare_two_models_on_the_same_pairs(tmp_path):
    few = people_folder(tmp_path/'few', FEW, n=4)
    r = cli('compare', few, '--models', 'SFace,Facenet-CASIA', '--detectors', 'yunet', '--bootstrap', '0', '--out', tmp_path/'c',
            '--no-cache')
    assert r.returncode == 0, r.stderr
    lb = pd.read_csv(tmp_path/'c'/'leaderboard.csv')
    assert sorted(lb.model_name) == ['Facenet-CASIA', 'SFace'] and lb.pairs.nunique() == 1 and lb.pairs.iloc[0] == 66
    assert 'each scored on the same 66 pairs' in r.stdout and (tmp_path/'c'/'report.md').exists()

def test_adapt_then_use_the_head_as_a_model(tmp_path):
    "Too few people to learn from: the head is the identity map, and says why; it is still a model `evaluate` takes."
    r = cli('adapt', 'sample', '--out', tmp_path/'head')
    assert r.returncode == 0, r.stderr
    assert 'chosen: identity: 13 people, fewer than min_people=16' in r.stdout and (tmp_path/'head'/'head.json').is_file()
    s = json.loads((tmp_path/'head'/'head.json').read_text())['settings']
    assert (s['loss'], s['seed']) == ('triplet', 0), s   # the defaults of --loss and --seed
    r = cli('evaluate', 'sample-study', '--model', f"SFace+head:{tmp_path/'head'}", '--tune', 'best-f1', '--bootstrap', '0', '--out', tmp_path/'r',
            '--no-plots')
    assert r.returncode == 0, r.stderr
    assert 'is a learned head: its output has no published threshold' in r.stdout
    t = pd.read_csv(tmp_path/'r'/'thresholds.csv')
    assert set(t.protocol) == {'oracle', 'k-fold'} and (t.n_pairs == 300).all()

def test_adapt_loss_and_seed_reach_the_head(tmp_path):
    "`--loss contrastive --seed 3`: the head is trained (or, with too few people, chosen) under them; head.json records both."
    r = cli('adapt', 'sample', '--out', tmp_path/'head', '--loss', 'contrastive', '--seed', '3')
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path/'head'/'head.json').read_text())['settings']
    assert (s['loss'], s['seed']) == ('contrastive', 3), s   # the defaults, triplet and 0: test_adapt_then_use_the_head_as_a_model

def test_adapt_lists_the_images_it_skipped(tmp_path):
    "`facelab adapt` writes failures.csv next to the head: one row per skipped image (file, stage, reason), as `evaluate` does."
    import cv2
    people_folder(tmp_path/'d', ['Angelina', 'Jennifer'], 2)
    cv2.imwrite(str(tmp_path/'d'/'Angelina'/'blank.jpg'), np.full((120, 120, 3), 128, np.uint8))   # no face
    (tmp_path/'d'/'Jennifer'/'broken.jpg').write_bytes(b'not a jpeg')
    r = cli('adapt', tmp_path/'d', '--out', tmp_path/'head', '--no-cache')
    assert r.returncode == 0, r.stderr
    f = pd.read_csv(tmp_path/'head'/'failures.csv')
    assert list(f.columns) == ['file', 'stage', 'reason'] and len(f) == 2, f
    assert {Path(p).name for p in f.file} == {'blank.jpg', 'broken.jpg'} and f.reason.str.len().gt(0).all()
    assert '4 faces of 2 people (2 images without a usable face, listed in' in r.stdout, r.stdout
    # a rerun without failures leaves an empty table, not the old one
    (tmp_path/'d'/'Angelina'/'blank.jpg').unlink(); (tmp_path/'d'/'Jennifer'/'broken.jpg').unlink()
    r = cli('adapt', tmp_path/'d', '--out', tmp_path/'head', '--no-cache')
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path/'head'/'failures.csv')) == 0

def test_version():
    r = cli('--version')
    assert r.returncode == 0 and r.stdout.strip() == f"facelab {facelab.__version__}", r

def _commands() -> dict:
    "name -> subparser, for every `facelab` command."
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)

def _flat(text:str) -> str:
    "`text` without whitespace: argparse wraps help lines (and breaks words at hyphens) by the terminal's width."
    return ''.join(text.split())

def test_every_option_has_help_and_shows_its_default():
    "Every argument of every command has help; a default that is a value shows in its --help line, once; a required option says so."
    cmds = _commands()
    assert list(cmds) == ['weights', 'evaluate', 'compare', 'adapt', 'gallery', 'find', 'detect', 'validate']
    for name, p in cmds.items():
        shown = _flat(p.format_help())
        for a in p._actions:
            what = f"facelab {name} {'/'.join(a.option_strings) or a.dest}"
            assert a.help and a.help.strip(), f"{what} has no help"
            line = _flat(p._get_formatter()._format_action(a))   # its lines of --help
            assert line in shown, what
            assert line.count('(default') <= 1, f"{what} says its default twice: {line}"
            d = a.default
            if (a.option_strings or a.nargs in ('?', '*')) and not (d is None or d is False or d is argparse.SUPPRESS):
                assert _flat(f"(default: {d})") in line, f"{what}: its default {d!r} is not in --help: {line}"
            if a.required and a.option_strings: assert '(required)' in line, f"{what} is required; its help does not say so"

def test_help_lists_every_command():
    r = cli('--help')
    assert r.returncode == 0 and all(c in r.stdout for c in _commands()), r.stdout

def _without_dlib(monkeypatch):
    "Make `facelab.weights.weights_status` say what it says on a machine without the `dlib` package (`pip install facelab`)."
    from facelab import weights
    real = weights.weights_status
    def status():
        st = real()
        st.loc[st.name == 'Dlib', ['available', 'missing', 'how_to_get']] = [False, 'python package `dlib`', weights.DLIB]
        return st
    monkeypatch.setattr(weights, 'weights_status', status)

def test_compare_default_models_are_those_that_can_run(tmp_path, monkeypatch):
    "After a plain `pip install facelab` (no dlib), `facelab compare` compares SFace and Facenet-CASIA and says how to get Dlib."
    _without_dlib(monkeypatch)
    r = cli('compare', 'sample-study', '--bootstrap', '0', '--out', tmp_path/'c')
    assert r.returncode == 0, r.stderr
    how = "Dlib skipped: needs python package `dlib`; get it with `pip install facelab[dlib]` then `facelab weights install`"
    assert how in r.stdout, r.stdout
    lb = pd.read_csv(tmp_path/'c'/'leaderboard.csv')
    assert sorted(lb.model_name) == ['Facenet-CASIA', 'SFace']
    s = json.loads((tmp_path/'c'/'settings.json').read_text())
    assert list(s['skipped_models']) == ['Dlib'] and 'pip install facelab[dlib]' in s['skipped_models']['Dlib']
    assert 'Dlib (a default model) was left out' in (tmp_path/'c'/'report.md').read_text()

def test_compare_a_named_model_that_cannot_run_is_a_clear_error(tmp_path, monkeypatch):
    _without_dlib(monkeypatch)
    r = cli('compare', 'sample-study', '--models', 'SFace,Dlib', '--out', tmp_path/'c')
    assert r.returncode == 2 and 'Dlib cannot run here' in r.stderr and 'pip install facelab[dlib]' in r.stderr, r.stderr
    assert not (tmp_path/'c').exists()

# ---- flags of `evaluate` and `detect` that change what is scored or written
@pytest.fixture(scope='module')
def no_face_study(tmp_path_factory):
    "Three people, two photos each, and a grey image with no face in Mark's folder: 7 images, 21 pairs, 6 of them with the grey one."
    import cv2
    d = people_folder(tmp_path_factory.mktemp('noface')/'p', ['Angelina', 'Jennifer', 'Mark'], 2)
    cv2.imwrite(str(d/'Mark'/'blank.jpg'), np.full((160, 160, 3), 128, np.uint8))
    return d

def _study(r, out) -> tuple:
    "(settings.json, pairs.csv, failures.csv) of a finished `facelab evaluate` run."
    assert r.returncode == 0, r.stderr
    return json.loads((out/'settings.json').read_text()), pd.read_csv(out/'pairs.csv'), pd.read_csv(out/'failures.csv')

def test_evaluate_no_face_rules(no_face_study, tmp_path):
    "The grey image: listed and its pairs not scored (default), scored as the whole image (--score-no-face), or a failure (--enforce-detection)."
    quick = ['--tune', 'best-f1', '--bootstrap', '0']
    r = cli('evaluate', no_face_study, '--out', tmp_path/'a', *quick, '--no-plots')
    s, pairs, fails = _study(r, tmp_path/'a')
    assert (s['scored_pairs'], s['no_face'], s['failed_images'], s['score_no_face']) == (15, 1, 0, False), s
    assert '1 images without a detected face (listed, not scored)' in r.stdout, r.stdout
    assert fails.stage.tolist() == ['detect'] and fails.file[0].endswith('blank.jpg') and 'not scored' in fails.reason[0], fails

    r = cli('evaluate', no_face_study, '--out', tmp_path/'b', '--score-no-face', *quick)
    s, pairs, fails = _study(r, tmp_path/'b')
    assert (s['pairs'], s['scored_pairs'], s['no_face'], s['score_no_face']) == (21, 21, 1, True), s
    assert '21 pairs, 21 scored' in r.stdout and '1 images without a detected face (scored whole)' in r.stdout, r.stdout
    grey = pairs.file_x.str.endswith('blank.jpg') | pairs.file_y.str.endswith('blank.jpg')
    assert grey.sum() == 6 and pairs.distance[grey].notna().all() and pairs.scored[grey].all()
    assert 'scored as the whole image' in fails.reason[0], fails

    r = cli('evaluate', no_face_study, '--out', tmp_path/'c', '--enforce-detection', *quick, '--no-plots')
    s, pairs, fails = _study(r, tmp_path/'c')
    assert (s['scored_pairs'], s['no_face'], s['failed_images'], s['enforce_detection']) == (15, 0, 1, True), s
    assert '0 images without a detected face' in r.stdout and '1 not embedded' in r.stdout, r.stdout
    assert fails.stage.tolist() == ['embed'] and fails.reason.tolist() == ['no face detected'], fails
    grey = pairs.file_x.str.endswith('blank.jpg') | pairs.file_y.str.endswith('blank.jpg')
    assert pairs.distance[grey].isna().all()

def test_evaluate_metric_and_seed(no_face_study, tmp_path):
    "--metric changes the distances and the thresholds' scale; --seed picks which negative pairs --max-negatives samples."
    quick = ['--tune', 'best-f1', '--bootstrap', '0', '--max-negatives', '5', '--no-plots']
    runs = {}
    for name, extra in [('cos1', ['--seed', '1']), ('cos1again', ['--seed', '1']), ('cos2', ['--seed', '2']),
                        ('l2', ['--seed', '1', '--metric', 'euclidean_l2'])]:
        r = cli('evaluate', no_face_study, '--out', tmp_path/name, *quick, *extra)
        runs[name] = (r,) + _study(r, tmp_path/name)
    neg = lambda name: runs[name][2].query("decision == 'No'")[['file_x', 'file_y']].values.tolist()
    assert len(neg('cos1')) == 5 and neg('cos1') == neg('cos1again') and neg('cos1') != neg('cos2')
    assert runs['cos1'][1]['seed'] == 1 and runs['cos2'][1]['seed'] == 2
    r, s, pairs, _ = runs['l2']
    assert s['distance_metric'] == 'euclidean_l2' and 'SFace + yunet, euclidean_l2:' in r.stdout, r.stdout
    cos, l2 = runs['cos1'][2], pairs
    assert cos[['file_x', 'file_y']].equals(l2[['file_x', 'file_y']])   # the same pairs (same seed), other distances
    ok = cos.distance.notna()
    np.testing.assert_allclose(l2.distance[ok], np.sqrt(2*cos.distance[ok]), rtol=1e-4)   # on unit vectors: L2 = sqrt(2 cosine)

def test_evaluate_deepface_compat(no_face_study, tmp_path):
    "--deepface-compat embeds through DeepFace.represent: the run says so and its distances are deepface's, not facelab's own."
    from facelab.weights import weights_available
    quick = ['--tune', 'best-f1', '--bootstrap', '0', '--no-plots']
    r = cli('evaluate', no_face_study, '--out', tmp_path/'dc', '--deepface-compat', *quick)
    if not weights_available('SFace', 'yunet'):   # deepface's weights for the default model absent (offline): a clear refusal
        _quick_error(r, 'weights for SFace')
        return
    s, pairs, _ = _study(r, tmp_path/'dc')
    assert s['deepface_compat'] is True and 'SFace + yunet, cosine (deepface_compat):' in r.stdout, r.stdout
    s0, plain, _ = _study(cli('evaluate', no_face_study, '--out', tmp_path/'own', *quick), tmp_path/'own')
    assert s0['deepface_compat'] is False and len(pairs) == len(plain) == 21
    ok = pairs.distance.notna() & plain.distance.notna()
    assert ok.sum() >= 15 and not np.allclose(pairs.distance[ok], plain.distance[ok], atol=1e-6)

def test_detect_crops_and_deepface_compat(tmp_path):
    "--crops saves one aligned crop per face, named in the table; --deepface-compat detects on deepface's padded image (other boxes)."
    couple = deepface_folder()/'couple.jpg'
    r = cli('detect', couple, '--out', tmp_path/'d.csv', '--crops', tmp_path/'crops')
    assert r.returncode == 0, r.stderr
    d = pd.read_csv(tmp_path/'d.csv')
    assert len(d) == 2 and sorted(Path(c).name for c in d.crop) == sorted(p.name for p in (tmp_path/'crops').iterdir())
    assert all(Path(c).is_file() and Path(c).parent == tmp_path/'crops' for c in d.crop)
    import cv2
    assert all(cv2.imread(c) is not None and min(cv2.imread(c).shape[:2]) > 20 for c in d.crop)
    r = cli('detect', couple, '--out', tmp_path/'plain.csv')
    assert r.returncode == 0 and pd.read_csv(tmp_path/'plain.csv').crop.isna().all(), r.stderr   # no --crops: none written
    r = cli('detect', couple, '--out', tmp_path/'dc.csv', '--deepface-compat')
    assert r.returncode == 0, r.stderr
    dc = pd.read_csv(tmp_path/'dc.csv')
    assert len(dc) == 2 and not np.allclose(dc[['x1', 'y1', 'x2', 'y2']].to_numpy(), d[['x1', 'y1', 'x2', 'y2']].to_numpy(), atol=0.5)
    assert (abs(dc[['x1', 'y1', 'x2', 'y2']].to_numpy() - d[['x1', 'y1', 'x2', 'y2']].to_numpy()) < 60).all()   # the same two faces

def test_detect_video_fps_and_refusals(tmp_path):
    "--fps 5 on a 10 fps clip looks at every other frame; --fps 0 and --deepface-compat on a video are refused before any work."
    from facelab.video import synthetic_clip
    clip = tmp_path/'clip.avi'; synthetic_clip(clip, deepface_sample()['Angelina'][0], n=30, fps=10.)
    r = cli('detect', clip, '--detector', 'yunet', '--out', tmp_path/'all.csv', '--no-cache')
    assert r.returncode == 0 and '30 frames looked at' in r.stdout, (r.stdout, r.stderr)
    r = cli('detect', clip, '--detector', 'yunet', '--out', tmp_path/'fps.csv', '--fps', '5', '--no-cache')
    assert r.returncode == 0 and '15 frames looked at' in r.stdout, (r.stdout, r.stderr)
    assert pd.read_csv(tmp_path/'fps.csv').frame.tolist() == list(range(0, 30, 2))
    _quick_error(cli('detect', clip, '--out', tmp_path/'x.csv', '--fps', '0'), '--fps must be above 0')
    _quick_error(cli('detect', clip, '--out', tmp_path/'x.csv', '--deepface-compat'), '--deepface-compat applies to photos')
    assert not (tmp_path/'x.csv').exists()

# ---- small studies and the video study without a query (issues "Jupyter for real", "count only what was annotated")
from facelab.datasets import data_dir, crowd_clip, crowd_ground_truth

def test_evaluate_two_people_writes_the_report_without_kfold(tmp_path):
    knn = data_dir()/'face_recognition'/'knn_examples'/'train'
    for who in ['biden', 'obama']: shutil.copytree(knn/who, tmp_path/'two'/who)
    r = cli('evaluate', tmp_path/'two', '--out', tmp_path/'rep', '--bootstrap', '100')
    assert r.returncode == 0, r.stderr
    assert 'k-fold: none, identity k-fold needs at least 3 people' in r.stdout
    assert 'small sample: only 2 people' in r.stdout
    md = (tmp_path/'rep'/'report.md').read_text()
    assert 'No threshold can be recommended: identity k-fold needs at least 3 people' in md and '**Small sample' in md
    t = pd.read_csv(tmp_path/'rep'/'thresholds.csv')
    assert set(t.protocol) == {'fixed', 'oracle'}

def test_evaluate_five_people_four_positives_has_no_zero_width_interval(tmp_path):
    r = cli('evaluate', data_dir()/'face_recognition'/'knn_examples'/'train', '--out', tmp_path/'rep', '--bootstrap', '200')
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path/'rep'/'thresholds.csv')
    for m in ['precision', 'recall', 'f1', 'accuracy']:
        known = t[m].notna()
        assert (t[f"{m}_lo"][known] < t[f"{m}_hi"][known]).all(), (m, t[[m, f"{m}_lo", f"{m}_hi"]])
    assert t.interval.str.contains('exact').any()
    assert 'fitted to 4 distances' in (tmp_path/'rep'/'report.md').read_text()

def test_validate_without_query_scores_the_annotated_frames_and_every_person(tmp_path):
    gt = tmp_path/'gt.xml'
    shutil.copy(crowd_ground_truth().source, gt)
    r = cli('validate', crowd_clip(), '--gt', gt, '--out', tmp_path/'rep')
    assert r.returncode == 0, r.stderr
    assert 'scored the 21 annotated frames looked at (0-100, every 5th)' in r.stdout
    assert 'recognition, every person from one enrolled face' in r.stdout
    people = pd.read_csv(tmp_path/'rep'/'people.csv')
    assert len(people) >= 10 and (people.not_annotated == 0).all()
    tr = pd.read_csv(tmp_path/'rep'/'tracking.csv')
    assert int(tr.frames[0]) == 21 and tr.mota[0] > 0.5        # -2.80 when all 105 frames were scored
