"""The toy exercise pack, installed for real: a package plus entry-point metadata on the path
of this process and of the grader's worker processes."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from nlpdojo import plugins

HERE = Path(__file__).parent
PACK = HERE / "toy_pack" / "nlpdojo_toy_pack"


def _install(site: Path) -> None:
    shutil.copytree(PACK, site / "nlpdojo_toy_pack", ignore=shutil.ignore_patterns("__pycache__"))
    dist = site / "nlpdojo_toy_pack-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nlpdojo-toy-pack\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nlpdojo]\ntoy = nlpdojo_toy_pack.plugin\n")


@pytest.fixture(scope="session")
def toy_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("toy-site")
    _install(site)
    return site


def _forget_pack() -> None:
    for name in [m for m in sys.modules if m.startswith("nlpdojo_toy_pack")]:
        del sys.modules[name]


def _activate(site: Path, monkeypatch) -> None:
    """Put ``site`` on the path of this process and of the workers; load only the toy pack."""
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv(plugins.RESTRICT_ENV, "toy")
    importlib.invalidate_caches()
    plugins.reset()


@pytest.fixture
def toy_pack_site(monkeypatch):
    """``install(site)``: the toy pack installed in a private site folder and activated (for
    tests that write into the pack); the pack is forgotten afterwards."""
    def install(site: Path) -> Path:
        _install(site)
        _forget_pack()
        _activate(site, monkeypatch)
        return site / "nlpdojo_toy_pack"

    yield install
    plugins.reset()
    _forget_pack()


@pytest.fixture
def toy(toy_site, monkeypatch):
    """Load the toy pack in this process and in workers; yields the exercise."""
    _activate(toy_site, monkeypatch)
    yield plugins.get_registry().get("exercise", "toy")
    plugins.reset()
    _forget_pack()


@pytest.fixture
def toy_fixtures(toy, toy_site):
    """Fixtures for the toy pack's public checks, generated from its reference once."""
    from nlpdojo_autograder.grading import gradecache
    from nlpdojo_autograder.release import fixtures

    dest = toy_site / "nlpdojo_toy_pack" / "fixtures" / "toy"
    if not dest.exists():
        fixtures.generate(toy, dest)
        # files added to an installed pack change the grader: a fingerprint this process
        # computed before them is stale (its cohort's children, computing it afresh, would
        # look for the expected outcomes under another key)
        gradecache.grader_fingerprint.cache_clear()
    return dest


SOLUTIONS = PACK / "solutions" / "toy"


@pytest.fixture
def make_submission(tmp_path):
    """``make_submission(edits)``: a copy of the toy solutions (topic folder ``toy``) with
    ``{module: (old, new)}`` text replacements, or ``stub=True`` for the released stubs."""
    from nlpdojo_autograder.authoring.markers import strip_solutions

    def make(edits: dict[str, tuple[str, str]] | None = None, *, stub: bool = False,
             name: str = "submission") -> Path:
        root = tmp_path / name
        topic = root / "toy"
        shutil.copytree(SOLUTIONS, topic, ignore=shutil.ignore_patterns("__pycache__"))
        for path in topic.glob("*.py"):
            text = path.read_text()
            if stub:
                text = strip_solutions(text, path)
            old_new = (edits or {}).get(path.stem)
            if old_new:
                assert old_new[0] in text, f"edit target not in {path.name}: {old_new[0]!r}"
                text = text.replace(old_new[0], old_new[1])
            path.write_text(text)
        return root

    return make


@pytest.fixture
def scratch_under_tmp_path(tmp_path, monkeypatch):
    """Temporary folders made with ``tempfile`` (the scratch of a LocalSubject a test never
    closes) go under pytest's tmp_path, cleaned by pytest, not into the system's."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
