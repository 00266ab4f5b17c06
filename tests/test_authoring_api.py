"""The authoring facade an author learns (issue 65): a small, documented set of names, and the
two namespaces beside it (seeded inputs, comparisons)."""

from __future__ import annotations

import inspect

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
