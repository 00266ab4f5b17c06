"""The code rules (runtime/code_rules.py): what graded code may not write, read by the grader
before any of it runs.

A fourth adversarial round disarmed the in-process line counter five ways (docs/security.md):
a frame that switches off its own line events, a thread started through ``_thread`` kept from
import time, a native thread through ``ctypes``, a sub-interpreter, and the counting function
replaced through ``sys.modules``. Each is refused here, and so is each way found around the
first rules (a computed ``getattr``, a generator's frame, ``typing.sys``, a string annotation,
``pydoc.locate``...); no module of the course's own code is.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from nlpdojo_autograder.grading.grade import GradeOptions, get_exercise, grade
from nlpdojo_autograder.release.consistency import validate
from nlpdojo_autograder.runtime import code_rules
from nlpdojo_autograder.runtime.code_rules import refusals, refused_modules
from nlpdojo_autograder.runtime.sandbox import WORKER_COMMAND
from tests.grading.courses import SOLUTIONS, edited_course

REPO = Path(__file__).resolve().parents[2]

#: code that reaches the interpreter or the grader, and what the refusal names
REFUSED = {
    # the five ways the line counter was disarmed
    "a frame's line events off": ("import sys\ndef f():\n    sys._getframe().f_trace_lines = 0\n",
                                  "`.f_trace_lines`"),
    "a thread kept from import": ("import _thread\nstart = _thread.start_new_thread\n",
                                  "`import _thread`"),
    "a native thread": ("import ctypes\nlib = ctypes.CDLL(None)\n", "`import ctypes`"),
    "a sub-interpreter": ("import _xxsubinterpreters as si\n", "`import _xxsubinterpreters`"),
    "the counter replaced": ("import sys\nsys.modules['nlpdojo_autograder.runtime.probes']"
                             "._counted = None\n", "`sys.modules`"),
    # ways around the first rules
    "a literal getattr": ("import sys\nf = getattr(sys, '_getframe')\n", "`._getframe`"),
    "a computed getattr": ("def g():\n    yield\nf = getattr(g(), 'gi_' + 'frame')\n",
                           "`getattr` with an attribute name computed at run time"),
    "getattr handed on": ("import functools\nx = functools.reduce(getattr, ['a'], object)\n",
                          "`getattr` with an attribute name computed"),
    "a generator's frame": ("def g():\n    yield\nframe = g().gi_frame\n", "`.gi_frame`"),
    "a traceback's frames": ("try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__\n",
                             "`.__traceback__`"),
    "a function's globals": ("def f():\n    pass\ng = f.__globals__\n", "`.__globals__`"),
    "a function's code": ("def f():\n    pass\nc = f.__code__\n", "`.__code__`"),
    "every class": ("s = object.__subclasses__()\n", "`.__subclasses__`"),
    "sys as another module's attribute": ("import typing\nm = typing.sys\n", "`.sys`"),
    "sys through a private name": ("import collections\nm = collections._sys\n",
                                   "`._sys` (another object's private attribute"),
    "sys aliased": ("import sys\ns = sys\n", "`sys` (sys) other than for"),
    "from sys import": ("from sys import modules\n", "`from sys import modules`"),
    "__import__": ("s = __import__('sys')\n", "`__import__`"),
    "__builtins__": ("b = __builtins__\n", "`__builtins__`"),
    "exec": ("exec('x = 1')\n", "`exec`"),
    "compile": ("c = compile('1', 'f', 'eval')\n", "`compile`"),
    "vars": ("import math\nv = vars(math)\n", "`vars`"),
    "globals": ("g = globals()\n", "`globals`"),
    "a string annotation": ("def f(x: \"__import__('sys')\"):\n    pass\n", "`__import__`"),
    "get_type_hints": ("import typing\nh = typing.get_type_hints\n", "`.get_type_hints`"),
    "attrgetter": ("import operator\ng = operator.attrgetter('gi_frame')\n", "`.attrgetter`"),
    "inspect": ("import inspect\n", "`import inspect`"),
    "gc": ("import gc\n", "`import gc`"),
    "importlib": ("import importlib\n", "`import importlib`"),
    "builtins": ("import builtins\n", "`import builtins`"),
    "types": ("import types\n", "`import types`"),
    "pickle": ("import pickle\n", "`import pickle`"),
    "pydoc.locate": ("import pydoc\n", "`import pydoc`"),
    "unittest.mock": ("from unittest import mock\n", "`import unittest`"),
    "logging.config": ("import logging.config\n", "`import logging.config`"),
    "the grader": ("from nlpdojo_autograder.runtime import probes\n",
                   "`import nlpdojo_autograder.runtime`"),
    "a private module": ("import numpy._core\n", "(a private module)"),
    "a module written at run time": ("import written_later\n", "`import written_later`"),
    "allow_pickle": ("import numpy as np\nx = np.load('f.npy', allow_pickle=True)\n",
                     "`allow_pickle=`"),
    "np.ctypeslib": ("import numpy as np\nc = np.ctypeslib\n", "`.ctypeslib`"),
    "threading.settrace": ("import threading\nthreading.settrace(None)\n", "`.settrace`"),
    "logging's frame": ("def f(logging):\n    return logging.currentframe()\n",
                        "`.currentframe`"),
    "torch.compile": ("import torch\nf = torch.compile(abs)\n", "`torch.compile`"),
    "another package's exports": ("from nlpdojo.exports import reexport\n"
                                  "g, d = reexport('nlpdojo_autograder.runtime')\n",
                                  "`reexport` of another package"),
}

#: code the rules must leave alone
ALLOWED = {
    "printing to stderr": "import sys\nprint('x', file=sys.stderr)\nsys.stdout.flush()\n",
    "numpy": ("import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n"
              "x = np.load('f.npy')\n"),
    "a module of the framework": (
        "from nlpdojo.module import Module\n\n\nclass A(Module):\n"
        "    def __init__(self, b):\n        super().__init__(b)\n        self._cells = [1]\n"
        "    def f(self):\n        return type(self).__name__, self.__class__.__name__, "
        "self._cells\n"),
    "a literal getattr": ("class A:\n    x = 1\n\n\n"
                          "y = getattr(A, 'x', None)\nz = hasattr(A, 'y')\n"),
    "the library's exports": ("from nlpdojo.exports import reexport\n\n"
                              "__getattr__, __dir__ = reexport(__name__)\n"),
    "annotations": ("from __future__ import annotations\n\n\n"
                    "def f(x: 'np.ndarray') -> int:\n    return 1\n"),
    "a model's eval mode": "def f(model):\n    model.eval()\n    return list(model.modules())\n",
    "re.compile": "import re\np = re.compile('a+')\n",
    "a dataclass": ("from dataclasses import dataclass\n\n\n@dataclass\nclass C:\n"
                    "    x: int = 0\n\n    def __post_init__(self):\n        pass\n"),
    "its own modules": "from .softmax import softmax\nimport window\n",
    "standard modules": "import time, math, itertools, functools, collections, os, threading\n",
    "a progress bar": "from tqdm.auto import tqdm\n",
    "an engine (refused by the worker, with its own message)": "import torch\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_rules_refuse_code_that_reaches_the_interpreter_or_the_grader(name):
    source, said = REFUSED[name]
    found = refusals(source, "m.py", {"window", "softmax"})
    assert found, f"{name}: not refused"
    assert said in " | ".join(r.what for r in found), [r.what for r in found]
    message = found[0].message()
    assert message.startswith("m.py line ") and "the grader's rules run in your process" \
        in message, message


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_the_rules_leave_ordinary_code_alone(name):
    assert refusals(ALLOWED[name], "m.py", {"window", "softmax"}) == []


def test_no_module_of_the_course_is_refused():
    """Every solution, stub and given module: a student's copy is graded under the rules."""
    for root in (REPO / "solutions", REPO / "exercises"):
        folders = [p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()]
        assert "library" in folders and len(folders) >= 6, folders
        assert refused_modules(root, folders) == {}


def test_the_worker_starts_without_its_folder_on_the_path():
    """A module the code writes into its scratch folder at run time is not importable."""
    assert "-P" in WORKER_COMMAND


def _grade(folder: Path, topic: str, *questions: str) -> dict:
    result = grade([topic], submission=folder, options=GradeOptions(
        questions=frozenset(f"{topic}.{q}" for q in questions)), replay_options={})
    return result


#: the first of the five: the affine layer's forward looped over the rows, with the line
#: events of its frame switched off (it kept 3 of 3 points before the rules)
LOOP_UNCOUNTED = (
    "        z = self.xp.matmul(x, self.weight.data)  # (N, D_out)\n",
    "        import sys\n        sys._getframe().f_trace_lines = False\n        rows = []\n"
    "        for i in range(x.shape[0]):\n"
    "            rows.append(self.xp.matmul(x[i], self.weight.data))\n"
    "        z = self.xp.stack(rows)\n")


def test_a_refused_module_earns_nothing_and_the_others_keep_their_points(tmp_path):
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           {"library/layers.py": LOOP_UNCOUNTED})
    result = _grade(course / "neural_networks", "neural_networks", "affine", "relu")
    checks = {c.id: c for _, c in result.checks()}
    affine = [c for c in checks.values() if c.question == "affine"]
    relu = [c for c in checks.values() if c.question == "relu"]
    assert affine and all(c.score == 0 for c in affine), [(c.id, c.message) for c in affine]
    line = next(i for i, text in enumerate(
        (course / "library" / "layers.py").read_text().splitlines(), 1) if "f_trace_lines" in text)
    for check in affine:
        assert f"library/layers.py line {line} uses `" in check.message, check.message
        assert "Traceback" not in check.message
    assert relu and all(c.score == c.max_score for c in relu), [(c.id, c.message) for c in relu]
    assert not [w for w in result.warnings if code_rules.ENV in w]


def test_a_refused_topic_module_leaves_the_questions_that_swap_it_in(tmp_path):
    """softmax.py refused: softmax earns nothing; naive_softmax, which imports it, runs with
    the reference's softmax swapped in, as for any softmax that does not import."""
    course = edited_course(tmp_path, ("word_vectors",), appended={
        "word_vectors/softmax.py": "import sys\n_probes = sys.modules.get('x')\n"})
    result = _grade(course / "word_vectors", "word_vectors", "softmax", "naive_softmax")
    for _, check in result.checks():
        if check.question == "softmax":
            assert check.score == 0 and "uses `sys.modules`" in check.message, check.message
        else:
            assert check.score == check.max_score, (check.id, check.message)


def test_a_grading_without_the_rules_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(code_rules.ENV, "off")
    course = edited_course(tmp_path, ("library", "neural_networks"))
    result = _grade(course / "neural_networks", "neural_networks", "relu")
    said = [w for w in result.warnings if code_rules.ENV in w]
    assert said and "do not count these points" in said[0], result.warnings
    assert "do not count" in json.dumps(result.to_dict())


def test_release_refuses_solutions_that_break_the_rules(tmp_path):
    """A module the students' copy of which the grader would refuse: an instructor hears it
    at release, with the file, the line and what to do."""
    shutil.copytree(SOLUTIONS / "word_vectors", tmp_path / "word_vectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    softmax = tmp_path / "word_vectors" / "softmax.py"
    softmax.write_text(softmax.read_text() + "\nimport inspect\n")
    problems = [p for p in validate(get_exercise("word_vectors"), tmp_path / "word_vectors")
                if "refuses in graded code" in p.message]
    assert len(problems) == 1, problems
    assert problems[0].where.endswith("softmax.py:" + str(len(softmax.read_text().splitlines())))
    assert "`import inspect`" in problems[0].message


def test_the_docs_list_the_imports_the_rules_allow():
    """docs/grading.md names every module graded code may import, and no other."""
    text = (REPO / "docs" / "grading.md").read_text()
    row = next(line for line in text.splitlines() if "reaches for the interpreter" in line)
    named = set(re.findall(r"`([a-z_]+)`", row.split("the allowed ones", 1)[1]))
    assert named == set(code_rules.SHOWN_IMPORTS), named ^ set(code_rules.SHOWN_IMPORTS)
