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

import ast
import functools
import json
import re
import shutil
import types
from pathlib import Path

import pytest

from nlpdojo_autograder.grading.grade import GradeOptions, get_exercise, grade
from nlpdojo_autograder.release.consistency import validate
from nlpdojo_autograder.runtime import code_rules
from nlpdojo_autograder.runtime.code_rules import refusals, refused_modules
from nlpdojo_autograder.runtime.frozen import FrozenModule
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
                                   "`._sys` (a private name)"),
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
    "logging.config": ("import logging.config\nlogging.config.dictConfig({})\n",
                       "`.dictConfig`"),
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
    "a function's code copied by name": (
        "import functools\n\n\ndef f():\n    pass\n\n\n"
        "functools.update_wrapper(f, abs, assigned=('__co' + 'de__',))\n", "`.update_wrapper`"),
    "the same, positionally": ("import functools\nfunctools.update_wrapper(len, abs, ('x',))\n",
                               "`.update_wrapper`"),
    "an attribute's name as a string": ("names = ('__code__', 'f_back')\n", "'__code__'"),
    "a positional allow_pickle": ("import numpy as np\nx = np.load('f.npy', None, True)\n",
                                  "`load` with more than 2 positional"),
    # an adversarial review of the rules above found these ways around them
    "a private name imported": ("from collections import _sys\n", "`import _sys`"),
    "a private thread starter": ("from threading import _start_new_thread as start\n",
                                 "`import _start_new_thread`"),
    "a private module by from-import": ("from numpy.lib import _format_impl\n",
                                        "`import _format_impl`"),
    "self rebound": ("import collections\nself = collections\ns = self._sys\n",
                     "`self` assigned"),
    "a method handed a module": ("class A:\n    def f(self):\n        return self._sys\n",
                                 "`._sys` (a private name)"),
    "a frozen module's class reset": ("import numpy as np\n\n\ndef f(m):\n"
                                      "    m.__class__ = type(np)\n", "`.__class__` assigned"),
    "a format string's getattr": ("import string\n"
                                  "b = string.Formatter().get_field('0.x', [len], {})\n",
                                  "`.get_field`"),
    "update_wrapper aliased": ("import functools\nuw = functools.update_wrapper\n",
                               "`.update_wrapper`"),
    "reexport aliased": ("from nlpdojo.exports import reexport as r\n",
                         "`reexport` imported under another name"),
    "an annotation held in a variable": (
        "import functools\nCODE = 'int'\n\n\ndef g(x: CODE):\n    pass\n\n\n"
        "functools.singledispatch(len).register(g)\n", "`.singledispatch`"),
    "np.load aliased": ("import numpy as np\nld = np.load\n", "`.load` other than called"),
    "np.load with ** keywords": ("import numpy as np\nx = np.load('f', **{'a': 1})\n",
                                 "`load` with `**` keywords"),
    "enum's builtins": ("import enum\nx = enum.bltns\n", "`.bltns`"),
    "a library's traceback module": ("import matplotlib.cbook as c\nw = c.traceback\n",
                                     "`.traceback`"),
    "typing's types module": ("import typing\nt = typing.types\n", "`.types`"),
    "the notebook's library loader": ("from nlpdojo.notebook_library import course_library\n",
                                      "`import nlpdojo.notebook_library`"),
    "a star import": ("from operator import *\n", "`from operator import *`"),
    # a second review's ways around the rules above
    "os rebound": ("import os\nos.sep = '\\x00'\n", "`.sep` of an imported module assigned"),
    "os.path aliased and rebound": ("import os\np = os.path\np.join = len\n",
                                    "of an imported module assigned"),
    "a module:// backend": ("from matplotlib.backends.registry import backend_registry\n"
                            "m = backend_registry.load_backend_module('module://sys')\n",
                            "`.load_backend_module`"),
    "a backend by a computed name": ("import matplotlib\nNAME = 'x'\nmatplotlib.use(NAME)\n",
                                     "`use` with a name other than a backend's"),
    "a library's mock": ("from matplotlib.testing.widgets import mock\n",
                         "`from matplotlib.testing.widgets import ...`"),
    "copy running what a reduce returns": (
        "class R:\n    def __reduce_ex__(self, protocol):\n        return (len, ((),))\n",
        "a method `__reduce_ex__`"),
    "enum.global_enum": ("import enum\n\n\n@enum.global_enum\nclass C(enum.Enum):\n"
                         "    A = 1\n", "`.global_enum`"),
    "__module__ assigned": ("class C:\n    __module__ = 'x'\n", "`__module__` assigned"),
    "field names pasted into code": ("class C:\n    __annotations__ = {'a': int}\n",
                                     "`__annotations__` assigned"),
    "a str subclass as __file__": ("__file__ = str(__file__)\n", "`__file__` assigned"),
    "f2py's eval": ("from numpy.f2py.crackfortran import myeval\n",
                    "`from numpy.f2py.crackfortran import ...`"),
    # a third review's
    "a finalizer made by type()": ("def fin(self):\n    pass\n\n\n"
                                   "Fin = type('Fin', (), {'__' + 'del__': fin})\n",
                                   "`type` with a name, bases and a namespace"),
    "a weakref callback": ("import logging\nr = logging.weakref\n", "`.weakref`"),
    "sys through a parameter": ("def kept(m):\n    return m.sys\n", "`.sys`"),
    "a metaclass": ("class M(type):\n    pass\n", "a metaclass for `M`"),
    "wraps applied to a module": ("import functools\nw = functools.wraps(len)\n",
                                  "`wraps` other than as a decorator"),
    "make_dataclass": ("import dataclasses\nC = dataclasses.make_dataclass('C', ['x'])\n",
                       "`.make_dataclass`"),
    # a fourth review's: the self-test block is left unread only where nothing can make
    # __name__ equal "__main__"
    "a self-test block under a __name__ the module binds": (
        "from .window import Anything as __name__\n\n"
        "if __name__ == '__main__':\n    import ctypes\n", "`import ctypes`"),
    "a self-test block under a def named __name__": (
        "def __name__():\n    pass\n\n\nif __name__ == '__main__':\n    import ctypes\n",
        "`import ctypes`"),
    "the else of a self-test block": (
        "if __name__ == '__main__':\n    pass\nelse:\n    import ctypes\n", "`import ctypes`"),
    "a guard that is not the self-test's": (
        "if __name__ == '__main__' or True:\n    import ctypes\n", "`import ctypes`"),
    # torch's autograd, reached on the torch backend through tensors and public names
    "a graph's nodes called": ("def f(y, g):\n    return y.grad_fn(g), y.grad_fn.next_functions\n",
                               "`.grad_fn`"),
    "grad mode on in C++": ("import torch\nwith torch.inference_mode(False):\n    pass\n",
                            "`.inference_mode`"),
    "a leaf made to record": ("import torch\nx = torch.ones(3, requires_grad=True)\n",
                              "`requires_grad=`"),
    "a leaf made to record, by a method": ("def f(x):\n    return x.detach().requires_grad_()\n",
                                           "`.requires_grad_`"),
    "torch.autograd imported": ("import torch.autograd as ag\n", "`import torch.autograd`"),
    "torch.func": ("import torch\nvjp = torch.func.vjp\n", "`torch.func`"),
    "the namespace's autograd": ("def f(xp):\n    return xp.autograd\n", "`.autograd`"),
    # SciPy's finite differences: the gradcheck question's loop unwritten (an attacker's
    # approx_fprime at +h and -h, averaged: central differences, full marks)
    "scipy's approx_fprime": ("from scipy.optimize import approx_fprime\n",
                              "`from scipy.optimize import ...`"),
    "scipy's optimize as a name": ("from scipy import optimize\n", "`from scipy import optimize`"),
    "scipy.optimize by attribute": ("import scipy\ng = scipy.optimize.check_grad\n",
                                    "`.optimize`"),
    "approx_fprime wherever reached": ("def f(m):\n    return m.approx_fprime\n",
                                       "`.approx_fprime`"),
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
    "a method's own private helper": (
        "class A:\n    def __init__(self):\n        self._cache = {}\n\n"
        "    def _taps(self, t):\n        return t\n\n"
        "    def f(self):\n        return self._taps(self._cache)\n"),
    "a sibling's private function": "from .activations import _sigmoid\n",
    # honest styles a review found refused by the second version of the rules
    "a lambda reading self's private attribute": (
        "class A:\n    def __init__(self):\n        self._counts = {}\n\n"
        "    def best(self, words):\n        return max(words, key=lambda w: self._counts[w])\n"),
    # a student trial's counter kept by getattr and setattr was refused as a library's name
    "an own private attribute kept by getattr and setattr": (
        "class Q:\n    def forward(self, x):\n"
        "        setattr(self, '_calls', getattr(self, '_calls', 0) + 1)\n        return x\n"),
    "a private static method by its class's name": (
        "class Conv:\n    @staticmethod\n    def _im2col(x):\n        return x\n\n"
        "    @staticmethod\n    def f(x):\n        return Conv._im2col(x)\n"),
    "a class counter": ("class A:\n    _count = 0\n\n    def __init__(self):\n"
                        "        type(self)._count += 1\n"),
    "another object of the same class": (
        "class W:\n    def __init__(self):\n        self._words = []\n\n"
        "    def __eq__(self, other):\n        return self._words == other._words\n"),
    "'types' as a word": ("def stats(s):\n    return {'tokens': len(s), 'types': len(set(s))}"
                          "\n\n\nclass V:\n    def __init__(self, t):\n"
                          "        self.types = sorted(set(t))\n"),
    "logging": "import logging\nlog = logging.getLogger(__name__)\n",
    "a named tuple's API": ("from typing import NamedTuple\n\n\nclass S(NamedTuple):\n"
                            "    h: int\n    c: int\n\n\ns = S(1, 2)._replace(h=3)._asdict()\n"),
    "sys.argv in a demo": "import sys\nif __name__ == '__main__':\n    print(sys.argv)\n",
    "allow_pickle=False": "import numpy as np\nx = np.load('f.npy', allow_pickle=False)\n",
    "a plotting backend": "import matplotlib\nmatplotlib.use('Agg')\n",
    "scipy's statistics and sparse matrices": (
        "import scipy.sparse as sp\nfrom scipy.stats import spearmanr\n"),
    "a script's guard and a decorator": (
        "import functools\n\n\ndef deco(f):\n    @functools.wraps(f)\n"
        "    def g(*a):\n        return f(*a)\n    return g\n\n\n"
        "if __name__ == '__main__':\n    pass\n"),
    "reflected arithmetic": ("class Scalar:\n    def __rpow__(self, other):\n        return 1\n\n"
                             "    def __rfloordiv__(self, other):\n        return 1\n"),
    "a self-test block with numpy's testing": (
        "import numpy as np\n\n\ndef softmax(x):\n    return x\n\n\n"
        "if __name__ == \"__main__\":\n"
        "    np.testing.assert_allclose(softmax(np.ones(2)), [1.0, 1.0])\n"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_rules_refuse_code_that_reaches_the_interpreter_or_the_grader(name):
    source, said = REFUSED[name]
    found = refusals(source, "m.py", {"window", "softmax"})
    assert found, f"{name}: not refused"
    assert said in " | ".join(r.what for r in found), [r.what for r in found]
    message = found[0].message()
    assert message.startswith("m.py line ") and " uses " in message, message


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_the_rules_leave_ordinary_code_alone(name):
    assert refusals(ALLOWED[name], "m.py", {"window", "softmax"}) == []


def test_torch_itself_is_refused_on_the_torch_backend_only():
    """On the NumPy backend the worker hides torch and says so in its own words (an engine);
    on the torch backend torch is there, with ready-made layers and their backward kernels:
    an attacker's convolution and batch normalisation were torch.nn.functional.conv1d with
    torch.nn.grad.conv1d_input and torch.ops.aten.native_batch_norm(_backward), 5.5 of 5.5.
    Graded code reaches torch through the backend's namespace there (the worker takes the
    names NumPy's namespace lacks out of it: test_worker_restrictions.py)."""
    for source in ("import torch\n", "import torch.nn.grad as g\n",
                   "from torch.nn import functional\n", "from torch import ops\n",
                   # torch kept by the namespace's own modules (xp.linalg.torch was torch)
                   "def f(xp):\n    return xp.linalg.torch\n",
                   "from array_api_compat.torch.linalg import torch\n",
                   "import array_api_compat.torch.linalg as la\n"):
        assert refusals(source, "m.py", set(), autograd=False) == [], source
        found = refusals(source, "m.py", set())
        assert found and "the backend's array namespace only" in found[0].advice, source


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
    named = set(re.findall(r"`([a-z_0-9]+)`", row.split("the allowed ones", 1)[1]))
    assert named == set(code_rules.SHOWN_IMPORTS), named ^ set(code_rules.SHOWN_IMPORTS)


#: a way around the rules (an allowed library that loads a module by name and returns it) to the
#: worker's line counter, whose count it then replaces
PATCHED_THROUGH_A_LIBRARY = (
    "        z = self.xp.matmul(x, self.weight.data)  # (N, D_out)\n",
    "        from matplotlib.backends import backend_registry\n"
    "        counter = backend_registry.load_backend_module(\n"
    "            'module://nlpdojo_autograder.runtime.probes')\n"
    "        counter.python_lines_and_result = lambda f, a, k, root_of=None: {\n"
    "            'lines': 0, 'result': f(*a, **k)}\n"
    "        z = self.xp.matmul(x, self.weight.data)  # (N, D_out)\n")


def test_a_module_of_the_grader_reached_anyway_cannot_be_changed(tmp_path, monkeypatch):
    """The worker freezes the grader's modules before any code under test runs
    (runtime/frozen.py): a name they hold cannot be rebound. (The rules now refuse this way
    to the module, the backend registry's ``module://`` names: off here, so that the freezing
    behind them is what is tested.)"""
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           {"library/layers.py": PATCHED_THROUGH_A_LIBRARY})
    assert refused_modules(course, ["library", "neural_networks"])  # the rules refuse it
    monkeypatch.setenv(code_rules.ENV, "off")
    result = _grade(course / "neural_networks", "neural_networks", "affine")
    checks = [c for _, c in result.checks() if c.question == "affine"]
    assert checks and all(c.score == 0 for c in checks), [(c.id, c.message) for c in checks]
    said = " | ".join(c.message for c in checks)
    assert "nlpdojo_autograder.runtime.probes.python_lines_and_result belongs to the grader" \
        in said, said


def test_a_frozen_module_keeps_its_names_and_its_class():
    module = types.ModuleType("nlpdojo_autograder.fake")
    module.count = lambda: 1
    module.__class__ = FrozenModule
    for change in (lambda: setattr(module, "count", None), lambda: delattr(module, "count"),
                   lambda: setattr(module, "__class__", types.ModuleType)):
        with pytest.raises(AttributeError, match="belongs to the grader"):
            change()
    module.added = 2  # a submodule imported later: a new name
    assert type(module) is FrozenModule and module.count() == 1 and module.added == 2
    # a library that writes an object's __dict__ (update_wrapper, copy's _reconstruct) cannot
    class Replacement:
        def __init__(self):
            self.count = None

    with pytest.raises((AttributeError, TypeError)):
        functools.update_wrapper(module, Replacement())
    assert isinstance(module.__dict__, types.MappingProxyType) and module.count() == 1


#: run in a process of its own (an audit hook stays for good): code "of the submission" (its
#: file name under /submitted/) reaching the interpreter under names the rules do not read
HOOKED = r'''
import enum
from nlpdojo_autograder.runtime.reflection import refuse_reflection

refuse_reflection(lambda filename: filename.startswith("/submitted/"))
SUBMITTED = """
import collections, contextlib, copy, dataclasses, enum, inspect, traceback


@dataclasses.dataclass
class Point:  # dataclasses compiles __init__ with exec: the library's call, allowed
    x: int = 0


def gen():
    yield


class Relay:
    def __init__(self, call):
        self.call = call

    def __reduce_ex__(self, protocol):  # copy calls what this returns: a library's frame
        return self.call


def via_copy(func, *args):
    return copy.copy(Relay((func, args)))


def relay(stack):
    stack.callback(b.exec, "import sys; sys._getframe()")
    stack.close()


def relay_call(func):
    stack = contextlib.ExitStack()
    stack.callback(func)
    stack.close()


def attempt(what):
    try:
        what()
    except PermissionError as exc:
        return str(exc)
    return "allowed"


b = enum.bltns
said = {"exec": attempt(lambda: b.exec("x = 1")),
        "frame": attempt(lambda: b.getattr(gen(), "gi_" + "frame")),
        "compile": attempt(lambda: b.compile("1", "f", "eval")),
        # a library relays the exec (what it was handed): the string's code is the submission's
        "relayed": attempt(lambda: relay(contextlib.ExitStack())),
        # code compiled under a frozen module's name is not that module's
        "spoofed frozen": attempt(lambda: via_copy(b.exec, via_copy(
            b.compile, "import sys; sys._getframe()", "<frozen posixpath>", "exec"), {})),
        # the standard library's frame handers: the frame is handed to the submission
        "inspect": attempt(lambda: inspect.currentframe()),
        "stack": attempt(lambda: inspect.stack()),
        "walk_stack": attempt(lambda: next(traceback.walk_stack(None))),
        # a module of the submission named like the library's hander answers for itself,
        # whoever calls it (a library's callback here)
        "own inspect": attempt(lambda: relay_call(own_currentframe)),
        "namedtuple": collections.namedtuple("P", "x")(4).x,  # a library's own frame: allowed
        "dataclass": Point(3).x}
"""
own = {}
exec(compile("import sys\ndef currentframe():\n    return sys._getframe(1)\n",
             "/submitted/inspect.py", "exec"), own)
namespace = {"own_currentframe": own["currentframe"]}
exec(compile(SUBMITTED, "/submitted/m.py", "exec"), namespace)
print(namespace["said"])
exec("y = 2")  # the grader's own code: not refused
'''


def test_the_worker_refuses_reflection_the_rules_could_not_read(tmp_path):
    """runtime/reflection.py: the interpreter's audit events, refused to the submission's own
    frames (a builtin reached under another name, a name built at run time)."""
    import subprocess
    import sys

    harness = tmp_path / "harness.py"  # the grader's code: a file, not a string
    harness.write_text(HOOKED)
    proc = subprocess.run([sys.executable, str(harness)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = ast.literal_eval(proc.stdout.strip())
    for what in ("exec", "frame", "compile", "relayed", "spoofed frozen", "inspect", "stack",
                 "walk_stack", "own inspect"):
        assert said[what].startswith("graded code may not reach the interpreter"), said
    assert said["dataclass"] == 3 and said["namedtuple"] == 4


def test_graded_code_may_not_import_the_topics_given_modules():
    """The given training and scoring code (``Topic.given_modules``) serves the notebooks and
    ``dojo train``; some of it computes what a question asks for data the caller chooses (the
    log-probabilities of a stand-in model's scores: a softmax; the scoring windows:
    ``bptt_windows``; found by attackers), however it is imported. The topic's package itself
    is refused too: its attributes are its modules, the given ones among them."""
    given = {"lm_training", "train"}
    own = {"lm_training", "rnn_lm", "sampling", "utils", "library", "language_models"}
    for source in ("from .lm_training import window_log_probs\n",
                   "from ..language_models.lm_training import rnn_log_probs\n",
                   "from . import lm_training\n", "from lm_training import score_lm\n",
                   "import lm_training\n", "from ..language_models import lm_training\n",
                   "from ..language_models import lm_training as t\n",
                   "from language_models import lm_training\n"):
        found = refusals(source, "sampling.py", own, given=given, topic="language_models")
        assert [r.what for r in found] == ["an import of the given module `lm_training`"], (
            source, found)
    for source in ("from .. import language_models as pkg\n", "import language_models\n",
                   "import language_models.rnn_lm\n"):
        found = refusals(source, "sampling.py", own, given=given, topic="language_models")
        assert [r.what for r in found] == ["the topic's package `language_models` itself"], (
            source, found)
    # honest: its own modules, a method or a helper of its own named like a given module
    for source in ("from .rnn_lm import RNNLM\n", "from . import rnn_lm\n",
                   "def f(model):\n    model.train()\n", "from ..library import Linear\n",
                   "from . import utils\nx = utils.train([1])\n", "from .utils import train\n",
                   "from ..language_models import rnn_lm\n",
                   "import language_models.rnn_lm as rnn_lm\n"):
        assert refusals(source, "sampling.py", own, given=given,
                        topic="language_models") == [], source
    # a given module may import another
    assert refusals("from .lm_training import x\n", "train.py", own, given=given,
                    topic="language_models") == []


def test_autograds_names_are_refused_on_the_torch_backend_only():
    """On NumPy a student's own ``requires_grad`` flag is theirs (torch is not in the
    sandbox); on torch it is autograd's."""
    source = ("class Linear:\n    def freeze(self, requires_grad=False):\n"
              "        self.requires_grad = requires_grad\n\n\nLABELS = ['numeric', 'autograd']\n")
    assert refusals(source, "layers.py", autograd=False) == []
    found = refusals(source, "layers.py", autograd=True)
    assert {r.what for r in found} == {"`.requires_grad`", "the string 'autograd' (a name of "
                                       "torch's autograd)"}, found
    assert all("chain rule" in r.advice for r in found)


def test_a_self_test_may_use_numpys_comparisons():
    source = ("import numpy as np\nfrom numpy.testing import assert_allclose\n\n\n"
              "def softmax(x):\n    return x\n\n\ndef _self_test():\n"
              "    np.testing.assert_array_equal(softmax(np.ones(2)), [1.0, 1.0])\n"
              "    assert_allclose(softmax(np.ones(2)), [1.0, 1.0])\n\n\n"
              "if __name__ == '__main__':\n    _self_test()\n")
    assert refusals(source, "softmax.py") == []
    for source, said in (("from numpy.testing import extbuild\n",
                          "`from numpy.testing import ...`"),
                         ("import numpy as np\nb = np.testing.extbuild\n",
                          "`.testing` (a module kept by another)")):
        assert said in [r.what for r in refusals(source, "softmax.py")], source


def test_a_question_that_imports_given_code_earns_nothing_and_the_others_keep_theirs(tmp_path):
    course = edited_course(tmp_path, ("language_models",), appended={
        "language_models/sampling.py": "from .lm_training import window_log_probs  # noqa\n"})
    result = _grade(course / "language_models", "language_models", "sampling", "perplexity")
    checks = [c for _, c in result.checks()]
    sampling = [c for c in checks if c.question == "sampling"]
    others = [c for c in checks if c.question != "sampling"]
    assert sampling and all(c.score == 0 for c in sampling), [(c.id, c.message) for c in sampling]
    assert all("an import of the given module `lm_training`" in c.message for c in sampling)
    assert others and all(c.score == c.max_score for c in others), [
        (c.id, c.message) for c in others]


def test_a_module_nested_too_deeply_to_read_is_refused_not_an_internal_error(tmp_path):
    """The adversarial student's trial: ``return x+0+0+...`` with a thousand terms parses, but
    the rules' reader recursed past Python's limit: ``grade`` ended with an internal error
    (exit 3, "not your fault", no report), and a cohort with it. The module is refused with
    what to do; the others of its folder are read as before."""
    topic = tmp_path / "t"
    topic.mkdir()
    (topic / "deep.py").write_text("def f(x):\n    return x" + "+0" * 1000 + "\n")
    (topic / "ok.py").write_text("def g(x):\n    return x + 1\n")
    (topic / "bad.py").write_text("def h():\n    return eval('1')\n")
    found = refused_modules(tmp_path, ["t"])
    assert found["t.deep"] == ("t/deep.py line 1 uses expressions nested too deeply for the "
                               "grader to read: write them with fewer levels (a sum over a "
                               "list, a loop)")
    assert "t.ok" not in found and "eval" in found["t.bad"]


@pytest.mark.parametrize(("name", "head", "tail"), [
    ("a byte-order mark", b"\xef\xbb\xbf", b""),  # Notepad's UTF-8
    ("a latin-1 coding declaration", b"# -*- coding: latin-1 -*-\n", b"# caf\xe9\n"),
    # lines ended by a lone CR: Python reads the declaration on line 2, tokenize's readline
    # (lines split at \n) read none and skipped the module (a second adversarial trial)
    ("a declaration after a lone CR", b"#!x\r# coding: latin-1\r# caf\xe9\n", b""),
])
def test_a_module_in_another_encoding_python_reads_is_read_by_the_rules_too(tmp_path, name,
                                                                          head, tail):
    """An adversarial trial: the rules read each module as UTF-8 and skipped one that did not
    decode ("the import reports it"), but Python imports a module with a byte-order mark or a
    coding declaration: SciPy's finite differences in such a gradcheck.py earned 2.5 of 2.5,
    the rules never having read it. The rules read a module as Python does."""
    topic = tmp_path / "t"
    topic.mkdir()
    body = b"from scipy.optimize import approx_fprime\n"
    (topic / "g.py").write_bytes(head + body + tail)
    found = refused_modules(tmp_path, ["t"])
    assert "approx_fprime" in found["t.g"] or "scipy.optimize" in found["t.g"], (name, found)
    text = code_rules.python_source(head + body + tail)  # as text: the mark dropped
    assert "from scipy.optimize" in text and not text.startswith("\ufeff")
    (topic / "g.py").write_bytes(b"x = '\xe9'\n")  # not UTF-8, no declaration: Python's import
    assert refused_modules(tmp_path, ["t"]) == {}  # fails too, and says so


def test_a_declaration_python_does_not_read_is_not_read_by_the_rules(tmp_path):
    """A second adversarial trial: a UTF-8 module whose first lines end in a lone CR, with
    ``# coding: latin-1`` on its third line, which Python ignores (lines 1 and 2 only) but
    tokenize's readline found on its "first" line: the rules read it as latin-1, the
    refused names spelled with U+00AA and U+00BA (which Python's identifiers normalise to a
    and o) read as other names, and SciPy's finite differences passed (2.5 of 2.5). The rules
    parse the bytes as the import does."""
    topic = tmp_path / "t"
    topic.mkdir()
    source = ("#!/usr/bin/env python\rfrom __future__ import annotations\r# coding: latin-1\n"
              "from scipy.\u00baptimize import \u00aapprox_fprime\n").encode("utf-8")
    (topic / "g.py").write_bytes(source)
    found = refused_modules(tmp_path, ["t"])
    assert "scipy" in found.get("t.g", ""), found
    assert "from scipy.\u00baptimize" in code_rules.python_source(source)  # read as UTF-8
