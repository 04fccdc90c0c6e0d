"""The speed benchmark: a short run of every row, its table, its command line.

Speed itself is measured by ``make bench``, never asserted here.
"""

import contextlib
import io
import re

import pytest
from mxnet.gluon import rnn

from benchmarks import speed
from benchmarks.chapter_baseline import ChapterRNNModel, chapter_train_and_predict_rnn_gluon


def _table_rows(out):
    rows = {}
    for line in out.splitlines():
        if line.startswith("| ") and "---" not in line:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def _row(rows, name):
    """The cells of row ``name`` (the torch row's label ends with its thread count)."""
    found = [cells for label, cells in rows.items() if label.startswith(speed.LABELS[name])]
    assert len(found) == 1, (name, rows)
    return found[0]


@pytest.mark.extended   # every row, twice: 11 processes
def test_every_row_runs_and_the_table_has_ratios(capsys):
    pytest.importorskip("torch")
    assert speed.main(["--epochs", "1"]) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    base = _row(rows, "chapter")
    assert base[0].endswith("(1.00x)") and base[1].endswith("(1.00x)")
    for name in ("scratch", "shipped", "torch"):
        per_epoch, total, ppl, floor, alone, ratio = _row(rows, name)
        value, times = re.fullmatch(r"(\d+\.\d+) \((\d+\.\d\d)x\)", per_epoch).groups()
        assert float(value) > 0 and float(times) > 0 and float(alone) > 0
        assert 1 < float(ppl.split()[0]) < 43   # trained, not diverged, on 43 characters
        assert float(floor) > 0
    assert _row(rows, "floor")[2] == "n/a"
    assert re.search(r"4\. PyTorch `nn\.RNN`, same loop \((1 thread|2 threads)\)", out)
    assert "cores; load average" in out


@pytest.fixture(scope="session")
def two_rows():
    """One real interleaved run of two rows (4 epochs, lines every 2), then each alone.

    Returns ``(results, printed, alone)``; four processes in all, shared by the tests below
    (session scope: a worker of pytest-xdist may run other modules' tests between them).
    """
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        results = speed.run_rows(["chapter", "shipped"], num_epochs=4, pred_period=2)
    return results, printed.getvalue(), speed.run_alone(results, 2)


def test_results_have_one_time_per_epoch(two_rows):
    results, _, alone = two_rows
    assert len(results["chapter"].seconds) == len(results["chapter"].perplexity) == 4
    assert len(alone["shipped"].seconds) == len(alone["shipped"].perplexity) == 2
    for result in list(results.values()) + list(alone.values()):
        # Waiting for the other row's turn is in neither figure.
        assert sum(result.seconds) <= result.total < sum(result.seconds) + 2
        assert result.threads is None   # MXNet rows


def test_rows_one_after_the_other_and_the_floor_row():
    results = speed.run_rows(["floor"], num_epochs=3, log=lambda line: None, interleave=False)
    assert len(results["floor"].seconds) == 3 and results["floor"].perplexity is None
    assert sum(results["floor"].seconds) <= results["floor"].total
    assert "chapter" not in speed.format_table(results)


def test_every_row_runs_in_a_process_of_its_own_and_torch_at_each_thread_count(monkeypatch):
    """Bugs it catches: a row trained in the benchmark's process (sharing MXNet's engine
    with the others), the torch row measured at one thread count, or the slower reported."""
    started = []

    def fake_process(name, num_epochs, seed, before, threads, pred_period):
        started.append((name, threads))
        for epoch in range(1, num_epochs + 1):
            if before is not None:
                before(epoch)
        per_epoch = {1: 0.3, 2: 0.2}.get(threads, 0.1)
        return [2.0] * num_epochs, [per_epoch] * num_epochs, per_epoch * num_epochs, \
            threads or None

    monkeypatch.setattr(speed, "run_process", fake_process)
    results = speed.run_rows(speed.ROWS, num_epochs=3, log=lambda line: None)
    assert sorted(started) == sorted([("scratch", 0), ("chapter", 0), ("shipped", 0),
                                      ("torch", 1), ("torch", 2), ("floor", 0)])
    assert set(results) == set(speed.ROWS)
    assert results["torch"].threads == 2 and results["torch"].seconds == [0.2] * 3
    started.clear()
    speed.run_rows(["torch"], num_epochs=1, log=lambda line: None, torch_threads=3)
    assert started == [("torch", 3)]


@pytest.mark.parametrize("turn_epochs,order", [
    (1, "a1 b1 a2 b2 a3 b3 a4 b4 a5 b5 a6 b6"),
    (3, "a1 a2 a3 b1 b2 b3 a4 a5 a6 b4 b5 b6"),
    (4, "a1 a2 a3 a4 b1 b2 b3 b4 a5 a6 b5 b6"),
])
def test_rows_take_turns_of_turn_epochs(turn_epochs, order, monkeypatch):
    """Bug it catches: turns of another length than asked (epoch-by-epoch turns measured
    every row's cold epoch), or a row running while another holds the turn."""
    ran = []

    def fake_process(name, num_epochs, seed, before, threads, pred_period):
        for epoch in range(1, num_epochs + 1):
            before(epoch)
            ran.append("%s%d" % ("a" if name == "scratch" else "b", epoch))
        return [2.0] * num_epochs, [0.1] * num_epochs, 0.1 * num_epochs, None

    monkeypatch.setattr(speed, "run_process", fake_process)
    speed.run_rows(["scratch", "floor"], num_epochs=6, log=lambda line: None,
                   turn_epochs=turn_epochs)
    assert " ".join(ran) == order


def test_the_torch_row_runs_at_the_thread_count_it_is_given():
    pytest.importorskip("torch")
    from benchmarks.row_process import run_process
    perplexity, seconds, total, threads = run_process("torch", 2, threads=1)
    assert threads == 1 and len(perplexity) == len(seconds) == 2
    assert 1 < perplexity[-1] < perplexity[0] < 43 and sum(seconds) <= total


def test_interleaved_rows_print_their_lines_as_blocks(two_rows):
    # Epochs 2 and 4 print; in between the rows take turns, so unbuffered
    # output would alternate between the rows.
    lines = two_rows[1].splitlines()
    assert len(lines) == 2 * (2 + 2 * 3)
    for block, name in zip([lines[1:8], lines[9:16]], ["chapter", "shipped"]):
        assert block[0] == "## %s (4 epochs, interleaved)" % speed.LABELS[name]
        assert [line.split(",")[0] for line in block[1::3]] == ["epoch 2", "epoch 4"]
        assert all(line.startswith(" - t") for i, line in enumerate(block[1:]) if i % 3)


def test_turns_alternate_and_skip_finished_threads():
    import threading

    from benchmarks.turns import Turns
    turns, order = Turns(["a", "b", "c"]), []

    def work(name, steps):
        turns.begin(name)
        for step in range(steps):
            if step:
                turns.pass_on(name)
            order.append(name)
        turns.done(name)

    threads = [threading.Thread(target=work, args=(n, k)) for n, k in [("a", 3), ("b", 1),
                                                                        ("c", 2)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert order == ["a", "b", "c", "a", "c", "a"]


def test_epoch_timer_restores_the_function():
    from d2l_rnn import training
    original = training.train_epoch
    with pytest.raises(RuntimeError):
        with speed.epoch_timer(training, "train_epoch"):
            assert training.train_epoch is not original
            raise RuntimeError
    assert training.train_epoch is original


@pytest.mark.parametrize("argv,message", [
    (["--rows", "chapter,bogus"], "unknown ['bogus']"),
    (["--epochs", "0"], "positive integer"),
    (["--epochs", "x"], "invalid int"),
    (["--torch-threads", "-1"], "must be >= 0"),
    (["--pred-period", "0"], "--pred-period must be a positive integer"),
])
def test_bad_command_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        speed.main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_chapter_baseline_trains_and_prints_the_chapter_lines(time_machine, ctx, capsys):
    corpus_indices, char_to_idx, idx_to_char, vocab_size = time_machine
    model = ChapterRNNModel(rnn.RNN(64), vocab_size)
    perplexities = chapter_train_and_predict_rnn_gluon(
        model, 64, vocab_size, ctx, corpus_indices, idx_to_char, char_to_idx, 3, 35, 1e2,
        1e-2, 32, 3, 10, ["traveller"])
    assert len(perplexities) == 3
    assert perplexities[2] < perplexities[0] < 43
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"epoch 3, perplexity \d+\.\d{6}, time \d+\.\d\d sec", lines[0])
    assert lines[1].startswith(" - traveller") and len(lines[1]) == 3 + 9 + 10


def test_profile_counts_operators_and_host_syncs():
    from benchmarks import profile
    floor = profile.profile_row("floor", num_epochs=1, warmup=1)
    assert floor["operators"]["RNN"][0] == 8 and floor["operators"]["_backward_RNN"][0] == 8
    assert "MXNDArraySyncCopyToCPU" not in floor["api"]
    chapter = profile.profile_row("chapter", num_epochs=1, warmup=1)
    assert chapter["api"]["MXNDArraySyncCopyToCPU"][0] == 16  # two per batch
    text = profile.format_profile("chapter", chapter)
    assert "16 host syncs/epoch" in text and "| _backward_RNN | 8 |" in text
    with pytest.raises(ValueError, match="not an MXNet row"):
        profile.profile_row("torch")


def test_without_pytorch_the_torch_row_is_left_out_or_refused(monkeypatch, capsys):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(SystemExit):
        speed.main(["--rows", "torch,floor", "--epochs", "1"])
    assert "needs PyTorch" in capsys.readouterr().err
    monkeypatch.setattr(speed, "run_rows", lambda rows, *a, **k: {
        name: speed.Result([0.1], 0.1, None) for name in rows})
    assert speed.main(["--epochs", "1", "--solo-epochs", "0"]) == 0
    out = capsys.readouterr().out
    assert "torch row is left out" in out and speed.LABELS["torch"] not in out
    assert speed.LABELS["floor"] in out


def test_each_row_is_compared_with_itself_alone(two_rows):
    results, _, alone = two_rows
    rows = _table_rows(speed.format_table(results, alone))
    assert set(rows) == {speed.LABELS["chapter"], speed.LABELS["shipped"], "row"}
    assert rows["row"][-2:] == ["s/epoch alone", "in turns / alone"]
    for name in ("chapter", "shipped"):
        cells = _row(rows, name)
        together, solo, ratio = float(cells[0].split()[0]), float(cells[-2]), cells[-1]
        assert together > 0 and solo == pytest.approx(sum(alone[name].seconds) / 2, abs=1e-4)
        assert float(ratio.split()[0]) == pytest.approx(together / solo, abs=0.01)


def test_the_command_line_runs_the_rows_alone_unless_told_not_to(monkeypatch, capsys):
    calls = []

    def fake_process(name, num_epochs, seed, before, threads, pred_period):
        calls.append((name, before is not None))
        for epoch in range(1, num_epochs + 1):
            if before is not None:
                before(epoch)
        return None, [0.1] * num_epochs, 0.1 * num_epochs, None

    monkeypatch.setattr(speed, "run_process", fake_process)
    assert speed.main(["--epochs", "2", "--rows", "floor", "--solo-epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert calls == [("floor", True), ("floor", False)]   # in turns, then alone
    assert "s/epoch alone" in out and "Every row ran within 10 % of itself alone" in out
    calls.clear()
    assert speed.main(["--epochs", "1", "--rows", "floor", "--solo-epochs", "0"]) == 0
    assert calls == [("floor", True)] and "alone" not in capsys.readouterr().out


def test_the_table_says_whether_every_row_was_within_ten_percent_of_itself_alone():
    from benchmarks.report import format_table, solo_check
    Result = speed.Result
    interleaved = {"shipped": Result([0.10, 0.12], 1, [2.0]), "floor": Result([0.10], 1, None)}
    alone = {"shipped": Result([0.10], 1, [2.0]), "floor": Result([0.088], 1, None)}
    warnings = solo_check(interleaved, alone)
    assert len(warnings) == 1 and speed.LABELS["floor"] in warnings[0]
    assert "+14% off its 0.0880 s/epoch alone" in warnings[0]
    table = format_table(interleaved, alone)
    rows = _table_rows(table)
    assert rows[speed.LABELS["shipped"]][-2:] == ["0.1000", "1.10"]
    assert rows[speed.LABELS["floor"]][-2:] == ["0.0880", "1.14 (!)"]
    assert "1 of 2 rows ran more than 10 % off themselves alone (!)" in table
    alone["floor"] = Result([0.095], 1, None)
    assert "Every row ran within 10 % of itself alone" in format_table(interleaved, alone)


def test_worker_processes_get_the_thread_settings(monkeypatch):
    import benchmarks
    from benchmarks.row_process import child_environment
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert child_environment()[1]["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")   # the user's own choice wins
    assert benchmarks.thread_environment()["OMP_WAIT_POLICY"] == "ACTIVE"


def test_generation_table_from_known_rates():
    from benchmarks import generation
    rates = {("before", "rnn"): [100, 300, 200], ("after", "rnn"): [10000] * 3,
             ("torch", "rnn"): [2000] * 3, ("torch1", "rnn"): [4000] * 3}
    rows = _table_rows(generation.format_table(rates, torch_threads=2))
    assert rows["RNN(256)"] == ["200", "10000", "50.0x", "2000", "4000", "2.50x",
                                "10.00 s -> 0.200 s"]
    assert set(rows) == {"model", "RNN(256)"}
    rows = _table_rows(generation.format_table({k: v for k, v in rates.items()
                                                if "torch" not in k[0]}))
    assert rows["RNN(256)"][3:6] == ["n/a", "n/a", "n/a"]


def test_generation_benchmark_measures_every_way(capsys):
    import importlib.util

    from benchmarks import generation
    has_torch = importlib.util.find_spec("torch") is not None
    rates, threads = generation.run(cells=("rnn", "lstm"), rounds=2, seconds=0.02,
                                    num_hiddens=16, torch=has_torch)
    ways = generation.WAYS if has_torch else ("before", "after")
    assert set(rates) == {(way, cell) for way in ways for cell in ("rnn", "lstm")}
    assert all(len(v) == 2 and min(v) > 0 for v in rates.values())
    assert (threads is not None) == has_torch
    assert generation.main(["--rounds", "1", "--seconds", "0.02", "--cells", "gru"]) == 0
    out = capsys.readouterr().out
    assert "| GRU(256) |" in out and "load average" in out


@pytest.mark.parametrize("argv", [["--cells", "rnn,bogus"], ["--rounds", "0"],
                                  ["--seconds", "0"]])
def test_generation_bad_command_line(argv, capsys):
    from benchmarks import generation
    with pytest.raises(SystemExit) as info:
        generation.main(argv)
    assert info.value.code == 2
