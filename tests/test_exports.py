"""The course library as one namespace (nlpdojo.exports): ``from ..library import Linear``
reaches every name a library module lists in ``__all__``; a broken module breaks only its own
names and says which file to fix; a new file is re-exported with no edit; a name two modules
export is an error naming both."""

from __future__ import annotations

import ast
import importlib
import itertools
import shutil
import sys
from pathlib import Path

import pytest

from nlpdojo.exports import ExportsError, declared_all, exports_of, folder_exports

REPO = Path(__file__).resolve().parents[1]
LIBRARY = REPO / "solutions" / "library"
_names = (f"nlpdojo_exports_course{i}" for i in itertools.count())


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A copy of the course library as ``<fresh package>.library``; yields (package, folder)."""
    package = next(_names)
    root = tmp_path / package
    shutil.copytree(LIBRARY, root / "library", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield package, root / "library"
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def _import(package: str, *names: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(f"from {package}.library import {', '.join(names)}", namespace)  # noqa: S102
    return {n: namespace[n] for n in names}


def _public(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)
            and not n.name.startswith("_")]


def test_every_library_module_lists_its_public_names_and_the_package_has_them_all():
    import nlpdojo_solutions.library as library

    exports = folder_exports(LIBRARY)
    assert exports.duplicates == {} and exports.unreadable == {}
    assert exports.problems() == []
    for path in sorted(LIBRARY.glob("*.py")):
        if path.stem == "__init__":
            continue
        module = importlib.import_module(f"nlpdojo_solutions.library.{path.stem}")
        assert sorted(module.__all__) == sorted(_public(path)), path.name
        for name in module.__all__:
            assert getattr(library, name) is getattr(module, name), name
            assert exports.names[name] == path.stem
    assert {"Linear", "RNNCell", "Adam", "SoftmaxCrossEntropy", "xavier_uniform"} \
        <= set(dir(library))
    assert sorted(library.__all__) == sorted(exports.names)
    from nlpdojo_solutions.library import optim  # a module's own name is still the module

    assert optim.Adam is library.Adam


def test_a_broken_module_breaks_only_its_own_names(course):
    package, folder = course
    (folder / "rnn.py").write_text((folder / "rnn.py").read_text() + "\ndef half(:\n")
    assert _import(package, "Linear", "Adam")["Linear"].__name__ == "Linear"
    with pytest.raises(ImportError, match=r"library/rnn\.py \(SyntaxError"):
        _import(package, "RNNCell")
    assert "Linear" in dir(sys.modules[f"{package}.library"])


def test_a_module_raising_at_import_is_named_by_the_names_it_exports(course):
    package, folder = course
    (folder / "rnn.py").write_text(
        (folder / "rnn.py").read_text() + '\nraise RuntimeError("half-written")\n')
    assert _import(package, "Embedding")["Embedding"].__name__ == "Embedding"
    with pytest.raises(ImportError, match=r"library/rnn\.py, which exports it, does not "
                                          r"import \(RuntimeError: half-written\)"):
        _import(package, "RNNCell")


def test_a_new_library_file_is_re_exported_with_no_edit(course):
    package, folder = course
    init = (folder / "__init__.py").read_bytes()
    (folder / "mgu.py").write_text('__all__ = ["MGUCell"]\n\n\nclass MGUCell:\n    pass\n')
    assert _import(package, "MGUCell")["MGUCell"].__module__ == f"{package}.library.mgu"
    assert "MGUCell" in dir(sys.modules[f"{package}.library"])
    assert (folder / "__init__.py").read_bytes() == init


def test_a_name_two_modules_export_is_an_error_naming_both(course):
    package, folder = course
    (folder / "mylayers.py").write_text('__all__ = ["Linear"]\n\n\nclass Linear:\n    pass\n')
    with pytest.raises(ImportError, match=r"library/layers\.py and library/mylayers\.py both "
                                          "export it"):
        _import(package, "Linear")
    assert _import(package, "Embedding")  # the others are unaffected
    [(module, message)] = folder_exports(folder).problems()
    assert module == "layers" and "library/layers.py and library/mylayers.py both export " \
        "'Linear'" in message


def test_an_unknown_name_is_an_attribute_error_with_a_suggestion(course):
    package, _ = course
    library = importlib.import_module(f"{package}.library")
    with pytest.raises(AttributeError, match="did you mean 'Linear'"):
        library.Linaer  # noqa: B018
    assert not hasattr(library, "_private")
    with pytest.raises(ImportError):
        _import(package, "Linaer")


@pytest.mark.parametrize(("source", "names"), [
    ("X = 1\n", None),
    ('__all__ = ["a", "b"]\n', ("a", "b")),
    ('__all__: list[str] = ("a",)\n__all__ += ["c"]\n', ("a", "c")),
])
def test_all_is_read_from_the_source(source, names):
    assert declared_all(source) == names


@pytest.mark.parametrize("source", ["__all__ = [n for n in 'ab']\n", "__all__ = [x]\n",
                                    "__all__ = b = ['a']\n"])
def test_an_all_that_only_running_the_module_could_tell_is_unreadable(source):
    with pytest.raises(ExportsError):
        declared_all(source)
    exports = exports_of({"m": source, "n": '__all__ = ["m"]\n'})
    assert "m" in exports.unreadable and exports.names == {"m": "n"}
    assert [m for m, _ in exports.problems()] == ["n", "m"]  # 'm' is also a module's name
