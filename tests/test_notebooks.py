"""Topic notebooks: deterministic generation, round trips, execution, and malformed submissions."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import shutil
from pathlib import Path

import nbformat
import pytest

import nlpdojo_solutions
from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.authoring.markers import stub_line
from nlpdojo_autograder.release.notebooks import (
    NotebookError,
    build_notebook,
    dependency_order,
    dumps,
    extract_notebook,
    materialize_notebook,
    module_questions,
    notebook_from_sources,
    notebook_modules,
    question_order,
    restore_imports,
    split_module,
    topic_modules,
)
from nlpdojo_autograder.release.release import release
from nlpdojo_autograder.runtime.loader import LIBRARY
from tests._packages import forget, import_package

FIXTURE_SOLUTIONS = Path(__file__).parent / "fixtures" / "release_topic" / "solutions"
TOPIC = FIXTURE_SOLUTIONS / "toy"


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """The fixture topic released into ``tmp_path / 'exercises'``; returns the topic folder."""
    out = tmp_path / "exercises"
    release(FIXTURE_SOLUTIONS, out)
    return out / "toy"


def _write(nb, path: Path) -> Path:
    path.write_text(dumps(nb), encoding="utf-8")
    return path


def _code_cell(nb, module: str):
    return next(c for c in nb.cells if f"nlpdojo:{module}" in c.metadata.get("tags", []))


# --------------------------------------------------------------------------- generation


def test_notebook_error_is_an_nlpdojo_error():
    assert issubclass(NotebookError, NlpdojoError)


def test_generated_notebook_layout(released: Path):
    text = (released / "toy.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["nlpdojo"] == {
        "topic": "toy",
        "modules": ["activations", "classifier"],
        "generated_by": "dojo release",
    }
    assert nb.metadata["kernelspec"]["name"] == "python3"
    ids = [c.id for c in nb.cells]
    assert ids == [
        "readme",
        "nlpdojo-howto",
        "nlpdojo-setup",
        "doc-activations",
        "code-activations",
        "doc-classifier",
        "code-classifier",
    ]
    assert nb.cells[0].source == (TOPIC / "README.md").read_text(encoding="utf-8").rstrip("\n")
    assert "The logistic sigmoid" not in nb.cells[3].source  # only the first paragraph
    assert nb.cells[3].source == "## `activations.py`\n\nElement-wise activations."
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is None and cell.outputs == []
    classifier = _code_cell(nb, "classifier")
    assert classifier.metadata["tags"] == ["nlpdojo:classifier"]
    assert classifier.metadata["nlpdojo"] == {
        "module": "classifier",
        "imports": ["from . import activations", "from .activations import sigmoid"],
        "lines": [5, 6],
    }
    assert "from ." not in classifier.source
    assert 'raise NotImplementedError("logistic: not implemented yet' in classifier.source
    # `from . import activations` needs a stand-in in the shared namespace
    assert "activations = _SiblingModule('activations')" in nb.cells[2].source
    assert "nlpdojo" not in nb.cells[2].metadata


def test_generation_is_deterministic():
    first = dumps(build_notebook(TOPIC))
    second = dumps(build_notebook(TOPIC))
    assert first == second
    assert first.endswith("}\n")
    assert json.loads(first)["cells"][4]["id"] == "code-activations"


def test_modules_are_ordered_after_their_imports():
    sources = {
        "c": "from .b import g\n",
        "b": "from .a import f\n\ndef g():\n    return f()\n",
        "a": "def f():\n    return 1\n",
        "z": "X = 1\n",
    }
    assert dependency_order(sources) == ["a", "b", "c", "z"]


def test_import_cycle_is_an_error():
    sources = {"a": "from .b import g\n", "b": "from .a import f\n"}
    with pytest.raises(NotebookError, match="a, b import each other in a cycle"):
        dependency_order(sources)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("from ..other import f\n", "mod.py:1: only 'from .<module> import <name>'"),
        ("from .missing import f\n", "mod.py:1: only"),
        ("from .a import f as g\n", "mod.py:1: 'import ... as ...'"),
        ("def h():\n    from .a import f\n    return f\n", "mod.py:2: a relative import inside"),
        ("from .a import f; X = 1\n", "mod.py:1: put the relative import on a line of its own"),
        ("X = 1\nfrom .a import f\n", "mod.py:2: relative imports must sit in the import block"),
    ],
)
def test_unsupported_relative_imports_are_errors(source: str, words: str):
    sources = {"a": "def f():\n    return 1\n", "mod": source}
    with pytest.raises(NotebookError) as info:
        notebook_from_sources("t", sources, None)
    assert words in str(info.value)


def test_conflicting_top_level_names_are_an_error():
    sources = {"a": "def f():\n    return 1\n", "b": "def f():\n    return 2\n"}
    with pytest.raises(NotebookError, match="modules a and b both define 'f'"):
        notebook_from_sources("t", sources, None)
    same = {"a": "EPS = 1e-8\n__all__ = ['a']\n", "b": "EPS = 1e-8\n__all__ = ['b']\n"}
    notebook_from_sources("t", same, None)  # identical definitions and dunders are fine


def test_module_stand_in_may_not_shadow_a_definition():
    sources = {"sgd": "def sgd():\n    return 1\n", "train": "from . import sgd\n"}
    with pytest.raises(NotebookError, match="sgd.py defines sgd at top level"):
        notebook_from_sources("t", sources, None)


def test_module_cells_follow_the_question_order_but_never_precede_their_imports():
    stub = 'raise NotImplementedError("{}: not implemented yet — replace this line")\n'
    sources = {
        "advanced": "from .basic import f\n\ndef g():\n    " + stub.format("second"),
        "basic": "def f():\n    " + stub.format("first"),
        "alpha": "def h():\n    " + stub.format("third"),
        "given": "X = 1\n",  # no question: last
        "later": "from .tools import t\n\ndef k():\n    " + stub.format("zeroth"),
        "tools": "def t():\n    return 1\n",  # no question, but `later` needs it first
    }
    assert question_order(sources, ["zeroth", "first", "second", "third"]) == [
        "tools", "later", "basic", "advanced", "alpha", "given"]
    assert question_order(sources, None) == dependency_order(sources)
    nb = notebook_from_sources("t", sources, None, questions=["zeroth", "first", "second"])
    assert nb.metadata["nlpdojo"]["modules"][:3] == ["tools", "later", "basic"]
    assert "grade zeroth --submission t.ipynb" in nb.cells[1].source


def test_word_vectors_notebook_in_the_exercises_question_order(tmp_path: Path):
    """A student working top to bottom meets softmax first, then the questions as the topic's
    instructions number them, and the how-to cell says how to grade the notebook itself."""
    from nlpdojo_autograder.grading.grade import get_exercise

    root = Path(nlpdojo_solutions.__file__).parent / "word_vectors"
    questions = list(get_exercise("word_vectors").questions)
    for stub in (True, False):
        nb = build_notebook(root, stub=stub)
        cells = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("tags")]
        modules = [c.metadata["tags"][0].removeprefix("nlpdojo:") for c in cells]
        assert modules[0] == "softmax"
        assert nb.metadata["nlpdojo"]["modules"] == modules
        firsts = [min((questions.index(q) for q in module_questions(c.source)
                       if q in questions), default=len(questions)) for c in cells]
        assert firsts == sorted(firsts), list(zip(modules, firsts, strict=True))
        path = _write(nb, tmp_path / f"wv-{stub}.ipynb")
        assert extract_notebook(path) == topic_modules(root, stub=stub)
    howto = next(c.source for c in nb.cells if c.id == "nlpdojo-howto")
    assert "grade --submission word_vectors.ipynb" in howto
    assert "grade softmax --submission word_vectors.ipynb" in howto
    assert "not this notebook" in howto  # `grade word_vectors` grades the .py files
    released = nbformat.read(Path(__file__).resolve().parents[1] / "exercises" / "word_vectors"
                             / "word_vectors.ipynb", as_version=4)
    assert released.metadata["nlpdojo"]["modules"][0] == "softmax"  # `dojo release` was run


# --------------------------------------------------------------------------- extraction


def test_round_trip_generate_extract_equals_stubbed_modules(released: Path):
    extracted = extract_notebook(released / "toy.ipynb")
    assert list(extracted) == ["activations", "classifier"]
    for module, source in extracted.items():
        assert source == (released / f"{module}.py").read_text(encoding="utf-8")


def test_round_trip_on_the_real_solutions(tmp_path: Path):
    """Every topic, those built on the course library too: the cells give back the topic's
    modules and the library modules holding its questions, stubbed or not."""
    root = Path(nlpdojo_solutions.__file__).parent
    topics = sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()
                    and p.name != LIBRARY)
    modules_seen = 0
    for topic in topics:
        for stub in (True, False):
            path = _write(build_notebook(topic, stub=stub), tmp_path / f"{topic.name}-{stub}.ipynb")
            assert extract_notebook(path) == notebook_modules(topic, stub=stub)
        modules_seen += len(topic_modules(topic))
    if not modules_seen:
        pytest.skip("solutions/ has no topic modules yet")


def test_extract_ignores_untagged_cells_and_keeps_student_edits(released: Path, tmp_path: Path):
    nb = nbformat.read(released / "toy.ipynb", as_version=4)
    cell = _code_cell(nb, "activations")
    stub = stub_line("sigmoid", "    ")
    assert stub in cell.source + "\n"
    cell.source = cell.source.replace(stub.rstrip("\n"), "    return 1.0 / (1.0 + math.exp(-x))")
    nb.cells.append(nbformat.v4.new_code_cell("scratch = sigmoid(3.0)  # my experiment"))
    extracted = extract_notebook(_write(nb, tmp_path / "student.ipynb"))
    assert "return 1.0 / (1.0 + math.exp(-x))" in extracted["activations"]
    assert "scratch" not in "".join(extracted.values())
    assert extracted["classifier"] == (released / "classifier.py").read_text(encoding="utf-8")


def test_imports_go_after_the_prelude_when_the_cell_top_changed():
    source = (
        '"""Doc."""\n\nfrom __future__ import annotations\n\n'
        "import math\n\nfrom .a import f\n\nY = f()\n"
    )
    cell, imports, lines = split_module(source, "b", {"a", "b"})
    assert imports == ["from .a import f"] and lines == [7]
    assert restore_imports(cell, imports, lines) == source
    edited = cell.replace('"""Doc."""\n\n', "")  # the student removed the docstring
    restored = restore_imports(edited, imports, lines)
    assert restored.startswith("from __future__ import annotations\nfrom .a import f\n")
    compile(restored, "b.py", "exec")


def _malformed(tmp_path: Path, released: Path, edit) -> Path:
    data = json.loads((released / "toy.ipynb").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _cell_index(data: dict, module: str) -> int:
    return next(
        i
        for i, c in enumerate(data["cells"])
        if f"nlpdojo:{module}" in c["metadata"].get("tags", [])
    )


def test_not_json_is_an_error(tmp_path: Path):
    path = tmp_path / "nb.ipynb"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(
        NotebookError, match=r"nb\.ipynb: not a notebook, the file is not valid JSON"
    ):
        extract_notebook(path)


def test_not_nbformat_v4_is_an_error(tmp_path: Path, released: Path):
    path = _malformed(tmp_path, released, lambda d: d.update(nbformat=3))
    with pytest.raises(NotebookError, match=r"not an nbformat v4 notebook \(nbformat = 3\)"):
        extract_notebook(path)


def test_invalid_v4_structure_is_an_error(tmp_path: Path, released: Path):
    path = _malformed(tmp_path, released, lambda d: d["cells"][0].pop("source"))
    with pytest.raises(NotebookError, match="invalid nbformat v4 notebook"):
        extract_notebook(path)


@pytest.mark.parametrize("imports", [
    ["def sigmoid(x):\n    return 1 / (1 + 2.718281828 ** -x)"],  # code no cell shows
    ["import os"], ["from .activations import sigmoid\nX = 1"], ["from math import e"],
])
def test_metadata_imports_that_are_not_one_relative_import_are_an_error(tmp_path: Path,
                                                                        released: Path,
                                                                        imports):
    """An adversarial trial: a cell's ``nlpdojo.imports`` metadata was put into the graded
    module whatever it held, so a cell showing only a docstring earned the points of code
    hidden there. Each entry must be one relative import, as the release writes them."""
    def plant(data):
        data["cells"][_cell_index(data, "classifier")]["metadata"]["nlpdojo"]["imports"] = \
            imports

    path = _malformed(tmp_path, released, plant)
    with pytest.raises(NotebookError, match="which is not one relative import"):
        extract_notebook(path)


def test_missing_module_cell_is_an_error(tmp_path: Path, released: Path):
    def drop(data):
        del data["cells"][_cell_index(data, "activations")]

    with pytest.raises(NotebookError, match="no cell tagged nlpdojo:activations"):
        extract_notebook(_malformed(tmp_path, released, drop))


def test_duplicated_module_cell_is_an_error(tmp_path: Path, released: Path):
    def duplicate(data):
        index = _cell_index(data, "activations")
        twin = copy.deepcopy(data["cells"][index])
        twin["id"] = "twin"
        data["cells"].append(twin)

    path = _malformed(tmp_path, released, duplicate)
    with pytest.raises(
        NotebookError, match=r"'activations' appears in two tagged cells \(5 and 8\)"
    ):
        extract_notebook(path)


def test_syntax_error_names_the_cell_and_line_in_the_cell(tmp_path: Path, released: Path):
    def break_it(data):
        cell = data["cells"][_cell_index(data, "classifier")]
        source = "".join(cell["source"]).split("\n")
        source[2] = "def oops(:"
        cell["source"] = "\n".join(source)

    with pytest.raises(NotebookError, match=r"cell 7 \(module classifier\), line 3"):
        extract_notebook(_malformed(tmp_path, released, break_it))


def test_tagged_markdown_cell_is_an_error(tmp_path: Path, released: Path):
    def to_markdown(data):
        cell = data["cells"][_cell_index(data, "activations")]
        cell["cell_type"] = "markdown"
        del cell["outputs"], cell["execution_count"]

    with pytest.raises(NotebookError, match="cell 5 .* is a markdown cell"):
        extract_notebook(_malformed(tmp_path, released, to_markdown))


def test_missing_notebook_metadata_is_an_error(tmp_path: Path, released: Path):
    path = _malformed(tmp_path, released, lambda d: d["metadata"].pop("nlpdojo"))
    with pytest.raises(NotebookError, match="no 'nlpdojo' section"):
        extract_notebook(path)


def test_materialize_writes_an_importable_package(released: Path, tmp_path: Path):
    out = materialize_notebook(released / "toy.ipynb", tmp_path / "submission" / "toy", released)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["README.md", "__init__.py", "activations.py", "classifier.py", "data/tiny.txt"]
    try:
        import_package(out, "materialized_toy")
        classifier = importlib.import_module("materialized_toy.classifier")
        with pytest.raises(NotImplementedError, match="^logistic: not implemented yet"):
            classifier.predict(classifier.LogisticRegression(1.0, 0.0), 1.0)
    finally:
        forget("materialized_toy")


def test_materialize_rejects_another_topic(released: Path, tmp_path: Path):
    other = tmp_path / "other"
    shutil.copytree(released, other)
    with pytest.raises(NotebookError, match="belongs to topic 'toy', not 'other'"):
        materialize_notebook(released / "toy.ipynb", tmp_path / "out", other)


# --------------------------------------------------------------------------- execution


@pytest.fixture(scope="module")
def kernel_name() -> str:
    """``python3`` when a Jupyter kernel can start here, else skip with the reason."""
    pytest.importorskip("nbclient", reason="nbclient is in the dev extra: pip install -e .[dev]")
    pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra: pip install -e .[dev]")
    from jupyter_client.manager import start_new_kernel

    try:
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
    except Exception as exc:  # noqa: BLE001 - any start failure means "no kernel here"
        pytest.skip(f"no Jupyter kernel 'python3' can start here: {exc}")
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    return "python3"


def test_filled_notebook_executes_and_extracted_package_imports(
    kernel_name: str, released: Path, tmp_path: Path
):
    from nbclient import NotebookClient

    nb = build_notebook(TOPIC, stub=False)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "model = LogisticRegression(2.0, -1.0)\n"
            "print(round(sigmoid(0.0), 3), predict(model, 1.0), round(margin(model, 0.5), 3))"
        )
    )
    path = _write(nb, tmp_path / "toy.ipynb")
    NotebookClient(
        nb, kernel_name=kernel_name, timeout=60, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert printed.strip() == "0.5 1 0.0"

    sources = extract_notebook(path)
    assert sources == topic_modules(TOPIC, stub=False)
    out = materialize_notebook(path, tmp_path / "submission" / "toy", released)
    try:
        import_package(out, "filled_toy")
        classifier = importlib.import_module("filled_toy.classifier")
        model = classifier.LogisticRegression(2.0, -1.0)
        assert classifier.predict(model, 1.0) == 1 and classifier.predict(model, 0.0) == 0
        assert classifier.margin(model, 0.5) == 0.0
    finally:
        forget("filled_toy")


def test_untouched_stub_notebook_runs_top_to_bottom(kernel_name: str, released: Path):
    from nbclient import NotebookClient

    nb = nbformat.read(released / "toy.ipynb", as_version=4)
    NotebookClient(nb, kernel_name=kernel_name, timeout=60).execute()  # defines, never calls


def test_word_vectors_notebooks_run_top_to_bottom(kernel_name: str, tmp_path: Path):
    """The real topic: the released notebook runs as shipped, and the filled-in one computes."""
    from nbclient import NotebookClient

    from nlpdojo_autograder.runtime.loader import load_reference_dir

    repo = Path(__file__).resolve().parents[1]
    released = nbformat.read(repo / "exercises" / "word_vectors" / "word_vectors.ipynb",
                             as_version=4)
    NotebookClient(released, kernel_name=kernel_name, timeout=120).execute()
    filled = build_notebook(load_reference_dir("nlpdojo_solutions.word_vectors"), stub=False)
    filled.cells.append(nbformat.v4.new_code_cell(
        "import numpy as np\n"
        "print(np.round(softmax(np.array([1000.0, 1000.0])), 3).tolist())"))
    NotebookClient(filled, kernel_name=kernel_name, timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in filled.cells[-1].outputs)
    assert printed.strip() == "[0.5, 0.5]"


@pytest.mark.parametrize("topic", ["neural_networks", "language_models"])
def test_notebooks_built_on_the_library_run_top_to_bottom_as_released(kernel_name: str,
                                                                      topic: str):
    """In their released folder, next to the released library/: the set-up cell imports what
    the cells need from there (language_models) and every cell defines without error."""
    from nbclient import NotebookClient

    folder = Path(__file__).resolve().parents[1] / "exercises" / topic
    nb = nbformat.read(folder / f"{topic}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print(type(Linear).__name__, Adam.__module__)"))
    NotebookClient(nb, kernel_name=kernel_name, timeout=120,
                   resources={"metadata": {"path": str(folder)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    # Adam: the library.optim cell's (neural_networks), else library/optim.py's
    assert printed.split() == ["type", "__main__" if topic == "neural_networks"
                               else "nlpdojo_notebook_course.library.optim"]


@pytest.mark.parametrize("place", ["beside", "above", None])
def test_a_notebook_built_on_other_topics_takes_the_students_library(tmp_path, place):
    """language_models' notebook has no cell for neural_networks' library modules (Linear,
    xavier...): they are the student's work of another notebook. Graded with the reference,
    the package took the released stubs for them, and an honest notebook lost 6.5 points of
    training checks to "not implemented". Now the student's library/ beside the notebook (a
    Gradescope upload) or beside its topic folder (exercises/) is written over the stubs, and
    without one the result says what was graded."""
    from nlpdojo_autograder.release.notebook_submission import NO_LIBRARY, notebook_submission

    solutions = Path(nlpdojo_solutions.__file__).parent
    root = tmp_path / "submitted"
    folder = root / "language_models"
    folder.mkdir(parents=True)
    path = folder / "language_models.ipynb"
    path.write_text(dumps(build_notebook(solutions / "language_models", stub=False)))
    if place is not None:
        shutil.copytree(solutions / LIBRARY, (folder if place == "beside" else root) / LIBRARY)
    made = notebook_submission(path, tmp_path / "work", use_reference=True)
    init = (made.folder / LIBRARY / "init.py").read_text()
    if place is None:
        assert "neural_networks.xavier: not implemented yet" in init
        assert NO_LIBRARY in made.skipped
    else:
        assert "bound = math.sqrt(6.0 / (fan_in + fan_out))" in init  # the student's own
        assert NO_LIBRARY not in made.skipped and "library/" in made.template
