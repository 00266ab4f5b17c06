"""The engine's layering (issue 24): the grading engine (``autograder/``) names no topic and
imports none, so a topic is added, moved or removed without touching it; topics reach the
engine through its two public facades only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nlpdojo.plugins import get_registry

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "autograder"
COURSE = REPO / "course"
#: what a topic imports of the engine
FACADES = ("nlpdojo_autograder.authoring", "nlpdojo_autograder.training")


def _lines(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield path.relative_to(REPO), number, line


def test_the_engine_names_no_topic():
    topics = sorted(e.name for e in get_registry().entries("exercise"))
    assert {"word_vectors", "neural_networks", "language_models"} <= set(topics)
    named = re.compile(r"\b(" + "|".join(map(re.escape, topics)) + r")\b")
    hits = [f"{path}:{number}: {line.strip()}" for path, number, line in _lines(ENGINE)
            if named.search(line)]
    assert not hits, "the engine names a topic:\n" + "\n".join(hits)
    imports = [f"{path.relative_to(REPO)}:{node.lineno}"
               for path in sorted(ENGINE.rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                   (name or "").startswith("nlpdojo_course") for name in (
                       [node.module] if isinstance(node, ast.ImportFrom)
                       else [a.name for a in node.names]))]
    assert not imports, f"the engine imports the course: {imports}"


def test_topics_import_the_engine_through_its_facades_and_no_other_topic():
    problems = []
    for path in sorted(COURSE.rglob("*.py")):
        topic = path.relative_to(COURSE).parts[0] if path.parent != COURSE else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                where = f"{path.relative_to(REPO)}:{node.lineno} imports {name}"
                if name.startswith("nlpdojo_autograder") and not name.startswith(FACADES):
                    problems.append(f"{where} (topics import {' or '.join(FACADES)})")
                if (topic and name.startswith("nlpdojo_course.")
                        and name.split(".")[1] != topic):
                    problems.append(f"{where} (another topic's module)")
                if isinstance(node, ast.ImportFrom) and any(
                        a.name.startswith("_") for a in node.names):
                    problems.append(f"{where}: a private name")
    assert not problems, "\n".join(problems)
