"""Project-wide test set-up: no stray third-party plugins, a fresh registry per test."""

from __future__ import annotations

import pytest

from nlpdojo import plugins


@pytest.fixture(autouse=True)
def _private_grade_cache(monkeypatch, tmp_path_factory):
    """``grade``'s incremental cache in a folder of this test's, never the user's."""
    monkeypatch.setenv("NLPDOJO_GRADE_CACHE", str(tmp_path_factory.mktemp("grade-cache")))


@pytest.fixture(autouse=True)
def _private_expected_outcomes(monkeypatch, tmp_path_factory):
    """The reference's expected outcomes kept on disk (``grading/expected.py``) in a folder of
    this test's, never the user's: no test reads what another computed."""
    monkeypatch.setenv("NLPDOJO_EXPECTED_CACHE", str(tmp_path_factory.mktemp("expected")))


@pytest.fixture(autouse=True)
def _private_outputs(monkeypatch, tmp_path_factory):
    """What ``dojo train`` and ``dojo sample`` write by default (the outputs folder) goes to a
    folder of this test's, never the user's."""
    monkeypatch.setenv("NLPDOJO_OUTPUTS", str(tmp_path_factory.mktemp("outputs")))


@pytest.fixture(autouse=True)
def _no_course_configuration(monkeypatch, tmp_path_factory):
    """No instructor's course configuration (nlpdojo.settings) but an empty one of this
    test's: the user's own ``~/.config/nlpdojo/config.toml`` is never read, here or in the
    processes a test starts; none of the grading settings' environment variables is set."""
    empty = tmp_path_factory.mktemp("course-config") / "config.toml"
    empty.write_text("")
    monkeypatch.setenv("NLPDOJO_CONFIG", str(empty))
    for var in ("NLPDOJO_TIMEOUT_SCALE", "NLPDOJO_MEMORY_MB", "NLPDOJO_GRADE_OUTPUT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _only_builtin_plugins(monkeypatch):
    """Block third-party entry points (an instructor's machine may have some installed) and
    start every test with a freshly loaded registry. Tests that need a third-party plugin set
    NLPDOJO_PLUGINS themselves and call ``plugins.reset()``."""
    monkeypatch.setenv(plugins.RESTRICT_ENV, "")
    for var in ("NLPDOJO_BACKEND", "NLPDOJO_DEVICE", "NLPDOJO_DTYPE"):
        monkeypatch.delenv(var, raising=False)
    plugins.reset()
    yield
    plugins.reset()


def pytest_collection_modifyitems(config, items):
    """The tests marked ``long`` (minutes each: the planted-bug verifications, the reference
    time-outs) run first: pytest-xdist hands tests out in collection order, and a long test
    started last keeps one worker busy after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
