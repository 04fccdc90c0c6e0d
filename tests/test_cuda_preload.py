"""The GPU flavour's CUDA preload, on a fake ``site-packages``.

A fake ``mxnet`` whose ``libmxnet.so`` links fake CUDA libraries from
``nvidia/*/lib`` and the stand-in driver, all compiled with gcc, lets ``make
test`` cover :mod:`d2l_rnn._compat`'s preload without the 2.3 GB download;
``make test-cu112`` runs the same suite on the real wheels.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import pytest
from stub_driver import DRIVER_SONAME, build_stub_driver, compile_shared

from d2l_rnn import _compat

REPO = Path(__file__).resolve().parent.parent
COMPAT = REPO / "d2l_rnn" / "_compat.py"
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

# Fake libraries: libfakeuse needs libfakebase, and sorts before it, so the
# preload must retry; the fake libmxnet needs libfakeuse and the driver.
FAKE_SOURCES = {
    "libfakebase.so.1": ("int fake_base(void) { return 7; }", ()),
    "libfakeuse.so.1": ("int fake_base(void);\n"
                        "int fake_use(void) { return 10 * fake_base(); }",
                        ("libfakebase.so.1",)),
    "libmxnet.so": ("int fake_use(void); int cuDeviceGet(void);\n"
                    "int probe(void) { return fake_use() + cuDeviceGet(); }",
                    ("libfakeuse.so.1", DRIVER_SONAME)),
}
FAKE_DIRS = {"libfakebase.so.1": "nvidia/zbase/lib", "libfakeuse.so.1": "nvidia/ause/lib"}
LOADS_LIBMXNET = ("import ctypes, os\n"
                  "probe = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "
                  "'libmxnet.so')).probe\n")
DIST_INFO = {"cpu": "mxnet-1.9.1.dist-info", "gpu": "mxnet_cu112-1.9.1.dist-info"}


@pytest.fixture(scope="module")
def fake_libs(tmp_path_factory):
    """``{file name: path}`` of the fake libraries and the stand-in driver."""
    root = tmp_path_factory.mktemp("libs")
    # The driver alone in its folder: that folder goes on LD_LIBRARY_PATH.
    libs = {DRIVER_SONAME: build_stub_driver(root / "driver")}
    for name, (code, needs) in FAKE_SOURCES.items():
        source = root / (name + ".c")
        source.write_text(code + "\n")
        libs[name] = compile_shared(source, root / name, needs, [root, root / "driver"])
    return libs


def _fake_site(root, fake_libs, flavours, with_base=True, init=LOADS_LIBMXNET):
    (root / "mxnet").mkdir(parents=True)
    (root / "mxnet" / "__init__.py").write_text(init)
    shutil.copy(fake_libs["libmxnet.so"], root / "mxnet")
    for flavour in flavours:
        (root / DIST_INFO[flavour]).mkdir()
    for name, folder in FAKE_DIRS.items():
        if with_base or name != "libfakebase.so.1":
            (root / folder).mkdir(parents=True)
            shutil.copy(fake_libs[name], root / folder)
    return root


def _run_compat(site, code, driver_dir=None):
    """Run ``code`` in a fresh Python with ``compat`` (without d2l_rnn's own imports)."""
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("LD_LIBRARY_PATH", None)
    if driver_dir is not None:
        env["LD_LIBRARY_PATH"] = str(driver_dir)
    # d2l_rnn/__init__ would import the real MXNet: a bare package stands in.
    prog = ("import sys, types\n"
            "package = types.ModuleType('d2l_rnn')\n"
            "package.__path__ = [%r]\n"
            "sys.modules['d2l_rnn'] = package\n"
            "import d2l_rnn._compat as compat\n" % str(COMPAT.parent)) + code
    return subprocess.run([sys.executable, "-c", prog], env=env, cwd=site,
                          capture_output=True, text=True)


@needs_gcc
def test_gpu_flavour_preloads_nvidia_libraries(tmp_path, fake_libs):
    site = _fake_site(tmp_path, fake_libs, ["gpu"])
    result = _run_compat(site, "print(compat.import_mxnet().probe())",
                         driver_dir=fake_libs[DRIVER_SONAME].parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "170"  # 10 * 7 + CUDA_ERROR_NO_DEVICE


@needs_gcc
def test_library_that_cannot_load_is_named(tmp_path, fake_libs):
    site = _fake_site(tmp_path, fake_libs, ["gpu"], with_base=False)
    result = _run_compat(site, "compat.import_mxnet()",
                         driver_dir=fake_libs[DRIVER_SONAME].parent)
    assert result.returncode != 0
    assert re.search(r"ImportError: MXNet's GPU flavour cannot load libmxnet\.so.*"
                     r"libfakeuse\.so\.1.*--force-reinstall", result.stderr)


@needs_gcc
def test_missing_driver_says_how_to_use_the_cpu(tmp_path, fake_libs):
    probe = _run_compat(tmp_path, "import ctypes; ctypes.CDLL(%r)" % DRIVER_SONAME)
    if probe.returncode == 0:
        pytest.skip("this machine has an NVIDIA driver")
    site = _fake_site(tmp_path / "site", fake_libs, ["gpu"])
    result = _run_compat(site, "compat.import_mxnet()")
    assert result.returncode != 0
    assert "NVIDIA driver is not" in result.stderr
    assert "pip install 'd2l_rnn[cpu]'" in result.stderr


def test_missing_driver_error_names_the_library(tmp_path):
    with pytest.raises(ImportError, match=r"no-such-driver\.so\.1.*d2l_rnn\[cpu\]"):
        _compat.prepare_gpu_flavour(tmp_path, driver="libd2l-no-such-driver.so.1")


@needs_gcc
def test_cpu_flavour_preloads_nothing(tmp_path, fake_libs):
    site = _fake_site(tmp_path, fake_libs, ["cpu"], init="")
    code = ("import ctypes, os\ncompat.import_mxnet()\n"
            "def loaded(name):\n"
            "    try:\n        ctypes.CDLL(name, mode=os.RTLD_NOLOAD)\n"
            "    except OSError:\n        return False\n    return True\n"
            "print([n for n in %r if loaded(n)])"
            % [DRIVER_SONAME, "libfakeuse.so.1", "libfakebase.so.1"])
    result = _run_compat(site, code, driver_dir=fake_libs[DRIVER_SONAME].parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@needs_gcc
def test_both_flavours_in_one_environment_is_an_error(tmp_path, fake_libs):
    site = _fake_site(tmp_path, fake_libs, ["cpu", "gpu"])
    result = _run_compat(site, "compat.import_mxnet()",
                         driver_dir=fake_libs[DRIVER_SONAME].parent)
    assert result.returncode != 0 and "both MXNet flavours" in result.stderr


@pytest.mark.parametrize("names,expected", [
    (["mxnet-1.9.1.dist-info"], {"cpu"}),
    (["mxnet_cu112-1.9.1.dist-info"], {"gpu"}),
    (["mxnet_cu117mkl-1.9.1.dist-info", "numpy-1.23.5.dist-info"], {"gpu"}),
    (["mxnet_tools-0.1.dist-info", "mxnet"], set()),
])
def test_flavours_are_read_from_dist_info(tmp_path, names, expected):
    for name in names:
        (tmp_path / name).mkdir()
    assert _compat.mxnet_flavours(tmp_path) == expected


def test_cuda_library_paths_are_the_wheels_libraries(tmp_path):
    for rel in ["nvidia/cudnn/lib/libcudnn.so.8", "nvidia/cublas/lib/libcublas.so.11",
                "nvidia/cudnn/include/cudnn.h", "nvidia/cudnn/lib/__init__.py",
                "nvidia/libstray.so"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).touch()
    assert [p.relative_to(tmp_path).as_posix() for p in _compat.cuda_library_paths(tmp_path)] \
        == ["nvidia/cublas/lib/libcublas.so.11", "nvidia/cudnn/lib/libcudnn.so.8"]


def test_preload_retries_until_dependencies_are_loaded():
    needs = {"a": {"c"}, "b": set(), "c": {"b"}, "d": {"missing"}}
    loaded = []

    def load(name):
        if not needs[name] <= set(loaded):
            raise OSError("%s needs %s" % (name, sorted(needs[name] - set(loaded))))
        loaded.append(name)

    failed = _compat.preload_cuda_libraries(["a", "b", "c", "d"], load=load)
    assert loaded == ["b", "c", "a"]
    assert [(name, str(err)) for name, err in failed] == [("d", "d needs ['missing']")]


def _mxnet_site():
    return Path(mx.__file__).resolve().parent.parent


def test_preload_runs_only_on_the_gpu_flavour():
    code = ("import d2l_rnn\n"
            "maps = open('/proc/self/maps').read()\n"
            "print('/nvidia/' in maps, 'libcuda' in maps)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    gpu = "gpu" in _compat.mxnet_flavours(_mxnet_site())
    assert result.stdout.split() == [str(gpu), str(gpu)]


@needs_gcc
@pytest.mark.skipif(shutil.which("nm") is None, reason="needs nm (binutils)")
def test_stub_driver_defines_what_libmxnet_needs(tmp_path):
    def symbols(args, path):
        out = subprocess.run(["nm", "-D"] + args + [str(path)], capture_output=True,
                             text=True, check=True).stdout
        return {line.split()[-1] for line in out.splitlines()
                if re.search(r" cu[A-Z]\w*$", line)}

    needed = symbols(["--undefined-only"], _mxnet_site() / "mxnet" / "libmxnet.so")
    if not needed:
        pytest.skip("the CPU flavour's libmxnet.so needs no driver")
    assert symbols(["--defined-only"], build_stub_driver(tmp_path)) == needed
