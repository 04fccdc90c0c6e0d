"""The suite's own parallel run: the xdist groups conftest.py sets really hold.

``make test`` relies on ``--dist loadgroup`` to run the users of a shared
fixture (the chapter's 200-epoch run, a benchmark run) on one worker and the
kvstore jobs one at a time. If grouping stops working, nothing fails: the
tests are spread as if ungrouped (pytest 9.2 with pytest-xdist 3.8 did
exactly that, pytest-dev/pytest-xdist#1386). So this runs a small suite of
its own under the same options and checks where its tests ran.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import KVSTORE_GROUP, SHARED_FIXTURES, _group

pytest.importorskip("xdist", reason="needs the test extra (pytest-xdist)")

CONFTEST = textwrap.dedent("""
    import pytest

    @pytest.hookimpl(tryfirst=True)   # as tests/conftest.py adds its groups
    def pytest_collection_modifyitems(config, items):
        for item in items:
            if "shared" in item.name:
                item.add_marker(pytest.mark.xdist_group("shared"))
""")

TESTS = textwrap.dedent("""
    import json, os, pathlib, time

    def _record(name):
        path = pathlib.Path(os.environ["RECORDS"]) / (name + ".json")
        path.write_text(json.dumps(os.environ["PYTEST_XDIST_WORKER"]))
        time.sleep(0.2)   # long enough that an idle worker would take the next one

    def test_shared_1(): _record("shared_1")
    def test_other_1(): _record("other_1")
    def test_shared_2(): _record("shared_2")
    def test_other_2(): _record("other_2")
    def test_shared_3(): _record("shared_3")
    def test_other_3(): _record("other_3")
""")


def test_tests_of_one_group_run_on_one_worker(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_grouped.py").write_text(TESTS)
    records = tmp_path / "records"
    records.mkdir()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-n", "2", "--dist", "loadgroup", "--basetemp", str(tmp_path / "base"),
                          str(tmp_path / "test_grouped.py")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, RECORDS=str(records)))
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {p.stem: json.loads(p.read_text()) for p in records.glob("*.json")}
    assert len(workers) == 6, workers
    assert len({workers["shared_%d" % i] for i in (1, 2, 3)}) == 1, workers
    assert len(set(workers.values())) == 2, workers   # the others did run elsewhere


class _Item:
    def __init__(self, fixturenames, dist=False):
        self.fixturenames = fixturenames
        self._dist = dist

    def get_closest_marker(self, name):
        return object() if name == "dist" and self._dist else None


@pytest.mark.parametrize("fixture", sorted(SHARED_FIXTURES))
def test_the_users_of_each_shared_fixture_form_one_group(fixture):
    assert _group(_Item(["seed", fixture])) == SHARED_FIXTURES[fixture]
    assert _group(_Item(["seed"], dist=True)) == KVSTORE_GROUP
    assert _group(_Item(["seed", "tmp_path"])) is None
