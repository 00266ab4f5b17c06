"""What the reference of a question reaches: the names its modules' code refers to, followed
through the reference course's modules, read from the source without running it.

A check swaps the reference in for the questions its question requires ("no double charge",
:mod:`.questions`). A required question's function that the reference of the question under
test never calls is no part of that question's work, and swapped in it would do the work for
the student: interpolated Kneser-Ney is absolute discounting on relabelled counts, and with
``backoff`` a stub, a ``kneser_ney.py`` that relabelled the counts and called the swapped-in
``absolute_discount_log_probs`` earned Kneser-Ney's 7 points (an adversarial trial). So a
check *withholds* (:func:`withheld`) every function of a swapped-in question that none of
these reaches:

* the modules that hold the question under test's code, but the functions and classes of
  other questions in them (its helpers, the classes it builds, their default arguments);
* the classes of the swapped-in questions, whole (an object the check builds runs their
  given code, a constructor calling ``xavier_uniform``, in the student's worker);
* the exercise's given modules, whole (the instructor's code the check runs with the
  student's).

Reaching is transitive: a name bound to a function or class of the reference course (an
import, a package's re-export of a module's ``__all__``, a definition of the same module) is
followed into that definition. Only module-level functions are withheld; a method is reached
through its object, which no reading of the source can follow, and stays swapped in with its
class. A withheld function stays the student's own in the student's worker, and the reference
process refuses it; a check's own call of one (``ctx.function``: the counts a smoothing check
hands the model) is answered by the reference in the grader, on the check's own data.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nlpdojo_autograder.authoring.markers import module_name, python_modules

#: ``(module, name)`` as :func:`~nlpdojo_autograder.grading.grade.question_functions` names
#: them: a topic's module bare (``backoff``), the course library's ``..library.layers``
Name = tuple[str, str]

#: the statements whose names a module defines (a function's or class's reach is its own)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

#: the topic's own package among the course's (:func:`_parts`)
TOPIC = "<topic>"


@dataclass(frozen=True)
class _Module:
    tree: ast.Module
    definitions: dict[str, ast.AST]  # top-level def, class or assignment of each name
    imports: dict[str, tuple[str, str | None]]  # bound name -> (module, name | None: module)


@dataclass(frozen=True)
class Reach:
    """What each piece of the reference reaches (each a sorted list of :data:`Name`):
    ``definitions``, every top-level function and class by ``module:name`` (transitively);
    ``rest``, every module's statements outside them (imports, assignments, top-level code)."""

    definitions: dict[str, list[Name]] = field(default_factory=dict)
    rest: dict[str, list[Name]] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, list[list[str]]]]:
        return {"definitions": {d: [list(p) for p in v] for d, v in self.definitions.items()},
                "rest": {m: [list(p) for p in v] for m, v in self.rest.items()}}

    @classmethod
    def from_json(cls, data: dict[str, dict[str, list[list[str]]]]) -> Reach:
        return cls({d: [(a, b) for a, b in v] for d, v in data["definitions"].items()},
                   {m: [(a, b) for a, b in v] for m, v in data["rest"].items()})

    def of_module(self, module: str, leaving: Collection[str] = ()) -> set[Name]:
        """What ``module``'s code reaches, but through its definitions named in ``leaving``
        (unless another of its pieces refers to them)."""
        found = set(self.rest.get(module, ()))
        prefix = f"{module}:"
        for key, names in self.definitions.items():
            if key.startswith(prefix) and key[len(prefix):] not in leaving:
                found.update(names)
        return found


def reference_reach(folders: Sequence[tuple[Path, str]]) -> Reach:
    """The reach of every module's definitions and other statements in the reference course:
    ``folders`` are the topic's package folder with prefix ``""`` and the course library's
    with ``"..library."`` (module names as the markers' :func:`questions_in` pairs are
    written)."""
    modules: dict[str, _Module] = {}
    exported: dict[str, dict[str, str]] = {}  # package -> name -> the module of its __all__
    for folder, prefix in folders:
        for path in python_modules(folder):
            name = prefix + module_name(folder, path)
            is_package = path.name == "__init__.py"
            if is_package:
                name = name[: -len("__init__")].rstrip(".") or "."
            try:
                tree = ast.parse(path.read_bytes())
            except SyntaxError:  # the release refuses it; nothing is reached through it
                continue
            modules[name] = _read(tree, name, is_package)
            package = prefix.rstrip(".") or "."
            for export in _all_of(tree):
                exported.setdefault(package, {}).setdefault(export, name)
    for package, names in exported.items():
        if package in modules:
            for export, module in names.items():
                modules[package].imports.setdefault(export, (module, export))
    reach = Reach()
    for name, module in modules.items():
        outside = [node for node in module.tree.body if not isinstance(node, _DEFINITIONS)]
        reach.rest[name] = sorted(_reached(modules, [(name, node) for node in outside]))
        for node in module.tree.body:
            if isinstance(node, _DEFINITIONS):
                reach.definitions[f"{name}:{node.name}"] = sorted(
                    _reached(modules, [(name, node)]) | {(name, node.name)})
    return reach


def withheld(reach: Reach, question_functions: dict[str, list[tuple[str, str | None]]],
             under_test: str, swap_in: Iterable[str],
             given_modules: Iterable[str] = (),
             declared: Collection[str] = ()) -> tuple[Name, ...]:
    """The module-level functions of the ``swap_in`` questions that nothing the check runs as
    the reference's or the instructor's reaches (see the module's docstring): they stay the
    student's own. ``under_test`` and ``swap_in`` are full question ids; ``declared``, those
    the check names in its own ``swap_in`` (a function it hands the code under test), whole.
    A module of the question under test is read without the definitions of other questions
    (a function of a required question in the same file is reached only where something
    refers to it)."""
    swapped = tuple(swap_in)
    functions = {(m, n) for q in swapped if q not in declared
                 for m, n in question_functions.get(q, []) if n and "." not in n}
    if not functions:
        return ()
    owners: dict[tuple[str, str], set[str]] = {}
    for question, pairs in question_functions.items():
        for module, name in pairs:
            if name:
                owners.setdefault((module, name.split(".", 1)[0]), set()).add(question)
    allowed: set[Name] = set()
    for module in {m for m, _ in question_functions.get(under_test, [])}:
        others = {name for (m, name), qs in owners.items()
                  if m == module and under_test not in qs}
        allowed |= reach.of_module(module, leaving=others)
    for module in given_modules:
        allowed |= reach.of_module(module)
    for q in swapped:
        for module, name in question_functions.get(q, []):
            if name and "." in name:
                allowed.update(reach.definitions.get(f"{module}:{name.split('.', 1)[0]}", ()))
    return tuple(sorted(functions - allowed))


def _read(tree: ast.Module, name: str, is_package: bool) -> _Module:
    definitions: dict[str, ast.AST] = {}
    imports: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, _DEFINITIONS):
            definitions[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    definitions[target.id] = node
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = _relative(name, is_package, node.level, node.module or "")
            if base is None:
                continue
            for alias in node.names:
                bound = alias.asname or alias.name
                imports[bound] = ((_join(base, alias.name), None) if node.module is None
                                  else (base, alias.name))
    return _Module(tree, definitions, imports)


def _parts(name: str) -> list[str]:
    """A module's place in the course package: the topic's ``sub.mod`` -> ``[<topic>, sub,
    mod]`` (its package ``.`` -> ``[<topic>]``), ``..library.layers`` -> ``[library,
    layers]``."""
    if name.startswith(".."):
        return name[2:].split(".")
    return [TOPIC] + ([] if name == "." else name.split("."))


def _named(parts: list[str]) -> str:
    """:func:`_parts` undone."""
    if parts and parts[0] == TOPIC:
        return ".".join(parts[1:]) or "."
    return ".." + ".".join(parts)


def _relative(name: str, is_package: bool, level: int, module: str) -> str | None:
    """The module ``from <level dots><module> import`` names in module ``name``; None: a
    module outside the course package."""
    package = _parts(name) if is_package else _parts(name)[:-1]
    up = level - 1
    if up > len(package):
        return None
    base = package[: len(package) - up] + (module.split(".") if module else [])
    return _named(base) if base else ".."  # (``from .. import library``: the course's)


def _join(base: str, name: str) -> str:
    """Module ``name`` of package ``base`` (``from . import ngrams``)."""
    if base == ".":
        return name
    return f"..{name}" if base == ".." else f"{base}.{name}"


def _all_of(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return []
            return [v for v in value if isinstance(v, str)]
    return []


def _reached(modules: dict[str, _Module], starts: list[tuple[str, ast.AST]]) -> set[Name]:
    seen: set[int] = set()
    found: set[Name] = set()
    waiting = list(starts)
    while waiting:
        module, node = waiting.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for target in _references(modules, module, node):
            found.add(target)
            definition = modules[target[0]].definitions.get(target[1])
            if definition is not None:
                waiting.append((target[0], definition))
    return found


def _references(modules: dict[str, _Module], module: str, node: ast.AST) -> Iterator[Name]:
    """The reference course's names ``node`` (in ``module``) refers to, re-exports followed."""
    own = modules[module]
    for sub in ast.walk(node):
        target: tuple[str, str | None] | None = None
        if isinstance(sub, ast.Name):
            if sub.id in own.imports:
                target = own.imports[sub.id]
            elif sub.id in own.definitions:
                target = (module, sub.id)
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                and sub.value.id in own.imports:
            bound = own.imports[sub.value.id]
            if bound[1] is None:  # ``from . import ngrams``; ``ngrams.lookup``
                target = (bound[0], sub.attr)
        for _ in range(8):  # a package's re-export, or a module's import of the name
            if target is None or target[1] is None or target[0] not in modules:
                break
            holder = modules[target[0]]
            if target[1] in holder.definitions:
                break
            target = holder.imports.get(target[1])
        if target is not None and target[1] is not None and target[0] in modules:
            yield target[0], target[1]
