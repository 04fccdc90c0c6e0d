"""Import-time checks, devices, and the wheel working outside the checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import d2l_rnn
from d2l_rnn import _compat

REPO = Path(__file__).resolve().parent.parent


def test_missing_mxnet_names_the_extra():
    code = "import sys; sys.modules['mxnet'] = None; import d2l_rnn"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "d2l_rnn[cpu]" in result.stderr


@pytest.mark.parametrize("version", [(3, 7), (3, 13), (4, 0)])
def test_unsupported_python_is_refused(version):
    with pytest.raises(ImportError, match=r"needs Python 3\.8 to"):
        _compat.check_python(version)


@pytest.mark.parametrize("version", [(3, 8), (3, 11), (3, 12)])
def test_supported_python_is_accepted(version):
    _compat.check_python(version)


def test_compat_script_exits_with_the_message_on_a_bad_python():
    code = ("import runpy, sys; sys.version_info = (3, 13, 0); "
            "runpy.run_path(%r, run_name='__main__')" % str(REPO / "d2l_rnn" / "_compat.py"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1 and "needs Python" in result.stderr


def test_import_runs_nothing():
    code = "import d2l_rnn, sys; print(len(d2l_rnn.__all__))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == str(len(d2l_rnn.__all__)) and result.stderr == ""


def test_wheel_carries_the_corpus_and_works_from_anywhere(tmp_path):
    # No build isolation: hatchling comes from the test extra, so no index is needed.
    pytest.importorskip("hatchling", reason="needs the test extra: pip install -e '.[test]'")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp_path / "dist"), str(REPO)], check=True)
    wheel = next((tmp_path / "dist").glob("d2l_rnn-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "d2l_rnn/_data/timemachine.txt" in names and "d2l_rnn/py.typed" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True)
    code = ("import d2l_rnn; assert d2l_rnn.__file__.startswith(%r), d2l_rnn.__file__; "
            "print(d2l_rnn.load_data_time_machine(url='http://127.0.0.1:9/')[3])" % str(target))
    out = subprocess.run([sys.executable, "-I", "-c",
                          "import sys; sys.path.insert(0, %r); %s" % (str(target), code)],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "43"
