"""Import-time checks, devices, and the wheel working outside the checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import d2l_rnn
from d2l_rnn import _compat

REPO = Path(__file__).resolve().parent.parent


def test_missing_mxnet_names_the_extra_and_on_3_13_the_second_command():
    code = "import sys; sys.modules['mxnet'] = None; import d2l_rnn"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "pip install 'd2l_rnn[cpu]'" in result.stderr
    no_deps = "pip install --no-deps mxnet==1.9.1" in result.stderr
    assert no_deps == (sys.version_info >= (3, 13))


def test_the_command_line_without_mxnet_says_so_in_one_line():
    """As after `pip install 'd2l_rnn[cpu]'` alone on 3.13. Bug it catches: the
    ImportError's traceback reaching the user of `d2l-rnn`."""
    code = ("import sys; sys.modules['mxnet'] = None; sys.argv = ['d2l-rnn', 'train']; "
            "from d2l_rnn.cli import main")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("d2l-rnn: error: d2l_rnn needs MXNet, which is not installed")


def test_the_install_hint_gives_two_commands_from_3_13_on():
    assert _compat.install_hint("cpu", (3, 12)) == "`pip install 'd2l_rnn[cpu]'`"
    assert _compat.install_hint("cu112", (3, 13)).startswith(
        "`pip install 'd2l_rnn[cu112]'`, then `pip install --no-deps mxnet-cu112==1.9.1`")


@pytest.mark.parametrize("version", [(3, 7), (3, 14), (4, 0)])
def test_unsupported_python_is_refused(version):
    with pytest.raises(ImportError, match=r"needs Python 3\.8 to"):
        _compat.check_python(version)


@pytest.mark.parametrize("version", [(3, 8), (3, 11), (3, 12), (3, 13)])
def test_supported_python_is_accepted(version):
    _compat.check_python(version)


def test_compat_script_exits_with_the_message_on_a_bad_python():
    code = ("import runpy, sys; sys.version_info = (3, 14, 0); "
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
