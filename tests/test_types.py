"""Type hints: every name ``import d2l_rnn as d2l`` gives is annotated, and ships ``py.typed``.

``make test`` also runs mypy on the package (configured in pyproject.toml);
this test makes sure there is something for it to check.
"""

import inspect
from pathlib import Path

import pytest

import d2l_rnn


def _public_callables():
    for name in d2l_rnn.__all__:
        obj = getattr(d2l_rnn, name)
        if not inspect.isclass(obj):
            yield name, obj
            continue
        for attr, value in vars(obj).items():  # what the class itself defines
            if isinstance(value, property):
                value = value.fget
            if inspect.isfunction(value) and (not attr.startswith("_") or attr == "__init__"):
                yield "%s.%s" % (name, attr), value


@pytest.mark.parametrize("name,function", list(_public_callables()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_parameter_and_return_is_annotated(name, function):
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name != "self" and p.annotation is inspect.Parameter.empty]
    assert not missing, "%s: parameters without a type hint: %s" % (name, ", ".join(missing))
    assert signature.return_annotation is not inspect.Signature.empty, \
        "%s has no return type hint" % name


def test_the_package_says_it_is_typed():
    assert (Path(d2l_rnn.__file__).parent / "py.typed").is_file()
