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
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nlpdojo_autograder.authoring import context as check_module
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
    """The audit can fail: with the settings a layer case declares as data drawn no more
    (``inputs.setting`` giving its range's low end at every seed), it names the LSTM LM's
    dropout rate (its range 0.3 to 0.6) as written in."""
    from nlpdojo_autograder.authoring import inputs

    monkeypatch.setattr(inputs, "drawn_setting", lambda ctx, low, high, which=0: low)
    found = _passed_settings("rnn_variants", 11)["lstm_lm"]
    again = _passed_settings("rnn_variants", 23)["lstm_lm"]
    assert ("GatedLM.dropout", 0.3, True) in found & again


# -- every planted bug at every draw -------------------------------------------------------------
#: the input seeds scanned for the draws of a question's settings: the gradings whose draws
#: the audit below proves its planted bugs at are chosen among these
SCANNED_SEEDS = range(48)
#: questions whose checks draw settings (per grading: :func:`drawn_setting`, ``settings_rng``,
#: an ``integers`` input the code takes as a setting), cheap enough to grade at every chosen
#: draw here; the others are proved on average, seed by seed (``make test-seeds``)
DRAWN = [("neural_networks", "schedules"), ("neural_networks", "max_margin"),
         ("neural_networks", "leaky_relu"), ("neural_networks", "dropout"),
         ("neural_networks", "gradcheck"), ("neural_networks", "sgd"),
         ("neural_networks", "momentum"), ("neural_networks", "adagrad"),
         ("neural_networks", "rmsprop"), ("neural_networks", "adam"),
         ("rnn_variants", "clipping"), ("cnn_text", "max_norm"),
         ("word_vectors", "count_svd")]


def _checks_of(exercise: Any, question: str) -> list:
    return [c for c in exercise.checks if c.question == question
            and c.kind in ("value", "custom", "property")]


def _draws(topic: str, question: str, input_seed: int) -> set[tuple[str, Any]]:
    """The numbers (ints and floats) one grading of ``question`` on the reference passes to
    the code under test as settings, each with where it goes (``step_decay.every``)."""
    exercise = get_exercise(topic)
    seen: set[tuple[str, Any]] = set()
    call = check_module.RemoteFunction.call

    def noting_call(self, args, kwargs=None, **options):
        owner, _, name = self.token.args
        args_, kwargs_ = tuple(args), dict(kwargs or {})
        if owner in ("student", "given"):
            target, inner = name, (args_, kwargs_)
        elif (name in PROBE_CALLS and args_ and isinstance(args_[0], check_module.RemoteFunction)
              and args_[0].token.args[0] != "probe"):
            at = PROBE_CALLS[name]
            target = args_[0].label
            inner = (tuple(args_[at[0]]) if at[0] is not None else (), dict(args_[at[1]]))
        else:
            return call(self, args, kwargs, **options)
        numbered = [(f"[{i}]", a) for i, a in enumerate(inner[0])] + [
            (f".{k}", v) for k, v in inner[1].items()]
        seen.update((f"{target}{where}", v.item() if isinstance(v, np.generic) else v)
                    for where, v in numbered
                    if isinstance(v, (int, float, np.integer, np.floating))
                    and not isinstance(v, bool))
        return call(self, args, kwargs, **options)

    check_module.RemoteFunction.call = noting_call
    try:
        runner.run_checks(exercise, _checks_of(exercise, question), topic_folder=None,
                          backend="numpy", device="cpu", seed=0, input_seed=input_seed,
                          question_functions={})
    finally:
        check_module.RemoteFunction.call = call
    return seen


#: an integer setting that took at most this many values over the scanned gradings is
#: proved at each (a period, a width); one that took more (a seed, an id, a wide range) at its
#: edges, as a float is
DISCRETE = 16


def covering_seeds(draws: dict[int, set[tuple[str, Any]]]) -> list[int]:
    """The fewest seeds (greedily) whose draws hold every value a discrete integer setting
    took over all of ``draws`` (``{seed: draws}``) and the least and greatest of every other
    setting: each edge and every value of a discrete setting is proved, not an average over
    them."""
    places: dict[str, set] = collections.defaultdict(set)
    for found in draws.values():
        for where, v in found:
            places[where].add(v)
    wanted = set()
    for where, values in places.items():
        if len(values) <= DISCRETE and all(isinstance(v, (int, np.integer)) for v in values):
            wanted |= {(where, v) for v in values}
        else:
            wanted |= {(where, min(values)), (where, max(values))}
    chosen: list[int] = []
    while wanted:
        best = max(draws, key=lambda s: (len(draws[s] & wanted), -s))
        chosen.append(best)
        wanted -= draws[best]
    return sorted(chosen)


def _planted_copy(tmp: Path, topic: str, planted: Any) -> Path:
    """A copy of the solutions (the topic and its library) with ``planted`` planted."""
    from nlpdojo_autograder.authoring.planted import bug_path, plant

    root = load_reference_dir(get_exercise(topic).reference_package).parent
    copy = tmp / "solutions"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = bug_path(copy / topic, planted)
    path.write_text(plant(planted, path.read_text(), str(path)))
    return copy / topic


def _caught(topic: str, question: str, folder: Path, input_seed: int) -> bool:
    """Whether a grading of ``question`` at ``input_seed`` loses points with the solutions in
    ``folder`` (the reference in this process gives the expected values)."""
    exercise = get_exercise(topic)
    checks = _checks_of(exercise, question)
    options = dict(backend="numpy", device="cpu", seed=0, input_seed=input_seed,
                   question_functions={})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = runner.run_checks(exercise, checks, topic_folder=None, **options)
        actual = runner.run_checks(exercise, checks, topic_folder=None, trusted_folder=folder,
                                   **options)
    for check in checks:
        got, want = actual[check.id], expected[check.id]
        if got.status != "ok":
            return True
        if not check.judge(got.payload, want.payload if check.needs_expected else None).passed:
            return True
    return False


def _bugs_of(topic: str, question: str) -> list:
    """The question's planted bugs that its value, custom and property checks must catch (a
    bug also caught by training checks alone, ``also``, still must be here)."""
    return [b for b in get_exercise(topic).planted_bugs if b.question == question]


@pytest.mark.parametrize("topic,question", DRAWN)
def test_every_planted_bug_is_caught_at_every_draw(topic, question, tmp_path):
    """A setting drawn per grading makes the inputs that expose its mistakes depend on the
    draw: a step decay a step early, ``(t + 1) // every``, passed about 38 % of gradings while
    the steps checked were fixed. Each planted bug of a question whose checks draw settings is
    graded at every draw of a set that holds each value of every integer setting seen in
    :data:`SCANNED_SEEDS` gradings and the edges of every float one, and must lose points at
    each."""
    draws = {s: _draws(topic, question, s) for s in SCANNED_SEEDS}
    seeds = covering_seeds(draws)
    bugs = _bugs_of(topic, question)
    assert bugs, f"{topic}.{question} has no planted bug to prove"
    missed = []
    for i, planted in enumerate(bugs):
        folder = _planted_copy(tmp_path / str(i), topic, planted)
        missed += [f"{planted.name!r} at input seed {s}" for s in seeds
                   if not _caught(topic, question, folder, s)]
    assert not missed, f"{topic}.{question}: planted bugs that pass at a draw: {missed}"


def test_the_draws_of_the_step_decay_cover_its_every_period():
    """The chosen seeds hold every period the schedule check draws (3 to 15), and the audit
    and the seeds chosen hold them all (the step decay a step early passed where none was
    next to a step checked)."""
    draws = {s: _draws("neural_networks", "schedules", s) for s in SCANNED_SEEDS}
    seeds = covering_seeds(draws)
    every = {v for s in seeds for where, v in draws[s] if where == "step_decay.every"}
    assert every == set(range(3, 16))


def test_covering_seeds_takes_each_integer_and_the_edges_of_each_float():
    draws = {0: {("f.every", 3), ("f.lr", 0.5)}, 1: {("f.every", 4), ("f.lr", 0.1)},
             2: {("f.every", 3), ("f.lr", 0.9)}, 3: {("f.every", 4), ("f.lr", 0.3)}}
    assert covering_seeds(draws) == [1, 2]
