"""What a check depends on (nlpdojo_autograder.grading.deps): import closures across the topic
and the course library, and the cases where the analysis must widen instead of guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo_autograder.grading.deps import Course


def write(root: Path, files: dict[str, str]) -> Course:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Course(root / "topic")


BASE = {
    "topic/__init__.py": '"""A topic."""\n',
    "topic/softmax.py": "import numpy as np\n\ndef softmax(x):\n    return np.exp(x)\n",
    "topic/loss.py": "from .softmax import softmax\n\ndef loss(x):\n    return softmax(x)\n",
    "topic/window.py": "from ..library.layers import Linear\n\ndef model():\n    return Linear()\n",
    "topic/plot.py": "from dataclasses import dataclass, field\n\n@dataclass(frozen=True)\n"
                     "class Config:\n    sizes: list = field(default_factory=list)\n\n"
                     "EPS = 1e-8\n\nif __name__ == '__main__':\n    print(Config())\n",
    "library/__init__.py": "",
    "library/layers.py": "from .init import xavier\n\nclass Linear:\n    pass\n",
    "library/init.py": "import math\n\ndef xavier():\n    return math.sqrt(2)\n",
}


def present(course: Course, touched: set[str]) -> set[str]:
    deps = course.dependencies(touched)
    assert not deps.everything
    return {rel for rel, sha in deps.files.items() if sha is not None}


def test_closures_follow_relative_imports_into_the_library(tmp_path):
    course = write(tmp_path, BASE)
    assert present(course, {"softmax"}) == {"topic/softmax.py"}
    assert present(course, {"loss"}) == {"topic/loss.py", "topic/softmax.py"}
    assert present(course, {"window"}) == {"topic/window.py", "library/__init__.py",
                                           "library/layers.py", "library/init.py"}
    assert present(course, {"..library.init"}) == {"library/__init__.py", "library/init.py"}
    # definitions, constants, stdlib decorators and a main guard run nothing of the student's
    assert set(course.import_effects()) == {"topic/__init__.py", "library/__init__.py"}


def test_a_library_edit_invalidates_only_the_checks_that_import_it(tmp_path):
    course = write(tmp_path, BASE)
    window, softmax = course.dependencies({"window"}), course.dependencies({"softmax"})
    (tmp_path / "library" / "init.py").write_text("def xavier():\n    return 1.0\n")
    assert not course.unchanged(window)
    assert course.unchanged(softmax)


#: BASE with a library that re-exports (``from ..library import Linear``, nlpdojo.exports)
REEXPORTING = {
    **BASE,
    "library/__init__.py": '"""The library."""\n\nfrom nlpdojo.exports import reexport\n\n'
                           "__getattr__, __dir__ = reexport(__name__)\n",
    "library/layers.py": BASE["library/layers.py"] + '\n__all__ = ["Linear"]\n',
    "library/init.py": BASE["library/init.py"] + '\n__all__ = ["xavier"]\n',
    "library/rnn.py": '__all__ = ["RNNCell"]\n\nclass RNNCell:\n    pass\n',
    "topic/window.py": "from ..library import Linear\n\ndef model():\n    return Linear()\n",
}


def test_a_name_imported_from_the_package_is_its_modules(tmp_path):
    course = write(tmp_path, REEXPORTING)
    assert present(course, {"window"}) == {"topic/window.py", "library/__init__.py",
                                           "library/__all__:Linear", "library/layers.py",
                                           "library/init.py"}
    # the re-exporting __init__ runs nothing of the student's: no check depends on all modules
    assert set(course.import_effects()) == {"topic/__init__.py", "library/__init__.py"}
    # a check that takes its names from the package itself may reach any of its modules
    assert {"library/layers.py", "library/init.py", "library/rnn.py"} <= present(
        course, {"..library"})


def test_a_library_edit_invalidates_the_checks_that_import_its_names_from_the_package(
        tmp_path):
    course = write(tmp_path, REEXPORTING)
    window, softmax = course.dependencies({"window"}), course.dependencies({"softmax"})
    rnn = course.dependencies({"..library.rnn"})
    (tmp_path / "library" / "layers.py").write_text(REEXPORTING["library/layers.py"] + "# x\n")
    assert not course.unchanged(window)
    assert course.unchanged(softmax) and course.unchanged(rnn)


def test_another_module_exporting_the_name_invalidates(tmp_path):
    """``from ..library import Linear`` turns ambiguous when a second module lists Linear."""
    course = write(tmp_path, REEXPORTING)
    window = course.dependencies({"window"})
    (tmp_path / "library" / "rnn.py").write_text('__all__ = ["RNNCell", "Linear"]\n')
    assert not course.unchanged(window)


def test_a_name_no_module_exports_depends_on_every_library_module(tmp_path):
    """One whose ``__all__`` cannot be read, or a module that starts to list the name, may
    be where it is."""
    course = write(tmp_path, {**REEXPORTING,
                              "topic/window.py": "from ..library import GRUCell\n"})
    deps = course.dependencies({"window"})
    assert {"library/layers.py", "library/init.py", "library/rnn.py"} <= set(deps.files)
    assert deps.files["library/__all__:GRUCell"] == ""
    (tmp_path / "library" / "rnn.py").write_text('__all__ = ["RNNCell", "GRUCell"]\n')
    assert not course.unchanged(deps)


def test_creating_a_file_an_import_missed_invalidates(tmp_path):
    course = write(tmp_path, {**BASE, "topic/loss.py": "from .helpers import h\n"})
    deps = course.dependencies({"loss"})
    assert "topic/helpers.py" in deps.files and deps.files["topic/helpers.py"] is None
    (tmp_path / "topic" / "helpers.py").write_text("def h():\n    pass\n")
    assert not course.unchanged(deps)


@pytest.mark.parametrize("code", [
    "from . import softmax\nsoftmax.softmax = lambda x: x\n",  # patches another module
    "from .softmax import softmax\nTABLE = softmax([1.0])\n",  # runs the student's code
    "for i in range(3):\n    pass\n",
    "def deco(f):\n    return f\n\n@deco\ndef g():\n    pass\n",  # a decorator of its own
    "try:\n    import scipy\nexcept ImportError:\n    scipy = None\n",
    "class Base:\n    def __init_subclass__(cls):\n        pass\n",
])
def test_a_module_whose_import_may_run_student_code_affects_every_check(tmp_path, code):
    course = write(tmp_path, {**BASE, "topic/plot.py": code})
    assert "topic/plot.py" in course.import_effects()


def test_a_module_importing_an_effectful_one_is_effectful_too(tmp_path):
    course = write(tmp_path, {**BASE, "topic/sub/__init__.py": "",
                              "topic/sub/patch.py": "from .. import softmax\n"
                                                    "softmax.softmax = None\n",
                              "topic/plot.py": "from .sub import patch\n"})
    assert {"topic/plot.py", "topic/sub/patch.py"} <= set(course.import_effects())


@pytest.mark.parametrize("code", [
    "import importlib\n\ndef f():\n    return importlib.import_module('x')\n",
    "def f():\n    return __import__('x')\n",
    "import sys\n\ndef f():\n    return sys.modules['topic.softmax']\n",
    "def f():\n    return open(__file__).read()\n",
    "import numpy as np\n\ndef f():\n    return np.load('weights.npy')\n",
    "import scipy.io\n\ndef f():\n    return scipy.io.loadmat('/nlpdojo/code/w.mat')\n",
    "import pandas as pd\n\ndef f():\n    return pd.read_csv('weights.npy')\n",
])
def test_dynamic_reach_depends_on_every_file(tmp_path, code):
    course = write(tmp_path, {**BASE, "topic/loss.py": "from .helper import f\n",
                              "topic/helper.py": code, "topic/weights.npy": "data"})
    deps = course.dependencies({"loss"})
    assert deps.everything
    deps.files = course.all_files()
    (tmp_path / "topic" / "weights.npy").write_text("other")
    assert not course.unchanged(deps)


def test_star_depends_on_every_file(tmp_path):
    course = write(tmp_path, BASE)
    assert course.dependencies({"*"}).everything


@pytest.mark.parametrize("code, keeps", [
    ("EPS = 1e-8\nSIZES = (1, 2)\nArray = list[float]\n__all__ = ['f']\n", False),
    ("from dataclasses import dataclass, field\n\n@dataclass\nclass C:\n"
     "    xs: list = field(default_factory=list)\n", False),
    ("def f(x, k=2.0, *, name='a'):\n    def g():\n        nonlocal x\n        x = 1\n"
     "    return x\n", False),
    ("SEEN: list = []\n", True),
    ("KINDS = {'a': 1}\n", True),
    ("import numpy as np\nTABLE = np.zeros(3)\n", True),
    ("class C:\n    calls = []\n", True),
    ("def f(x, seen=[]):\n    return seen\n", True),
    ("COUNT = 0\n\ndef f():\n    global COUNT\n    COUNT += 1\n", True),
])
def test_what_keeps_state_from_one_call_to_the_next(tmp_path, code, keeps):
    course = write(tmp_path, {**BASE, "topic/state.py": code})
    assert course._keeps_state(tmp_path / "topic" / "state.py") is keeps


def test_a_check_reaching_kept_state_depends_on_every_module_reaching_it(tmp_path):
    """softmax.py and loss.py share state.py's list: what softmax's check ran of softmax.py
    may change what loss's check sees, so loss depends on softmax.py although it does not
    import it; window.py reaches no kept state and stays as it was."""
    course = write(tmp_path, {
        **BASE, "topic/state.py": "SEEN: list = []\n",
        "topic/softmax.py": "from .state import SEEN\n\ndef softmax(x):\n"
                            "    SEEN.append(1)\n    return x\n",
        "topic/loss.py": "from .state import SEEN\n\ndef loss(x):\n    return len(SEEN)\n"})
    assert present(course, {"loss"}) == {"topic/loss.py", "topic/state.py", "topic/softmax.py"}
    assert present(course, {"window"}) == {"topic/window.py", "library/__init__.py",
                                           "library/layers.py", "library/init.py"}


def test_a_library_setter_in_a_function_is_an_effect_but_runs_no_code_on_import(tmp_path):
    """``matplotlib.use`` in a function (word_vectors' plot.py): every cached check depends
    on the module (``import_effects``), but its import runs nothing, so ``dojo verify`` keeps
    reusing the baseline's verdicts for the bugs of other files (``import_runs_code``); a bug
    of that file is graded again everywhere (``changes_library_state`` of its text)."""
    from nlpdojo_autograder.grading.deps import changes_library_state

    code = "import matplotlib\n\ndef plot():\n    matplotlib.use('Agg')\n"
    course = write(tmp_path, {**BASE, "topic/plot.py": code})
    assert "topic/plot.py" in course.import_effects()
    assert course.import_runs_code() == []
    assert changes_library_state(code) and not changes_library_state("import numpy\n")
    ran = write(tmp_path / "ran", {**BASE, "topic/plot.py": "for i in range(3):\n    pass\n"})
    assert ran.import_runs_code() == ["topic/plot.py"]
