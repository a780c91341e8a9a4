"The test run's own FACELAB_HOME (tests/conftest.py): the user's caches untouched, the installed weights still found, subprocesses told."
import os, subprocess, sys
from pathlib import Path
from conftest import USER_HOME

def test_the_run_has_its_own_facelab_home(facelab_home):
    from facelab.core import facelab_home as home, cache_folder
    assert home() == facelab_home and facelab_home.resolve() != USER_HOME.resolve()
    assert cache_folder('default', 'embeddings') == facelab_home/'cache'/'embeddings'   # caches go here, not to ~/.facelab

def test_the_installed_weights_are_found(facelab_home):
    from facelab.weights import weights_dir, weights_available
    assert not weights_dir().resolve().is_relative_to(facelab_home.resolve())   # nothing copied or downloaded into the test home
    assert weights_available('SFace', 'yunet'), f"no SFace/YuNet weights in {weights_dir()}: run `facelab weights install`"

def test_subprocesses_inherit_the_home(facelab_home):
    code = "import os; print(os.environ['FACELAB_HOME']); print(os.environ['DEEPFACE_HOME'])"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60).stdout.split()
    assert out == [str(facelab_home), os.environ['DEEPFACE_HOME']], out
