"""The quality and recipe benchmarks: trainers taking turns, their tables, a short run.

Quality itself is measured by ``make bench`` (benchmarks.quality), never asserted here.
Planted bugs these tests were seen to catch: the parent handing the turn to
every child at once (test_turns_never_overlap_and_each_gets_its_budget); the
children's clock running while they wait (same test); the d2l row trained
with the chapter's settings instead of ``--data``'s (test_a_short_quality_run).
"""

import json
import sys
import textwrap

import pytest

from benchmarks import optimizer_speed, quality, recipe
from benchmarks.budget_turns import child_env, run_in_turns
from d2l_rnn.settings import TrainSettings

# A trainer that burns CPU and records when its turns were.
_BUSY = textwrap.dedent("""
    import time
    from benchmarks.budget_turns import OutOfTime, Turn
    turn, spans = Turn(%(budget)s, %(slice)s), []
    turn.ready()
    start = time.time()
    try:
        while True:
            sum(range(2000))
            before = turn._since
            turn.check()
            if turn._since != before:  # the turn was passed on and came back
                spans.append((start, turn.used))
                start = turn._since
    except OutOfTime:
        spans.append((start, turn.used))
    print("a line of output")
    Turn.result({"spans": spans, "used": turn.used})
""")


def test_turns_never_overlap_and_each_gets_its_budget(capsys):
    budget, slice_seconds = 0.6, 0.15
    trainers = [(name, [sys.executable, "-c", _BUSY % dict(budget=budget, slice=slice_seconds)],
                 child_env(1)) for name in ("a", "b", "c")]
    results = run_in_turns(trainers, write=print)
    assert set(results) == {"a", "b", "c"}
    assert capsys.readouterr().out.count("] a line of output") == 3
    starts = sorted((s, name) for name, r in results.items() for s, _ in r["spans"])
    for (_, first), (_, second) in zip(starts, starts[1:]):
        assert first != second  # round robin: never two turns in a row of one trainer
    for r in results.values():
        assert budget <= r["used"] < budget + slice_seconds
        assert len(r["spans"]) >= 3  # it waited for the others between its slices


def test_a_failing_trainer_is_reported():
    trainers = [("bad", [sys.executable, "-c", "import sys; sys.exit(3)"], child_env(1))]
    with pytest.raises(RuntimeError, match="trainer bad"):
        run_in_turns(trainers)


def _rows(out):
    return {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")[1:]]
            for line in out.splitlines() if line.startswith("| ") and "---" not in line}


@pytest.mark.extended
def test_a_short_quality_run(tmp_path, capsys):
    pytest.importorskip("torch")
    text = tmp_path / "own.txt"
    text.write_text(("The Time Traveller (for so it will be convenient to speak of him) "
                     "was expounding a recondite matter to us. ") * 120, encoding="utf-8")
    assert quality.main(["--data", str(text), "--budget", "1", "--slice", "0.5",
                         "--rows", "d2l-rnn --data", "char-rnn 1t"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert set(rows) == {"trainer", "d2l-rnn --data", "char-rnn 1t"}
    assert float(rows["char-rnn 1t"][2]) == 1.0  # the ratio's base
    assert 1 < float(rows["d2l-rnn --data"][0]) < 60 and "load average" in out
    recipe_line = next(line for line in out.splitlines() if line.startswith("d2l-rnn's settings"))
    expected = TrainSettings.create(data=str(text))
    for name in ("cell", "num_hiddens", "optimizer", "embed_size", "num_steps", "batch_size"):
        assert "%s=%s," % (name, getattr(expected, name)) in recipe_line, name


def test_quality_table_ratios():
    results = {"d2l-rnn --data": dict(best=4.5, epochs=9, seconds=180),
               "char-rnn 1t": dict(best=5.0, epochs=3, seconds=180),
               "adam-chapter 2t": dict(best=6.0, epochs=3, seconds=181)}
    rows = _rows(quality.format_quality(results))
    assert rows["d2l-rnn --data"][:3] == ["4.500", "2.170", "0.90"]
    assert rows["adam-chapter 2t"][2] == "1.20"


def test_recipe_table_is_sorted_and_every_candidate_is_valid(tmp_path):
    results = {"x": dict(best=6.0, epochs=2, seconds=90, stopped="budget"),
               "y": dict(best=5.0, epochs=3, seconds=90, stopped="early stop")}
    table = recipe.format_recipes(results).splitlines()
    assert table[2].startswith("| y | 5.000 | 1.000") and table[3].startswith("| x | 6.000 | 1.200")
    for settings in recipe.CANDIDATES.values():
        TrainSettings.create(data=str(tmp_path / "any.txt"), **settings).check()


@pytest.mark.extended
def test_optimizer_speed_table(capsys):
    assert optimizer_speed.main(["--epochs", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(rows) >= {"sgd", "adam", "rmsprop"}
    assert rows["sgd"][2:] == ["1.00", "1.00"]
    assert all(float(rows[name][0]) > 0 for name in ("adam", "rmsprop"))


def test_the_child_specs_are_json(tmp_path):
    for _, command, env in quality.rows_for(tmp_path / "t.txt", 5, 1):
        spec = json.loads(command[-1])
        assert spec["budget"] == 5 and env["OMP_NUM_THREADS"] in ("1", "2")


def test_the_russian_text_is_made_the_same_way_each_time(tmp_path):
    from benchmarks import texts
    if not all((texts._LOCALE / (name + ".mo")).exists() for name in texts.CATALOGS):
        pytest.skip("this system has no Russian gettext catalogs")
    first = texts.russian_messages(max_chars=5000)
    assert first == texts.russian_messages(max_chars=5000) and len(first) == 5001
    assert sum("а" <= c <= "я" for c in first.lower()) > 2000  # mostly Cyrillic
    assert texts.main([str(tmp_path / "ru.txt"), "--max-chars", "3000"]) == 0
    assert (tmp_path / "ru.txt").read_text(encoding="utf-8") == texts.russian_messages(3000)
