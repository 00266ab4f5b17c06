"""What a planted bug changes, as units of code: the top-level functions and the methods whose
bodies differ (``dojo verify`` grades again only the checks that ran one of them).

A unit is named as the worker's record names it (:mod:`nlpdojo_autograder.runtime.executed`):
``f`` for a top-level function, ``Class.method`` for a method (``Outer.Inner.method`` in a
nested class). A change anywhere else (an import, a constant, a class attribute, a decorator,
a default value, a signature: all of it runs on import, or changes what a call binds) is not
confined to units, and :func:`changed_units` says so with None: every check is then graded
again.
"""

from __future__ import annotations

import ast
import functools

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _units(tree: ast.Module) -> tuple[str, dict[str, str]]:
    """``(skeleton, bodies)``: the module with every unit's body emptied, dumped, and each
    unit's body dumped by name (no line numbers: moving code changes nothing). Empties the
    bodies of ``tree`` itself: give it a tree of its own (:func:`_units_of` parses one)."""
    bodies: dict[str, str] = {}

    def walk(statements: list[ast.stmt], prefix: str) -> None:
        for node in statements:
            if isinstance(node, FUNCTIONS):
                # a name defined twice (a property's getter and setter) is one unit, as the
                # worker's record names both
                bodies[prefix + node.name] = bodies.get(prefix + node.name, "") + ast.dump(
                    ast.Module(body=node.body, type_ignores=[]))
                node.body = [ast.Pass()]
            elif isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}.")

    walk(tree.body, "")
    return ast.dump(tree), bodies


@functools.lru_cache(maxsize=64)
def _units_of(source: str) -> tuple[str, dict[str, str]] | None:
    """:func:`_units` of ``source``, None where it does not parse. Kept per source: a module
    carries many planted bugs, each compared with the same original (the parse and the dumps
    were 13 % of a ``dojo verify`` of neural_networks, with a copy of every tree besides)."""
    try:
        return _units(ast.parse(source))
    except SyntaxError:
        return None


def changed_units(before: str, after: str) -> set[str] | None:
    """The units whose bodies differ between two versions of a module's source; None where
    anything outside the units' bodies differs too (or either does not parse)."""
    old, new = _units_of(before), _units_of(after)
    if old is None or new is None:
        return None
    (old_skeleton, old_bodies), (new_skeleton, new_bodies) = old, new
    if old_skeleton != new_skeleton:
        return None
    return {name for name in old_bodies if old_bodies[name] != new_bodies.get(name)}
