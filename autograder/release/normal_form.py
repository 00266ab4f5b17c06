"""Code made one way where an editor's refactorings make it another, for the similarity report.

The report compares what students wrote with winnowed fingerprints of its tokens, names made
alike (:mod:`.similarity`); a mechanical refactoring still changed enough tokens to hide a
copy: an adversarial trial (2026-12-07) took a copied loss from 1.00 to 0.54 by inlining its
temporaries (an IDE's "inline variable"), and to 0.39 by swapping operands as well
(``a - b`` as ``-b + a``, ``x / n`` as ``x * (1.0 / n)``, ``==``'s sides). :func:`normal_form`
undoes those: what it returns is for comparing, not for running.
"""

from __future__ import annotations

import ast
import copy
import re

#: a temporary is inlined at most this deep (a chain of them)
INLINE_DEPTH = 32
#: an inlining stops once its function has grown by this many nodes (a temporary read twice,
#: in a chain of them, doubles at each link)
INLINE_NODES = 4000
#: a temporary read more than this many times stays (a value used throughout a function)
INLINE_USES = 8

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_NAMES = re.compile(r"(id|arg)='[^']*'")


def normal_form(tree: ast.Module) -> ast.Module:
    """``tree`` (changed in place) with, in every function and at the top level (the
    similarity report compares a function's lines without it), each name bound once by a
    plain assignment replaced by its value where it is read (:data:`INLINE_USES` reads at
    most), and in every expression the operands of ``+`` and ``*`` chains (``a - b`` read as
    ``a + -b``, ``a / b`` as ``a * (1 / b)``), the sides of ``==`` and ``!=`` and a call's
    keyword arguments in one order that no name decides; a whole float reads as an int."""
    for scope in [tree, *(n for n in ast.walk(tree)
                          if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]:
        _inline_temporaries(scope)  # (the module: a function's lines, compared without it)
    return ast.fix_missing_locations(_Ordered().visit(tree))


# -- temporaries ----------------------------------------------------------------------------
def _own_nodes(func: ast.AST) -> list[ast.AST]:
    """The nodes of ``func`` outside the functions, classes and lambdas it holds."""
    found, waiting = [], list(ast.iter_child_nodes(func))
    while waiting:
        node = waiting.pop()
        found.append(node)
        if not isinstance(node, _SCOPES):
            waiting.extend(ast.iter_child_nodes(node))
    return found


def _inline_temporaries(func: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    nodes = _own_nodes(func)
    params = ({a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
              if not isinstance(func, ast.Module) else set())
    shared = {name for n in nodes if isinstance(n, ast.Global | ast.Nonlocal)
              for name in n.names}
    loads: dict[str, list[ast.Name]] = {}
    bindings: dict[str, int] = {}
    plain: dict[str, ast.Assign] = {}
    for n in nodes:
        if isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Load):
                loads.setdefault(n.id, []).append(n)
            else:  # any binding: a plain assignment's, a loop's, a tuple's, a del
                bindings[n.id] = bindings.get(n.id, 0) + 1
        elif isinstance(n, ast.Subscript | ast.Attribute) and not isinstance(n.ctx, ast.Load) \
                and isinstance(n.value, ast.Name):  # ``scores[i] = ...``: an object changed,
            bindings[n.value.id] = 2  # not a temporary
        elif (isinstance(n, ast.Assign) and len(n.targets) == 1
              and isinstance(n.targets[0], ast.Name)):
            plain[n.targets[0].id] = n
    values = {}
    for name, assign in plain.items():
        uses = loads.get(name, [])
        end = (assign.end_lineno or assign.lineno, assign.end_col_offset or 0)
        if (bindings.get(name) == 1 and name not in params and name not in shared
                and 0 < len(uses) <= INLINE_USES
                and all((u.lineno, u.col_offset) > end for u in uses)):
            values[name] = assign.value
    if not values:
        return
    inliner = _Inliner(values, {id(u) for name in values for u in loads[name]})
    func.body = [inliner.visit(stmt) for stmt in func.body]
    done = {name for name in values
            if all(id(u) in inliner.replaced for u in loads[name])}
    _drop_assignments(func, done)


def _size(node: ast.AST) -> int:
    return sum(1 for _ in ast.walk(node))


class _Inliner(ast.NodeTransformer):
    """Each read of a temporary replaced by a copy of its value, itself inlined."""

    def __init__(self, values: dict[str, ast.expr], originals: set[int]) -> None:
        self.values, self.originals = values, originals
        self.replaced: set[int] = set()  # ids of the original reads replaced
        self.depth = self.grown = 0

    def visit_Name(self, node: ast.Name) -> ast.AST:
        value = self.values.get(node.id)
        if (value is None or not isinstance(node.ctx, ast.Load) or self.depth >= INLINE_DEPTH
                or self.grown >= INLINE_NODES):
            return node
        self.depth += 1
        try:
            inlined = self.visit(copy.deepcopy(value))
        finally:
            self.depth -= 1
        self.grown += _size(inlined)
        if id(node) in self.originals:
            self.replaced.add(id(node))
        return ast.copy_location(inlined, node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, _SCOPES):  # their names are their own
            return node
        return super().generic_visit(node)


def _drop_assignments(func: ast.AST, names: set[str]) -> None:
    """Remove the plain assignments of ``names`` from ``func``'s statement lists."""
    if not names:
        return
    for node in [func, *_own_nodes(func)]:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                kept = [s for s in value if not (
                    isinstance(s, ast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name) and s.targets[0].id in names)]
                setattr(node, field, kept or [ast.Pass()])


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
