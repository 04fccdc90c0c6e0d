"""The package's shape, read from its source: no import cycle, few top-level modules, one engine."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "d2l_rnn"
MAX_TOP_LEVEL = 15
MAX_LINES = 250


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module, node, is_package):
    """The modules an ``import``/``from ... import`` node of ``module`` names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        base = base[:len(base) - node.level + (1 if is_package else 0)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module
    # "from . import x" may import the submodule x; "from .m import f" imports m.
    return [prefix] + ["%s.%s" % (prefix, alias.name) for alias in node.names]


def import_graph(modules):
    """``{module: {modules of this package it imports}}``, at any depth of the code."""
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                # A package is always imported before its modules: a module that
                # imports its own package (from . import x) closes no cycle.
                targets.update(t for t in _resolve(name, node, path.name == "__init__.py")
                               if t in modules and not (name + ".").startswith(t + "."))
        graph[name] = targets
    return graph


def find_cycle(graph):
    """Return one import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph(_modules())
    assert graph["d2l_rnn.training"] >= {"d2l_rnn.loop", "d2l_rnn.distributed.parallel"}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle_and_lazy_imports_count():
    # A cycle closed by an import inside a function is a cycle all the same.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse("def f():\n    from ..training import x\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert "d2l_rnn.training" in _resolve("d2l_rnn.distributed.parallel", node, is_package=False)


def test_top_level_holds_the_chapter_and_sub_packages_hold_the_rest():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top
    for package in ("cli", "checkpoint", "distributed"):
        assert (PACKAGE / package / "__init__.py").is_file(), package
    # Packaging and many tools take a folder called dist/ for build output and skip it.
    assert not [p for p in PACKAGE.rglob("dist") if p.is_dir()]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_250_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def _users_of(names, modules):
    users = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.Name) and node.id in names
               or isinstance(node, ast.Attribute) and node.attr in names
               for node in ast.walk(tree)):
            users.add(module)
    return users


def test_one_epoch_engine_picks_the_sampler():
    users = _users_of({"data_iter_random", "data_iter_consecutive"}, _modules())
    users -= {"d2l_rnn", "d2l_rnn.samplers", "d2l_rnn.scratch"}
    assert users == {"d2l_rnn.loop"}


def test_one_loss_function_trains_and_evaluates_everywhere():
    modules = _modules()
    assert _users_of({"log_softmax", "SoftmaxCrossEntropyLoss", "softmax_cross_entropy"},
                     modules) == {"d2l_rnn.loop"}
    assert {"d2l_rnn.training", "d2l_rnn.scratch"} <= _users_of({"sequence_loss"}, modules)
