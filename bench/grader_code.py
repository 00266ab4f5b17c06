"""Grader code per topic and per question, before and after a topic became a folder (issue 24).

A topic's grader code is every source line of its grading side: today the folder
``course/<topic>/`` (its declarations, checks, data preparation, trainers, grader-side metrics;
not its fixtures), before it the modules ``autograder/topics/<topic>*.py`` (and
``word_vector_metrics.py``), read from a git revision. A source line holds code: blank lines,
comments and docstrings are not counted.

Per question, today: the lines of its ``Question(...)`` declaration and of the module-level
helpers it uses (transitively within its module), a helper used by several questions shared
equally among them. Before: the topic's lines over its questions (there was no declaration to
measure a question by).

    python bench/grader_code.py                 # now against the revision before the move
    python bench/grader_code.py --before REV    # against another revision

No timing here: a count, the same on every machine.
"""

from __future__ import annotations

import argparse
import ast
import io
import subprocess
import tokenize
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: the last revision with the topics inside the engine (autograder/topics/)
BEFORE = "2db86f6"
TOPICS = ("word_vectors", "neural_networks", "language_models")
#: topics built on the folder design from the start (no "before" to compare with)
NEW_TOPICS = ("rnn_variants", "cnn_text")
#: what a line of grader code is for (see :func:`categorise`)
KINDS = ("checks", "planted bugs", "named mistakes", "training and data")
#: the arguments of the builders that take a question's named mistakes
MISTAKE_ARGUMENTS = ("mistakes", "forward_mistakes", "backward_mistakes", "mistakes_of_inputs")
#: questions whose code is one layer of the course library (the issue's "layer question")
LAYER_QUESTIONS = ("affine", "dropout", "embedding", "relu", "rnn_cell")


def source_lines(text: str) -> set[int]:
    """The line numbers of ``text`` that hold code (not blank, comment or docstring)."""
    tree = ast.parse(text)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER, tokenize.ENCODING}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines - docstrings


def count(text: str) -> int:
    return len(source_lines(text))


def _call_name(node: ast.AST) -> str:
    func = getattr(node, "func", None)
    return getattr(func, "id", getattr(func, "attr", ""))


def categorise(text: str) -> dict[str, int]:
    """The source lines of one module by what they are for.

    - *training and data*: a module that declares no check or question (given training
      loops, trainers, data preparation, grader-side metrics);
    - *planted bugs*: the lines of each ``bug(...)`` or ``PlantedBug(...)`` call;
    - *named mistakes*: module-level definitions used (directly or through one another)
      by an argument of :data:`MISTAKE_ARGUMENTS` (``mistakes=``...): the grader's models of
      a question's usual mistakes, there to name a mistake in feedback, not to decide a
      verdict;
    - *checks*: everything else (declarations, check inputs, judges, messages).
    """
    tree = ast.parse(text)
    code = source_lines(text)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    if not any(_call_name(n) == "Question" or _call_name(n).endswith(("check", "checks"))
               for n in calls):
        return {"training and data": len(code)}
    bugs = set()
    for node in calls:
        if _call_name(node) in ("bug", "PlantedBug"):
            bugs.update(range(node.lineno, node.end_lineno + 1))
    definitions = _module_definitions(tree)
    todo = [kw.value for n in calls for kw in n.keywords if kw.arg in MISTAKE_ARGUMENTS]
    mistakes: set[int] = set()
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        mistakes.update(range(current.lineno, current.end_lineno + 1))
        for name in {n.id for n in ast.walk(current) if isinstance(n, ast.Name)}:
            target = definitions.get(name)
            if target is not None and not _is_question(target):
                todo.append(target)
    bugs &= code
    mistakes = (mistakes & code) - bugs
    return {"planted bugs": len(bugs), "named mistakes": len(mistakes),
            "checks": len(code - bugs - mistakes)}


def _add(totals: dict[str, int], more: dict[str, int]) -> None:
    for kind, lines in more.items():
        totals[kind] = totals.get(kind, 0) + lines


def _git_files(rev: str, prefix: str) -> dict[str, str]:
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, prefix], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout
            for n in names if n.endswith(".py")}


def before(rev: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Lines of grader code per topic at ``rev`` (the engine's ``topics`` modules), in all
    and by kind."""
    files = _git_files(rev, "autograder/topics")
    totals, kinds = {}, {}
    for topic in TOPICS:
        stem = "word_vector" if topic == "word_vectors" else topic
        texts = [text for name, text in files.items() if Path(name).name.startswith(stem)]
        totals[topic] = sum(count(text) for text in texts)
        kinds[topic] = {}
        for text in texts:
            _add(kinds[topic], categorise(text))
    return totals, kinds


def _module_definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _is_question(node: ast.stmt) -> bool:
    value = getattr(node, "value", None)
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id == "Question")


def per_question(folder: Path) -> dict[str, float]:
    """``{question id: lines}`` of every ``Question(...)`` declared in ``folder``."""
    result: dict[str, float] = {}
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        code = source_lines(text)
        definitions = _module_definitions(tree)
        uses: dict[str, set[ast.stmt]] = {}
        for node in tree.body:
            if not _is_question(node):
                continue
            question = node.value.args[0].value  # Question("id", ...)
            seen: set[int] = set()
            todo, used = [node], set()
            while todo:
                current = todo.pop()
                if id(current) in seen:
                    continue
                seen.add(id(current))
                used.add(current)
                for name in {n.id for n in ast.walk(current) if isinstance(n, ast.Name)}:
                    target = definitions.get(name)
                    if target is not None and not _is_question(target):
                        todo.append(target)
            uses[question] = used
        users: dict[int, int] = defaultdict(int)
        for used in uses.values():
            for node in used:
                users[id(node)] += 1
        for question, used in uses.items():
            result[question] = sum(
                len(code & set(range(n.lineno, n.end_lineno + 1))) / users[id(n)]
                for n in used)
    return result


def after() -> tuple[dict[str, int], dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    totals, questions, kinds = {}, {}, {}
    for topic in TOPICS + NEW_TOPICS:
        folder = REPO / "course" / topic
        texts = [p.read_text() for p in sorted(folder.rglob("*.py"))]
        totals[topic] = sum(count(text) for text in texts)
        questions[topic] = per_question(folder)
        kinds[topic] = {}
        for text in texts:
            _add(kinds[topic], categorise(text))
    return totals, questions, kinds


def _bug_count(topic: str, rev: str) -> str:
    """How many planted bugs ``topic`` declares now (and at ``rev``, for the old topics)."""
    def calls(text: str) -> int:
        return sum(_call_name(n) in ("bug", "PlantedBug")
                   for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call))
    now = sum(calls(p.read_text()) for p in (REPO / "course" / topic).rglob("*.py"))
    if topic not in TOPICS:
        return str(now)
    stem = "word_vector" if topic == "word_vectors" else topic
    was = sum(calls(text) for name, text in _git_files(rev, "autograder/topics").items()
              if Path(name).name.startswith(stem))
    return f"{was} → {now}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="the revision to compare with")
    args = parser.parse_args()
    old, old_kinds = before(args.before)
    new, questions, new_kinds = after()
    print(f"| topic | questions | before ({args.before}) | per question | now | per question "
          "| now / before |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for topic in TOPICS:
        n = len(questions[topic])
        print(f"| {topic} | {n} | {old[topic]:,} | {old[topic] / n:.0f} | {new[topic]:,} | "
              f"{new[topic] / n:.0f} | {new[topic] / old[topic]:.0%} |")
    for topic in NEW_TOPICS:
        n = len(questions[topic])
        print(f"| {topic} | {n} | (new) | | {new[topic]:,} | {new[topic] / n:.0f} | |")
    print()
    print("By kind (lines before → now; per planted bug for planted bugs):")
    print()
    print("| topic | " + " | ".join(KINDS) + " | planted bugs (count) |")
    print("|---|" + "---:|" * (len(KINDS) + 1))
    for topic in TOPICS + NEW_TOPICS:
        cells = []
        for kind in KINDS:
            now = new_kinds[topic].get(kind, 0)
            was = old_kinds.get(topic, {}).get(kind) if topic in TOPICS else None
            cells.append(f"{now:,}" if was is None else f"{was:,} → {now:,}")
        bugs = _bug_count(topic, args.before)
        print(f"| {topic} | " + " | ".join(cells) + f" | {bugs} |")
    print()
    print("| layer question | lines of its declaration and helpers |")
    print("|---|---:|")
    for topic in TOPICS:
        for question, lines in sorted(questions[topic].items()):
            if question in LAYER_QUESTIONS:
                print(f"| {topic}.{question} | {lines:.0f} |")
    print()
    for topic in TOPICS:
        ranked = sorted(questions[topic].items(), key=lambda kv: -kv[1])
        print(f"{topic}: " + ", ".join(f"{q} {lines:.0f}" for q, lines in ranked))


if __name__ == "__main__":
    main()
