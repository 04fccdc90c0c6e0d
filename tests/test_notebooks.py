"""Notebooks: every one in notebooks/ runs headless; the chapter's shows what it should.

Each notebook is executed once per session with a real ipykernel on this
interpreter, on the CPU (CUDA_VISIBLE_DEVICES is emptied), and shared by the
checks below. ``D2L_RNN_NUM_EPOCHS`` makes rnn-gluon.ipynb train a few epochs
instead of 200 (see docs/notebooks.md); the committed outputs, from a full
run, are checked separately, without running anything.
"""

import base64
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbclient", reason="needs the notebook extra: pip install -e '.[notebook]'")

import nbformat  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

from tools import notebooks  # noqa: E402

# One xdist worker runs this module: the notebooks execute once (the `executed` fixture).
pytestmark = pytest.mark.xdist_group("notebooks")

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
CHAPTER = NOTEBOOK_DIR / "rnn-gluon.ipynb"
QUICK_EPOCHS = 3
ENV = {"D2L_RNN_NUM_EPOCHS": str(QUICK_EPOCHS), "CUDA_VISIBLE_DEVICES": ""}
# The perplexities the book printed after epochs 50, 100, 150 and 200.
BOOK = {50: 4.31, 100: 2.06, 150: 1.50, 200: 1.34}


@pytest.fixture(scope="session")   # kept while the worker runs other modules' tests too
def executed():
    """``run(path)``: the notebook executed in a fresh kernel, once per session.

    A failure is remembered too, so a broken notebook costs one run, not one
    per test that looks at it.
    """
    results = {}

    def run(path):
        if path not in results:
            try:
                results[path] = notebooks.execute_notebook(path, env=ENV)
            except Exception as err:  # re-raised by every test that asks
                results[path] = err
        if isinstance(results[path], Exception):
            raise results[path]
        return results[path]

    return run


def _cell(nb, tag):
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, "expected one cell tagged %r, found %d" % (tag, len(cells))
    return cells[0]


def _result(nb, tag):
    """The text/plain value the cell tagged ``tag`` ends with."""
    results = [o for o in _cell(nb, tag).outputs if o.output_type == "execute_result"]
    assert results, "cell %r shows no value" % tag
    return results[-1].data["text/plain"]


def _stdout(nb, tag):
    return "".join(o.text for o in _cell(nb, tag).outputs
                   if o.output_type == "stream" and o.name == "stdout")


def _png(nb, tag):
    images = [o.data["image/png"] for o in _cell(nb, tag).outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 1, "cell %r should show one PNG plot, shows %d" % (tag, len(images))
    return base64.b64decode(images[0])


def check_chapter_outputs(nb, num_epochs):
    """Assert the key outputs of rnn-gluon.ipynb after ``num_epochs`` epochs; return them.

    Returns ``{epoch: printed perplexity}`` of the training cell.
    """
    assert re.fullmatch(r"run on \d{4}-\d\d-\d\d: .+, \d+ cores(; load average [\d.]+)?; "
                        r"MXNet \d.*\n",
                        _stdout(nb, "machine")), _stdout(nb, "machine")
    assert _result(nb, "state-shape") == "(1, 2, 256)"
    assert _result(nb, "forward-shapes") == "((35, 2, 256), 1, (1, 2, 256))"

    untrained = _result(nb, "untrained")
    assert re.fullmatch(r"'traveller.{10}'", untrained), untrained
    assert re.search(r"^device: (cpu|gpu)\(\d+\)$", _stdout(nb, "untrained"), re.M)

    out = _stdout(nb, "training")
    epochs = re.findall(r"^epoch (\d+), perplexity (\d+\.\d+), time \d+\.\d\d sec$", out, re.M)
    period = min(50, num_epochs)
    assert [int(e) for e, _ in epochs] == list(range(period, num_epochs + 1, period)), out
    samples = re.findall(r"^ - (.*)$", out, re.M)
    assert len(samples) == 2 * len(epochs) and all(len(s) in (59, 64) for s in samples), samples
    assert samples[-2].startswith("traveller") and samples[-1].startswith("time traveller")

    assert _png(nb, "plot").startswith(b"\x89PNG\r\n\x1a\n")

    comparison = _stdout(nb, "comparison")
    summary = {name: (float(first), float(last), int(n)) for name, first, last, n in re.findall(
        r"^(RNN|GRU|LSTM) +perplexity (\d+\.\d+) after epoch 1, (\d+\.\d+) after epoch (\d+)$",
        comparison, re.M)}
    assert sorted(summary) == ["GRU", "LSTM", "RNN"], comparison
    assert summary["RNN"][1:] == (float(epochs[-1][1]), num_epochs)
    for name, (first, last, n) in summary.items():
        assert n == num_epochs
        assert math.isfinite(last) and 1 <= last < first, (name, first, last)
    assert _png(nb, "comparison-plot").startswith(b"\x89PNG\r\n\x1a\n")
    return {int(e): float(p) for e, p in epochs}


def test_the_chapter_notebook_exists_and_is_picked_up():
    assert CHAPTER in notebooks.find_notebooks([NOTEBOOK_DIR])


def test_every_notebook_names_the_kernel_make_kernel_registers():
    # Otherwise `make lab` opens the notebook with a "select kernel" prompt.
    name = re.search(r"^KERNEL_NAME := (\S+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    for path in notebooks.find_notebooks([NOTEBOOK_DIR]):
        spec = nbformat.read(path, as_version=4).metadata.get("kernelspec", {})
        assert spec.get("name") == name, (
            "%s names kernel %r; choose the kernel %r (`make kernel` registers it) and save"
            % (path.name, spec.get("name"), name))


def _made_by_make():
    """Skip unless this environment is a venv the Makefile made (its install step registers
    the kernel); a Python of one's own, with the extras pip-installed, has no such step."""
    if not (Path(sys.prefix) / "bin" / ".notebook-installed").exists():
        pytest.skip("not a venv made by make: no install step registered a kernel here")


def test_the_install_step_registers_the_kernel_the_notebooks_name():
    """Bug it catches: a notebook naming a kernel that does not exist until `make kernel`
    (nbconvert: 'No such kernel named d2l_rnn')."""
    _made_by_make()
    from jupyter_client.kernelspec import KernelSpecManager
    names = {nbformat.read(p, as_version=4).metadata["kernelspec"]["name"]
             for p in notebooks.find_notebooks([NOTEBOOK_DIR])}
    for name in names:
        spec = KernelSpecManager().get_kernel_spec(name)   # as Jupyter finds it
        assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve(), spec.argv
        assert str(REPO) in spec.env.get("PYTHONPATH", "").split(os.pathsep), spec.env


@pytest.mark.extended   # the chapter's notebook again (the test above checks its kernel)
def test_jupyter_nbconvert_runs_a_notebook_with_no_kernel_step(tmp_path):
    """What the README tells a new user: after `make test`, nbconvert runs the notebook."""
    _made_by_make()
    jupyter = Path(sys.prefix) / "bin" / "jupyter"
    run = subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute",
                          "--output-dir", str(tmp_path), "notebooks/rnn-gluon.ipynb"],
                         cwd=REPO, env=dict(os.environ, **ENV), capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    check_chapter_outputs(nbformat.read(tmp_path / "rnn-gluon.ipynb", as_version=4),
                          QUICK_EPOCHS)


def _outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == kind or kind in o.get("data", {})]


def _tiered(paths):
    """Every notebook, the speed one in the slow tier: it starts a process per benchmark
    row (test_bench.py runs that machinery in the default tier)."""
    return [pytest.param(p, marks=pytest.mark.extended) if p.name == "rnn-speed.ipynb" else p
            for p in paths]


@pytest.mark.parametrize("path", _tiered(notebooks.find_notebooks([NOTEBOOK_DIR])),
                         ids=lambda p: p.name)
def test_every_notebook_runs_without_error(path, executed):
    nb = executed(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    errors = _outputs(nb, "error")
    assert not errors, errors
    # Teaching material: images a screen reader can describe, no raw markdown as text.
    images = _outputs(nb, "image/png")
    assert images and all(o.metadata["image/png"]["alt"].strip() for o in images), images
    streams = "".join(o.text for o in _outputs(nb, "stream"))
    assert not re.search(r"^#+ ", streams, re.M), streams


@pytest.mark.parametrize("path", notebooks.find_notebooks([NOTEBOOK_DIR]),
                         ids=lambda p: p.name)
def test_notebooks_edit_no_import_path(path):
    sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "sys.path" not in sources


def test_the_chapter_notebook_teaches_and_does_not_talk_about_tests():
    text = "\n".join(c.source for c in nbformat.read(CHAPTER, as_version=4).cells
                     if c.cell_type == "markdown").lower()
    assert not re.search(r"test suite|tests/|make test|pytest", text)


def test_chapter_notebook_outputs(executed):
    check_chapter_outputs(executed(CHAPTER), QUICK_EPOCHS)


def test_a_notebooks_machine_note_is_the_run_that_made_its_outputs():
    """The text names no processor or date of its own: the outputs say where they come from
    (the chapter's first cell prints it, the speed notebook prints the benchmark's line)."""
    for path in notebooks.find_notebooks([NOTEBOOK_DIR]):
        nb = nbformat.read(path, as_version=4)
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not re.search(r"Xeon|EPYC|Intel|AMD|\b20\d\d-\d\d-\d\d\b", prose), path.name
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                          for o in c.outputs)
        assert re.search(r"^(run on )?\d{4}-\d\d-\d\d[:;] .*\d+ cores; .*MXNet", printed,
                         re.M), path.name


def test_committed_chapter_notebook_carries_the_chapters_full_run():
    """What a reader sees on GitHub: a real 200-epoch run near the book's numbers, the plots."""
    printed = check_chapter_outputs(nbformat.read(CHAPTER, as_version=4), num_epochs=200)
    assert all(abs(printed[e] - BOOK[e]) <= 0.1 * BOOK[e] for e in BOOK), (printed, BOOK)


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, path)
    return path.read_bytes()


def test_refresh_writes_outputs_of_this_interpreter_run_in_the_notebook_folder(tmp_path):
    path = tmp_path / "good.ipynb"
    _notebook(path, "import os, sys\nprint(6 * 7)", "print(sys.executable)\nprint(os.getcwd())",
              "os.environ['D2L_RNN_COMPARE_EPOCHS']",
              "print(os.environ['PYTHONPATH'].split(os.pathsep)[0])")
    path.chmod(0o644)
    notebooks.refresh_notebook(path, timeout=120, env={"D2L_RNN_COMPARE_EPOCHS": "3"})
    assert path.stat().st_mode & 0o777 == 0o644
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].outputs[0].text == "42\n"
    assert nb.cells[1].outputs[0].text == "%s\n%s\n" % (sys.executable, tmp_path)
    assert nb.cells[2].outputs[0].data["text/plain"] == "'3'"
    # The checkout comes first on the kernel's import path: notebooks import `benchmarks`.
    assert nb.cells[3].outputs[0].text == "%s\n" % REPO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.ipynb"]


def test_main_refreshes_a_folder_and_leaves_a_failing_notebook_untouched(tmp_path, capsys):
    good = tmp_path / "a.ipynb"
    bad = tmp_path / "b.ipynb"
    _notebook(good, "print('fresh')")
    before = _notebook(bad, "x = 1", "1 / 0", "print('never')")
    corrupt = tmp_path / "c.ipynb"
    corrupt.write_text('{"cells": [')  # cut short, as by a crashed editor
    assert notebooks.main([str(tmp_path), "--timeout", "120"]) == 1
    err = capsys.readouterr().err
    assert "b.ipynb failed and was left unchanged" in err and "ZeroDivisionError" in err
    assert "c.ipynb failed and was left unchanged" in err and "JSON" in err
    assert "2 of 3 notebooks failed" in err
    assert bad.read_bytes() == before and corrupt.read_text() == '{"cells": ['
    assert nbformat.read(good, as_version=4).cells[0].outputs[0].text == "fresh\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ipynb", "b.ipynb", "c.ipynb"]


def test_execute_raises_the_cell_error(tmp_path):
    path = tmp_path / "bad.ipynb"
    _notebook(path, "raise ValueError('broken on purpose')")
    with pytest.raises(CellExecutionError, match="broken on purpose"):
        notebooks.execute_notebook(path, timeout=120)


def test_find_notebooks_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no notebooks \(\*\.ipynb\) in"):
        notebooks.find_notebooks([tmp_path])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="neither a .ipynb file nor a folder"):
        notebooks.find_notebooks([tmp_path / "notes.txt"])
    with pytest.raises(FileNotFoundError, match="neither"):
        notebooks.find_notebooks([tmp_path / "missing.ipynb"])


def test_main_with_no_notebooks_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        notebooks.main([str(tmp_path)])
    assert info.value.code == 2
    assert "no notebooks" in capsys.readouterr().err
