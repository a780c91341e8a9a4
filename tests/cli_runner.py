"""`facelab ARGS` run in this process, as the console script runs it, for the CLI tests (`test_cli.py`, `test_search_cli.py`)."""
import io
from contextlib import redirect_stdout, redirect_stderr
from types import SimpleNamespace
from facelab.cli import main

def cli(*args):
    "`facelab ARGS` in this process: its exit status, stdout and stderr, as `subprocess.run` gives them."
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try: rc = main([str(a) for a in args])
        except SystemExit as e: rc = e.code
    return SimpleNamespace(returncode=rc, stdout=out.getvalue(), stderr=err.getvalue())
