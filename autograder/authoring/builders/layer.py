"""A layer (a :class:`~nlpdojo.module.Module`), checked: :func:`layer_checks` (forward values
and every gradient against the reference and by central differences, accumulation, repeated
application, eval mode, a hidden case, at scale, saturated) and :func:`torch_check` (against
its ``torch.nn`` twin). Lecture: CS224n lectures 3-4 (backpropagation, gradient checking);
CS231n's layer caches."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import (
    EVERYTHING,
    PARAMETER_GRADIENTS,
    configuration,
    gate,
    on_reference,
    reference_subject,
)
from nlpdojo_autograder.authoring.at_scale import leaves as _leaves
from nlpdojo_autograder.authoring.builders.cases import (
    BATCH_FACTOR,
    NOT_GIVEN,
    LayerCase,
    Parity,
    Variant,
    _at_scale_of,
    _batch,
    _grad_key,
    _grad_outputs,
    _gradient_shape_problem,
    _input_names,
    _known_output_shapes,
    _layer_at_scale,
    _output_payload,
    _output_shape,
    _params,
    _same_output_shapes,
    _with_cells,
    nesting,
    only_the_case_parameters,
    require_declared_differentiable,
)
from nlpdojo_autograder.authoring.builders.points import _share, with_hint
from nlpdojo_autograder.authoring.builders.saturation import SATURATED_RANGE, SATURATION, Saturated
from nlpdojo_autograder.authoring.builders.torch_oracle import (
    _autograd_loss,
    _mistakes_oracle,
    _oracle_inputs,
    _torch_values,
)
from nlpdojo_autograder.authoring.builders.vectorization import (
    _require_batch_vectorized,
    _require_derived_backward,
    _require_time_vectorized,
    _same_when_traced,
)
from nlpdojo_autograder.authoring.builders.wire import _first, _host, _named, _rebuild, _send
from nlpdojo_autograder.authoring.checks import NAMED_MISTAKE, Check, CheckFailure, Payload, Verdict
from nlpdojo_autograder.authoring.compare import EVAL_KEY, Nonfinite, compare_payloads
from nlpdojo_autograder.authoring.context import ORACLE_DIGEST, STRICT_BACKEND, Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.kinds import (
    MISTAKE_KEY,
    MISTAKES_NEED_TORCH,
    NEEDS_TORCH,
    GradientProblem,
    computed_mistake,
    custom_check,
    gradient_check,
    value_check,
    without_guesses,
)

#: how a layer's points are shared among its checks
LAYER_SHARES = {"values": 0.3, "hidden": 0.1, "eval": 0.1, "gradients": 0.3, "repeated": 0.15,
                "accumulate": 0.15, "saturated": 0.15}


#: what a layer's gradient checks differentiate, as feedback names it (a layer has no loss:
#: the objective is its output times the check's upstream gradient)
LAYER_OBJECTIVE = ("objective sum(output * G) (your forward's output times the check's "
                   "upstream gradient G)", "the forward")


#: random directions per parameter and input of a model that wires swapped-in layers
#: (``layer_checks(directions=True)``): a forward of call-backs each, where differencing its
#: coordinates one by one cost thousands (vdcnn's one-call check: 4,307 call-backs against 814)
WIRING_DIRECTIONS = 2


@question_builder
def layer_checks(cls: str, make: Callable[[Context], LayerCase] | None = None, *,
                 question: str | None = None, module: str | None = None, title: str = "",
                 points: float = 0.0, variants: dict[str, Variant] | None = None,
                 **arguments: Any) -> list[Check]:
    """The checks of a layer ``module.cls`` (``..library.layers``, ``Linear``).

    ``make(ctx)`` returns the :class:`LayerCase`; its checks share ``points``. ``variants``:
    ``{name: Variant(...)}``, further configurations of the layer, each checked as ``make``
    is with the arguments it changes (:class:`Variant`), its checks named
    ``<check>_<name>``; without ``make``, the question's checks are its variants' alone.

    ``torch``: the true forward in torch, a function of ``(params: dict of tensors,
    *inputs)`` returning the output (or use :func:`torch_twin` for a ``torch.nn`` module);
    where torch is installed in the grader, its autograd gradients are a second oracle of the
    gradient check, on every backend (``parity`` adds a check of its own against it, on a
    case of its own: :class:`Parity`). ``parameters=False``: a layer
    without parameters (an activation, dropout) has nothing to accumulate, so that check is
    left out and its share of the points goes to the others. ``shares``: how the question's
    ``points`` are split, over :data:`LAYER_SHARES` (``{"eval": 0.45}`` where eval mode is half
    of what the layer teaches, as for dropout). ``hints``: ``{check name: hint}`` added to a
    failed check's message (:func:`with_hint`). ``nonfinite``: what a NaN or inf in the
    output means for this layer, said instead of the general causes (a pooling layer's −inf is
    a padded position kept, not a log(0)). ``mistakes``: known wrong variants named by the
    values and hidden checks (:func:`~.kinds.value_check`; a variant may give ``output``
    alone: only what it gives is compared). ``forward_mistakes``: known wrong forwards that
    need the check's inputs (a kernel flipped, the padding left in a max), each written in
    torch as ``torch`` is, ``{"what the student did (the fix)": f(params, *inputs)}``; the
    grader runs them on the check's own inputs (where torch is installed) and an output equal
    to one's is told which mistake it is, by the values, hidden and torch checks.
    ``backward_mistakes``: known wrong backwards, each written as a torch forward with the
    right outputs whose autograd gradients are that backward's (a path the student's backward
    leaves out is cut with ``.detach()`` there): outputs and every gradient equal to one's are
    told which mistake it is, by the same checks.
    ``at_scale``: the layer's case at a size where a backward that differentiates the forward
    numerically cannot finish (at least :data:`~.at_scale.MIN_AT_SCALE_NUMBERS` parameters
    and differentiable input numbers); every check that runs the backward then requires the
    code under test to give the reference's output and gradients there too (:mod:`.at_scale`).
    ``saturated``: a layer with a nonlinearity (a gate's sigmoid, a tanh) gets a check of its
    own on a case whose pre-activations overflow a naive formula (:class:`Saturated`): its
    output and gradients there against the reference's, a NaN or inf named as the overflow.
    ``parity``: a check of its own (``<question>.torch``, its own points) against ``torch``
    alone on another case (:class:`Parity`), with the same mistakes and case at scale.
    ``directions``: every gradient check differences the parameters and the inputs along
    random directions (``True``: :data:`WIRING_DIRECTIONS` each; a number: that many), the
    one-call check too, not coordinate by coordinate (``False``: the one-call check by
    coordinates, the repeated one the parameters along :data:`~.kinds.SHARED_DIRECTIONS`). For
    a model that only wires swapped-in layers (every parameter is another question's), whose
    every coordinate costs a forward of call-backs: the values check still compares each
    gradient, the inputs' and the parameters', whole, with the reference's, and a wiring
    mistake is wrong along any direction. ``successive``: the values check compares the
    outputs of a second and a third call of one layer too (a model with dropout inside,
    whose masks must advance from call to call). ``options`` go to every check (``swap_in``,
    ``timeout_s``...).
    """
    if make is None and not variants:
        raise ValueError(f"layer_checks({question!r}, ..., {cls!r}): give the layer's case "
                         "(make) or its variants (variants={name: Variant(make, title, "
                         "points)})")
    if make is not None and not title:
        raise ValueError(f"layer_checks({question!r}, ..., {cls!r}): give the checks' title=")
    checks = [] if make is None else _one_layer(cls, make, question=question, module=module,
                                                title=title, points=points, **arguments)
    for name, variant in (variants or {}).items():
        merged = {**arguments, **variant.options}
        made = _one_layer(cls, variant.make, question=question, module=module,
                          title=variant.title, points=variant.points, **merged)
        if variant.only is not None:
            made = _share([c for c in made if c.name in variant.only], variant.points,
                          LAYER_SHARES | dict(merged.get("shares") or {}))
        checks += [dataclasses.replace(c, name=variant.named(c.name, name)) for c in made]
    return checks


def _one_layer(cls: str, make: Callable[[Context], LayerCase], *, question: str | None = None,
               module: str | None = None, title: str, points: float, repeat: int = 3,
               hidden: bool = True, torch: Callable[..., Any] | None = None, rtol: float = 1e-6,
               eval_mode: bool = False, eval_outputs: bool = True, parameters: bool = True,
               shares: dict[str, float] | None = None, hints: dict[str, str] | None = None,
               nonfinite: Nonfinite = None,
               mistakes: dict[str, Callable[[Payload], Payload]] | None = None,
               forward_mistakes: dict[str, Callable[..., Any]] | None = None,
               backward_mistakes: dict[str, Callable[..., Any]] | None = None,
               at_scale: Callable[[Context], LayerCase] | None = NOT_GIVEN,
               saturated: Saturated | None = None, parity: Parity | None = None,
               directions: bool | int = False, successive: bool = False,
               **options: Any) -> list[Check]:
    """One configuration of a layer, checked: :func:`layer_checks` without variants."""
    if parity is not None and torch is None and parity.options.get("torch") is None:
        raise ValueError(f"layer_checks({question!r}, ..., {cls!r}): parity= compares with "
                         "the torch forward: give torch= too")
    run = _layer_runner(module, cls, make, torch)
    computed = (*(forward_mistakes or ()), *(backward_mistakes or ()))
    # the checks of this case that share their rules' verdicts (Context.rule's key): the values
    # check, its hidden draw and their strict passes; not another variant of the layer (pooling's
    # ties draw inputs of their own) nor another question's check of it (which may swap in
    # other layers)
    same_checks = object()

    def values(ctx: Context, train: bool | None = None) -> Payload:
        ran = run(ctx, 1, train=train, known_outputs=True)
        result, case = ran["result"], ran["case"]
        if train is None and (case.batched or case.longer is not None):
            # this case's layer built so, at these shapes (a hidden draw may build it otherwise)
            built = (same_checks, configuration(case),
                     tuple(np.shape(x) for x in _leaves(ran["inputs"][0])))
            if case.batched:  # a Python loop over the batch or its tokens?
                ctx.rule(lambda: _require_batch_vectorized(
                    ctx, module, cls, case, ran["inputs"][0], ran["grads"][0]),
                    key=("over the batch", *built))
            if case.longer is not None:  # ... or over the positions?
                ctx.rule(lambda: _require_time_vectorized(ctx, module, cls, case, torch),
                         key=("over time", *built))
        payload = _output_payload(ctx, cls, case, _first(result, "outputs"))
        # eval mode after training, twice, at a larger batch: in the values check, or in the
        # eval check where the question has one (not both: one mistake, one check's points)
        # (``eval_outputs=False``: the question has a check of its own that judges eval mode,
        # batch norm's running statistics, whose mistakes cost those points only)
        if (train is None and not eval_mode and case.train is not False and eval_outputs) or (
                train is False and eval_mode):
            payload.update(_eval_outputs(ctx, module, cls, case, ran["inputs"][0],
                                         ran["grads"][0]))
        payload.update(_input_grads(ctx, cls, case, ran["inputs"][0], result))
        payload.update({f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}")
                        for n, g in _named(result, "param_grads").items()})
        if computed:  # the reference's run computes them too: a submission's reuses them
            payload.update(_mistakes_oracle(ctx, forward_mistakes, backward_mistakes, case,
                                            ran["inputs"][0], ran["grads"][0]))
        if successive and train is None:
            # the second and third calls of one layer, in training mode: a model whose dropout
            # masks advance from call to call (a Dropout built anew in every forward drew the
            # first call's mask again for every batch and kept full marks: a student trial;
            # masks cycling with period 2 passed a second call alone: an adversarial trial)
            later = run(ctx, 3)["result"]["outputs"]
            for label, output in (("a second call", later[1]), ("a third call", later[2])):
                payload.update({f"{name} of {label}": value for name, value in
                                _output_payload(ctx, cls, case, output).items()})
        return payload

    def gradients(ctx: Context, applications: int) -> GradientProblem:
        ran = run(ctx, applications)
        case, inputs, grads, result = ran["case"], ran["inputs"], ran["grads"], ran["result"]
        objective = ctx.probe("layer_objective")
        cls_token = ctx.function(module, cls)
        point: dict[str, np.ndarray] = {n: np.asarray(v, np.float64)
                                        for n, v in case.params.items()}
        analytic: dict[str, Any] = dict(_named(result, "param_grads"))
        # the input gradients of every application (each call's own: a layer that keeps its
        # cache on self gets the earlier calls' wrong, parameters or not)
        labels = [_call_label(a, applications) for a in range(applications)]
        for a, label in enumerate(labels):
            named = _input_names(case, inputs[a])
            arrays = [x for i in case.differentiable for x in _leaves(inputs[a][i])]
            for (_, name), x in zip(named, arrays, strict=True):
                point[f"{name}{label}"] = np.asarray(x, np.float64)
            grads_a = _input_grads(ctx, cls, case, inputs[a], result, a, applications)
            analytic.update({f"{name}{label}": grads_a[_grad_key(case, name) + label]
                             for _, name in named})

        def perturbed(x: tuple[Any, ...], label: str, values: dict[str, np.ndarray]) -> list:
            names = iter(_input_names(case, x))
            out = []
            for i, x_i in enumerate(x):
                if i not in case.differentiable:
                    out.append(_send(ctx, x_i))
                    continue
                leaves = [values.get(f"{next(names)[1]}{label}", leaf) for leaf in _leaves(x_i)]
                out.append(_send(ctx, _rebuild(x_i, leaves)))
            return out

        def loss(values: dict[str, np.ndarray]) -> float:
            params = {n: ctx.asarray(values[n]) for n in case.params}
            xs = [perturbed(x, label, values) for x, label in zip(inputs, labels, strict=True)]
            return float(objective(cls_token, tuple(case.args), case.kwargs, params, xs,
                                   [_send(ctx, g) for g in grads], train=case.train,
                                   cells=case.cells or None, names=case.names))

        # applied more than once, the parameters' gradient is every call's summed: the one-call
        # check differences it coordinate by coordinate, here random directions see a call's
        # share overwritten or lost (the judge compares it whole with the reference's)
        return GradientProblem(loss=loss, point=point, analytic=analytic,
                               autograd_loss=_autograd_loss(torch, case, inputs[0], grads[0])
                               if applications == 1 and torch is not None else None,
                               autograd_inputs={"inputs": inputs[0], "upstream": grads[0],
                                                "differentiable": case.differentiable,
                                                "names": case.names,
                                                "torch_kwargs": case.torch_kwargs},
                               along_directions=frozenset(point) if directions
                               else frozenset(case.params) if applications > 1
                               else frozenset(),
                               directions=WIRING_DIRECTIONS if directions is True
                               else int(directions))

    def accumulate(ctx: Context) -> Payload:
        result = run(ctx, 1, twice=True)["result"]
        return {**{f"twice {n}": ctx.to_numpy(g) for n, g in _named(result,
                                                                       "param_grads").items()},
                **{f"once {n}": ctx.to_numpy(g) for n, g in _named(result,
                                                                     "param_grads_once").items()}}

    def judge_accumulate(actual: Payload, expected: Payload | None) -> Verdict:
        # judged on right gradients only: twice 0 is 2 × 0, and a layer whose backward adds
        # nothing (a stub) must not earn this check
        def right(key: str, once: np.ndarray) -> bool:
            theirs = (expected or {}).get(key)
            return theirs is not None and np.shape(once) == np.shape(theirs) and bool(
                np.allclose(once, theirs, rtol=rtol, atol=1e-8))

        # every parameter the reference reports must be reported: a layer that hides its
        # parameters after it was built (named_parameters() empty) has nothing to judge
        unreported = sorted(key[len("once "):] for key in (expected or {})
                            if key.startswith("once ") and key not in actual)
        if unreported:
            return Verdict(False, f"no gradient came back for {', '.join(unreported)}: "
                           "every parameter is listed by named_parameters() each time it is "
                           "asked, with its gradient in .grad")
        wrong = [key[len("once "):] for key, once in actual.items()
                 if key.startswith("once ") and expected is not None and not right(key, once)]
        if wrong:
            return Verdict(False, f"the gradient of {', '.join(wrong)} after one backward pass "
                           "is not right yet (the values and gradient checks say how); that "
                           "gradients accumulate over passes is judged once it is")
        for key, once in actual.items():
            if not key.startswith("once "):
                continue
            name = key[len("once "):]
            twice = actual[f"twice {name}"]
            if not np.allclose(twice, 2 * once, rtol=1e-9, atol=1e-12):
                return Verdict(False, f"after two backward passes the gradient of {name} is not "
                               "twice that of one: gradients must accumulate (add into "
                               f"{name}.grad, `p.grad = p.grad + ...`), never be overwritten; "
                               "zero_grad() is what clears them")
        return Verdict(True, "gradients accumulate over backward passes")

    repeated = gradient_check("repeated", f"{title}: applied {repeat} times before "
                              "backward", 0.0, lambda ctx: gradients(ctx, repeat),
                                  question=question,
                              objective=LAYER_OBJECTIVE, **options)
    repeated = with_hint(repeated, f"the layer was applied {repeat} times before backward (as "
                         "in an RNN over time), then backward ran once per call in reverse "
                         "order; if the one-call gradient check passes, the usual causes are "
                         "state kept on self between calls (keep what backward needs in the "
                         "cache that forward returns for each call) or a parameter's gradient "
                         "assigned instead of added (each call's backward adds its share: "
                         "p.grad = p.grad + g, or p.grad += g; never p.grad = g)")
    checks = [
        value_check("values", f"{title}: forward and backward values", 0.0, values,
                    question=question,
                    rtol=rtol, nonfinite=nonfinite, mistakes=mistakes,
                    computed_mistakes=computed, **options),
        *([value_check("hidden", f"{title}: a hidden case", 0.0, values,
                       question=question, rtol=rtol,
                       hidden=True, nonfinite=nonfinite, mistakes=mistakes,
                       computed_mistakes=computed, **options)]
          if hidden else []),
        *([value_check("eval", f"{title}: in eval mode (model.eval())", 0.0,
                       lambda ctx: values(ctx, train=False),
                           question=question, rtol=rtol, nonfinite=nonfinite,
                       **options)]
          if eval_mode else []),
        gradient_check("gradients", f"{title}: gradients by central differences",
                       0.0, lambda ctx: gradients(ctx, 1),
                           question=question, objective=LAYER_OBJECTIVE,
                       **options),
        repeated,
        *([custom_check("accumulate", f"{title}: gradients accumulate", 0.0,
                        accumulate, judge_accumulate,
                            question=question, needs_expected=True, **options)]
          if parameters else []),
        *([_saturated_check(question, module, cls, title, saturated, make, torch, rtol, options)]
          if saturated is not None else []),
    ]
    checks = [with_hint(c, hints[c.name]) if c.name in (hints or {}) else c for c in checks]
    case_at_scale = _at_scale_of("layer_checks", question, cls, at_scale, parameters)
    scaled = _layer_at_scale(module, cls, case_at_scale, make)
    # the eval-mode check is gated by a run at scale in eval mode, what it judges (outputs and
    # gradients in eval mode): the training-mode run charged it for a dropout not
    # back-propagated (a student trial), and excusing it for gradients wrong at scale let a
    # backward that gives up at scale earn it (an adversarial trial). The accumulation check
    # judges the parameters' gradients: an input gradient wrong at scale is the value checks'
    scaled_in_eval = (_layer_at_scale(module, cls, _in_eval_mode(case_at_scale),
                                      _in_eval_mode(make))
                      if eval_mode and case_at_scale is not None else None)
    shared = _share([gate(c, scaled_in_eval) if c.name == "eval" else
                     gate(c, scaled, judges=_JUDGES.get(c.name, EVERYTHING)) for c in checks],
                    points,
                    LAYER_SHARES | dict(shares or {}),
                    named={"shares": shares, "hints": {k: h for k, h in (hints or {}).items()
                                                       if k != "torch" or parity is None}})
    if parity is None:
        return shared
    against = torch_check(cls, parity.make, question=question, module=module, **{
        "torch": torch, "title": parity.title_of(cls, torch), "points": parity.points,
        "rtol": rtol, "nonfinite": nonfinite, "forward_mistakes": forward_mistakes,
        "backward_mistakes": backward_mistakes, "at_scale": at_scale, **options,
        **parity.options})
    return [*shared, with_hint(against, hints["torch"]) if "torch" in (hints or {}) else against]


#: what the checks of :func:`layer_checks` that do not judge everything judge (:func:`gate`)
_JUDGES = {"accumulate": PARAMETER_GRADIENTS}


def _in_eval_mode(make: Callable[[Context], LayerCase] | None
                  ) -> Callable[[Context], LayerCase] | None:
    """``make``'s case built in eval mode (``model.eval()``), None for None."""
    if make is None:
        return None
    return lambda ctx: dataclasses.replace(make(ctx), train=False)


def _saturated_check(question: str, module: str, cls: str, title: str, saturated: Saturated,
                     make: Callable[..., Any], torch: Callable[..., Any] | None, rtol: float,
                     options: dict[str, Any]) -> Check:
    """The check of a layer on its :class:`Saturated` case: output, input and parameter
    gradients against the reference's; a NaN or inf where they are finite is the overflow of
    the nonlinearities it names."""
    run = _layer_runner(module, cls, saturated.of(make), torch)

    def values(ctx: Context) -> Payload:
        ran = run(ctx, 1)
        result, case = ran["result"], ran["case"]
        payload = _output_payload(ctx, cls, case, _first(result, "outputs"))
        payload.update(_input_grads(ctx, cls, case, ran["inputs"][0], result))
        payload.update({f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}")
                        for n, g in _named(result, "param_grads").items()})
        return payload

    said = "; ".join(SATURATION[n] for n in saturated.nonlinearities)
    return value_check("saturated", f"{title}: at pre-activations past the overflow "
                       "of exp (|a| > 709)", 0.0, values, question=question, rtol=rtol,
                       nonfinite=f"the pre-activations of this case reach ±{SATURATED_RANGE[0]:g} "
                       f"and more: {said}", **options)


#: what the eval-mode outputs of every layer's values check are compared after: a call, the
#: same call again, a batch :data:`BATCH_FACTOR` times as large
EVAL_RUNS = ("", ", called again", f", on a batch {BATCH_FACTOR} times as large")


def _eval_outputs(ctx: Context, module: str, cls: str, case: LayerCase, inputs: tuple[Any, ...],
                  grad: Any) -> Payload:
    """Every layer in eval mode too, declared or not: a new layer trained on the case's input
    (a forward and a backward), then in eval mode applied to it twice and to a batch
    :data:`BATCH_FACTOR` times as large, each output compared with the reference's, which
    draws nothing there. A dropout left on in eval mode (the layer's own or a sublayer's: an
    attacker's LM and sentence CNN kept full marks) gives other outputs, and so does one left
    on only once trained, from the second call on, or for larger batches (a second review's
    ways round a single eval call of an untrained layer)."""
    big = _batch(ctx, BATCH_FACTOR, case.inputs) if case.batched else inputs
    ran = ctx.probe("train_then_eval_run")(
        ctx.function(module, cls), tuple(case.args), case.kwargs, _params(ctx, case),
        [[_send(ctx, a) for a in inputs]],
        [[_send(ctx, a) for a in x] for x in (inputs, inputs, big)], None,
        train_grads=[_send(ctx, grad)], names=case.names, cells=case.cells or None)
    payload: Payload = {}
    for label, output in zip(EVAL_RUNS, ran["outputs"], strict=True):
        payload.update({f"{name} {EVAL_KEY}{label}": value for name, value in
                        _output_payload(ctx, cls, case, output).items()})
    return payload


def _layer_runner(module: str, cls: str, make: Callable[[Context], LayerCase],
                  torch: Callable[..., Any] | None = None) -> Callable[..., dict[str, Any]]:
    """``run(ctx, applications, twice=False, train=None, known_outputs=False)``: a new layer of
    the case ``make`` draws, applied ``applications`` times and backpropagated in reverse order
    in the code under test (probe ``layer_run``): ``{"case", "inputs", "grads", "result"}``. A
    forward whose output has the wrong shape fails here, saying so, before its backward runs on
    gradients of that shape (whose errors would blame the backward), where the true shape is
    known: the reference's (in the reference process), else the reference's outputs in this
    check's own expected payload (``known_outputs``: the values check, whose payload holds
    them; a student release's fixture), else, in the reference's own run, the layer's
    ``torch`` forward's (where torch is in the grader: the course's torch forward is held to
    the reference's shapes). A student release's grading never imports torch for it (~1.3
    CPU-s of a grading of neural_networks' 5). A backward that differences the forward fails
    every check that runs it (:func:`_require_derived_backward`; at scale,
    :func:`~.at_scale.gate` in :func:`layer_checks`)."""
    def run(ctx: Context, applications: int, *, twice: bool = False,
            train: bool | None = None, known_outputs: bool = False) -> dict[str, Any]:
        case = _with_cells(ctx, make(ctx))
        if train is not None:
            case = dataclasses.replace(case, train=train)
        rng = ctx.rng(1)
        inputs = [tuple(_host(a) for a in case.inputs(rng)) for _ in range(applications)]
        require_declared_differentiable(case, inputs[0], cls)
        cls_token = ctx.function(module, cls)
        # upstream gradients of the output's shape (asked of the code under test: a wrong
        # shape fails the values check against the reference anyway)
        shape = _output_shape(ctx, cls_token, case, inputs[0])
        yours = list(shape) if shape and isinstance(shape[0], tuple) else [shape]
        reference = None if ctx.expected_only else reference_subject(ctx)
        # without the reference process: the shapes of the expected outputs where this check's
        # payload holds them, else (the reference's own run) the torch forward's; a strict
        # pass runs after a first pass whose shapes were told
        if reference is None and ctx.backend.name != STRICT_BACKEND:
            true_shapes = (_known_output_shapes(ctx.known, case)
                           if known_outputs and not ctx.expected_only else None)
            if (true_shapes is None and ctx.expected_only and torch is not None
                    and not case.cells and case.train is not False):
                true = _torch_values(torch, case, inputs[0], None)
                true_shapes = None if true is None else [np.shape(v) for v in true.values()]
            if true_shapes is not None:
                _same_output_shapes(true_shapes, yours, inputs[0])
        if reference is not None:
            # the reference's backward runs on these gradients below (the yardstick of the
            # backward's lines): a forward of the wrong shape is the student's to hear of,
            # never an error of the reference's on the gradients drawn at that shape
            true_shape = on_reference(reference, "output_shape", cls_token, tuple(case.args),
                                      case.kwargs, _params(ctx, case),
                                      [_send(ctx, a) for a in inputs[0]], train=case.train,
                                      cells=case.cells or None, names=case.names)
            _same_output_shapes(
                [tuple(s) for s in true_shape] if true_shape and isinstance(
                    true_shape[0], (tuple, list)) else [tuple(true_shape)], yours, inputs[0])
        grads = _grad_outputs(ctx, shape, applications)
        traced = None
        # every check of the backward: is it the chain rule's? (once the check's own verdict
        # earns something, where its gate defers the rules: after the run it checks)
        later = not ctx.expected_only and ctx.deferred is not None
        if not ctx.expected_only and not later:
            traced = _require_derived_backward(ctx, module, cls, case, inputs[0], grads[0])
        result = ctx.probe("layer_run")(
            cls_token, tuple(case.args), case.kwargs, _params(ctx, case),
            [[_send(ctx, a) for a in x] for x in inputs], [_send(ctx, g) for g in grads],
            train=case.train, backward_twice=twice, cells=case.cells or None, names=case.names)
        if traced is not None:
            _same_when_traced(ctx, cls, traced, result["input_grads"][0])
        if later:
            ctx.rule(lambda: _derived_and_the_same(ctx, module, cls, case, inputs[0], grads[0],
                                                   result["input_grads"][0]))
        only_the_case_parameters(cls, case, _named(result, "param_grads"))
        return {"case": case, "inputs": inputs, "grads": grads, "result": result}

    return run


def _derived_and_the_same(ctx: Context, module: str, cls: str, case: LayerCase,
                          inputs: tuple[Any, ...], grad: Any, untraced: Any) -> None:
    """:func:`_require_derived_backward` on ``inputs``, then :func:`_same_when_traced` against
    the ``untraced`` input gradients of the run the check judges."""
    traced = _require_derived_backward(ctx, module, cls, case, inputs, grad)
    if traced is not None:
        _same_when_traced(ctx, cls, traced, untraced)


def _call_label(application: int, applications: int) -> str:
    """How a gradient check names the inputs of one of several applications of a layer."""
    return "" if applications == 1 else f" of call {application + 1}"


def _input_grads(ctx: Context, cls: str, case: LayerCase, inputs: tuple[Any, ...],
                 result: dict[str, Any], application: int = 0,
                 applications: int = 1) -> dict[str, np.ndarray]:
    """dL/d(input) of every array of the differentiable inputs of one application, keyed by
    :func:`_grad_key` (" of call a" added when there are several), from backward's return
    value (one array for one input, a tuple for several; a tuple input's gradient a tuple)."""
    returned = result["input_grads"][application]
    if len(inputs) == 1 and not (isinstance(returned, (tuple, list)) and len(returned) == 1
                                 and isinstance(inputs[0], (tuple, list)) == isinstance(
                                     returned[0], (tuple, list))):
        returned = (returned,)
    if not isinstance(returned, (tuple, list)) or len(returned) != len(inputs):
        raise CheckFailure(f"{cls}.backward should return the gradient of each of its "
                           f"{len(inputs)} inputs (None for integer inputs); it returned "
                           f"{type(returned).__name__}")
    label = _call_label(application, applications)
    names = iter(_input_names(case, inputs))
    out = {}
    for i in case.differentiable:
        arrays = _leaves(inputs[i])
        given = returned[i]
        if isinstance(inputs[i], (tuple, list)):
            want, got = nesting(inputs[i]), nesting(given)
            if got != want:
                what = ", ".join(name for at, name in _input_names(case, inputs) if at == i)
                raise CheckFailure(
                    f"{cls}.backward's gradient of input {i} is {got}; it should be nested as "
                    f"the input ({what}) is, {want}: one gradient per array, in the same "
                    "containers (the library tells a state (h, c), a tuple, from a stack's "
                    "list of per-layer states by its type; `+` joins two tuples, it does not "
                    "add them)")
            given = _leaves(given)
        else:
            given = [given]
        for x, g in zip(arrays, given, strict=True):
            _, name = next(names)
            grad = ctx.to_numpy(g, f"{cls}.backward's gradient of {name}")
            if grad.shape != np.shape(x):
                raise CheckFailure(_gradient_shape_problem(
                    cls, name, grad.shape, np.shape(x), result, application))
            out[_grad_key(case, name) + label] = grad
    return out


TORCH_KEY = "torch|"


@question_builder
def torch_check(cls: str, make: Callable[[Context], LayerCase], *, question: str | None = None,
                module: str | None = None, torch: Callable[..., Any], title: str, points: float,
                rtol: float = 1e-6, atol: float = 1e-8, nonfinite: Nonfinite = None,
                forward_mistakes: dict[str, Callable[..., Any]] | None = None,
                backward_mistakes: dict[str, Callable[..., Any]] | None = None,
                at_scale: Callable[[Context], LayerCase] | None = NOT_GIVEN,
                **options: Any) -> Check:
    """One check (``<question>.torch``): the layer's output and every gradient (inputs and
    parameters, for a random upstream gradient) against ``torch``'s on the same parameters
    and inputs, computed by the grader in float64 (``torch``: a function of ``(params,
    *inputs)`` as in :func:`layer_checks`, or :func:`torch_twin`). It runs on every backend;
    where torch is not installed in the grader, it compares with the reference instead.
    ``nonfinite``, ``forward_mistakes``, ``backward_mistakes``, ``at_scale``: as for
    :func:`layer_checks` (the question's checks share one run at scale)."""
    run = _layer_runner(module, cls, make, torch)
    name = getattr(torch, "label", "") or "the layer written in torch"
    computed = (*(forward_mistakes or ()), *(backward_mistakes or ()))

    def collect(ctx: Context) -> Payload:
        ran = run(ctx, 1)
        case, inputs, grad, result = ran["case"], ran["inputs"][0], ran["grads"][0], ran["result"]
        payload = _output_payload(ctx, cls, case, _first(result, "outputs"))
        payload.update(_input_grads(ctx, cls, case, inputs, result))
        payload.update({f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}")
                        for n, g in _named(result, "param_grads").items()})
        payload.update(ctx.oracles(TORCH_KEY, _oracle_inputs(case, inputs, grad), lambda: {
            TORCH_KEY + k: v for k, v in (_torch_values(torch, case, inputs, grad) or {}).items()}))
        if computed:  # the reference's run computes them too: a submission's reuses them
            payload.update(_mistakes_oracle(ctx, forward_mistakes, backward_mistakes, case,
                                            inputs, grad))
        return payload

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        beside = (TORCH_KEY, MISTAKE_KEY)
        mine = {k: v for k, v in actual.items() if not k.startswith(beside)}
        oracle = {k[len(TORCH_KEY):]: v for k, v in actual.items()
                  if k.startswith(TORCH_KEY) and not k.endswith(ORACLE_DIGEST)}
        if not oracle:  # no torch in the grader: the reference is the oracle
            assert expected is not None
            verdict = compare_payloads(mine, {k: v for k, v in expected.items()
                                              if not k.startswith(beside)}, rtol=rtol,
                                       atol=atol, nonfinite=nonfinite)
            if not verdict.passed and MISTAKES_NEED_TORCH in actual:
                verdict.details[NEEDS_TORCH] = True  # said once per grading (a warning)
            return verdict
        verdict = compare_payloads(mine, oracle, rtol=rtol, atol=atol, nonfinite=nonfinite)
        named = None if verdict.passed else computed_mistake(mine, actual, computed,
                                                             rtol=rtol, atol=atol, right=oracle)
        found = (f"your outputs are exactly those of {named}. "
                 f"{without_guesses(verdict.message)}" if named else verdict.message)
        if named:
            verdict.details[NAMED_MISTAKE] = named
        verdict.message = (f"output and every gradient match {name} on the same parameters"
                           if verdict.passed else f"against {name} on the same parameters and "
                           f"inputs: {found}")
        return verdict

    if computed:  # the grader's own outputs of the mistakes: not an expected value (a fixture
        # keeps them as the oracle they are, with their digest: release/fixtures.py)
        options.setdefault("stored", lambda key: not key.startswith(MISTAKE_KEY))
    return gate(Check(question, "torch", title, points, "value", collect=collect, judge=judge,
                      needs_expected=True, **options), _layer_at_scale(
        module, cls, _at_scale_of("torch_check", question, cls, at_scale), make))
