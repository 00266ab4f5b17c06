"""The code under test in a worker: a student's folder or the reference solutions.

A student's code must not be able to call the reference: :meth:`Subject.seal` imports the
reference modules that swap-ins need, removes the reference package from ``sys.modules`` and
blocks importing it again, before any student code runs. (This stops ``import
nlpdojo_solutions``; it is not a sandbox: code that reads the solutions' files from disk is
stopped only by grading where they are not readable, see docs/grading.md.)

Also implements "no double charge": during a check with ``swap_in=("softmax",)`` every name
bound to the student's question-``softmax`` functions, in every module of the student's
package, is rebound to the reference's, and restored afterwards. So a bug in ``softmax`` costs
points on the softmax question only, not again on every question that calls it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from nlpdojo_autograder.loader import REFERENCE_PACKAGE, load_folder_package


@dataclass
class Subject:
    topic: str
    #: import name of the reference package (``nlpdojo_solutions.<topic>``)
    reference: str
    #: the student's folder, or None for the reference solutions
    folder: Path | None
    #: question id -> [(module, function)], from the solutions' markers (empty without them)
    question_functions: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    _swapped: list[tuple[ModuleType, str, Any]] = field(default_factory=list)
    _originals: dict[tuple[str, str], Any] = field(default_factory=dict)
    _package: str | None = None
    _preloaded: bool = False
    _reference_modules: dict[str, ModuleType] = field(default_factory=dict)
    #: modules whose import was stopped for taking too long in an earlier worker: name ->
    #: the time limit they exceeded; importing them again fails at once
    hanging_modules: dict[str, float] = field(default_factory=dict)
    #: modules of given code taken from the reference where it is installed (see
    #: ``Exercise.given_modules``)
    given_modules: tuple[str, ...] = ()
    _given: dict[str, ModuleType] = field(default_factory=dict)
    #: during a check: names of the student's modules imported while a reference module stood
    #: in for one that does not import (see :meth:`_stand_in`)
    _stand_ins: set[str] | None = None

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Subject:
        folder = Path(spec["folder"]) if spec.get("folder") else None
        qf = {q: [tuple(pair) for pair in pairs]
              for q, pairs in spec.get("question_functions", {}).items()}
        return cls(topic=spec["topic"], reference=spec["reference"], folder=folder,
                   question_functions=qf, hanging_modules=dict(spec.get("hanging_modules", {})),
                   given_modules=tuple(spec.get("given_modules", ())))

    @property
    def code_dir(self) -> str:
        if self.folder is not None:
            return str(self.folder.resolve())
        spec = importlib.util.find_spec(self.reference)
        return str(Path(spec.origin).parent) if spec and spec.origin else ""

    @property
    def package(self) -> str:
        if self._package is None:
            if self.folder is None:
                self._package = self.reference
            else:
                self._package = load_folder_package(self.folder, self.topic)
        return self._package

    def seal(self) -> None:
        """Keep private handles on the reference modules swap-ins need, then make the
        reference package unimportable for the student's code (a no-op for the reference)."""
        if self.folder is None:
            return
        for name in self.given_modules:
            try:
                self._given[name] = importlib.import_module(f"{self.reference}.{name}")
            except ImportError:  # a student release: the submission's copy will do
                pass
        for pairs in self.question_functions.values():
            for module_name, _ in pairs:
                if module_name not in self._reference_modules:
                    self._reference_modules[module_name] = importlib.import_module(
                        f"{self.reference}.{module_name}")
        # the reference package; for the built-in solutions, every topic's
        blocked = REFERENCE_PACKAGE if self.reference.startswith(REFERENCE_PACKAGE + ".") \
            else self.reference
        for name in [n for n in sys.modules if n == blocked or n.startswith(blocked + ".")]:
            del sys.modules[name]
        sys.meta_path.insert(0, _Blocker(blocked))

    def module(self, name: str) -> ModuleType:
        from nlpdojo_autograder.checks import CheckFailure

        full = f"{self.package}.{name}"
        if name in self.hanging_modules:
            raise CheckFailure(_hanging_message(name, self.hanging_modules[name]))
        try:
            return importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
            raise CheckFailure(f"{name}.py is missing from the submission; keep the files of "
                               "the released exercise") from exc

    def given_module(self, name: str) -> ModuleType | None:
        """The reference's copy of given module ``name``, or None (see ``Context.given_module``)."""
        if self.folder is None:
            return self.module(name)
        return self._given.get(name)

    def loader(self, swap_in: Iterable[str]) -> Callable[[str], ModuleType]:
        """``load(module_name)`` for one check, applying the check's swap-ins."""
        swap_in = tuple(swap_in) if self.folder is not None else ()

        def load(name: str) -> ModuleType:
            self._preload()
            self._stand_in(swap_in)
            module = self.module(name)
            for question in swap_in:
                self._swap(question)
            return module

        return load

    def _preload(self) -> None:
        """Import every module of the package once, before any swap, so that no module binds
        a swapped-in reference at its own import time (and keeps it after the restore)."""
        if self._preloaded:
            return
        self._preloaded = True
        if self.hanging_modules:  # also when another module imports one of them
            sys.meta_path.insert(0, _HangingBlocker(self.package, self.hanging_modules))
        folder = self.folder if self.folder is not None else Path(self.code_dir)
        for path in sorted(folder.glob("*.py")):
            if path.stem != "__init__":
                try:
                    self.module(path.stem)
                except Exception:  # noqa: BLE001 - resurfaces in the check that imports it
                    pass

    def _stand_in(self, swap_in: tuple[str, ...]) -> None:
        """No double charge for a file that does not import at all: when a swapped-in question's
        module fails to import (a syntax error, a bad import in softmax.py), the reference
        module stands in for it during this check, so that ``from .softmax import softmax`` in
        the student's naive_softmax.py works. Undone by :meth:`restore`."""
        for question in swap_in:
            for module_name, _ in self.question_functions.get(question, []):
                full = f"{self.package}.{module_name}"
                reference = self._reference_modules.get(module_name)
                if full in sys.modules or reference is None:
                    continue
                try:
                    self.module(module_name)
                except Exception:  # noqa: BLE001 - its own checks report why
                    if self._stand_ins is None:
                        self._stand_ins = {n for n in sys.modules if n.startswith(self.package)}
                    sys.modules[full] = reference

    def _swap(self, question: str) -> None:
        prefix = self.package + "."
        student_modules = [m for n, m in list(sys.modules.items())
                           if n.startswith(prefix) and m is not None]
        for module_name, func_name in self.question_functions.get(question, []):
            if func_name is None:  # a block outside any function: nothing to rebind
                continue
            reference = getattr(self._reference_modules[module_name], func_name)
            key = (module_name, func_name)
            if key not in self._originals:
                try:
                    self._originals[key] = getattr(self.module(module_name), func_name)
                except Exception:  # noqa: BLE001 - the module does not import: nothing to swap
                    continue
            original = self._originals[key]
            for mod in student_modules:
                for attr, value in list(vars(mod).items()):
                    if value is original:
                        self._swapped.append((mod, attr, original))
                        setattr(mod, attr, reference)

    def restore(self) -> None:
        """Undo every swap-in (after each check)."""
        for mod, attr, original in reversed(self._swapped):
            setattr(mod, attr, original)
        self._swapped.clear()
        if self._stand_ins is not None:
            # forget the stand-ins and every module of the student's imported next to them
            for name in [n for n in sys.modules
                         if n.startswith(self.package + ".") and n not in self._stand_ins]:
                del sys.modules[name]
            self._stand_ins = None
            self._originals.clear()


class _Blocker:
    """A meta-path finder that refuses one top-level package and its modules."""

    def __init__(self, top: str) -> None:
        self.top = top

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == self.top or name.startswith(self.top + "."):
            raise ImportError(f"{name} is not available to submitted code: write your own "
                              "implementation")
        return None


def _hanging_message(name: str, seconds: float) -> str:
    return (f"importing {name}.py took longer than {seconds:g} s and was stopped: code at the "
            "top level of a file runs when it is imported; move loops and experiments into "
            "functions (or under `if __name__ == \"__main__\":`)")


class _HangingBlocker:
    """Fails the import of a module whose import hung in an earlier worker, at once."""

    def __init__(self, package: str, hanging: dict[str, float]) -> None:
        self.names = {f"{package}.{name}": (name, seconds) for name, seconds in hanging.items()}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.names:
            raise ImportError(_hanging_message(*self.names[name]), name=name)
        return None
