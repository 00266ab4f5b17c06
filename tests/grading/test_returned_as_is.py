"""Every returned value is judged as it was returned, and code that passes on NumPy but that
torch refuses fails on NumPy too (issue 62, items 4 and 9).

The wire turns a Python float, a NumPy array and a tensor on a GPU into the same data, so a
norm returned as ``float(norm)`` or put back on the default device kept full marks on NumPy
and broke on torch and on a GPU. The worker now describes each returned value as returned and
the grader judges it where a check converts it (``Context.to_numpy``). And ``xs[:, ::-1, :]``,
which torch refuses, got full marks on NumPy and 0 on ``--backend torch``: the strict pass's
arrays refuse it too, naming the line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.authoring.returned import Returned
from nlpdojo_autograder.grading.grade import GradeOptions, grade
from nlpdojo_autograder.runtime.calls import returned_kinds
from nlpdojo_autograder.runtime.channel import Token

ROOT = Path(__file__).resolve().parents[2]
SENT = (Token("array", (np.zeros(3), None)),)  # a request holding a backend array


def _noted(value, kinds, inputs, args=SENT, *, what="the norm", number=False):
    returned = Returned()
    leaves = [[[], kinds]] if not isinstance(kinds, dict) else [
        [[k], v] for k, v in kinds.items()]
    returned.note(args, {}, {"value": value, "returned": {"leaves": leaves,
                                                           "inputs": inputs}})
    return returned


# -- the worker's description ------------------------------------------------------------------
def test_the_worker_describes_each_value_as_returned_and_what_it_was_given():
    from nlpdojo_numpy.strict import StrictBackend

    strict = StrictBackend()
    x = strict.asarray(np.ones(3))

    class Sneaky(list):
        def __iter__(self):  # the description must not run the submission's methods
            raise AssertionError("ran")

    result = (1.5, np.float64(2.0), {"norm": x, "n": 3}, Sneaky([np.zeros(2, np.float32)]),
              True, "text")
    described = returned_kinds(result, (x, [np.zeros(2, np.int64)]), {})
    assert described["leaves"] == [
        [[0], ["python", "float"]], [[1], ["array", "numpy", "cpu", "float64"]],
        [[2, "norm"], ["array", "array_api_strict", "device1", "float64"]],
        [[2, "n"], ["python", "int"]], [[3, 0], ["array", "numpy", "cpu", "float32"]]]
    assert described["inputs"] == [["array", "array_api_strict", "device1", "float64"],
                                   ["array", "numpy", "cpu", "int64"]]


def test_a_torch_tensor_is_described_with_its_namespace_device_and_dtype():
    torch = pytest.importorskip("torch")
    described = returned_kinds(torch.zeros((), dtype=torch.float32), (), {})
    assert described["leaves"] == [[[], ["array", "torch", "cpu", "float32"]]]


# -- the grader's judgement --------------------------------------------------------------------
TORCH_IN = [["array", "torch", "cuda:0", "float64"]]


def test_a_python_float_given_backend_arrays_fails_saying_what_to_return():
    value = 2.5
    returned = _noted(value, ["python", "float"], TORCH_IN)
    problem = returned.problem(value, "the norm")
    assert problem.startswith("the norm was returned as a Python float, its inputs as torch "
                              "tensors on cuda:0; return a 0-d array of the inputs' namespace")
    assert "`xp.sum(...)`" in problem and "stays on the device" in problem
    # declared by the question (CS224n's float(loss)), it is what the contract asks
    assert returned.problem(value, "the loss", number=True) is None


def test_a_python_float_from_numpy_inputs_sent_as_they_are_is_the_numpy_contract():
    value = 2.5
    returned = _noted(value, ["python", "float"], [["array", "numpy", "cpu", "float64"]],
                      args=(np.zeros(3),))
    assert returned.problem(value, "the perplexity") is None


def test_an_array_of_another_namespace_device_or_dtype_fails():
    value = np.zeros(3)
    on_cpu = _noted(value, ["array", "torch", "cpu", "float64"], TORCH_IN)
    assert "returned on device cpu, but its inputs are on cuda:0" in on_cpu.problem(value, "x")
    numpy = _noted(value, ["array", "numpy", "cpu", "float64"], TORCH_IN)
    assert "returned as a NumPy array, but its inputs are torch tensors on cuda:0" in \
        numpy.problem(value, "x")
    single = _noted(value, ["array", "torch", "cuda:0", "float32"], TORCH_IN)
    assert "has dtype float32, but its inputs are float64" in single.problem(value, "x")
    right = _noted(value, ["array", "torch", "cuda:0", "float64"], TORCH_IN)
    assert right.problem(value, "x") is None
    # integer ids sent as NumPy beside the tensors do not make a NumPy result right
    ids = [*TORCH_IN, ["array", "numpy", "cpu", "int64"]]
    assert "NumPy array" in _noted(value, ["array", "numpy", "cpu", "float64"],
                                   ids).problem(value, "x")


def test_only_the_values_a_call_returned_are_judged_by_identity():
    value, other = np.zeros(3), np.zeros(3)
    returned = _noted(value, ["array", "numpy", "cpu", "float64"], TORCH_IN)
    assert returned.problem(other, "x") is None  # the check's own array
    assert returned.problem(value, "x") is not None
    # a malformed description (a worker taken over) judges nothing, and breaks nothing
    bad = Returned()
    bad.note(SENT, {}, {"value": value, "returned": {"leaves": [["x", 1], [[9], ["?"]]],
                                                      "inputs": "no"}})
    assert bad.problem(value, "x") is None


# -- a declared number, through a builder ------------------------------------------------------
class _Code:
    code_dir = ""

    def __init__(self, module):
        self._module = module

    def module(self, name):
        return self._module

    def given(self, name):
        raise KeyError(name)


def _loss_as_float(x):
    return float(np.sum(x * x)), 2 * x


@pytest.mark.usefixtures("scratch_under_tmp_path")
@pytest.mark.parametrize("numbers", [(), ("loss",)])
def test_a_builders_output_is_a_python_number_only_where_declared(tmp_path, numbers):
    import types

    from nlpdojo_autograder.authoring import CheckFailure
    from nlpdojo_autograder.authoring.builders import call, function_check
    from nlpdojo_autograder.authoring.context import BackendRef, Context
    from nlpdojo_autograder.authoring.inputs import inputs, normal
    from nlpdojo_autograder.grading.runner import _backends
    from nlpdojo_autograder.runtime.remote import LocalSubject

    module = types.ModuleType("m")
    module.f = _loss_as_float
    subject = LocalSubject(_Code(module), _backends("numpy", None))
    subject.begin(dtype="float64", swap_in=(), workdir="w")
    ctx = Context(subject=subject, backend=BackendRef("numpy", None, "float64"), seed=0,
                  workdir=tmp_path)
    check = function_check("f", inputs(x=normal(3)),
                           question="q", module="m", title="f", points=1.0,
                           outputs=("loss", "grad"), numbers=numbers)
    if numbers:
        assert set(check.collect(ctx)) == {"loss", "grad"}
    else:
        with pytest.raises(CheckFailure, match="f's loss was returned as a Python float"):
            check.collect(ctx)
    with pytest.raises(ValueError, match="names none of"):
        call("f", "x", out=("loss", "grad"), numbers=("lose",))


# -- gradings: the instances and their siblings ------------------------------------------------
def _submission(tmp_path: Path, path: str, old: str, new: str) -> Path:
    folder = tmp_path / "sub"
    for name in ("rnn_variants", "library"):
        shutil.copytree(ROOT / "solutions" / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    file = folder / path
    text = file.read_text()
    assert text.count(old) == 1, old
    file.write_text(text.replace(old, new))
    return folder


def _graded(folder: Path, question: str, says: str) -> dict:
    """The question's checks, value checks first, until one loses points saying ``says``."""
    result = grade(["rnn_variants"], submission=folder, replay_options={},
                   options=GradeOptions(questions=frozenset({f"rnn_variants.{question}"}),
                                        until_lost={question: says},
                                        order=lambda c: c.kind != "value"))
    checks = {c.id: c for e in result.exercises for c in e.checks}
    json.dumps({k: c.message for k, c in checks.items()})  # plain data
    return checks


@pytest.mark.timeout(180)
@pytest.mark.seeded  # graded on inputs drawn from the input seed
def test_a_norm_returned_as_a_python_float_loses_its_points(tmp_path):
    folder = _submission(tmp_path, "library/clipping.py",
                         "return [g * scale for g in grads], total",
                         "return [g * scale for g in grads], float(total)")
    check = _graded(folder, "clipping", "Python float")["clipping.values"]
    assert check.score == 0
    assert check.message.startswith("the norm was returned as a Python float, its inputs as "
                                    "NumPy arrays; return a 0-d array of the inputs' namespace")


@pytest.mark.timeout(180)
@pytest.mark.seeded  # graded on inputs drawn from the input seed
@pytest.mark.parametrize(("new", "lost", "says"), [
    ("    return xp.asarray([float(n) for n in norms])", "returned on device",
     "as every array does on a GPU: state_gradient_norms' norms was returned on device "
     "CPU_DEVICE, but its inputs are on device1"),
    # the instance left by the first round: only a single Python number was judged, and
    # `[float(n) for n in norms]` kept vanishing's 2 of 2
    ("    return [float(n) for n in norms]", "list of floats",
     "state_gradient_norms' norms was returned as a Python list of floats, its inputs as "
     "NumPy arrays; return one array of the inputs' namespace"),
    # its sibling: the norms kept as 0-d arrays, never joined into one
    ("    return norms", "list of 0-d arrays",
     "state_gradient_norms' norms was returned as a Python list of 0-d arrays, its inputs as "
     "NumPy arrays; return one array (`xp.stack(norms)`"),
])
def test_norms_not_returned_as_an_array_of_the_inputs_lose_their_points(tmp_path, new, lost,
                                                                        says):
    folder = _submission(tmp_path, "rnn_variants/vanishing.py",
                         "    return xp.stack(norms)  # (T + 1,)", new)
    check = _graded(folder, "vanishing", lost)["vanishing.norms"]
    assert check.score == 0
    assert says in check.message


# -- what torch refuses ------------------------------------------------------------------------
def test_the_strict_namespace_refuses_take_with_an_index_of_two_dimensions():
    from nlpdojo_numpy.strict import TORCH_REFUSES, StrictBackend

    strict = StrictBackend()
    xp, weight = strict.xp, strict.asarray(np.arange(12.0).reshape(4, 3))
    ids = xp.asarray(np.array([[0, 1], [2, 3]]), device=strict.device)
    assert xp.take(weight, xp.reshape(ids, (-1,)), axis=0).shape == (4, 3)
    with pytest.raises(IndexError, match=f"{TORCH_REFUSES}: `xp.take` with an index of 2 dim"):
        xp.take(weight, ids, axis=0)


def test_the_strict_arrays_refuse_negative_steps_read_or_written():
    from nlpdojo_numpy.strict import TORCH_REFUSES, StrictBackend

    strict = StrictBackend()
    x = strict.asarray(np.arange(6.0).reshape(2, 3))
    assert strict.to_numpy(x[:, 0:3:2]).tolist() == [[0.0, 2.0], [3.0, 5.0]]
    for refused in (lambda: x[:, ::-1], lambda: x[::-2, ...],
                    lambda: x.__setitem__((slice(None), slice(None, None, -1)), 1.0)):
        with pytest.raises(IndexError, match=TORCH_REFUSES):
            refused()
    assert list(reversed([1, 2]))[::-1] == [1, 2]  # Python lists are not arrays: untouched


#: the line that runs the right-to-left layer, with its inputs reversed as torch refuses:
#: read through a negative step (the instance), or written through one (a sibling)
LINE = "right, right_cache = self.backward_rnn(xp.flip(xs, axis=1), state0)"
NEGATIVE_STEPS = {
    "read": ("right, right_cache = self.backward_rnn(xs[:, ::-1, :], state0)",
             "self.backward_rnn(xs[:, ::-1, :], state0)"),
    "written": ("flipped = xp.zeros_like(xs)\n        flipped[:, ::-1, :] = xs\n"
                "        right, right_cache = self.backward_rnn(flipped, state0)",
                "flipped[:, ::-1, :] = xs"),
}


@pytest.mark.timeout(180)
@pytest.mark.seeded  # graded on inputs drawn from the input seed
@pytest.mark.parametrize("how", NEGATIVE_STEPS)
def test_a_negative_step_that_torch_refuses_fails_on_numpy_naming_the_line(tmp_path, how):
    new, shown = NEGATIVE_STEPS[how]
    folder = _submission(tmp_path, "library/deep_rnn.py", LINE, new)
    check = _graded(folder, "bidirectional", "torch refuses")["bidirectional.values"]
    assert check.score == 0
    assert check.message.startswith("works on NumPy arrays but would fail on the torch backend")
    assert "torch refuses this: a slice with a negative step" in check.message
    assert "`xp.flip(x, axis=...)`" in check.message
    assert "(at deep_rnn.py line " in check.message and shown in check.message


@pytest.mark.timeout(180)
@pytest.mark.seeded  # graded on inputs drawn from the input seed
def test_an_embedding_taken_with_two_dimensional_ids_fails_on_numpy_as_on_torch(tmp_path):
    """A sibling: NumPy's take accepts the (B, T) ids as they are, torch's index_select does
    not ("Index is supposed to be a vector"): full marks on NumPy, 0 on torch, before."""
    folder = tmp_path / "sub"
    shutil.copytree(ROOT / "solutions" / "library", folder / "library",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions" / "neural_networks", folder / "neural_networks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    layers = folder / "library" / "layers.py"
    old = ("        rows = xp.take(self.weight.data, flat, axis=0)  # (M, D)\n"
           "        out = xp.reshape(rows, (*ids.shape, self.weight.data.shape[1]))  # (..., D)")
    text = layers.read_text()
    assert text.count(old) == 1
    layers.write_text(text.replace(old, "        out = xp.take(self.weight.data, ids, axis=0)"))
    result = grade(["neural_networks"], submission=folder, replay_options={},
                   options=GradeOptions(questions=frozenset({"neural_networks.embedding"}),
                                        until_lost={"embedding": "torch refuses"},
                                        order=lambda c: c.kind != "value"))
    checks = {c.id: c for e in result.exercises for c in e.checks}
    check = checks["embedding.values"]
    assert check.score == 0
    assert "torch refuses this: `xp.take` with an index of 2 dimensions" in check.message
    assert "(at layers.py line " in check.message


# -- property checks: judged as returned too (the strict pass's second device) ------------------
@pytest.mark.timeout(180)
@pytest.mark.seeded  # graded on inputs drawn from the input seed
@pytest.mark.parametrize(("new", "says"), [
    # the instance: each norm made again on the default device, stacked there
    ("    return xp.stack([xp.asarray(float(n)) for n in norms])",
     "as every array does on a GPU: state_gradient_norms' norms was returned on device "
     "CPU_DEVICE, but its inputs are on device1"),
    # a sibling: NumPy's array of the norms, not the inputs' namespace
    ("    import numpy\n    return numpy.asarray([float(n) for n in norms])",
     "given arrays of the array API, it returned a NumPy array"),
])
def test_a_property_checks_norms_are_judged_as_returned(tmp_path, new, says):
    folder = _submission(tmp_path, "rnn_variants/vanishing.py",
                         "    return xp.stack(norms)  # (T + 1,)", new)
    result = grade(["rnn_variants"], submission=folder, replay_options={},
                   options=GradeOptions(questions=frozenset({"rnn_variants.vanishing"}),
                                        until_lost={"vanishing": says},
                                        order=lambda c: c.id != "vanishing.bound"))
    check = {c.id: c for e in result.exercises for c in e.checks}["vanishing.bound"]
    assert check.score == 0
    assert says in check.message


# -- a list of Python numbers, judged as one value ---------------------------------------------
def test_a_list_of_python_floats_is_described_and_judged_as_one_value():
    result = ([1.5, 2.0, 3], (0.5,), [1, 2, 3], [np.float64(1.0)])
    leaves = returned_kinds(result, (), {})["leaves"]
    assert [[0], ["python", "list of floats"]] in leaves
    assert [[1], ["python", "tuple of floats"]] in leaves
    # whole numbers (ids, counts) are the host's by contract; NumPy scalars are arrays
    assert not any(kind[1].endswith("of ints") for _, kind in leaves)
    assert [[3], ["python", "list of floats"]] not in leaves
    norms = [0.5, 0.25]
    returned = _noted(norms, ["python", "list of floats"], TORCH_IN)
    problem = returned.problem(norms, "the norms")
    assert problem.startswith("the norms was returned as a Python list of floats, its inputs "
                              "as torch tensors on cuda:0; return one array of the inputs' "
                              "namespace (no `.tolist()`; `xp.stack` of 0-d arrays")
    # declared numbers (a training loop's list of losses) are what the contract asks
    assert returned.problem(norms, "the losses", number=True) is None


def test_a_list_of_0d_arrays_is_described_and_judged_as_one_value():
    """The wire makes ``[norm(g) for g in grads]`` the same as a list of floats (and as an
    array's rows): the worker describes the container as it was returned."""
    zero_d = np.float64(2.0), np.asarray(1.5)
    result = (list(zero_d), [np.asarray(1.0), 3.0], [np.ones(2), np.asarray(1.0)], [1, 2])
    leaves = returned_kinds(result, (), {})["leaves"]
    assert [[0], ["python", "list of 0-d arrays"]] in leaves
    assert [[1], ["python", "list of 0-d arrays"]] in leaves
    # rows of an array (list_of_arrays names those) and whole numbers are not this kind
    assert not any(path in ([2], [3]) and kind[0] == "python" for path, kind in leaves)
    norms = [np.asarray(0.5), np.asarray(0.25)]
    returned = _noted(norms, ["python", "list of 0-d arrays"], TORCH_IN)
    assert returned.problem(norms, "the norms").startswith(
        "the norms was returned as a Python list of 0-d arrays, its inputs as torch tensors "
        "on cuda:0; return one array (`xp.stack(norms)` joins 0-d arrays into one)")
    assert returned.problem(norms, "the losses", number=True) is None


# -- gradient checks judge the gradients as returned too (their strict pass) -------------------
def test_the_strict_backends_scatter_add_refuses_what_torchs_index_add_refuses():
    """Its arguments were copied to NumPy whatever their device, so a backward's ones made
    without ``device=`` passed every strict pass; torch's ``index_add_`` on a GPU refuses
    them, as it refuses a NumPy index."""
    from nlpdojo_numpy.strict import StrictBackend

    backend = StrictBackend()
    xp = backend.xp
    target = backend.asarray(np.zeros((3, 2)))
    index = backend.asarray(np.array([0, 2]))
    values = backend.asarray(np.ones((2, 2)))
    backend.scatter_add(target, index, values, alpha=-1.0)
    assert backend.to_numpy(target).tolist() == [[-1, -1], [0, 0], [-1, -1]]
    with pytest.raises(ValueError, match="can not be combined: scatter_add's values"):
        backend.scatter_add(target, index, xp.ones((2, 2), dtype=xp.float64))
    with pytest.raises(TypeError, match="index is a ndarray, not one of the Array objects"):
        backend.scatter_add(target, np.array([0, 2]), values)
    with pytest.raises(ValueError, match="scatter_add_weighted's rows"):
        backend.scatter_add_weighted(target, backend.asarray(np.array([[0, 1]])),
                                     backend.asarray(np.ones((1, 2))), xp.ones((1, 2)))
    assert backend.to_numpy(target).tolist() == [[-1, -1], [0, 0], [-1, -1]]  # untouched



@pytest.mark.timeout(180)
@pytest.mark.seeded  # graded on inputs drawn from the input seed
@pytest.mark.parametrize(("path", "old", "new", "question"), [
    # the instance: a backward's new array made without device=, which only the values
    # check's strict pass saw; the gradient check kept its points
    ("library/losses.py",
     "ones = xp.ones((n, 1), dtype=probs.dtype, device=device(probs)) * scale",
     "ones = xp.ones((n, 1), dtype=probs.dtype) * scale", "softmax_ce"),
    # a sibling: a layer's backward (its gradients and repeated gradient checks)
    ("library/activations.py",
     "return grad_output * self.xp.astype(x > 0, grad_output.dtype)  # (...)",
     "return grad_output * self.xp.astype(x > 0, grad_output.dtype) + self.xp.zeros(x.shape)",
     "relu"),
])
def test_a_gradient_made_on_the_default_device_loses_the_gradient_check(tmp_path, path, old,
                                                                          new, question):
    folder = tmp_path / "sub"
    for name in ("library", "neural_networks"):
        shutil.copytree(ROOT / "solutions" / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    file = folder / path
    text = file.read_text()
    assert text.count(old) == 1, old
    file.write_text(text.replace(old, new))
    result = grade(["neural_networks"], submission=folder, replay_options={},
                   options=GradeOptions(questions=frozenset({f"neural_networks.{question}"})))
    checks = {c.id: c for e in result.exercises for c in e.checks}
    gradients = [c for c in checks.values() if c.kind == "gradient"]
    assert gradients
    for check in gradients:
        assert check.score == 0, check.id
        assert "works on NumPy arrays but not on arrays that live on another device than " \
            "the default one" in check.message, check.message
