"""The grader reads a reference module's public functions from its source (what a stand-in
module offers when the student's module does not import), without importing it: importing
the reference in the grader cost every `grade` SciPy's statistics (1.4 s of start-up) through
word_vectors' evaluation module. The names must be those the imported module holds."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest

from nlpdojo_autograder.grading.runner import public_functions
from nlpdojo_autograder.runtime.subject import ReferenceCode

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
MODULES = sorted(p for p in SOLUTIONS.rglob("*.py") if p.name != "__init__.py")


def _module_name(path: Path) -> str:
    return ".".join(("nlpdojo_solutions", *path.relative_to(SOLUTIONS).with_suffix("").parts))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOLUTIONS)))
def test_the_names_read_from_the_source_are_the_imported_modules(path):
    module = importlib.import_module(_module_name(path))
    imported = sorted(name for name, value in vars(module).items()
                      if not name.startswith("_") and inspect.isfunction(value)
                      and value.__module__ == module.__name__)
    assert public_functions(path.read_text()) == imported


def test_functions_in_blocks_count_and_nested_or_private_ones_do_not():
    source = '''
import os
from math import sqrt

def top(): pass
async def waits(): pass
def _private(): pass
if os.name == "posix":
    def on_posix(): pass
else:
    def elsewhere(): pass
try:
    import fast
except ImportError:
    def fallback(): pass
class Layer:
    def method(self): pass
def outer():
    def inner(): pass
'''
    assert public_functions(source) == ["elsewhere", "fallback", "on_posix", "outer", "top",
                                        "waits"]


def test_a_module_is_found_without_running_it(tmp_path, monkeypatch):
    """``ReferenceCode.source_path`` locates a module of the reference without importing it:
    a module that raises on import is found all the same and not run; a missing one is None."""
    package = tmp_path / "refpkg_for_names"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "loud.py").write_text("raise RuntimeError('ran')\ndef shown(): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reference = ReferenceCode("refpkg_for_names")
    path = reference.source_path("loud")
    assert path is not None and path.resolve() == (package / "loud.py").resolve()
    assert "refpkg_for_names.loud" not in sys.modules
    assert public_functions(path.read_text()) == ["shown"]
    assert reference.source_path("no_such_module") is None
