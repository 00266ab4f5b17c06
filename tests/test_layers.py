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


#: the folders and packages a topic lives in: a string naming ``<one of these><sep><topic>``
#: names the topic
TOPIC_HOMES = r"(?:nlpdojo_(?:course|solutions|exercises)\.|(?:course|solutions|exercises)/)"


def _topic_references(source: str, topics: dict[str, set[str]]) -> list[tuple[int, str]]:
    """Where ``source`` (an engine module) names one of ``topics`` (topic -> its question
    ids): a string that is a topic's name, names its package or folder
    (``nlpdojo_course.<topic>``, ``solutions/<topic>``), or is one of its full question ids
    (``<topic>.<question>``). Words in prose and identifiers are not references: a topic
    named ``attention`` or ``training`` is as welcome as ``word_vectors``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        for topic, questions in topics.items():
            t = re.escape(topic)
            if (text == topic or re.search(TOPIC_HOMES + t + r"\b", text)
                    or any(text == f"{topic}.{q}" for q in questions)):
                found.append((node.lineno, f"{topic}: {text[:80]!r}"))
    return found


def test_the_engine_names_no_topic():
    registry = get_registry()
    topics = {e.name: set(registry.get("exercise", e.name).questions)
              for e in registry.entries("exercise")}
    assert {"word_vectors", "neural_networks", "language_models"} <= set(topics)
    hits = [f"{path.relative_to(REPO)}:{line}: {what}"
            for path in sorted(ENGINE.rglob("*.py"))
            for line, what in _topic_references(path.read_text(encoding="utf-8"), topics)]
    assert not hits, ("the engine names a topic (a string that is the topic's name, its "
                      "package or folder, or one of its full question ids: take it from "
                      "the registry or a declaration instead):\n" + "\n".join(hits))
    imports = [f"{path.relative_to(REPO)}:{node.lineno}"
               for path in sorted(ENGINE.rglob("*.py"))
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                   (name or "").startswith("nlpdojo_course") for name in (
                       [node.module] if isinstance(node, ast.ImportFrom)
                       else [a.name for a in node.names]))]
    assert not imports, f"the engine imports the course: {imports}"


def test_a_topic_named_like_a_word_of_the_engine_is_not_named_by_it():
    """The rule judges names the engine uses, not a word list: the topics a course after
    lecture 11 adds (``attention``, the scaffold's example, and CS224n's later lectures'),
    words of the engine's prose and comments, are named nowhere in it; what would name them
    is found. (A string the engine uses whole, ``"training"`` in the progress line, would
    name a topic of that name: the failure says where.)"""
    words = {"attention": {"scores"}, "transformers": {"layer_norm"}, "parsing": {"arcs"},
             "machine_translation": {"beam"}, "pretraining": {"masking"},
             "question_answering": {"spans"}}
    hits = [(path, found) for path in sorted(ENGINE.rglob("*.py"))
            for found in _topic_references(path.read_text(encoding="utf-8"), words)]
    assert not hits, hits
    naming = ('NAME = "attention"\nPACK = "nlpdojo_course.attention.scores"\n'
              'FOLDER = f"{root}/solutions/attention"\nQ = "attention.scores"\n'
              'PROSE = "pay attention. Scores: the training loop, nlpdojo_autograder.training"\n')
    assert [what.split(":")[0] for _, what in _topic_references(naming, words)] == [
        "attention"] * 4


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


# -- the engine's own layers (docs/architecture.md) -----------------------------------------------
#: the engine's import name
ENGINE_PACKAGE = "nlpdojo_autograder"
#: what may be imported inside a function, and why; anything else is imported at the top of
#: its module (a function-local import that dodges a cycle hides a dependency pointing up)
LAZY_DEPENDENCIES = {
    "torch": "optional (the torch extra) and ~1.4 s to import: only where a check uses it",
    "distributed": "optional (the cluster extra): only for grade --cluster",
    "dask": "optional (the cluster extra): only for grade --cluster",
    "coverage": "optional (the dev extra) and ~30 ms to import in every worker: only where "
                "dojo verify records what each check runs (runtime.executed)",
    "matplotlib": "~0.5 s to import: only to copy its font cache into a worker's sandbox",
    "scipy": "~0.2 s to import in every worker: only for a sparse matrix crossing the wire",
    "tqdm": "progress bars: only for dojo train and a data download, and in a worker to switch off "
            "their monitor thread (probes.submission_starts)",
    "nbformat": "notebooks: only where one is read or written",
    "nbclient": "notebooks: only where one is run",
    "jupyterlab": "optional (the notebook extra): only for dojo notebook",
    "nlpdojo_solutions": "absent from a student installation: only where the reference is used",
    "copydetect": "optional (the similarity extra), and it imports matplotlib.pyplot: only for "
                  "dojo similarity",
    "yaml": "optional (the gradescope extra): only for dojo course import-gradescope",
    "rich": "its live display, spinner and progress bar (~8 ms): only where a terminal shows "
            "them (grading.progress; rich's console and text are imported at the top)",
}
#: single function-local imports of the engine's own modules, (importer, imported), and why
LAZY_IMPORTS = {
    ("nlpdojo_autograder.cli.grade", "nlpdojo_autograder.course.recording"):
        "the course record's modules (~20 ms): only for a grading recorded in a course, which "
        "every grading without --course, --student or NLPDOJO_COURSE would otherwise pay for",
}
#: modules whose functions may import the engine lazily, and why
LAZY_MODULES = {
    "nlpdojo_autograder.plugin":
        "the engine's plugin module is loaded by every process that loads plugins, the "
        "sandboxed worker included, which sees none of the CLI: each hook imports its "
        "implementation when it is called",
    "nlpdojo_autograder.cli.pytest_plugin":
        "loaded by every pytest run of the environment (entry point pytest11): it imports the "
        "grading machinery when it grades, so that a broken plugin never breaks unrelated test "
        "runs",
    "nlpdojo_autograder.cli.launch":
        "the grade console script's first code: it sets the start-up environment before the "
        "grade command's modules import NumPy (nlpdojo.startup)",
    "nlpdojo_autograder.runtime.worker_main":
        "a worker's first code: it imports the worker's modules with the garbage collector off "
        "(nlpdojo.startup)",
    "nlpdojo_autograder.runtime.forkserver":
        "imported by the grader (sandbox.py) for its handle on the server, where the worker's "
        "modules and NumPy are not imported: the server's process imports them when it starts",
}


def _engine_modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = list(path.relative_to(ENGINE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([ENGINE_PACKAGE, *parts])] = path
    return found


def _imports(module: str, path: Path, *, top_level_only: bool = False):
    """``(node, imported module, names, inside a function)`` for each import statement;
    relative imports resolved; ``names`` is ``None`` for ``import x``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, *([base] if base else [])])
                yield child, base, [a.name for a in child.names], in_function
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    yield child, alias.name, None, in_function
            if not (top_level_only and inner):
                yield from visit(child, inner)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), False)


def _subpackage(module: str) -> str:
    """``nlpdojo_autograder.grading`` for ``nlpdojo_autograder.grading.runner``; a top-level
    package for anything else (``nlpdojo`` for ``nlpdojo.plugins``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == ENGINE_PACKAGE else parts[0]


def test_the_engines_layers_point_one_way(capsys):
    """import-linter's contracts in pyproject.toml ([tool.importlinter]): the sub-packages in
    layers (cli, release, grading, training, authoring, runtime; the plugin module on top), each
    importing only those below it, function-local imports included; no cycle between them;
    the authoring API and the training kit reach no process."""
    from importlinter.cli import lint_imports

    code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True,
                        no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kept, 0 broken" in out, out


def test_the_engine_has_no_import_cycle():
    """Within a sub-package too: no module imports one that (directly or not) imports it."""
    import grimp  # import-linter's graph

    graph = grimp.build_graph(ENGINE_PACKAGE, cache_dir=None)
    cycles = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
              if graph.chain_exists(importer=b, imported=a)]
    assert not cycles, "import cycles:\n" + "\n".join(f"{a} <-> {b}" for a, b in cycles)


def test_no_module_uses_a_private_name_of_another_package():
    """``from nlpdojo_autograder.runtime.channel import _x`` or ``channel._x`` outside
    ``runtime``, or ``nlpdojo.<module>._x`` anywhere in the engine: a private name is its
    package's own; what another package needs is made public."""
    modules = _engine_modules()
    problems = []
    for module, path in modules.items():
        own = _subpackage(module)
        bound: dict[str, str] = {}  # a name bound to another package's module
        for node, imported, names, _ in _imports(module, path):
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            if not imported.startswith("nlpdojo"):  # first-party packages only
                continue
            if names is None:
                bound[imported.split(".")[0]] = imported
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__") \
                        and _subpackage(imported) != own:
                    problems.append(f"{where}: {name} of {imported}")
                if f"{imported}.{name}" in modules and _subpackage(imported) != own:
                    bound[name] = f"{imported}.{name}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                problems.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.attr} of "
                                f"{bound[node.value.id]}")
    assert not problems, "private names used across packages:\n" + "\n".join(problems)


def test_function_local_imports_only_defer_an_optional_or_heavy_dependency():
    """A function-local import is allowed for what :data:`LAZY_DEPENDENCIES` lists, in the
    modules :data:`LAZY_MODULES` names, and for the single imports :data:`LAZY_IMPORTS`
    names: never to dodge an import cycle."""
    problems = []
    for module, path in _engine_modules().items():
        if module in LAZY_MODULES:
            continue
        for node, imported, _, in_function in _imports(module, path):
            if (in_function and imported.split(".")[0] not in LAZY_DEPENDENCIES
                    and (module, imported) not in LAZY_IMPORTS):
                problems.append(f"{path.relative_to(REPO)}:{node.lineno}: {imported}")
    assert not problems, ("function-local imports of what is neither optional nor heavy "
                          "(import it at the top; a cycle is a design question, "
                          "docs/architecture.md):\n" + "\n".join(problems))


def test_the_worker_imports_only_what_its_sandbox_shows():
    """The sandbox shows the worker only its own modules and the pack API, with the
    ``__init__`` of the packages above them (runtime.sandbox._grader_package): what those
    import at their top level must be among them, or the worker fails to start there."""
    from nlpdojo_autograder.runtime.subject import (
        GRADER_PACKAGE,
        PACK_API_MODULES,
        WORKER_MODULES,
    )

    modules = _engine_modules()
    shown = {GRADER_PACKAGE}
    for name in (*WORKER_MODULES, *PACK_API_MODULES):
        parts = f"{GRADER_PACKAGE}.{name}".split(".")
        shown.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    assert shown <= set(modules), sorted(shown - set(modules))
    problems = []
    for module in sorted(shown):
        path = modules[module]
        for node, imported, names, in_function in _imports(module, path, top_level_only=True):
            if in_function or not imported.startswith(GRADER_PACKAGE):
                continue
            targets = [f"{imported}.{n}" if f"{imported}.{n}" in modules else imported
                       for n in (names or [""])] if names else [imported]
            for target in targets:
                if target not in shown:
                    problems.append(f"{path.relative_to(REPO)}:{node.lineno}: {target}")
    assert not problems, "the worker's modules import what its sandbox hides:\n" + \
        "\n".join(problems)
