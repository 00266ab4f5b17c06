"""Code made one way where an editor's refactorings make it another, for the similarity report.

The report compares what students wrote with winnowed fingerprints of its tokens, names made
alike (:mod:`.similarity`); a mechanical rewrite still changed enough tokens to hide a copy:
an adversarial trial (2026-12-07) took a copied loss to 0.39 by swapping operands (``a - b``
as ``-b + a``, ``x / n`` as ``x * (1.0 / n)``, ``==``'s sides) and inlining its
temporaries, and another took verbatim copies to 0.47 and 0.32 by annotating them
(``x: Array = ...``). :func:`normal_form` undoes what it can undo on both sides alike; what
it returns is for comparing, not for running. Inlined temporaries stay a way to hide a copy
(docs/security.md): undoing them made honest students alike.
"""

from __future__ import annotations

import ast
import re

_NAMES = re.compile(r"(id|arg)='[^']*'")


def normal_form(tree: ast.Module) -> ast.Module:
    """``tree`` (changed in place) with, in every expression, the operands of ``+`` and ``*``
    chains (``a - b`` read as ``a + -b``, ``a / b`` as ``a * (1 / b)``), the sides of ``==``
    and ``!=`` and a call's keyword arguments in one order that no name decides, and a whole
    float read as an int; and, as statements, ``x: T = v`` as ``x = v``, ``a, b = u, v`` as
    ``a = u`` and ``b = v`` (where neither value reads a name bound there), no ``x = x``.

    Temporaries are not inlined: a trial of the form that inlined them (2026-12-07) flagged
    two honest students of five (a stable sigmoid, Adam: standard formulas collapse into one
    expression), and a copy that kept one name from inlining (an annotation, a second
    binding) then missed the original that collapsed."""
    return ast.fix_missing_locations(_Ordered().visit(_Statements().visit(tree)))


class _Statements(ast.NodeTransformer):
    """Assignments written one way: no annotation on a plain name, tuples of values split,
    no assignment of a name to itself."""

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None or not isinstance(node.target, ast.Name):
            return node
        return ast.copy_location(ast.Assign([node.target], node.value), node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.AST] | None:
        self.generic_visit(node)
        if len(node.targets) != 1:
            return node
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Name) and \
                target.id == value.id:
            return None  # ``x = x``
        if (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                and len(target.elts) == len(value.elts)
                and all(isinstance(t, ast.Name) for t in target.elts)):
            bound = {t.id for t in target.elts}
            if not any(isinstance(n, ast.Name) and n.id in bound
                       for v in value.elts for n in ast.walk(v)):
                return [ast.copy_location(ast.Assign([t], v), node)
                        for t, v in zip(target.elts, value.elts, strict=True)]
        return node


# -- operands -------------------------------------------------------------------------------
def _key(node: ast.AST) -> str:
    """An order for operands that no name decides (a copy's renaming keeps it)."""
    return _NAMES.sub("", ast.dump(node))


class _Ordered(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div) and not _is_one(node.left):
            node = ast.BinOp(node.left, ast.Mult(),
                             ast.BinOp(ast.Constant(1), ast.Div(), node.right))
        elif isinstance(node.op, ast.Sub):
            node = ast.BinOp(node.left, ast.Add(), ast.UnaryOp(ast.USub(), node.right))
        if not isinstance(node.op, ast.Add | ast.Mult):
            return node
        operands = sorted(_chain(node, type(node.op)), key=_key)
        joined = operands[0]
        for operand in operands[1:]:
            joined = ast.BinOp(joined, type(node.op)(), operand)
        return joined

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq):
            node.left, node.comparators[0] = sorted((node.left, node.comparators[0]), key=_key)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        node.keywords.sort(key=lambda k: (k.arg is None, k.arg or ""))
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if type(value) is float and value.is_integer() and abs(value) < 2**53:
            return ast.copy_location(ast.Constant(int(value)), node)
        return node


def _chain(node: ast.AST, op: type) -> list[ast.AST]:
    """The operands of a chain of ``op`` (``a + b + c``: three), left to right."""
    operands, waiting = [], [node]
    while waiting:
        n = waiting.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, op):
            waiting.extend((n.right, n.left))
        else:
            operands.append(n)
    return operands


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and \
        node.value == 1


def flattened(code: str) -> str:
    """``code`` whose lines are a function's without some of its lines (those the release
    ships: a loop's header among them), made to parse where it can: a run of lines indented
    deeper than the block they are in, with no line opening a block before them, is moved
    out to that block (both sides of a comparison lose the same header, or one of them also
    a line the other renamed: its own first line stays, one level out)."""
    out: list[str] = []
    opened = [0]  # the indentation of each open block, as written out
    shifts: list[tuple[int, int]] = []  # (indentation that began a moved run, by how much)
    opens = False
    for line in code.split("\n"):
        text = line.strip()
        if not text or text.startswith("#"):
            out.append("")
            continue
        indent = len(line) - len(line.lstrip())
        while shifts and indent < shifts[-1][0]:
            shifts.pop()
        at = indent - (shifts[-1][1] if shifts else 0)
        if at > opened[-1] and not opens:
            shifts.append((indent, indent - opened[-1]))
            at = opened[-1]
        elif at > opened[-1]:
            opened.append(at)
        while len(opened) > 1 and at < opened[-1]:
            opened.pop()
        out.append(" " * at + text)
        opens = text.endswith(":")
    return "\n".join(out)
