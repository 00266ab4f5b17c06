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
import copy

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _units(tree: ast.Module) -> tuple[str, dict[str, str]]:
    """``(skeleton, bodies)``: the module with every unit's body emptied, dumped, and each
    unit's body dumped by name (no line numbers: moving code changes nothing)."""
    bodies: dict[str, str] = {}
    skeleton = copy.deepcopy(tree)

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

    walk(skeleton.body, "")
    return ast.dump(skeleton), bodies


def changed_units(before: str, after: str) -> set[str] | None:
    """The units whose bodies differ between two versions of a module's source; None where
    anything outside the units' bodies differs too (or either does not parse)."""
    try:
        old, new = ast.parse(before), ast.parse(after)
    except SyntaxError:
        return None
    old_skeleton, old_bodies = _units(old)
    new_skeleton, new_bodies = _units(new)
    if old_skeleton != new_skeleton:
        return None
    return {name for name in old_bodies if old_bodies[name] != new_bodies.get(name)}
