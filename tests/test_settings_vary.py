"""Every setting a question's checks give the code under test varies between gradings.

A number the code under test takes as an argument (a clip, a dropout rate, a limit, a learning
rate) and must use is the same in every grading when a check writes it in: code that ignores
it and uses that number instead keeps full marks, and the grader's source, which ships with a
student release, says which number. An adversarial review kept 15.5 points that way
(``clip_grad_norm``'s ``max_norm``, ``max_norm``'s limit, ``train_gated_lm``'s clip, the LSTM
LM's dropout). So the course's checks are run twice on the reference, in this process, with two
input seeds, and every float passed to the code under test is noted, by question and by where
it goes (the function's name and the argument's position; for a layer, its constructor's
arguments), with whether changing it alone changes the call's result: where the numbers that
matter are the same in both gradings, they can be written in (a second review's smoothing
discounts, picked by the n-gram order, kept 14 points). Each is drawn per grading instead
(``drawn_setting``, ``settings_rng``), or listed in :data:`FIXED_ON_PURPOSE` with why.
Integer arguments are not audited: most are sizes a wrong value cannot pass (a layer built
with another width fails), and the few settings among them (a convolution's stride, padding
and dilation; k of the k nearest words) are drawn by their checks.
"""

from __future__ import annotations

import collections
import warnings
from typing import Any

import numpy as np
import pytest

from nlpdojo_autograder.authoring import checks as check_module
from nlpdojo_autograder.grading import runner
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.runtime.loader import load_reference_dir

#: probes of the grader that call the code under test given as their first argument (a class
#: or a function) with the positional and keyword arguments at these positions
#: (``layer_run(cls, args, kwargs, ...)``); their other arguments are the grader's own
PROBE_CALLS = {name: (1, 2) for name in (
    "layer_run", "train_then_eval_run", "final_state_run", "output_shape", "layer_objective",
    "loss_run", "loss_objective", "forward_backward_lines", "loss_forward_backward_lines",
    "without_overflow", "python_lines", "python_lines_and_result")} | {
    "optimizer_run": (None, 1)}
#: (topic, question, where) -> why the number is the same in every grading on purpose
FIXED_ON_PURPOSE = {
    ("language_models", "sampling", "without_overflow[1][1]"):
        "the near-zero temperature (1e-3) whose point is stability; the other temperatures "
        "of the question go to tempered_probs, several of them",
    ("language_models", "sampling", "tempered_probs[1]"):
        "the temperatures of cases of one shape, (4, 9), the same temperature with two top-k "
        "values: a case is told from another by the order of the calls alone, and the "
        "temperature is the work itself (the scores divided by it)",
    ("language_models", "sampling", "sample_next[2]"):
        "the same: draws of rows of one shape at temperatures told apart by call order alone",
    ("language_models", "rnn_lm", "train_and_score.lr"):
        "the learning rate goes to the optimizer in the given training code, outside the "
        "student's block: no code of the student's takes it",
    ("rnn_variants", "vanishing", "norms_of.sigma"):
        "the largest singular value the given code makes W_h with, so that Pascanu et al.'s "
        "bound applies: the student's code is given the weights, never σ",
}


def _is_number(value: Any) -> bool:
    return (isinstance(value, (float, np.floating)) and not isinstance(value, bool)
            and np.ndim(value) == 0)


def _settings_of(args: tuple, kwargs: dict) -> list[tuple[str, Any]]:
    """The float arguments of a call, positional (``[i]``) and by keyword (``.name``), each
    as a key that :func:`_with` takes; floats nested deeper (word pairs with their scores)
    are data, not settings."""
    return ([(f"[{i}]", i) for i, a in enumerate(args) if _is_number(a)]
            + [(f".{k}", k) for k, v in kwargs.items() if _is_number(v)])


def _with(args: tuple, kwargs: dict, key: Any) -> tuple[tuple, dict]:
    """The call's arguments with the one setting ``key`` times 1.37."""
    if isinstance(key, int):
        return tuple(float(a) * 1.37 if i == key else a for i, a in enumerate(args)), kwargs
    return args, {**kwargs, key: float(kwargs[key]) * 1.37}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except (TypeError, ValueError):
        return a == b


def _passed_settings(topic: str, input_seed: int) -> dict[str, set]:
    """``{question: {(where, number, matters)}}`` of one grading of the reference of ``topic``
    (every value, custom and property check of its questions that do not train): each float
    passed to the code under test, and whether the call's result changes when it alone is
    changed (a clip above every gradient's norm does not: that case tests no clip)."""
    exercise = get_exercise(topic)
    checks = [c for c in exercise.checks if c.question not in exercise.integrative
              and c.kind in ("value", "custom", "property")]
    found: dict[str, set] = collections.defaultdict(set)
    current = {"question": ""}
    call, run_one = check_module.RemoteFunction.call, runner._run_one

    def result(self, args, kwargs, options) -> Any:
        try:  # a setting pushed out of its range (a decay above 1) may give NaNs: no warning
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return call(self, args, kwargs, **options)[0]
        except Exception as exc:  # noqa: BLE001 - a setting the code refuses matters
            return f"raised {type(exc).__name__}"

    def noting_call(self, args, kwargs=None, **options):
        owner, _, name = self.token.args
        args, kwargs = tuple(args), dict(kwargs or {})
        if owner in ("student", "given"):
            target, inner = name, (None, None)
            given_args, given_kwargs = args, kwargs
        elif (name in PROBE_CALLS and args and isinstance(args[0], check_module.RemoteFunction)
              and args[0].token.args[0] != "probe"):  # a probe's own settings are the grader's
            target, inner = args[0].label, PROBE_CALLS[name]
            given_args = tuple(args[inner[0]]) if inner[0] is not None else ()
            given_kwargs = dict(args[inner[1]])
        else:
            return call(self, args, kwargs, **options)
        settings = _settings_of(given_args, given_kwargs)
        if settings:
            base = result(self, args, kwargs, options)
            for where, key in settings:
                made = _with(given_args, given_kwargs, key)
                if inner == (None, None):
                    changed = made
                else:
                    outer = list(args)
                    if inner[0] is not None:
                        outer[inner[0]] = made[0]
                    outer[inner[1]] = made[1]
                    changed = (tuple(outer), kwargs)
                number = given_args[key] if isinstance(key, int) else given_kwargs[key]
                found[current["question"]].add((f"{target}{where}", float(number), not _same(
                    base, result(self, *changed, options))))
        return call(self, args, kwargs, **options)

    def noting_run(check, *args, **kwargs):
        current["question"] = check.question
        return run_one(check, *args, **kwargs)

    check_module.RemoteFunction.call, runner._run_one = noting_call, noting_run
    try:
        runner.run_checks(exercise, checks, topic_folder=None,
                          trusted_folder=load_reference_dir(exercise.reference_package),
                          backend="numpy", device="cpu", seed=0, input_seed=input_seed,
                          question_functions={})
    finally:
        check_module.RemoteFunction.call, runner._run_one = call, run_one
    return found


def _mattering(found: set, where: str) -> set[float]:
    return {number for w, number, matters in found if w == where and matters}


@pytest.mark.parametrize("topic", exercise_names())
def test_no_setting_is_written_in(topic):
    """Per question and place, the numbers whose change changes the call's result must be
    drawn afresh: the same numbers in both gradings can be written in (a single one: code
    that uses it instead of the argument passes; several: code that picks one by the order,
    the n-gram order or the vocabulary's size, as a second review's did for the smoothing
    discounts); none at all: the argument is never tested."""
    first, second = (_passed_settings(topic, seed) for seed in (11, 23))
    fixed = []
    for question in sorted(set(first) | set(second)):
        places = {w for w, _, _ in first.get(question, set()) | second.get(question, set())}
        for where in sorted(places):
            once, again = (_mattering(g.get(question, set()), where) for g in (first, second))
            if (topic, question, where) in FIXED_ON_PURPOSE:
                continue
            if not once and not again:
                fixed.append(f"{question}: {where} changes no result")
            elif once == again:
                fixed.append(f"{question}: {where} is {sorted(once)} wherever it matters, "
                             "in every grading")
    assert not fixed, ("settings written in (draw each per grading with drawn_setting, or "
                       "list it in FIXED_ON_PURPOSE saying why): " + "; ".join(fixed))


def test_the_audit_sees_a_setting_written_in(monkeypatch):
    """The audit can fail: with the LSTM LM's dropout rate fixed again, it names it."""
    from nlpdojo_course.rnn_variants import language_model

    monkeypatch.setattr(language_model, "DROPOUT", (0.25, 0.25))
    found = _passed_settings("rnn_variants", 11)["lstm_lm"]
    again = _passed_settings("rnn_variants", 23)["lstm_lm"]
    assert ("GatedLM.dropout", 0.25, True) in found & again
