"""Notebooks of topics built on the course library (``from ..library import Linear``, ``from
..library.layers import Linear``): library cells, the set-up cell binding the rest of the
library, round trips, and the errors."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import nbformat
import pytest

from nlpdojo_autograder.release.notebooks import (
    NotebookError,
    build_notebook,
    dumps,
    extract_notebook,
    materialize_notebook,
    notebook_from_sources,
    notebook_layout,
)

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"
SOLUTIONS = REPO / "solutions"
STUB = 'raise NotImplementedError("{}: not implemented yet — replace this line")\n'


def _released(topic: str):
    return nbformat.read(EXERCISES / topic / f"{topic}.ipynb", as_version=4)


def _tagged(nb) -> dict[str, object]:
    return {c.metadata["tags"][0].removeprefix("nlpdojo:"): c for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("tags")}


def _setup(nb) -> str:
    return next(c.source for c in nb.cells if c.id == "nlpdojo-setup")


# --------------------------------------------------------------------------- the released notebooks


def test_neural_networks_notebook_holds_the_library_modules_of_its_questions():
    nb = _released("neural_networks")
    cells = _tagged(nb)
    library = [m for m in cells if m.startswith("library.")]
    assert sorted(library) == ["library.activations", "library.init", "library.layers",
                               "library.losses", "library.optim", "library.regularization",
                               "library.schedules"]  # not library.rnn: language_models' module
    order = nb.metadata["nlpdojo"]["modules"]
    assert order == list(cells)
    assert order[0] == "library.activations"  # sigmoid is the first question
    assert order.index("library.init") < order.index("library.layers")  # layers imports init
    assert order.index("library.layers") < order.index("window")
    for module, cell in cells.items():
        assert "from ." not in cell.source, module  # every relative import is in the metadata
        assert cell.metadata["nlpdojo"]["module"] == module
        assert cell.id == "code-" + module.replace(".", "-")
    assert cells["library.layers"].metadata["nlpdojo"]["imports"] == [
        "from .init import xavier_uniform"]
    assert "from ..library import Dropout, Embedding, Linear, Tanh" in \
        cells["window"].metadata["nlpdojo"]["imports"]
    assert order.index("library.activations") < order.index("window")  # Tanh
    assert order.index("library.optim") < order.index("tagger")  # Adam, SGD...
    assert 'raise NotImplementedError("neural_networks.affine: not implemented yet' in \
        cells["library.layers"].source
    doc = nb.cells[nb.cells.index(cells["library.layers"]) - 1]
    assert doc.source.startswith("## `library/layers.py`")
    setup = _setup(nb)
    assert "course_library" not in setup  # every library module it imports is a cell
    assert "_SiblingModule" not in setup  # names, no module imported whole
    howto = next(c.source for c in nb.cells if c.id == "nlpdojo-howto")
    assert "nlpdojo:library.<module>" in howto and "grade --submission neural_networks.ipynb" \
        in howto


def test_language_models_notebook_imports_the_other_library_modules_from_library():
    nb = _released("language_models")
    cells = _tagged(nb)
    assert [m for m in cells if m.startswith("library.")] == ["library.rnn"]
    order = list(cells)
    assert order.index("library.rnn") < order.index("rnn_lm")  # rnn_cell comes before rnn_lm
    assert cells["library.rnn"].metadata["nlpdojo"]["imports"] == [
        "from .init import xavier_uniform"]
    setup = _setup(nb)
    assert "_library = course_library('activations', 'init', 'layers', 'losses', 'optim')" \
        in setup  # layers is imported through its own `from .init import ...` too
    for line in ("xavier_uniform = _library.init.xavier_uniform", "Linear = _library.layers.Linear",
                 "Tanh = _library.activations.Tanh", "Adam = _library.optim.Adam",
                 "SoftmaxCrossEntropy = _library.losses.SoftmaxCrossEntropy"):
        assert line in setup.splitlines()
    assert "from ..library import Embedding, Linear, RNNCell" in \
        cells["encoder"].metadata["nlpdojo"]["imports"]
    assert "RNNCell =" not in setup and "RNN =" not in setup  # library.rnn is a cell
    assert "_SiblingModule" not in setup
    compile(setup, "setup", "exec")


def test_word_vectors_notebook_says_nothing_of_the_library():
    nb = _released("word_vectors")
    assert not any(m.startswith("library.") for m in nb.metadata["nlpdojo"]["modules"])
    assert "course library" not in next(c.source for c in nb.cells if c.id == "nlpdojo-howto")
    assert "course_library" not in _setup(nb)


@pytest.mark.parametrize("topic", ["neural_networks", "language_models"])
def test_materialized_released_notebook_is_the_released_topic_and_library(topic, tmp_path):
    """The cells rebuild the released modules; the library's other modules come from the
    library folder given (here the released one)."""
    out = materialize_notebook(EXERCISES / topic / f"{topic}.ipynb", tmp_path / topic,
                               EXERCISES / topic, library_dir=EXERCISES / "library")
    for folder in (topic, "library"):
        names = sorted(p.name for p in (EXERCISES / folder).glob("*.py"))
        _, mismatch, errors = filecmp.cmpfiles(EXERCISES / folder, tmp_path / folder, names,
                                               shallow=False)
        assert mismatch == errors == [], (folder, mismatch, errors)
    assert out == tmp_path / topic


def test_library_cells_override_the_library_folder_and_the_rest_is_copied(tmp_path):
    nb = build_notebook(SOLUTIONS / "language_models", stub=False)
    path = tmp_path / "language_models.ipynb"
    path.write_text(dumps(nb))
    materialize_notebook(path, tmp_path / "out" / "language_models",
                         EXERCISES / "language_models", library_dir=EXERCISES / "library")
    rebuilt = tmp_path / "out" / "library"
    assert (rebuilt / "rnn.py").read_text() == (SOLUTIONS / "library" / "rnn.py").read_text()
    assert (rebuilt / "layers.py").read_text() == (EXERCISES / "library" / "layers.py").read_text()
    assert (rebuilt / "__init__.py").is_file()


def test_grading_a_library_notebook_needs_the_library_folder(tmp_path):
    path = EXERCISES / "language_models" / "language_models.ipynb"
    with pytest.raises(NotebookError, match="needs your library/ folder next to its topic folder"):
        materialize_notebook(path, tmp_path / "language_models", EXERCISES / "language_models")
    with pytest.raises(NotebookError, match="is not the course library"):
        materialize_notebook(path, tmp_path / "language_models", EXERCISES / "language_models",
                             library_dir=tmp_path)
    # a notebook without library cells or imports needs none
    materialize_notebook(EXERCISES / "word_vectors" / "word_vectors.ipynb",
                         tmp_path / "word_vectors", EXERCISES / "word_vectors")


def test_an_edited_library_cell_is_extracted_with_its_imports_restored(tmp_path):
    nb = _released("language_models")
    cell = _tagged(nb)["library.rnn"]
    cell.source = cell.source.replace('"""', '"""Edited. ', 1)
    path = tmp_path / "language_models.ipynb"
    path.write_text(dumps(nb))
    rnn = extract_notebook(path)["library.rnn"]
    assert "from .init import xavier_uniform\n" in rnn and "Edited. " in rnn
    compile(rnn, "rnn.py", "exec")


def test_layout_names_library_cells_for_library_paths(tmp_path):
    from nlpdojo_autograder.release.notebook_feedback import in_cells

    nb = _released("neural_networks")
    path = tmp_path / "neural_networks.ipynb"
    path.write_text(dumps(nb))
    layout = notebook_layout(path)
    layers = layout.modules["library.layers"]
    text = ('File "/x/library/layers.py", line 30\nat layers.py line 30\n'
            'File "/x/library/rnn.py", line 30')  # rnn.py has no cell here: the student's file
    located = in_cells(text, layout)
    assert located.count(f"{layers.label()}, line {layers.cell_line(30)}") == 2
    assert 'File "/x/library/rnn.py", line 30' in located


# --------------------------------------------------------------------------- generation errors


LIB = {  # init and layers hold questions of topic t, rnn of topic other; misc none
    "init": "def xavier():\n    " + STUB.format("t.xavier"),
    "layers": "from .init import xavier\n\nclass Linear:\n    def forward(self):\n        "
              + STUB.format("t.linear"),
    "rnn": "from .init import xavier\n\ndef cell():\n    " + STUB.format("other.cell"),
    "misc": "X = 1\n",
}
#: LIB with ``__all__``: the package re-exports Linear (layers), xavier (init), cell (rnn)
EXPORTING = {"init": '__all__ = ["xavier"]\n' + LIB["init"],
             "layers": LIB["layers"] + '\n__all__ = ["Linear"]\n',
             "rnn": LIB["rnn"] + '\n__all__ = ["cell"]\n', "misc": LIB["misc"]}


def test_library_cells_are_the_modules_with_the_topics_questions():
    model = ("from ..library.layers import Linear\nfrom ..library.rnn import cell\n\n"
             "def fit():\n    " + STUB.format("fit"))
    nb = notebook_from_sources("other", {"model": model}, None, questions=["cell", "fit"],
                               library=LIB)
    assert nb.metadata["nlpdojo"]["modules"] == ["library.rnn", "model"]
    setup = _setup(nb).splitlines()
    assert "_library = course_library('init', 'layers')" in setup  # layers imports init too
    assert "Linear = _library.layers.Linear" in setup  # for model
    assert "xavier = _library.init.xavier" in setup  # for the rnn cell
    mine = notebook_from_sources("t", {"model": "from ..library.layers import Linear\n"}, None,
                                 questions=["linear", "xavier"], library=LIB)
    assert mine.metadata["nlpdojo"]["modules"] == ["library.init", "library.layers", "model"]
    assert "course_library" not in _setup(mine)


def test_a_name_imported_from_the_package_is_its_modules():
    """``from ..library import Linear, cell`` reaches the modules whose ``__all__`` lists the
    names: a cell of this notebook (rnn, the topic's questions) comes first, the others are
    bound from library/ like ``from ..library.layers import Linear``; a module's own name
    stays the module."""
    model = ("from ..library import Linear, cell, misc\n\n"
             "def fit():\n    " + STUB.format("fit"))
    nb = notebook_from_sources("other", {"model": model}, None, questions=["cell", "fit"],
                               library=EXPORTING)
    assert nb.metadata["nlpdojo"]["modules"] == ["library.rnn", "model"]
    setup = _setup(nb).splitlines()
    assert "_library = course_library('init', 'layers', 'misc')" in setup
    assert "Linear = _library.layers.Linear" in setup
    assert "misc = _library.misc" in setup
    assert not any(line.startswith("cell =") for line in setup)  # the rnn cell defines it
    cells = _tagged(nb)
    assert cells["model"].metadata["nlpdojo"]["imports"] == [
        "from ..library import Linear, cell, misc"]
    assert cells["model"].source.startswith("\ndef fit():")
    mine = notebook_from_sources("t", {"model": "from ..library import Linear\n"}, None,
                                 questions=["linear", "xavier"], library=EXPORTING)
    assert mine.metadata["nlpdojo"]["modules"] == ["library.init", "library.layers", "model"]


def test_a_name_no_library_module_exports_is_a_release_error():
    with pytest.raises(NotebookError, match=r"'from \.\.library import Nope': no module of the "
                                              r"course library lists Nope in its __all__"):
        notebook_from_sources("t", {"m": "from ..library import Nope\n"}, None,
                              library=EXPORTING)


@pytest.mark.parametrize(
    ("topic", "sources", "library", "words"),
    [
        ("t", {"m": "from ..library.missing import f\n"}, LIB,
         "m.py:1: only 'from .<module> import <name>'"),
        ("t", {"m": "from ..other import f\n"}, LIB,
         "with modules of the course library (init, "),
        ("t", {"m": "from ...library.layers import Linear\n"}, LIB, "m.py:1: only"),
        ("t", {"m": "from ..library.layers import Linear as L\n"}, LIB, "'import ... as ...'"),
        ("other", {"m": "from ..library.layers import Linear\n\nclass Linear:\n    pass\n"}, LIB,
         "m.py defines 'Linear' at top level, which the notebook also imports from "
         "library/layers.py (your library/ folder)"),
        ("t", {"m": "from ..library import layers\n\ndef layers():\n    pass\n"}, LIB,
         "m.py defines layers at top level"),
        ("t", {"m": "from ..library import init\nfrom . import init\n", "init": "X = 1\n"},
         LIB, "modules init and library.init are both imported whole as 'init'"),
        ("other", {"m": "from ..library.layers import Linear\nfrom ..library.misc import "
                        "Linear\n"}, LIB,
         "'Linear' is imported from both library/layers.py and library/misc.py"),
        ("t", {"m": "X = 1\n"}, {**LIB, "init": LIB["init"] + "def g():\n    "
                                   + STUB.format("other.g")},
         "library/init.py holds questions of the topics other, t"),
        ("other", {"m": "from ..library.layers import Linear\n"},
         {**LIB, "layers": "from .init import xavier\nfrom . import rnn\n"},
         "library/layers.py (imported from your library/ folder) imports library/rnn.py, "
         "which has a cell in this notebook"),
    ],
)
def test_library_imports_a_notebook_cannot_hold_are_release_errors(topic, sources, library,
                                                                    words):
    with pytest.raises(NotebookError) as info:
        notebook_from_sources(topic, sources, None, library=library)
    assert words in str(info.value)


def test_a_library_module_may_not_import_a_topic_module():
    library = {**LIB, "init": "from ..t import helper\n\ndef xavier():\n    "
               + STUB.format("t.xavier")}
    with pytest.raises(NotebookError, match=r"library/init\.py:1: only 'from \.<module>"):
        notebook_from_sources("t", {"helper": "X = 1\n"}, None, library=library)


def test_notebook_metadata_may_name_library_modules_but_no_paths(tmp_path):
    data = json.loads((EXERCISES / "neural_networks" / "neural_networks.ipynb").read_text())
    data["metadata"]["nlpdojo"]["modules"].append("library/../../etc")
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(data))
    with pytest.raises(NotebookError, match="not a plain module name"):
        extract_notebook(path)


# --------------------------------------------------------------------------- the set-up cell


def _course(root: Path, topic: str, library: Path) -> Path:
    """A student's course folder: ``topic/`` as released with the solutions' notebook in it,
    and ``library/`` copied from ``library``; returns the notebook."""
    import shutil

    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(EXERCISES / topic, root / topic, ignore=ignore)
    shutil.copytree(library, root / "library", ignore=ignore)
    path = root / topic / f"{topic}.ipynb"
    path.write_text(dumps(build_notebook(SOLUTIONS / topic, stub=False)))
    return path


@pytest.fixture
def forget_course():
    """Drop the package the set-up cell imports the library as, after the test."""
    from nlpdojo.notebook_library import PACKAGE

    yield PACKAGE
    import sys

    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_the_filled_language_models_cells_run_on_the_students_library(
        tmp_path, monkeypatch, forget_course):
    """The set-up cell, then every tagged cell, in one namespace as in a kernel (cwd: the
    notebook's folder): the RNN cell and the models run on ``Linear`` from ``library/``."""
    import warnings

    import numpy as np

    from nlpdojo.selection import load_backend

    path = _course(tmp_path, "language_models", SOLUTIONS / "library")
    monkeypatch.chdir(path.parent)
    nb = nbformat.read(path, as_version=4)
    namespace: dict[str, object] = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the library is answered: nothing to warn about
        exec(compile(_setup(nb), "setup", "exec"), namespace)  # noqa: S102 - notebook's code
    for module, cell in _tagged(nb).items():
        exec(compile(cell.source, module, "exec"), namespace)  # noqa: S102
    assert namespace["Linear"].__module__ == f"{forget_course}.library.layers"
    assert namespace["RNNCell"].__module__ == "__main__"  # the cell's, not the file's
    backend = load_backend("numpy", None, "float64")
    model = namespace["RNNLM"](backend, 7, 3, 4, seed=0)
    ids = backend.asarray(np.array([[1, 2, 3]]))
    scores, _ = model.forward(ids, model.initial_state(1))
    assert tuple(scores.shape) == (1, 3, 7)


@pytest.mark.filterwarnings("ignore::nlpdojo.notebook_library.UnansweredLibraryWarning")
def test_the_set_up_cell_rereads_library_and_says_when_it_is_missing(
        tmp_path, monkeypatch, forget_course):
    from nlpdojo.notebook_library import (
        CourseLibraryError,
        UnansweredLibraryWarning,
        course_library,
    )

    path = _course(tmp_path, "language_models", EXERCISES / "library")  # stubs: NN not done
    monkeypatch.chdir(path.parent)
    with pytest.warns(UnansweredLibraryWarning,
                      match=r"unanswered questions of neural_networks \(affine, ") as said:
        first = course_library("layers")
    assert "copy those cells (tagged nlpdojo:library.<module>)" in str(said[0].message)
    assert first.layers.xavier_uniform is first.init.xavier_uniform  # `from .init import`
    layers = tmp_path / "library" / "layers.py"
    layers.write_text(layers.read_text() + "\nEDITED = 1\n")
    assert course_library("layers").layers.EDITED == 1  # re-running the cell reads the files
    other = tmp_path / "elsewhere" / "topic"  # no library/ in elsewhere/
    other.mkdir(parents=True)
    monkeypatch.chdir(other)
    with pytest.raises(CourseLibraryError, match="there is no library/ folder") as info:
        course_library("layers")
    assert str(tmp_path / "elsewhere" / "library") in str(info.value)
    with pytest.raises(CourseLibraryError):
        course_library("layers", start=other)
    assert course_library("layers", start=path.parent).layers.EDITED == 1


# ---------------------------------------------------------- dojo notebook --save-library


def test_save_library_copies_the_answered_cells_into_library_and_keeps_the_old_files(
        tmp_path, monkeypatch):
    """A student who answered the neural_networks library questions in the notebook: the
    cells go to library/*.py (what language_models imports), the stubs they replace are kept
    in library/.backup/, and a second run changes nothing."""
    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app

    path = _course(tmp_path, "neural_networks", EXERCISES / "library")  # answered cells
    monkeypatch.chdir(tmp_path)
    stub_layers = (tmp_path / "library" / "layers.py").read_text()
    result = CliRunner().invoke(build_app(), ["notebook", "neural_networks", "--save-library"])
    assert result.exit_code == 0, result.output
    assert "library/layers.py: saved (the old file is in library/.backup/layers." in \
        result.output
    saved = (tmp_path / "library" / "layers.py").read_text()
    assert saved == extract_notebook(path)["library.layers"]
    assert "not implemented yet" not in saved
    backups = list((tmp_path / "library" / ".backup").glob("layers.*.py"))
    assert len(backups) == 1 and backups[0].read_text() == stub_layers
    again = CliRunner().invoke(build_app(), ["notebook", "neural_networks", "--save-library"])
    assert again.exit_code == 0 and "library/layers.py: unchanged" in again.output


def test_save_library_never_replaces_a_file_that_answers_more_than_the_cell(
        tmp_path, monkeypatch):
    """Work done in library/layers.py itself, with the notebook's cell still a stub: kept."""
    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app

    path = tmp_path / "neural_networks" / "neural_networks.ipynb"
    _course(tmp_path, "neural_networks", SOLUTIONS / "library")  # the files: answered
    path.write_text(dumps(_released("neural_networks")))  # the notebook: stubs
    monkeypatch.chdir(tmp_path)
    answered = (tmp_path / "library" / "layers.py").read_text()
    result = CliRunner().invoke(build_app(), ["notebook", "neural_networks", "--save-library"])
    assert result.exit_code == 0, result.output
    assert "library/layers.py: kept: the file answers more questions" in result.output
    assert (tmp_path / "library" / "layers.py").read_text() == answered
    assert not (tmp_path / "library" / ".backup").exists()


def test_save_library_says_what_to_do_without_library_cells_or_folder(tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app

    _course(tmp_path, "word_vectors", EXERCISES / "library")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(build_app(), ["notebook", "word_vectors", "--save-library"])
    assert result.exit_code == 2 and "has no course library cells" in result.output
    _course(tmp_path / "other", "neural_networks", EXERCISES / "library")
    shutil.rmtree(tmp_path / "other" / "library")
    monkeypatch.chdir(tmp_path / "other")
    result = CliRunner().invoke(build_app(), ["notebook", "neural_networks", "--save-library"])
    assert result.exit_code == 2 and "no course library at" in result.output
