"""A layer's backward at scale (``layer_checks(at_scale=...)``, autograder/authoring/at_scale.py).

An attacker's backward differentiated the forward by complex steps, every parameter and input
column perturbed in one stacked forward: exact, few lines, 10 points on three questions. At
a size of 100k+ numbers the stacked copies do not fit and the chain rule's backward still
costs milliseconds, so every layer question with parameters runs once at such a size,
compared with the reference (tests/grading/test_differentiation_engines.py has the attack)."""

from __future__ import annotations

import ast
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nlpdojo_autograder.authoring import LayerCase
from nlpdojo_autograder.authoring.at_scale import (
    AT_SCALE_CPU_FLOOR_S,
    AT_SCALE_CPU_RATIO,
    MIN_AT_SCALE_NUMBERS,
    configuration,
    require_at_scale,
)
from nlpdojo_autograder.authoring.checks import CheckFailure
from nlpdojo_autograder.runtime.calls import StudentError

COURSE = Path(__file__).resolve().parents[2] / "course"
BUILDERS = {"layer_checks", "sequence_checks", "torch_check", "function_checks", "Variant"}
#: the training kit's helpers that return a builder's arguments, a case at scale among them
#: (``layer_checks(cls, ..., **window_network(sizes, at_scale))``):
#: test_the_kits_argument_helpers_name_a_case_at_scale holds them to it
ARGUMENT_HELPERS = {"window_network"}


def _expands_a_helper(call: ast.Call) -> bool:
    """Whether ``call`` passes ``**helper(...)`` of :data:`ARGUMENT_HELPERS`."""
    return any(k.arg is None and isinstance(k.value, ast.Call)
               and isinstance(k.value.func, ast.Name) and k.value.func.id in ARGUMENT_HELPERS
               for k in call.keywords)


def _calls_without_at_scale(tree: ast.AST) -> list[int]:
    """Lines of builder calls naming no case at scale; a ``layer_checks`` of variants alone
    (no case of its own) is judged by its ``Variant(...)`` calls."""
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in BUILDERS):
            continue
        words = {k.arg: k.value for k in node.keywords}
        if node.func.id == "layer_checks" and len(node.args) < 2 and "variants" in words:
            continue
        no_parameters = isinstance(words.get("parameters"), ast.Constant) and \
            words["parameters"].value is False
        if "at_scale" not in words and not no_parameters and not _expands_a_helper(node):
            lines.append(node.lineno)
    return lines


def test_the_kits_argument_helpers_name_a_case_at_scale():
    from nlpdojo_autograder import training

    assert ARGUMENT_HELPERS == {"window_network"}
    arguments = training.window_network((10, 3, 2, 5, 6), (64, 4, 8, 16, 32), classes=4,
                                        at_scale_classes=5)
    assert callable(arguments["make"]) and callable(arguments["at_scale"])


def test_every_layer_question_with_parameters_runs_at_scale():
    """A layer with parameters (or an unroll) names its case at scale, and a function that
    returns its gradients its arguments at scale; a layer without parameters may say
    ``parameters=False``, and the others ``at_scale=None``, in the open. (A loss, per row,
    has no case at scale: docs/security.md, "Residual risks".)"""
    missing = [f"{path.relative_to(COURSE.parent)}:{line}"
               for path in sorted(COURSE.rglob("*.py"))
               for line in _calls_without_at_scale(ast.parse(path.read_text()))]
    assert not missing, missing


def test_the_rule_finds_a_layer_without_a_case_at_scale():
    assert _calls_without_at_scale(ast.parse(
        "layer_checks('q', 'm', 'C', make, title='t', points=1.0)")) == [1]
    assert not _calls_without_at_scale(ast.parse(
        "layer_checks('q', 'm', 'C', make, title='t', points=1.0, parameters=False)"))
    assert not _calls_without_at_scale(ast.parse("torch_check('q', 'm', 'C', at_scale=None)"))
    assert _calls_without_at_scale(ast.parse(
        "layer_checks('C', variants={'a': Variant(make, 't', 1.0)})")) == [1]
    assert not _calls_without_at_scale(ast.parse(
        "layer_checks('C', variants={'a': Variant(make, 't', 1.0, at_scale=None)})"))


class _Reference:
    """A trusted subject whose probes answer like the reference's."""

    def __init__(self, outputs):
        self.outputs = outputs

    def call(self, target, args, kwargs):
        return {"value": _answer(self.outputs, target.args[2])}


def _answer(outputs, name):
    """What a probe answers: ``python_lines_and_result`` runs ``layer_run`` with its lines
    counted (``outputs["lines"]``, 40 unless given)."""
    if name == "python_lines_and_result":
        return {"lines": outputs.get("lines", 40), "result": outputs["layer_run"],
                "hottest": outputs.get("hottest")}
    return outputs[name]


def _ctx(student, reference, cache=None):
    return SimpleNamespace(
        expected_only=False, subject=SimpleNamespace(isolation="sandbox"),
        trusted=lambda: reference, cache={} if cache is None else cache,
        rng=lambda offset=0: np.random.default_rng(offset),
        backend=SimpleNamespace(dtype=None, name="numpy"),
        probe=lambda name: lambda *a, **k: _answer(student, name),
        to_numpy=lambda x, what="", number=False: np.asarray(x, dtype=np.float64))


def _case(n=MIN_AT_SCALE_NUMBERS, **kwargs):
    return lambda ctx: LayerCase(args=(ctx.backend, 4), kwargs=kwargs,
                                 params={"weight": np.zeros(n)},
                                 inputs=lambda r: (np.zeros((2, 3)),))


def _run(probe, case, inputs, grads):
    return probe("output_shape") if grads is None else probe("layer_run")


#: the reference's run at scale draws the upstream gradient itself and returns it
#: (``grad_outputs``), which the code under test is then given
TRUE = {"output_shape": (2, 3),
        "layer_run": {"outputs": [np.ones((2, 3))], "input_grads": [np.ones((2, 3))],
                      "param_grads": {"weight": np.arange(5.0)},
                      "grad_outputs": [np.full((2, 3), 0.5)]}}


def test_agreeing_with_the_reference_passes_once_per_grading():
    cache: dict = {}
    ctx = _ctx(TRUE, _Reference(TRUE), cache)
    require_at_scale(ctx, "m", "Layer", _case(), _run)
    require_at_scale(ctx, "m", "Layer", _case(), _run)  # another check, the same case
    assert list(cache.values()) == [""]
    assert [key[:3] for key in cache] == [("at scale", "m", "Layer")]


def test_every_configuration_of_a_layer_is_run_at_scale():
    """A layer's checks may build it otherwise (a stride of 2, a projection shortcut, a state
    (h, c)): each configuration's case at scale runs, so code that takes another path for one
    of them (an attacker's Conv1d differenced the strided case numerically while only the plain
    case ran) is measured on that path too."""
    right, cheats = dict(TRUE), {**TRUE, "layer_run": {**TRUE["layer_run"],
                                                      "input_grads": [np.zeros((2, 3))]}}
    answers = {1: right, 2: cheats}

    def run(probe, case, inputs, grads):  # the code under test cheats at stride 2 only
        if probe.__name__ == "on_student" and grads is not None:
            return answers[case.kwargs["stride"]]["layer_run"]
        return _run(probe, case, inputs, grads)

    cache: dict = {}
    ctx = _ctx(TRUE, _Reference(TRUE), cache)
    require_at_scale(ctx, "m", "Conv", _case(stride=1), run)
    with pytest.raises(CheckFailure, match="dL/d|gradient"):
        require_at_scale(ctx, "m", "Conv", _case(stride=2), run)
    assert len(cache) == 2


def test_a_configuration_is_how_the_layer_is_built_not_its_numbers():
    backend = SimpleNamespace(dtype=None, name="numpy")
    ctx = SimpleNamespace(backend=backend)
    plain, again = _case(stride=1)(ctx), _case(stride=1)(ctx)
    again.params["weight"] = np.ones_like(again.params["weight"])  # other values, same shape
    assert configuration(plain) == configuration(again)
    assert configuration(plain) != configuration(_case(stride=2)(ctx))
    assert configuration(plain) != configuration(_case(n=MIN_AT_SCALE_NUMBERS + 1, stride=1)(ctx))
    trained = _case(stride=1)(ctx)
    trained.train = False
    assert configuration(plain) != configuration(trained)


def test_a_wrong_gradient_at_scale_fails_every_check_that_asks():
    wrong = {**TRUE, "layer_run": {**TRUE["layer_run"],
                                   "param_grads": {"weight": np.arange(5.0) + 1e-3}}}
    cache: dict = {}
    for _ in range(2):  # the second check reads the first one's verdict
        with pytest.raises(CheckFailure, match="gradient of weight differs from the true one"):
            require_at_scale(_ctx(wrong, _Reference(TRUE), cache), "m", "Layer", _case(), _run)


def test_a_wrong_output_at_scale_is_told_as_a_wrong_forward_not_numerical_derivatives():
    """Found by a student: a GRU with its update gate the wrong way round was told, by the
    check the run at scale withheld, about gradients found by differentiating numerically."""
    wrong = {**TRUE, "layer_run": {**TRUE["layer_run"], "outputs": [np.zeros((2, 3))]}}
    _told_as_a_wrong_forward(_ctx(wrong, _Reference(TRUE)), _run,
                             "Layer's output differs from the true one")


def _told_as_a_wrong_forward(ctx, run, phrase):
    with pytest.raises(CheckFailure) as failed:
        require_at_scale(ctx, "m", "Layer", _case(), run)
    said = str(failed.value)
    assert phrase in said, said
    assert "The forward pass is wrong at this size" in said
    assert "numerically" not in said


def test_an_output_of_another_shape_at_scale_is_told_as_the_forwards_mistake():
    """Found by a student: a Conv1d whose output had one position too many failed its backward
    on the reference's upstream gradient at scale, and was told about gradients found by
    differentiating numerically."""
    def run(probe, case, inputs, grads):  # the code under test gives (2, 4) and breaks
        if probe.__name__ == "on_student":
            if grads is None:
                return (2, 4)
            raise StudentError({"type": "ValueError", "message": "shapes (2,3) and (2,4)"})
        return _run(probe, case, inputs, grads)

    _told_as_a_wrong_forward(_ctx(TRUE, _Reference(TRUE)), run,
                             "Layer's output has shape (2, 4), not (2, 3)")


def test_an_error_at_scale_with_the_right_output_shape_is_the_backwards():
    def run(probe, case, inputs, grads):
        if probe.__name__ == "on_student" and grads is not None:
            raise StudentError({"type": "MemoryError", "message": "out of memory"})
        return _run(probe, case, inputs, grads)

    with pytest.raises(CheckFailure, match="Layer at scale raised MemoryError: out of memory"):
        require_at_scale(_ctx(TRUE, _Reference(TRUE)), "m", "Layer", _case(), run)


def test_an_error_at_scale_alone_points_at_a_size_written_in():
    """Found by an attacker: a SentenceLSTM that ignored hidden_size raised at scale only (the
    cases' sizes were equal) and was told about gradients differentiated numerically. An error
    other than running out of memory says the run's sizes and the likely cause."""
    def run(probe, case, inputs, grads):
        if probe.__name__ == "on_student" and grads is not None:
            raise StudentError({"type": "ValueError", "message": "cannot reshape array"})
        return _run(probe, case, inputs, grads)

    with pytest.raises(CheckFailure) as failed:
        require_at_scale(_ctx(TRUE, _Reference(TRUE)), "m", "Layer", _case(), run)
    said = str(failed.value)
    assert "Layer at scale raised ValueError: cannot reshape array" in said, said
    assert "The run at scale, Layer(" in said and "a size written in" in said, said
    assert "numerically" not in said, said


def test_a_loop_at_scale_fails_on_its_lines_of_python():
    """Right numbers at scale are not enough: a backward that differences the forward over
    groups of coordinates (a row's coordinates for every row at once, a parameter's rows block
    by block) finished in seconds at scale, running thousands of lines of Python where the
    chain rule's runs as many as at any size."""
    allowed = 8 * 40 + 60  # AT_SCALE_LINES_RATIO times the reference's, and the slack
    require_at_scale(_ctx({**TRUE, "lines": allowed}, _Reference(TRUE)), "m", "Layer",
                     _case(), _run)
    with pytest.raises(CheckFailure, match=r"ran 381 lines of Python where the reference's "
                                           r"ran 40: a Python loop whose turns grow"):
        require_at_scale(_ctx({**TRUE, "lines": allowed + 1}, _Reference(TRUE)), "m", "Layer",
                         _case(), _run)
    # the line the worker's count noted most is named; what is not such a note is not
    with pytest.raises(CheckFailure, match=r"ran 381 lines of Python where the reference's "
                                           r"ran 40 \(most of them at line 14 of t/layer.py\)"):
        require_at_scale(_ctx({**TRUE, "lines": allowed + 1, "hottest": ["t/layer.py", 14]},
                              _Reference(TRUE)), "m", "Layer", _case(), _run)
    for odd in (["t/layer.py", "14"], "t/layer.py:14", [1, 2], ["t", 1, 3], ["t", True]):
        with pytest.raises(CheckFailure, match=r"ran 40: a Python loop"):
            require_at_scale(_ctx({**TRUE, "lines": allowed + 1, "hottest": odd},
                                  _Reference(TRUE)), "m", "Layer", _case(), _run)


def test_a_count_notes_the_line_a_loop_runs_most():
    """A student's one-hot vector built as a list over the vocabulary was told it had
    differentiated numerically: the count notes the line its loop ran most (after
    ``HOT_AFTER`` lines), which the message names; code that runs few lines notes none."""
    from nlpdojo_autograder.runtime import probes

    def looped(n):
        return [1.0 if i == 3 else 0.0 for i in range(n)]

    said = probes.python_lines_and_result(looped, [1000], {})
    file, line = said["hottest"]
    assert file.endswith("test_at_scale.py") and "/" in file  # within the course folder
    assert line == looped.__code__.co_firstlineno + 1
    assert probes.python_lines_and_result(looped, [10], {})["hottest"] is None


def test_no_reference_or_the_reference_itself_compares_nothing():
    require_at_scale(_ctx({}, None), "m", "Layer", _case(), _run)  # a student release
    ctx = _ctx({}, _Reference(TRUE))
    ctx.subject.isolation = "trusted"
    require_at_scale(ctx, "m", "Layer", _case(), _run)


def test_a_case_too_small_to_be_at_scale_is_the_authors_error():
    with pytest.raises(CheckFailure, match="internal: Layer's case at scale has"):
        require_at_scale(_ctx(TRUE, _Reference(TRUE)), "m", "Layer", _case(10), _run)


def test_a_builder_left_without_a_case_at_scale_refuses_saying_what_to_write():
    """An instructor's topic (found following the walk-through) releases and verifies without
    a case at scale, so a backward by numerical differentiation over K copies earns its
    points: the builders refuse to be declared without one, unless said in the open."""
    from nlpdojo_autograder.authoring import function_checks, layer_checks, sequence_checks
    from nlpdojo_autograder.authoring.builders import torch_check

    def make(ctx):
        raise AssertionError("not drawn at declaration")

    for builder, declare in (
            ("layer_checks", lambda **k: layer_checks("C", make,
                                                      question="q", module="m", title="t",
                                                      points=1.0, **k)),
            ("torch_check", lambda **k: torch_check("C", make,
                                                    question="q", module="m", torch=lambda p, x: x,
                                                    title="t", points=1.0, **k)),
            ("sequence_checks", lambda **k: sequence_checks("C", make,
                                                            question="q", module="m", title="t",
                                                            points=1.0, **k))):
        with pytest.raises(ValueError, match=rf"{builder}\('q', \.\.\., 'C'\) names no case at "
                                             r"scale: give at_scale=.*or at_scale=None"):
            declare()
        assert declare(at_scale=None)  # said in the open
    with pytest.raises(ValueError, match=r"function_checks\('q', \.\.\., 'f'\)"):
        function_checks("f", make,
                        question="q", module="m",
                        outputs=("loss", "grad_x"), points={"values": 1.0},
                        title="t")
    assert layer_checks("C", make,
                        question="q", module="m", title="t", points=1.0, parameters=False)


def test_a_case_at_scale_must_build_the_layer_as_the_checks_case_does():
    """The sentence encoder's max and final pooling were gated by its mean pooling's case at
    scale: a backward that did nothing at the large size, in those modes, kept 4 of 4 (found
    by an attacker). Such a declaration now fails every check it gates, the reference's
    first."""
    from nlpdojo_autograder.authoring.builders.cases import _same_configuration

    def case(pooling, size, cells=None, **more):
        return LayerCase(args=(None, size), kwargs={"pooling": pooling, "width": size, **more},
                         params={}, inputs=lambda r: (), cells=cells or {},
                         sizes=frozenset({"width"}))

    _same_configuration("RNNEncoder", case("max", 5), case("max", 4096))  # sizes may differ
    # a number that is not a size is how the layer is built (a QRNN's kernel width of 2 was
    # gated by a case at scale of width 3; a CNN with dropout by one without: found by an
    # attacker)
    with pytest.raises(CheckFailure, match="LayerCase.sizes"):
        _same_configuration("QRNN", case("max", 5, kernel_size=2),
                            case("max", 4096, kernel_size=3))
    with pytest.raises(CheckFailure, match="give each configuration"):
        _same_configuration("KimCNN", case("max", 5, dropout=0.5),
                            case("max", 4096, dropout=0.0))
    with pytest.raises(CheckFailure, match="give each configuration a case at scale"):
        _same_configuration("RNNEncoder", case("max", 5), case("mean", 4096))
    with pytest.raises(CheckFailure, match="internal"):
        _same_configuration("Stacked", case("max", 5, {"cells.0": ("lstm", 3, 4)}),
                            case("max", 4096, {"cells.0": ("gru", 3, 4)}))
    # another count of layers at scale (a stack's), the same kind of cell: allowed
    _same_configuration("Stacked", case("max", 5, {"cells.0": ("lstm", 3, 4)}),
                        case("max", 4096, {f"cells.{k}": ("lstm", 3, 4) for k in range(3)}))


def test_every_size_is_told_from_a_number_written_in_and_from_the_others():
    """Found by an attacker: a residual block with kernel_size 3 written in kept full marks
    where every case had 3, and a sentence CNN that took its filters from embedding_dim where
    every case had as many of both. A declaration whose sizes cannot tell these apart fails
    every check it gates, the reference's first; sizes tied by construction are declared."""
    from nlpdojo_autograder.authoring.builders.cases import _sizes_told_apart

    def case(*args, tied=frozenset(), **kwargs):
        return LayerCase(args=(None, *args), kwargs=kwargs, params={}, inputs=lambda r: (),
                         sizes=frozenset({"filters"}), tied=tied)

    _sizes_told_apart("CNN", case(5, 2, filters=3), case(4096, 32, filters=32))
    _sizes_told_apart("Conv", case(3, 4, 3, stride=2), case(256, 512, 4, stride=2))  # not sizes
    with pytest.raises(CheckFailure, match=r"argument 3 \(3\) is the same in the case and"):
        _sizes_told_apart("Conv", case(3, 4, 3), case(256, 512, 3))
    with pytest.raises(CheckFailure, match="argument 2 and filters are equal in the case"):
        _sizes_told_apart("CNN", case(5, 2, filters=2), case(4096, 32, filters=32))
    with pytest.raises(CheckFailure, match="argument 1 and argument 2 are equal"):
        _sizes_told_apart("Block", case(3, 3), case(192, 192))
    tied = frozenset({"argument 1", "argument 2"})
    _sizes_told_apart("Block", case(3, 3, tied=tied), case(192, 192, tied=tied))


class _Worker:
    """A student's subject whose CPU clock (``cpu_seconds``, the grader's reading of the
    worker's ``/proc``) a counted run at scale advances by ``spends`` seconds."""

    isolation = "sandbox"

    def __init__(self, spends, readable=True):
        self.now, self.spends, self.readable = 0.0, spends, readable

    def cpu_seconds(self):
        return self.now if self.readable else None

    def probe(self, name):
        def run(*args, **kwargs):
            if name == "python_lines_and_result":
                self.now += self.spends
            return _answer(TRUE, name)
        return run


class _TimedReference(_Reference):
    def __init__(self, outputs, spends):
        super().__init__(outputs)
        self.now, self.spends = 0.0, spends

    def cpu_seconds(self):
        return self.now

    def call(self, target, args, kwargs):
        if target.args[2] == "python_lines_and_result":
            self.now += self.spends
        return super().call(target, args, kwargs)


def _timed(yours_s, true_s, readable=True):
    worker = _Worker(yours_s, readable)
    ctx = _ctx(TRUE, _TimedReference(TRUE, true_s))
    ctx.subject, ctx.probe = worker, worker.probe
    require_at_scale(ctx, "m", "Layer", _case(), _run)


def test_cpu_time_at_scale_far_beyond_the_references_fails():
    """Right numbers in few lines are not enough: a backward that differences the forward in
    groups of coordinates, stacked into a few chunks of one broadcasting forward (an
    attacker's kept the LSTM and GRU cells, 8.5 points, and the 1-D convolution, 3, at
    scale), runs a forward per group, 1,000 times the reference's CPU time and more. The
    worker's CPU time, read outside it, may be at most AT_SCALE_CPU_RATIO times the
    reference's on the same call, or the floor, whichever is more."""
    assert (AT_SCALE_CPU_RATIO, AT_SCALE_CPU_FLOOR_S) == (50, 1.0)
    _timed(0.9, 0.001)  # under the floor: small cases never decide
    _timed(2.4, 0.05)  # under 50 times the reference's
    with pytest.raises(CheckFailure, match=r"took 1\.10 s of CPU time where the reference's "
                                           r"took 0\.001 s on the same numbers \(at most 1\.00"):
        _timed(1.1, 0.001)
    with pytest.raises(CheckFailure, match=r"at most 2\.50 s is allowed here\)\. At this "
                                           r"size that much work means gradients "
                                           r"differentiated numerically"):
        _timed(2.6, 0.05)


class _CappedWorker(_Worker):
    """A worker that honours the CPU cap the grader sends with the run at scale: stopped at
    it (``overshoot`` past it, as a signal waits for the native call under way), saying so;
    or (``lies``) saying so at once, having spent ``spends``."""

    def __init__(self, spends, overshoot=0.175, lies=False):
        super().__init__(spends)
        self.overshoot, self.lies, self.caps = overshoot, lies, []

    def probe(self, name):
        def run(*args, **kwargs):
            if name != "python_lines_and_result":
                return _answer(TRUE, name)
            cap = kwargs.get("cpu_cap")
            self.caps.append(cap)
            if self.lies:
                self.now += self.spends
            elif cap is not None and self.spends > cap:
                self.now += cap + self.overshoot
            else:
                self.now += self.spends
                return _answer(TRUE, name)
            return {"lines": 7, "result": None, "hottest": None, "cpu_capped": True}
        return run


def _capped(worker, true_s):
    ctx = _ctx(TRUE, _TimedReference(TRUE, true_s))
    ctx.subject, ctx.probe = worker, worker.probe
    require_at_scale(ctx, "m", "Layer", _case(), _run)


def test_a_run_at_scale_past_its_cpu_cap_is_stopped_and_fails_as_it_would_have():
    """The code under test's run is sent with a cap a quarter above what it may use (the
    reference's 0.05 s: 2.5 s allowed, 3.125 the cap), so a slow backward costs the grader
    about 3 s, not its whole run (an attacker's forwards on bumps took 9.4 s at scale); the
    verdict is the one the whole run would get, on the CPU time read from outside."""
    worker = _CappedWorker(60.0)
    with pytest.raises(CheckFailure, match=r"was stopped after 3\.30 s of CPU time where the "
                                           r"reference's took 0\.050 s on the same numbers "
                                           r"\(at most 2\.50 s is allowed here\)"):
        _capped(worker, 0.05)
    assert worker.caps == [pytest.approx(1.25 * 2.5)]
    _capped(_CappedWorker(2.4), 0.05)  # under it: run whole, compared, passed


def test_a_worker_that_says_it_was_stopped_without_the_cpu_time_gets_nothing():
    """The reply's word that the run was stopped is not trusted: where the CPU time read from
    outside does not bear it out, the run gave nothing to compare, and fails."""
    with pytest.raises(CheckFailure, match="gave no result"):
        _capped(_CappedWorker(0.1, lies=True), 0.05)


#: a counted call in a fresh process (a signal needs the main thread, which a pytest-xdist
#: worker's tests may not run in): one that spins, one that catches the stop and returns;
#: then, the worker's refusal of reflection in place, a Python loop over NumPy calls stopped
#: 100 times (the stop raised on the way into the line counter's tracer made CPython drop the
#: tracer, whose audit event the worker refuses: a trial's 1 stop in 10 said PermissionError;
#: before the fix 3 runs of this in 4 met one)
CAPPED_CALLS = """
import gc, json, sys
import numpy as np
from nlpdojo_autograder.runtime import reflection
from nlpdojo_autograder.runtime.probes import python_lines_and_result

def spin():
    while True:
        sum(range(1000))

def stubborn():
    try:
        spin()
    except BaseException:
        return 42

def numpy_loop():
    a, total = np.ones(4), 0.0
    while True:
        total += float(np.sum(a * total))

replies = [python_lines_and_result(f, [], {}, cpu_cap=0.3, one_thread=True)
           for f in (spin, stubborn)]
reflection.refuse_reflection(lambda filename: filename == __file__)
ends = []
for _ in range(100):
    try:
        reply = python_lines_and_result(numpy_loop, [], {}, cpu_cap=0.03)
        ends.append("capped" if reply.get("cpu_capped") is True else "returned")
    except BaseException as exc:
        ends.append(type(exc).__name__)
    ends.append("traced" if sys.gettrace() is not None else "")
    ends.append("" if gc.isenabled() else "gc off")
print(json.dumps([replies, sorted(set(ends))], default=str))
"""


def test_a_counted_call_is_stopped_at_its_cpu_cap_with_its_lines_so_far(tmp_path):
    """The worker's side: past ``cpu_cap`` seconds of CPU a counted call is stopped, its reply
    saying so with the lines counted by then; code that catches the stop runs on, its result
    sent as ever (the cap only saves time: the grader judges by what it reads outside)."""
    import json
    import subprocess
    import sys

    script = tmp_path / "capped_calls.py"  # (a file: the refusal tells its code by name)
    script.write_text(CAPPED_CALLS, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (spun, stubborn), ends = json.loads(done.stdout)
    assert spun["cpu_capped"] is True and spun["result"] is None and spun["lines"] > 100
    assert "cpu_capped" not in stubborn and stubborn["result"] == 42
    assert ends == ["", "capped"], ends  # every stop a stop: no tracer or collector left off


def test_cpu_time_that_cannot_be_read_decides_nothing():
    _timed(100.0, 0.001, readable=False)  # a worker that cannot be read (no /proc): lines,
    # values and the limits of time and memory still stand


def test_a_workers_cpu_time_is_read_from_proc_every_thread_counted():
    """What the grader reads of the worker (``/proc/PID/stat``, the process and its
    descendants): a thread's work counts, and nothing the process does changes it."""
    from nlpdojo_autograder.runtime.remote import _tree_cpu_seconds

    before = _tree_cpu_seconds(os.getpid())
    stop = time.process_time() + 0.3

    def spin():
        while time.process_time() < stop:
            sum(range(10_000))

    thread = threading.Thread(target=spin)
    thread.start()
    thread.join()
    after = _tree_cpu_seconds(os.getpid())
    assert before is not None and after - before >= 0.2, (before, after)
    assert _tree_cpu_seconds(2 ** 22 + 12345) is None  # no such process


def test_work_asked_of_the_swapped_in_reference_counts_as_the_calls():
    """A layer that calls a swapped-in reference (a cell in an unroll) has that work done in
    the reference process: the student's call at scale is charged with it, after that
    process's start-up (the grader's own), also across a restart."""
    from nlpdojo_autograder.runtime.remote import ReferenceProcess

    class Process:
        def __init__(self, ready):
            self.now, self.alive = ready, True

        def cpu_seconds(self):
            return self.now

        def stop(self):
            self.alive = False

    references = ReferenceProcess.__new__(ReferenceProcess)
    references.process, references._told = None, None
    references._cpu_before, references._cpu_at_ready = 0.0, None
    assert references.cpu_seconds() == 0.0  # not started: nothing done for the student
    references.process = Process(ready=1.5)  # 1.5 s of imports before it was ready
    references._cpu_at_ready = 1.5
    references.process.now = 2.0
    assert references.cpu_seconds() == pytest.approx(0.5)
    references.stop()  # stopped (a time-out): what it did stays counted
    references.process = Process(ready=1.2)
    references._cpu_at_ready = 1.2
    references.process.now = 1.5
    assert references.cpu_seconds() == pytest.approx(0.8)


def test_a_check_that_earns_nothing_on_its_own_skips_the_run_at_scale():
    """Where the reference's payload is known (``ctx.known``) and the check's own verdict
    earns nothing, the gate's judge would not read the run at scale: it is not run. Where the
    check passes on its own, or nothing is known, it runs and its problem costs the points."""
    from nlpdojo_autograder.authoring import value_check
    from nlpdojo_autograder.authoring.at_scale import PROBLEM_KEY, gate

    runs = []

    def require(ctx):
        runs.append(ctx)
        raise CheckFailure("at scale: too slow")

    check = gate(value_check("values", "a case", 1.0, lambda ctx: {"y": np.ones(3)},
                             question="q"), require)
    wrong = SimpleNamespace(known={"y": np.zeros(3)})
    payload = check.collect(wrong)
    assert runs == [] and PROBLEM_KEY not in payload
    verdict = check.judge(payload, wrong.known)
    assert not verdict.passed and "at scale" not in verdict.message
    right = SimpleNamespace(known={"y": np.ones(3)})
    payload = check.collect(right)
    assert runs == [right]
    verdict = check.judge(payload, right.known)
    assert not verdict.passed and verdict.message == "at scale: too slow"
    unknown = SimpleNamespace(known={})
    assert PROBLEM_KEY in check.collect(unknown) and runs[-1] is unknown


def test_the_integrity_rules_of_a_check_that_earns_nothing_are_not_run():
    """A gated check's integrity rules (``ctx.rule``: lines counted, a backward traced) wait
    for its own verdict: not run where it earns nothing, run before the run at scale where
    it passes or nothing is known; without a gate a rule runs where it is asked."""
    from nlpdojo_autograder.authoring import Context, value_check
    from nlpdojo_autograder.authoring.at_scale import gate

    class _Ctx:
        rule = Context.rule

        def __init__(self, known):
            self.known, self.deferred, self.expected_only = known, None, False

    order = []

    def collect(ctx):
        ctx.rule(lambda: order.append("rule"))
        order.append("collected")
        return {"y": np.ones(3)}

    check = value_check("values", "a case", 1.0, collect, question="q")
    gated = gate(check, lambda ctx: order.append("at scale"))
    gated.collect(_Ctx({"y": np.zeros(3)}))
    assert order == ["collected"]
    order.clear()
    gated.collect(_Ctx({"y": np.ones(3)}))
    assert order == ["collected", "rule", "at scale"]
    order.clear()
    ctx = _Ctx({})
    gated.collect(ctx)
    assert order == ["collected", "rule", "at scale"] and ctx.deferred is None
    order.clear()
    check.collect(_Ctx({"y": np.zeros(3)}))  # no gate: at once
    assert order == ["rule", "collected"]


def test_a_rules_verdict_is_kept_for_the_runs_other_checks_with_its_key():
    """A rule given a key (a layer's batch and time rules: the layer, how it is built, the
    shapes) runs once per grading run: a failure is raised again, as it was, by every later
    check with that key (a hidden case, a strict pass); a pass is kept too; another key runs
    its own; an error that is not a verdict (the code stopped) is not kept. The reference's
    run for its expected values runs no rule."""
    from nlpdojo_autograder.authoring import CheckFailure, Context

    class _Ctx:
        rule, _kept_verdict = Context.rule, Context._kept_verdict

        def __init__(self, cache, expected_only=False):
            self.cache, self.deferred, self.expected_only = cache, None, expected_only

    ran = []

    def looping():
        ran.append("looping")
        raise CheckFailure("a Python loop over the batch", mistake="loop")

    def vectorized():
        ran.append("vectorized")

    cache = {}
    for _ in range(3):  # the values check, its hidden case, a strict pass
        with pytest.raises(CheckFailure) as caught:
            _Ctx(cache).rule(looping, key=("over the batch", "Linear", (5, 4)))
        assert str(caught.value) == "a Python loop over the batch"
        assert caught.value.mistake == "loop"
        _Ctx(cache).rule(vectorized, key=("over time", "Linear", (5, 4)))
    assert ran == ["looping", "vectorized"]
    _Ctx(cache).rule(vectorized, key=("over time", "Linear", (15, 4)))  # other shapes
    _Ctx(cache).rule(vectorized)  # no key: every time
    assert ran == ["looping", "vectorized", "vectorized", "vectorized"]

    def stopped():
        ran.append("stopped")
        raise TimeoutError("the worker was stopped")

    for _ in range(2):
        with pytest.raises(TimeoutError):
            _Ctx(cache).rule(stopped, key=("over the batch", "GRU", (2, 3)))
    assert ran.count("stopped") == 2
    _Ctx({}, expected_only=True).rule(looping, key=("over the batch", "Linear", (5, 4)))
    assert ran.count("looping") == 1


def test_the_references_run_at_scale_draws_the_upstream_gradient_in_the_same_run():
    """``layer_run`` without upstream gradients draws them from ``grad_seed`` at its outputs'
    shapes (so the reference's run at scale needs no forward apart for the shape) and returns
    them: the same seed, the same draw; its backward is that of the returned gradient."""
    from nlpdojo.selection import make_backend
    from nlpdojo_autograder.runtime.probes import layer_run
    from nlpdojo_solutions.library.layers import Linear

    backend = make_backend("numpy", "cpu", "float64")
    rng = np.random.default_rng(3)
    params = {"weight": rng.standard_normal((4, 5)), "bias": rng.standard_normal(5)}
    x = rng.standard_normal((6, 4))
    drawn = layer_run(Linear, (backend, 4, 5), {}, params, [(x,)], None, grad_seed=11)
    again = layer_run(Linear, (backend, 4, 5), {}, params, [(x,)], None, grad_seed=11)
    other = layer_run(Linear, (backend, 4, 5), {}, params, [(x,)], None, grad_seed=12)
    grad = drawn["grad_outputs"][0]
    assert grad.shape == (6, 5) and grad.dtype == drawn["outputs"][0].dtype
    np.testing.assert_array_equal(grad, np.random.default_rng(11).standard_normal((6, 5)))
    np.testing.assert_array_equal(grad, again["grad_outputs"][0])
    assert not np.allclose(grad, other["grad_outputs"][0])
    given = layer_run(Linear, (backend, 4, 5), {}, params, [(x,)], [grad])
    assert "grad_outputs" not in given
    np.testing.assert_allclose(drawn["input_grads"][0], given["input_grads"][0])
    np.testing.assert_allclose(drawn["input_grads"][0], grad @ params["weight"].T)
    with pytest.raises(Exception, match="no upstream gradients"):
        layer_run(Linear, (backend, 4, 5), {}, params, [(x,)], None)


def test_the_reference_runs_no_forward_apart_for_the_shape_at_scale():
    """The reference answers one ``layer_run`` (line-counted) per case at scale, and no
    ``output_shape``; the code under test is given the gradient the reference drew."""
    asked, given = [], []

    class Reference(_Reference):
        def call(self, target, args, kwargs):
            asked.append(target.args[2])
            return super().call(target, args, kwargs)

    def run(probe, case, inputs, grads):
        if probe.__name__ == "on_student":
            given.append(grads)
        return _run(probe, case, inputs, grads)

    require_at_scale(_ctx(TRUE, Reference(TRUE), {}), "m", "Layer", _case(), run)
    assert asked == ["python_lines_and_result"]
    np.testing.assert_array_equal(given[0], TRUE["layer_run"]["grad_outputs"][0])
