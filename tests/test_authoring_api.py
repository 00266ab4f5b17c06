"""The authoring facade an author learns (issue 65): a small, documented set of names, and the
two namespaces beside it (seeded inputs, comparisons)."""

from __future__ import annotations

import inspect

import pytest

import nlpdojo_autograder.authoring as authoring
from nlpdojo_autograder.authoring import inputs as input_specs

#: the most names the facade exports (docs/authoring.md walks through them)
MAX_FACADE_NAMES = 45


def test_the_facade_exports_few_names_each_documented():
    names = authoring.__all__
    assert len(names) == len(set(names)) <= MAX_FACADE_NAMES, len(names)
    undocumented = []
    for name in names:
        obj = getattr(authoring, name)
        doc = inspect.getdoc(obj) or ""
        # a dataclass without a docstring of its own gets its signature as one
        if not doc.strip() or doc.startswith(f"{name}("):
            undocumented.append(name)
    assert not undocumented, undocumented


def test_seeded_inputs_are_a_namespace_of_their_own():
    for name in ("inputs", "normal", "uniform", "integers", "draw", "student", "require"):
        assert callable(getattr(input_specs, name))
        assert name not in authoring.__all__


def test_ctx_function_finds_a_function_in_the_module_of_its_questions_code(tmp_path):
    """``ctx.function(name)`` looks in the module of the check's question (``Check.module``,
    set by its ``Question``); ``ctx.module(name)``, a method, stays one (an attribute of the
    same name once shadowed it, and word_vectors' training check failed on the reference)."""
    from nlpdojo_autograder.authoring import Context, Question, value_check
    from nlpdojo_autograder.authoring.checks import BackendRef

    question = Question("lstm_cell", "The LSTM cell", code="library/gated",
                        checks=[value_check("forget_bias", "t", 1.0, lambda ctx: {})])
    (check,) = question.checks
    assert check.module == "..library.gated"
    ctx = Context(subject=None, backend=BackendRef("numpy", None, "float64"), seed=0,
                  workdir=tmp_path, module=check.module)
    assert ctx.function("lstm_bias").token.args == ("student", "..library.gated", "lstm_bias")
    assert ctx.function("other", "f").token.args == ("student", "other", "f")
    assert ctx.module("vanishing").args == ("vanishing",)
    bare = Context(subject=None, backend=BackendRef("numpy", None, "float64"), seed=0,
                   workdir=tmp_path)
    with pytest.raises(ValueError, match="names no one module"):
        bare.function("lstm_bias")
