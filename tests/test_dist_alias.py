"""The deprecated name ``d2l_rnn.dist``: a warning, and the modules of ``d2l_rnn.distributed``."""

import subprocess
import sys

import pytest

CHECK = """
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import d2l_rnn.dist.local as old
import d2l_rnn.distributed.local as new
assert old is new, (old, new)
assert new.__spec__.name == "d2l_rnn.distributed.local", new.__spec__.name
from d2l_rnn.dist import job
import d2l_rnn.distributed.job
assert job is d2l_rnn.distributed.job
print([str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)
       and "d2l_rnn.distributed" in str(w.message)])
"""


def test_the_old_name_warns_and_gives_the_new_modules():
    run = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "renamed d2l_rnn.distributed" in run.stdout, run.stdout


def test_python_dash_m_with_the_old_name_runs_the_new_launcher():
    run = subprocess.run([sys.executable, "-m", "d2l_rnn.dist.local", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: python -m d2l_rnn.distributed.local"), run.stdout


def test_an_unknown_old_submodule_is_not_found():
    with pytest.raises(ModuleNotFoundError), pytest.warns(DeprecationWarning, match="renamed"):
        __import__("d2l_rnn.dist.no_such_module")
