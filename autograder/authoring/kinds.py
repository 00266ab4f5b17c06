"""Building checks of the five kinds: value, gradient, metric, property and custom.

Exercise packs declare their checks with these factories; each returns a :class:`Check`
whose ``collect`` runs in the child and whose ``judge`` runs in the grader.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nlpdojo import gradcheck
from nlpdojo.gradcheck.result import joined_messages
from nlpdojo_autograder.authoring.checks import (
    NAMED_MISTAKE,
    Check,
    CheckFailure,
    DeclarationError,
    Payload,
    Verdict,
)
from nlpdojo_autograder.authoring.compare import (
    FLOAT32_HINT,
    MISTAKE_KEY,
    MISTAKES_NEED_TORCH,
    SMALL_DIFFERENCE_HINT,
    Nonfinite,
    SignGroups,
    compare_payloads,
)
from nlpdojo_autograder.authoring.context import ORACLE_DIGEST, Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.properties import Property

#: tolerances past which a value check's pass says them (an author's rtol=0.5 passed an answer
#: 30 % off as "matches the reference"); the course's own are at most 1e-4 and 1e-3
LOOSE_RTOL = 1e-3
LOOSE_ATOL = 1e-2


@question_builder
def value_check(name: str, title: str, points: float, run: Callable[[Context], Payload], *,
                question: str | None = None, rtol: float = 1e-6, atol: float = 1e-8,
                up_to_sign: SignGroups | None = None,
                mistakes: dict[str, Callable[[Payload], Payload]] | None = None,
                computed_mistakes: Sequence[str] = (), nonfinite: Nonfinite = None,
                labels: dict[str, str] | None = None, **options: Any) -> Check:
    """Outputs of the code under test on seeded inputs must equal the reference's.

    ``run(ctx)`` returns named outputs as NumPy arrays (use ``ctx.to_numpy``). ``up_to_sign``:
    outputs compared up to the sign of each column (singular vectors, a PCA projection:
    :data:`~.compare.SignGroups`). ``mistakes``: ``{"what the student did
    (the fix)": f}``, ``f(expected)`` the outputs that mistake gives; wrong outputs that equal
    one of them are told which mistake it is (and no longer guessed at).
    ``nonfinite``: what a NaN or inf among the outputs means in this check, where it knows
    (:func:`~.compare.compare_array`); by default the usual causes of what was found are listed.
    A mistake that needs the check's inputs, not its expected outputs alone, is computed by
    ``run`` itself, in the grader, beside its outputs (:func:`mistaken_outputs`): named in
    ``computed_mistakes``, in the order of its keys' numbers. ``labels``: how the messages
    name an output whose key is no name for a student (``{"large_scores": "softmax on scores
    around 1000"}``); the keys, and the fixtures, stay as they are.
    """
    if labels and up_to_sign:
        raise ValueError("value_check: labels and up_to_sign together are not supported")

    def shown(payload: Payload) -> Payload:
        return {labels.get(k, k): v for k, v in payload.items()} if labels else payload

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        assert expected is not None
        mine = {k: v for k, v in actual.items() if not k.startswith(MISTAKE_KEY)}
        expected = {k: v for k, v in expected.items() if not k.startswith(MISTAKE_KEY)}
        verdict = compare_payloads(shown(mine), shown(expected), rtol=rtol, atol=atol,
                                   up_to_sign=up_to_sign, nonfinite=nonfinite)
        if verdict.passed:
            if rtol > LOOSE_RTOL or atol > LOOSE_ATOL:  # "matches" within 50 % is no match
                verdict.message += f" (within rtol={rtol:g}, atol={atol:g})"
            return verdict
        named = None
        for what, wrong in (mistakes or {}).items():
            try:
                theirs = wrong(expected)
            except Exception:  # noqa: BLE001 - a mistake that does not apply to these outputs
                continue
            if compare_payloads(mine, theirs, rtol=max(rtol, 1e-9), atol=atol).passed:
                named = what
                break
        named = named or computed_mistake(mine, actual, computed_mistakes, rtol=rtol, atol=atol,
                                          right=expected)
        if named:
            # the cause first: the numbers after it (a long list, cut in some reports)
            verdict.message = (f"Your outputs are exactly those of {named}. "
                               + without_guesses(verdict.message))
            verdict.details[NAMED_MISTAKE] = named
        elif MISTAKES_NEED_TORCH in actual:
            verdict.details[NEEDS_TORCH] = True  # said once per grading (a warning)
        return verdict

    if computed_mistakes:  # the grader's own outputs of the mistakes: not an expected value (a
        # fixture keeps those of an oracle, with its digest: release/fixtures.py)
        options.setdefault("stored", lambda key: not key.startswith(MISTAKE_KEY))
    return Check(question, name, title, points, "value", collect=run, judge=judge, **options)


#: ``CheckResult.details[NEEDS_TORCH]``: a failed check that would have compared its wrong
#: outputs with its question's usual mistakes, written in torch, had torch been installed in
#: the grader; the grading says so once, in a warning (a student release installs no torch,
#: and every failed check had said it again)
NEEDS_TORCH = "mistakes_need_torch"
TORCH_NAMES_MISTAKES = ("with torch installed where you grade (`pip install -c constraints.txt "
                        "torch`), the grader also compares their wrong outputs with their "
                        "questions' usual mistakes and names the one made, if it is one of them")


def mistaken_outputs(index: int, outputs: Payload) -> Payload:
    """``outputs`` (the ``index``-th of a value check's ``computed_mistakes``, computed by the
    grader on the check's inputs) keyed to go beside the outputs of the code under test."""
    return {f"{MISTAKE_KEY}{index}|{k}": np.asarray(v) for k, v in outputs.items()}


def computed_mistake(mine: Payload, actual: Payload, names: Sequence[str], *, rtol: float,
                     atol: float, right: Payload | None = None) -> str | None:
    """The first of the ``names`` mistakes whose outputs, computed beside ``actual``
    (:func:`mistaken_outputs`), ``mine`` (the outputs of the code under test) holds; None.
    A mistake whose outputs are also ``right``'s (the true outputs, on the keys it gives) is
    never named: on these inputs it cannot be told from the right answer (a ReLU left out
    before a max whose values are all positive), and a failure elsewhere is not it."""
    for i, what in enumerate(names):
        prefix = f"{MISTAKE_KEY}{i}|"
        theirs = {k[len(prefix):]: v for k, v in actual.items() if k.startswith(prefix)}
        if not theirs or not compare_payloads(mine, theirs, rtol=max(rtol, 1e-9),
                                              atol=atol).passed:
            continue
        if right is not None and set(theirs) <= set(right) and compare_payloads(
                right, theirs, rtol=max(rtol, 1e-9), atol=atol).passed:
            continue
        return what
    return None


def without_guesses(message: str) -> str:
    """``message`` without the guesses a comparison adds on small differences (float32
    arithmetic, a small term elsewhere), for a check that has named the mistake itself."""
    return message.replace(FLOAT32_HINT, "").replace(SMALL_DIFFERENCE_HINT, "")


@dataclass
class GradientProblem:
    """A scalar loss of named float64 inputs, and the student's gradients of it.

    ``loss(values)`` receives a dict with every entry of ``point`` (perturbed one at a time)
    and returns a float; ``analytic[name]`` is dL/d(name) as the student computed it.
    """

    loss: Callable[[dict[str, np.ndarray]], float]
    point: dict[str, np.ndarray]
    analytic: dict[str, Any]
    #: optional second oracle: the true loss written with torch operations, a function of a
    #: dict of float64 tensors returning a 0-d tensor. Where torch is installed in the grader
    #: (on every backend) its autograd gradient must match the student's too (catches a loss
    #: and gradient wrong together).
    autograd_loss: Callable[[dict[str, Any]], Any] | None = None
    #: everything besides :attr:`point` that ``autograd_loss`` reads (a layer's other inputs
    #: and upstream gradient, a loss's targets, keyword arguments): declared, a submission's
    #: grading takes the autograd gradient from the reference's payload where the point and
    #: these are equal (:meth:`Context.oracle`) instead of computing it again; ``None`` (not
    #: declared): computed every time
    autograd_inputs: dict[str, Any] | None = None
    #: inputs differenced along :data:`SHARED_DIRECTIONS` random directions only, not
    #: coordinate by coordinate: a layer's parameters in its ``repeated`` check, whose
    #: gradient (the sum over the calls) another check differences coordinate by coordinate
    #: and the judge compares whole against the reference's
    along_directions: frozenset[str] = frozenset()
    #: how many random directions each of :attr:`along_directions` is differenced along
    directions: int = 0  # 0: SHARED_DIRECTIONS


#: random directions per input of :attr:`GradientProblem.along_directions` (a gradient
#: overwritten instead of added, or a call's cache kept on ``self``, is wrong in every
#: coordinate it touches: any direction sees it)
SHARED_DIRECTIONS = 4


@question_builder
def gradient_check(name: str, title: str, points: float, make: Callable[[Context], GradientProblem],
                   *, question: str | None = None, max_full: int = 2000, n_samples: int = 30,
                   n_directions: int = 10, objective: tuple[str, str] = ("loss", "the loss"),
                   **options: Any) -> Check:
    """The student's gradients must match central differences of the student's own loss, and
    that loss must be the true one.

    The grader gathers the evidence through calls to the code under test (the analytic
    gradient, the loss at the point, central differences at every or at sampled coordinates,
    directional derivatives) and judges it with the rule of :mod:`nlpdojo.gradcheck`
    (float64, relative error < 1e-5 or absolute error < 1e-8). Central differences only see
    the student's own loss, so a made-up loss with its own exact gradient would pass them:
    the expected payload (the reference's, live, or the fixture a student release ships: its
    losses and analytic gradients, and torch autograd's gradients with their inputs' digest)
    must agree on the loss at the check's point, and the analytic gradient must match the
    reference's there too. ``objective``: how feedback names what is differentiated and what
    computes it.
    """

    def collect(ctx: Context) -> Payload:
        problem = make(ctx)
        payload: Payload = {}
        # every input of the loss gets its gradient checked: one the student's code did not
        # report (a parameter hidden from named_parameters() after the layer was built, a
        # gradient left out of a returned dict) fails, never goes unchecked
        unreported = [p for p in problem.point if p not in problem.analytic]
        if unreported:
            raise CheckFailure(
                f"no gradient came back for {', '.join(unreported)}: backward must give the "
                "gradient of every parameter (in its .grad, each parameter listed by "
                "named_parameters() every time) and of every input it received")
        for pname, x in problem.point.items():
            analytic = ctx.to_numpy(problem.analytic[pname], f"the gradient for {pname}")

            def f(value: np.ndarray, pname: str = pname) -> float:
                return problem.loss({**problem.point, pname: value})

            # the loss at many points, sent to the code under test together
            f.many = lambda values, f=f: ctx.batch(f, values)  # type: ignore[attr-defined]

            # as expected values only the loss at the point and the gradient are read
            # (_stored_gradient_keys): the reference evaluates its loss once, not per coordinate
            directions_only = False
            if ctx.expected_only:
                plan = dict(max_full=-1, n_samples=0, n_directions=0)
            elif pname in problem.along_directions and np.size(x) > (
                    count := problem.directions or SHARED_DIRECTIONS):
                plan = dict(max_full=0, n_samples=0, n_directions=count)
                directions_only = True
            else:
                plan = dict(max_full=max_full, n_samples=n_samples, n_directions=n_directions)
            at = np.asarray(x, np.float64)
            evidence = gradcheck.gather_evidence(f, at, analytic, seed=ctx.seed, **plan)
            if directions_only:  # a step across a kink of a deep network is ruled out
                evidence = gradcheck.confirmed_at_a_finer_step(f, at, analytic, evidence, pname,
                                                               **plan)
            payload.update({f"{pname}|{k}": v for k, v in evidence.items()})
            if problem.autograd_loss is not None and _torch_installed():
                payload.update(_autograd_entry(ctx, problem, pname))
        missing = [p for p in problem.analytic if p not in problem.point]
        if missing:
            raise CheckFailure(f"internal: gradients for unknown inputs {missing}")
        return payload

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        actual = {k: v for k, v in actual.items() if not k.endswith(ORACLE_DIGEST)}
        evidence = {k: v for k, v in actual.items() if not k.startswith(AUTOGRAD)}
        names = sorted({k.split("|", 1)[0] for k in evidence})
        results = [gradcheck.judge_evidence(
            pname, {k.split("|", 1)[1]: v for k, v in evidence.items()
                    if k.split("|", 1)[0] == pname}) for pname in names]
        differenced = {r.name for r in results if r.passed}
        for key, value in actual.items():
            pname = key[len(AUTOGRAD):]
            if not key.startswith(AUTOGRAD) or f"{pname}|analytic" not in actual:
                continue
            result = gradcheck.compare_gradients(actual[f"{pname}|analytic"], value,
                                                 name=pname, oracle="torch autograd")
            if not result.passed and pname in differenced:
                # central differences of the code's own forward agree: the forward computes
                # another function than the true one (for an author whose reference fails
                # here, the check's torch= forward does: docs/authoring.md)
                result = replace(result, message=result.message + (
                    f" Central differences of your own forward agree with your dL/d{pname} "
                    "(not with the true one): your forward computes another function than the "
                    "true forward (the values check says where)."))
            results.append(result)
        wrong_loss = _wrong_loss(actual, expected or {}, names, objective)
        if expected and not wrong_loss:
            own_failed = {r.name for r in results if not r.passed}
            results += [gradcheck.compare_gradients(
                actual[f"{pname}|analytic"], expected[f"{pname}|analytic"], name=pname,
                oracle="the reference's gradient") for pname in names
                if pname not in own_failed and f"{pname}|analytic" in actual
                and f"{pname}|analytic" in expected]
        failed = [r for r in results if not r.passed]
        details = {"gradients": [r.to_dict() for r in results]}
        if failed or wrong_loss:
            # a gradient that central differences find wrong is said once: autograd and the
            # reference's gradient agreeing with them add nothing (they stay in the details)
            wrong = {r.name for r in failed if r.oracle == "numerical"}
            shown = [r for r in failed if r.oracle == "numerical" or r.name not in wrong]
            message = " ".join(filter(None, (joined_messages(shown, most=SAID_IN_FULL),
                                             wrong_loss)))
            return Verdict(False, message.strip(), fraction=0.0, details=details)
        oracles = "central differences" + (" and autograd" if any(
            k.startswith(AUTOGRAD) for k in actual) else "") + (
            " and the reference's gradient" if expected else "")
        return Verdict(True, f"gradients match {oracles} ("
                       + ", ".join(dict.fromkeys(f"{r.name}: {r.mode}" for r in results)) + ")",
                       details=details)

    return Check(question, name, title, points, "gradient", collect=collect, judge=judge,
                 needs_expected=True, stored=_stored_gradient_keys, **options)


AUTOGRAD = "autograd|"
#: the wrong gradients a gradient check's message gives in full (a worst coordinate, the
#: counts); the others it names in one line
SAID_IN_FULL = 4
#: the loss at the check's point may differ from the true one by this much (relative)
LOSS_RTOL, LOSS_ATOL = 1e-6, 1e-8


def _stored_gradient_keys(key: str) -> bool:
    """What a gradient check's fixture keeps of the reference's payload: the loss at the
    check's point and the analytic gradient of each input (the judge needs nothing else)."""
    return key.endswith(("|loss", "|analytic"))


def _wrong_loss(actual: Payload, expected: Payload, names: list[str],
                objective: tuple[str, str] = ("loss", "the loss")) -> str:
    """A message when the student's loss at the check's point is not the reference's;
    ``objective``: what the check differentiates and what computes it, as feedback names
    them (a layer's: the sum of its output times an upstream gradient, computed by its
    forward)."""
    what, source = objective
    for pname in names:
        key = f"{pname}|loss"
        if key not in actual or key not in expected:
            continue
        yours, true = float(np.asarray(actual[key])), float(np.asarray(expected[key]))
        if not math.isfinite(yours):
            return ""  # judge_evidence already says so
        if not math.isclose(yours, true, rel_tol=LOSS_RTOL, abs_tol=LOSS_ATOL):
            return (f"Your {what} differs from the true one at the check's point (yours "
                    f"{yours:.6g}, the true one {true:.6g}); a gradient check passes only for "
                    f"the true one: fix {source} first (the values check compares it too), "
                    "then make the gradient agree with it.")
    return ""


def _torch_installed() -> bool:
    """Whether the grader can run the torch oracle (an optional dependency)."""
    return importlib.util.find_spec("torch") is not None


def _autograd_entry(ctx: Context, problem: GradientProblem, pname: str) -> Payload:
    """The payload's torch autograd gradient for ``pname`` (and its inputs' digest): taken
    from the reference's payload at equal inputs where the problem declares them all
    (:attr:`GradientProblem.autograd_inputs`), else computed."""
    key = f"{AUTOGRAD}{pname}"
    if problem.autograd_inputs is None:
        return {key: _autograd(problem, pname)}
    return ctx.oracle(key, {"of": pname, "point": problem.point,
                            "inputs": problem.autograd_inputs},
                      lambda: _autograd(problem, pname))


def _autograd(problem: GradientProblem, pname: str) -> np.ndarray:
    """dL/d(pname) of the true loss by torch autograd, at the problem's point (float64)."""
    import torch

    fixed = {k: torch.as_tensor(np.asarray(v, np.float64)) for k, v in problem.point.items()}
    loss = problem.autograd_loss
    assert loss is not None
    return gradcheck.autograd_gradient(lambda t: loss({**fixed, pname: t}),
                                       np.asarray(problem.point[pname], np.float64))


#: what a metric check judged against a release's fixture adds to its message
RELEASED_NOTE = (" (a student release: judged as a submission is, against the reference's "
                 "run under this budget recorded at the release's seed: its metric and every "
                 "step's loss; a submission's grading draws fresh seeds and also compares the "
                 "trained parameters and your forward with the reference's)")


@question_builder
def metric_check(name: str, title: str, points: float, run: Callable[[Context], Payload], *,
                 question: str | None = None, metric: str,
                 threshold: float | Callable[[float], float], higher_is_better: bool = True,
                 budget: str, hint: str = "", chance: str | None = None,
                 chance_name: str | None = None,
                 too_good: tuple[Callable[[float], float], str] | None = None,
                 audit: Callable[[Payload, Payload | None], str | None] | None = None,
                 **options: Any) -> Check:
    """Train the student's code under a fixed budget and seeds; a metric must reach a threshold.

    ``run(ctx)`` returns ``{"value": float, ...}``. ``threshold`` is a number, or a function of
    the value the reference reaches under the same budget (e.g. ``lambda ref: ref - 0.05``).
    ``hint`` is added to the message when the metric misses its threshold: which of the
    student's functions the training ran, say, since the numbers alone do not name a culprit.
    ``chance`` names an entry of the payload holding what untrained artefacts reach (a null
    distribution's upper quantile, measured grader-side by ``run``): the metric must also beat
    it, so a threshold relative to a weak reference never rewards chance. ``chance_name``
    names that floor when it is a baseline worth showing in every message (the
    most-frequent-tag tagger): the feedback then always gives both figures.
    ``too_good``: ``(bound, why)``, a function of the reference's value past which a result is
    implausible under the same budget (a language model scored on the very tokens it was
    given reaches a perplexity near 1): such a value fails, with ``why`` as the explanation.
    ``audit(actual, expected)``: why the trained artefact is not this run's product (None:
    it is), e.g. :func:`nlpdojo_autograder.training.trained.audit`; a reason fails the check first.
    ``stored`` (in ``options``): the keys of the reference's payload a release's fixture
    keeps (a trained model's metric and every step's loss at the release's seed, never its
    parameters: :data:`~nlpdojo_autograder.training.plans.TRAINED`). Judged against such a
    fixture (a student release: ``expected`` holds those keys alone), the check applies the
    rule a submission is judged by (the audit, the threshold, the too-good bound) and says
    the reference's figure and the threshold, which the release ships anyway, and what a
    submission's grading adds. With ``release_expected=False`` (in ``options``) no fixture
    stores the reference's payload: without the reference the judge gets no expected values
    and a relative threshold falls back to the chance floor, which the message says.
    """
    relative = callable(threshold) or too_good is not None
    practice = not options.get("release_expected", True)
    stored = options.get("stored")

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        value = float(actual.get("value", math.nan))
        ref = float(expected["value"]) if expected and "value" in expected else None
        # a release's fixture: only the keys a fixture stores (a live reference's payload
        # holds the trained parameters too)
        released = bool(expected) and stored is not None and all(stored(k) for k in expected)
        note = RELEASED_NOTE if released else ""
        if audit is not None:
            wrong = audit(actual, expected)
            if wrong is not None:
                return Verdict(False, f"training audit: {wrong}" + (f". {hint}" if hint else "")
                               + note, value=value, details={"budget": budget})
        if callable(threshold) and ref is None and practice and chance:
            limit = -math.inf if higher_is_better else math.inf  # the chance floor decides
        elif callable(threshold):
            assert ref is not None
            limit = float(threshold(ref))
        else:
            limit = float(threshold)
        if chance and chance not in actual:  # a misspelt key: the floor would vanish
            raise DeclarationError(f"metric check {name}: chance={chance!r} names no figure "
                                   f"its run measured (it measured: "
                                   f"{', '.join(sorted(actual)) or 'nothing'})")
        floor = float(actual[chance]) if chance else None
        if floor is not None and math.isfinite(floor):
            limit = max(limit, floor) if higher_is_better else min(limit, floor)
        # at the chance floor itself a constant answer ties it (the majority class every
        # time): a trained model must beat the floor, not equal it
        strict = floor is not None and limit == floor
        if higher_is_better:
            ok = math.isfinite(value) and (value > limit if strict else value >= limit)
            sign = ">" if strict else "≥"
        else:
            ok = math.isfinite(value) and (value < limit if strict else value <= limit)
            sign = "<" if strict else "≤"
        # a threshold set by the reference's run is the reference's value in disguise: shown
        # once earned, never to a result that missed it (the chance floor is the grader's);
        # a release's fixture ships both, so there they are said
        hidden_limit = not ok and ref is not None and limit != floor and not released
        msg = f"{metric} {value:.4g}"
        if hidden_limit:  # (the reference's own run short of it: the declaration's fault)
            msg += (f", short of {sign} {limit:.4g}, the threshold set from the reference's own "
                    "run: lower it or raise the budget" if value == ref else ", short of the "
                    "threshold the reference's run under the same budget sets (shown once reached)")
        elif not ok and released and ref is not None:
            msg += (f": the reference reaches about {ref:.3g} under this budget, and a "
                    f"submission needs {sign} {limit:.4g}")
        elif not ok:
            msg += f", needs {sign} {limit:.4g}"
        if ref is not None and ok:
            msg += f" (the reference: {ref:.4g})"
        if chance_name and floor is not None:
            msg += f"; {chance_name}: {floor:.4g}"
            if not ok and limit == floor:
                msg += " (a trained model must beat it)"
        elif not ok and floor is not None and limit == floor:
            msg += f"; untrained (random) vectors reach {floor:.4g} by chance"
        if not math.isfinite(value):
            msg = (f"{metric} is {value}: training diverged (NaN/inf): a wrong gradient (its "
                   "sign or scale), a division by zero in the optimizer's update, or steps too "
                   "large; the checks of the pieces the training runs say which is wrong")
        if too_good is not None and ok and ref is not None:
            bound, why = too_good
            if (value > bound(ref)) if higher_is_better else (value < bound(ref)):
                ok, hidden_limit = False, not released
                msg = (f"{metric} {value:.4g} is implausibly "
                       f"{'high' if higher_is_better else 'low'} against the reference's "
                       + (f"({ref:.4g}) " if released else "")
                       + f"under the same budget: {why}")
        if not ok and hint:
            msg += f". {hint}"
        if ref is None and practice:
            msg += (" (a student release has no reference: scored with your own forward and "
                    "judged against the baseline only; graded against the reference's training "
                    "under the same budget when you submit)")
        msg += note
        details = {"budget": budget, "reference": ref if ok or released else None,
                   "higher_is_better": higher_is_better,
                   **{k: v for k, v in actual.items() if k != "value" and np.ndim(v) == 0}}
        shown = limit if ok or released or not (
            hidden_limit or ref is not None and limit != floor) else None
        return Verdict(ok, msg, value=value, threshold=shown, details=details)

    return Check(question, name, title, points, "metric", collect=run, judge=judge,
                 needs_expected=relative, budget=budget, dtype=options.pop("dtype", None),
                 floor=chance or "", **options)


@question_builder
def custom_check(name: str, title: str, points: float, collect: Callable[[Context], Payload],
                 judge: Callable[[Payload, Payload | None], Verdict], *,
                 question: str | None = None, needs_expected: bool = False,
                 right: tuple[float, float] | None = None, **options: Any) -> Check:
    """Anything else (a plot was written, a file has the right format...).

    Judged without the reference (``needs_expected=False``), a check that carries points
    names its ``oracle=`` (what the grader compares with instead, :attr:`Check.oracle`), or
    is given ``right=(rtol, atol)``: its points are then earned on the reference's outputs
    only, ``judge`` saying what is wrong first (:func:`on_right_outputs`)."""
    if right is not None:
        judge, needs_expected = on_right_outputs(judge, right), True
    return Check(question, name, title, points, "custom", collect=collect, judge=judge,
                 needs_expected=needs_expected, **options)


def on_right_outputs(judge: Callable[[Payload, Payload | None], Verdict],
                     right: tuple[float, float]) -> Callable[[Payload, Payload | None], Verdict]:
    """``judge``, whose pass also needs the outputs to be the reference's within ``right``
    ``(rtol, atol)``: for a property that trivial outputs satisfy (a uniform distribution sums
    to 1; all-zero gradient norms meet an upper bound), so that its message teaches and its
    points need the work."""
    def judged(actual: Payload, expected: Payload | None) -> Verdict:
        verdict = judge(actual, expected)
        if not verdict.passed:
            return verdict
        assert expected is not None
        compared = compare_payloads(actual, expected, rtol=right[0], atol=right[1])
        if compared.passed:
            return verdict
        return Verdict(False, f"{verdict.message}, but on outputs that are not the right ones "
                       "(the property is earned on right outputs only): "
                       f"{compared.message}", details=compared.details)
    return judged


@question_builder
def property_check(name: str, title: str, points: float, run: Callable[[Context], Payload],
                   properties: Sequence[Property], *, question: str | None = None,
                   right: tuple[float, float] | None = None, **options: Any) -> Check:
    """The outputs of the code under test on seeded inputs must satisfy every one of
    ``properties`` (rows of a distribution summing to 1, probabilities in [0, 1], a symmetric
    matrix, a sample within the support...): a check that needs no reference, so it judges
    the same with and without the solutions installed. ``run(ctx)`` returns named outputs
    as for :func:`value_check`; :func:`rows_sum_to_one`, :func:`within` and :func:`finite`
    make the usual properties.

    ``right=(rtol, atol)``: the outputs must also be the reference's (on fresh inputs, like a
    value check's). Use it where trivial outputs satisfy the properties: an upper bound
    holds for zeros (all-zero gradient norms met Pascanu et al.'s bound without a step of
    backpropagation); then the property's message teaches, and the points need the work.
    Without it, a property check that carries points names its ``oracle=`` (the properties
    that only right outputs have, :attr:`Check.oracle`)."""
    if not properties:
        raise ValueError(f"property_check({question}.{name}): no properties to check")

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        for prop in properties:
            try:
                held = np.asarray(prop.holds(actual), dtype=bool)
            except (KeyError, ValueError, TypeError) as exc:
                return Verdict(False, f"{prop.name}: the outputs cannot be judged ({exc})")
            if not held.all():
                if callable(prop.message):
                    return Verdict(False, prop.message(actual))
                where = "" if held.ndim == 0 else str(
                    tuple(int(i) for i in np.argwhere(~held)[0]))
                return Verdict(False, prop.message.format(where=where))
        return Verdict(True, "holds: " + ", ".join(p.name for p in properties))

    return Check(question, name, title, points, "property", collect=run,
                 judge=judge if right is None else on_right_outputs(judge, right),
                 needs_expected=right is not None, **options)
