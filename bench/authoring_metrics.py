"""What an author must write and hold in their head, per question (issue 65's done-when table).

Every figure is a count read from the source (AST), the same on every machine, of a git
revision or of the work tree:

- **question-id literals per question**: string constants in ``course/<topic>/`` (docstrings
  apart) that are a question id of that topic or a check id of one (``"lstm_cell"``,
  ``"lstm_cell.values"``), over the questions; **of them, a question's own identity**: those
  inside its own ``Question(...)`` that are its id or a check id of it (the first argument,
  a ``code=`` module named as it, a builder's ``question=``), and the ``question=`` or
  ``module=`` of a planted bug listed apart (the rest name another question, in
  ``requires`` or ``also``, or are other strings that happen to equal an id: a function, a
  parameter, a model's name);
- **module-path spellings per question**: 1, plus 1 where the topic also spells the question's
  code (``code="library/gated"``) as a dotted module path (``"..library.gated"``);
  **module-path constants**: module-level names bound to a module path (``MODULE = "vanishing"``,
  ``GATED = "..library.gated"``);
- **hand-written case factories**: module-level functions of ``course/`` that build a
  ``LayerCase``, ``LossCase`` or ``OptimizerCase`` (directly or in a nested function), and their
  lines (a case declared as data, ``authoring.builders.layer_case(...)``, is none: the issue asks
  for a factory only where inputs need a distribution of their own);
- **repeated torch_check calls**: ``torch_check(...)`` inside a ``Question(...)`` that also calls
  ``layer_checks`` (the same layer checked twice); **variant loops**: ``for`` loops and
  comprehensions in ``course/`` that call a check builder;
- **lines per planted bug**: the lines of every ``bug(...)`` call over their number;
- **check lines of a layer or unroll question**: source lines of its ``Question(...)`` and the
  module-level helpers it uses, in its module or imported from another module of ``course/``
  (a topic's torch parts, another question's case: shared helpers split among their users
  across the course; the engine's and the training kit's helpers count for none), named mistakes
  (``mistakes=``, ``forward_mistakes=``...) and planted bugs apart; median and max over the
  questions that call ``layer_checks``, ``torch_check`` or ``sequence_checks``; and the same
  without the torch oracles (a ``torch=`` forward and the helpers only it uses), which a
  model-sized question writes as an independent network (VDCNN's is 50 lines);
- **authoring facade names / largest authoring module**: ``len(__all__)`` of
  ``nlpdojo_autograder.authoring`` and the most lines of a module under ``autograder/authoring``;
- **function-local imports without a stated reason**: ``import`` statements inside functions of
  ``course/`` with no comment on their line or on the line above them (or above the run of
  imports they belong to: one reason serves ``import torch`` and the ``from torch...`` below it).

    python bench/authoring_metrics.py                  # the work tree
    python bench/authoring_metrics.py --revision REV   # a commit
    python bench/authoring_metrics.py --before REV     # a before/after table
"""

from __future__ import annotations

import argparse
import ast
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grader_code import (  # noqa: E402 - a sibling script of bench/
    MISTAKE_ARGUMENTS,
    _call_name,
    _is_question,
    _module_definitions,
    source_lines,
)

REPO = Path(__file__).resolve().parents[1]
CASES = ("LayerCase", "LossCase", "OptimizerCase")
LAYER_BUILDERS = ("layer_checks", "torch_check", "sequence_checks")
#: the done-when targets of issue 65
TARGETS = {
    "question-id literals per question": "1.0",
    "of them, a question's own identity": "1.0",
    "module-path spellings per question / module-path constants": "1 / 0",
    "hand-written case factories (lines)": "<= 12 (<= 150)",
    "repeated torch_check calls / variant loops": "0 / 0",
    "lines per planted bug": "<= 2.2",
    "check lines of a layer or unroll question: median, max": "<= 18, <= 45",
    "authoring facade names / largest authoring module": "<= 45 / <= 600",
    "function-local imports in course/ without a stated reason": "0",
}


class Tree:
    """The Python files of a revision (``None``: the work tree)."""

    def __init__(self, revision: str | None) -> None:
        self.revision = revision

    def files(self, prefix: str) -> Iterator[tuple[str, str]]:
        if self.revision is None:
            for path in sorted((REPO / prefix).rglob("*.py")):
                yield str(path.relative_to(REPO)), path.read_text()
            return
        listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", self.revision, prefix],
                                cwd=REPO, capture_output=True, text=True, check=True).stdout
        for path in listed.split():
            if path.endswith(".py"):
                yield path, subprocess.run(["git", "show", f"{self.revision}:{path}"], cwd=REPO,
                                           capture_output=True, text=True, check=True).stdout


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(tree: ast.AST) -> Iterator[str]:
    docs = _docstring_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.value


def _questions(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _call_name(n) == "Question"
            and n.args and isinstance(n.args[0], ast.Constant)]


def _dotted(code: str) -> str:
    """``library/gated`` as the module path builders took: ``..library.gated``."""
    return ".." + code.replace("/", ".") if "/" in code else code


def measure(tree: Tree) -> dict[str, str]:
    modules = {path: ast.parse(text) for path, text in tree.files("course")
               if "/fixtures/" not in path}
    texts = dict(tree.files("course"))
    topics: dict[str, list[str]] = defaultdict(list)
    for path in modules:
        parts = path.split("/")
        if len(parts) >= 3:
            topics[parts[1]].append(path)
    ids_per_topic: dict[str, set[str]] = defaultdict(set)
    codes: dict[tuple[str, str], str] = {}
    for topic, paths in topics.items():
        for path in paths:
            constants = {t.id: n.value.value for n in modules[path].body
                         if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                         for t in n.targets if isinstance(t, ast.Name)}
            for call in _questions(modules[path]):
                qid = call.args[0].value
                ids_per_topic[topic].add(qid)
                for kw in call.keywords:
                    if kw.arg == "code":
                        value = (kw.value.value if isinstance(kw.value, ast.Constant)
                                 else constants.get(getattr(kw.value, "id", ""), ""))
                        codes[topic, qid] = str(value)
    questions = sum(len(ids) for ids in ids_per_topic.values())

    literals = 0
    own = 0
    spellings = 0
    path_constants = 0
    factories, factory_lines = 0, 0
    repeated_torch, variant_loops = 0, 0
    bug_calls, bug_lines = 0, 0
    for topic, paths in topics.items():
        ids = ids_per_topic[topic]
        topic_strings: set[str] = set()
        for path in paths:
            module = modules[path]
            for s in _strings(module):
                topic_strings.add(s)
                if s in ids or s.partition(".")[0] in ids and "." in s and " " not in s:
                    literals += 1
            own += _own_identity(module, ids)
            for node in module.body:
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str)):
                    value = node.value.value
                    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                    if value.startswith("..") and " " not in value or any(
                            n == "MODULE" or n.endswith("_MODULE") for n in names):
                        path_constants += 1
                if isinstance(node, ast.FunctionDef) and any(
                        _call_name(c) in CASES for c in ast.walk(node)
                        if isinstance(c, ast.Call)):
                    factories += 1
                    factory_lines += node.end_lineno - node.lineno + 1
            for node in ast.walk(module):
                if isinstance(node, ast.Call) and _call_name(node) == "Question":
                    names = [_call_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)]
                    if "layer_checks" in names:
                        repeated_torch += names.count("torch_check")
                if isinstance(node, (ast.For, ast.ListComp, ast.GeneratorExp, ast.SetComp,
                                     ast.DictComp)) and any(
                        isinstance(c, ast.Call) and _call_name(c).endswith(("_check", "_checks"))
                        for c in ast.walk(node)):
                    variant_loops += 1
                if isinstance(node, ast.Call) and _call_name(node) in ("bug", "PlantedBug"):
                    bug_calls += 1
                    bug_lines += node.end_lineno - node.lineno + 1
        for qid in ids:
            code = codes.get((topic, qid), "")
            spellings += 1 + (code != _dotted(code) and _dotted(code) in topic_strings)
    # a function-local import is counted once however deeply its functions nest
    local_imports = _unique_local_imports(modules, texts)

    layer_lines = _layer_question_lines(modules, texts)
    # the same without the torch oracles (``torch=``: an independent forward, written once)
    no_oracle = _layer_question_lines(modules, texts, (*MISTAKE_ARGUMENTS, "torch"))
    facade = next((ast.parse(text) for path, text in tree.files("autograder/authoring")
                   if path.endswith("authoring/__init__.py")), None)
    names = 0
    for node in ast.walk(facade) if facade else ():
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                 for t in node.targets)):
            names = len(node.value.elts)
    largest = max((len(text.splitlines()), path)
                  for path, text in tree.files("autograder/authoring"))
    return {
        "questions": f"{questions}",
        "question-id literals per question": f"{literals / questions:.1f} ({literals})",
        "of them, a question's own identity": f"{own / questions:.2f} ({own})",
        "module-path spellings per question / module-path constants":
            f"{spellings / questions:.2f} / {path_constants}",
        "hand-written case factories (lines)": f"{factories} ({factory_lines})",
        "repeated torch_check calls / variant loops": f"{repeated_torch} / {variant_loops}",
        "lines per planted bug": f"{bug_lines / max(bug_calls, 1):.2f} ({bug_calls} bugs)",
        "check lines of a layer or unroll question: median, max":
            f"{statistics.median(layer_lines.values()):.0f}, "
            f"{max(layer_lines.values()):.0f} ({len(layer_lines)} questions)",
        "of them, not the torch oracles (torch=): median, max":
            f"{statistics.median(no_oracle.values()):.0f}, {max(no_oracle.values()):.0f}",
        "authoring facade names / largest authoring module":
            f"{names} / {largest[0]:,} ({Path(largest[1]).name})",
        "function-local imports in course/ without a stated reason": f"{local_imports}",
    }


def _own_identity(module: ast.Module, ids: set[str]) -> int:
    """The literals of ``module`` that say a question's own identity (the docstring's
    definition): inside its ``Question(...)``, and a planted bug's ``question=``/``module=``."""
    count = 0
    inside: set[int] = set()
    for call in _questions(module):
        qid = call.args[0].value
        for node in ast.walk(call):
            inside.add(id(node))
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and (node.value == qid or node.value.startswith(f"{qid}.")
                         and " " not in node.value)):
                count += 1
    for node in ast.walk(module):
        if (isinstance(node, ast.Call) and id(node) not in inside
                and _call_name(node) in ("bug", "PlantedBug")):
            count += sum(1 for kw in node.keywords if kw.arg in ("question", "module")
                         and isinstance(kw.value, ast.Constant) and kw.value.value in ids)
    return count


def _unique_local_imports(modules: dict[str, ast.Module], texts: dict[str, str]) -> int:
    seen = set()
    for path, module in modules.items():
        lines = texts[path].splitlines()
        for node in ast.walk(module):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        here = lines[inner.lineno - 1]
                        # the line above, or above the run of imports this one ends
                        above = inner.lineno - 2
                        while above >= 0 and lines[above].lstrip().startswith(
                                ("import ", "from ")) and "#" not in lines[above]:
                            above -= 1
                        said = above >= 0 and lines[above].lstrip().startswith("#")
                        if "#" not in here and not said:
                            seen.add((path, inner.lineno))
    return len(seen)


def _course_imports(path: str, module: ast.Module, paths: set[str]
                    ) -> dict[str, tuple[str, str]]:
    """``{local name: (module path, name there)}`` of the names ``module`` (at ``path``)
    imports from another module of ``course/``: ``from .residual import block_params``,
    ``from nlpdojo_course.cnn_text.torch_parts import conv``."""
    links: dict[str, tuple[str, str]] = {}
    folder = path.rsplit("/", 1)[0]
    for node in module.body:
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            continue
        if node.level == 1:
            dotted = f"{folder}/{node.module.replace('.', '/')}"
        elif node.level == 0 and node.module.startswith("nlpdojo_course."):
            dotted = "course/" + node.module.removeprefix("nlpdojo_course.").replace(".", "/")
        else:
            continue
        source = next((f for f in (f"{dotted}.py", f"{dotted}/__init__.py") if f in paths), None)
        if source is not None:
            for alias in node.names:
                links[alias.asname or alias.name] = (source, alias.name)
    return links


def _layer_question_lines(modules: dict[str, ast.Module], texts: dict[str, str],
                          apart: tuple[str, ...] = MISTAKE_ARGUMENTS) -> dict[str, float]:
    """Check lines of each layer or unroll question: its declaration and the helpers it uses,
    in its own module or imported from another module of ``course/`` (a topic's torch parts,
    another question's case), not following the arguments ``apart`` (the named mistakes),
    shared helpers split among their users across the course."""
    code = {path: source_lines(texts[path]) for path in modules}
    definitions = {path: _module_definitions(module) for path, module in modules.items()}
    links = {path: _course_imports(path, module, set(modules))
             for path, module in modules.items()}

    def resolve(path: str, name: str) -> tuple[str, ast.stmt] | None:
        followed = set()
        while (path, name) not in followed:
            followed.add((path, name))
            if name in definitions[path]:
                return path, definitions[path][name]
            if name not in links[path]:
                return None
            path, name = links[path][name]
        return None

    result: dict[str, float] = {}
    uses: dict[str, set[tuple[str, int]]] = {}
    nodes: dict[tuple[str, int], tuple[str, ast.AST]] = {}
    for path, module in modules.items():
        for node in module.body:
            if not _is_question(node):
                continue
            call = node.value
            if not any(_call_name(c) in LAYER_BUILDERS for c in ast.walk(call)
                       if isinstance(c, ast.Call)):
                continue
            skipped = {id(kw.value) for c in ast.walk(call) if isinstance(c, ast.Call)
                       for kw in c.keywords if kw.arg in apart}
            todo: list[tuple[str, ast.AST]] = [(path, node)]
            used: set[tuple[str, int]] = set()
            while todo:
                where, current = todo.pop()
                key = (where, id(current))
                if key in used:
                    continue
                used.add(key)
                nodes[key] = (where, current)
                stack = [current]
                while stack:
                    sub = stack.pop()
                    if id(sub) in skipped:
                        continue
                    if isinstance(sub, ast.Name):
                        target = resolve(where, sub.id)
                        if target is not None and not _is_question(target[1]):
                            todo.append(target)
                    stack.extend(ast.iter_child_nodes(sub))
            lines = set()
            for sub in ast.walk(call):
                if id(sub) in skipped:
                    lines.update(range(sub.lineno, sub.end_lineno + 1))
            question = f"{path.split('/')[1]}.{call.args[0].value}"
            uses[question] = used
            result[question] = -len(code[path] & lines)
    users: dict[tuple[str, int], int] = defaultdict(int)
    for used in uses.values():
        for key in used:
            users[key] += 1
    for question, used in uses.items():
        for key in used:
            where, node = nodes[key]
            result[question] += len(code[where] & set(range(node.lineno, node.end_lineno + 1))
                                    ) / users[key]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revision", help="measure this commit (default: the work tree)")
    parser.add_argument("--before", help="also measure this commit, for a before/after table")
    args = parser.parse_args()
    now = measure(Tree(args.revision))
    label = args.revision or "work tree"
    if args.before:
        before = measure(Tree(args.before))
        print(f"| | {args.before} | {label} | target |\n|---|---:|---:|---:|")
        for key, value in now.items():
            print(f"| {key} | {before[key]} | {value} | {TARGETS.get(key, '')} |")
    else:
        print(f"| | {label} | target |\n|---|---:|---:|")
        for key, value in now.items():
            print(f"| {key} | {value} | {TARGETS.get(key, '')} |")


if __name__ == "__main__":
    main()
