"""The built-in topic ``language_models`` through the real grader: full marks for the
solutions (in the sandboxed worker), zero for the released stubs, every planted bug caught on
its question; the held-out check grades the whole pipeline on real text."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import grade
from nlpdojo_autograder.release.verify import verify
from tests.grading.courses import run_options, slow_only

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

REPO = Path(__file__).resolve().parents[2]


def _grade(submission, **options):
    result = grade(["language_models"], submission=submission,
                   options=run_options(**options), replay_options={})
    return {c.id: c for _, c in result.checks()}, result


def _copy(tmp_path: Path, source: str = "solutions", library: bool = False) -> Path:
    """``source``'s (solutions/ or exercises/) ``language_models`` package copied under
    ``tmp_path``, with the course library beside it when ``library`` (the neural LMs are built
    on it, and a test that nothing else fails grades it too); the package's folder."""
    for name in ("language_models", "library") if library else ("language_models",):
        shutil.copytree(REPO / source / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "language_models"


def _with_edit(tmp_path: Path, module: str, old: str, new: str, library: bool = False) -> Path:
    """A copy of the solutions (:func:`_copy`) with one planted mistake: ``old`` replaced by
    ``new`` in ``language_models/<module>.py``; the package's folder."""
    folder = _copy(tmp_path, library=library)
    path = folder / f"{module}.py"
    text = path.read_text()
    assert old in text, f"solutions/language_models/{module}.py no longer has {old!r}"
    path.write_text(text.replace(old, new))
    return folder


@pytest.mark.seeded  # the trained metrics' held-out draws
@pytest.mark.slow
@pytest.mark.timeout(1200)
@slow_only("45 s")
def test_a_copy_of_the_solutions_gets_full_marks(tmp_path):
    """The whole topic, its three training runs included, graded on a copy through the worker.
    In every run the copy's value and gradient checks are the planted-bug tests' baselines
    (both halves: here and test_language_models_neural_grading.py), as for every other topic;
    the training runs through the worker are test_trained_metrics.py's (honest trainings that
    fail elsewhere) and this test's, in the slow runs, as rnn_variants' and cnn_text's are."""
    checks, result = _grade(_copy(tmp_path, library=True))
    assert result.score == result.max_score == 53.5, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]
    assert {"add_delta.sotu", "backoff.sotu", "kneser_ney.sotu",
            "sampling.frequencies"} <= set(checks)
    for metric in ("rnn_lm.perplexity", "window_lm.perplexity"):  # both figures shown
        assert "the reference:" in checks[metric].message
        assert "the add-one unigram model:" in checks[metric].message


def test_released_stubs_score_zero(tmp_path):
    checks, result = _grade(_copy(tmp_path, "exercises", library=True))
    assert result.score == 0 and checks
    assert all(c.status == "not_implemented" for c in checks.values())


def test_cross_sentence_ngrams_fail_with_the_cause_named(tmp_path):
    """Windows spanning two sentences: the cause is named (once 15 shape mismatches)."""
    folder = _with_edit(
        tmp_path, "ngrams",
        "return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)",
        "return np.ascontiguousarray(windows, dtype=np.int64)")
    checks, _ = _grade(folder, questions=frozenset(
        {"language_models.ngram_counts", "language_models.perplexity",
         "language_models.add_delta"}))
    assert checks["ngram_counts.values"].score == 0
    assert "such a window spans two sentences" in checks["ngram_counts.values"].message
    assert "has shape" not in checks["ngram_counts.values"].message
    assert checks["perplexity.values"].passed and checks["add_delta.values"].passed


@pytest.mark.long
@pytest.mark.seeded
@pytest.mark.timeout(1500)  # a hang guard: ~4 min alone on 2 cores, over 10 beside other suites
def test_every_planted_bug_is_caught_on_its_question_alone():
    """The n-gram half, --strict (the neural half: test_language_models_neural_grading.py)."""
    from nlpdojo_course.language_models import rnn, window_lm

    neural = {q.id for q in (*rnn.QUESTIONS, *window_lm.QUESTIONS)}
    exercise = get_registry().get("exercise", "language_models")
    exercise = dataclasses.replace(
        exercise, checks=[c for c in exercise.checks if c.question not in neural],
        planted_bugs=[b for b in exercise.planted_bugs if b.question not in neural])
    steps = verify([exercise], backends=[], stubs=False, strict=True)
    # a half's questions without the other half's are not consistent declarations: the whole
    # exercise's are checked by tests/test_consistency.py and dojo verify
    failed = [f"{s.name}: {s.detail}" for s in steps if not s.ok
              and not s.name.startswith("declarations")]
    assert not failed
    assert len([s for s in steps if s.name.startswith("planted bug")]) == len(
        exercise.planted_bugs)


def test_a_sampler_that_multiplies_by_the_temperature_fails_all_of_samplings_checks(tmp_path):
    """Each of the three checks of ``sampling`` catches it and says how. That nothing else
    fails with it is the proof of the planted bug "temperature applied as a multiplication" in
    ``dojo verify --strict`` (the seeded planted-bug tests), so only ``sampling`` is graded."""
    folder = _with_edit(tmp_path, "sampling", "z = scores / temperature",
                        "z = scores * temperature", library=True)
    checks, _ = _grade(folder, questions=frozenset({"language_models.sampling"}))
    failed = {k for k, c in checks.items() if not c.passed}
    assert failed == {"sampling.values", "sampling.frequencies", "sampling.greedy"}
    assert {k.split(".")[0] for k in checks} == {"sampling"}
    assert "Divide the scores by T" in checks["sampling.frequencies"].message
    assert "argmax" in checks["sampling.greedy"].message


def test_a_counter_loop_over_the_tokens_fails_as_not_vectorized(tmp_path):
    """Right counts from a Python loop (collections.Counter over every n-gram): the values
    check fails and says why; it took full marks before require_vectorized."""
    folder = _with_edit(
        tmp_path, "ngrams",
        "    keys, counts = np.unique(ngram_keys(windows, vocab_size), return_counts=True)\n",
        "    from collections import Counter\n"
        "    found = Counter(int(k) for k in ngram_keys(windows, vocab_size))\n"
        "    keys = np.array(sorted(found), dtype=np.int64)\n"
        "    counts = np.array([found[k] for k in keys.tolist()], dtype=np.int64)\n",
        library=True)
    checks, _ = _grade(folder, questions=frozenset({"language_models.ngram_counts",
                                                    "language_models.add_delta"}))
    check = checks["ngram_counts.values"]
    assert check.score == 0 and "count_ngrams runs" in check.message
    assert "a Python loop over the tokens" in check.message
    assert checks["add_delta.values"].passed  # the counts are right: nothing else is charged


def test_a_perplexity_in_the_wrong_base_is_named(tmp_path):
    """value_check(mistakes=...): 2 ** (−mean ln p) is recognised and said."""
    folder = _with_edit(tmp_path, "ngrams", "return float(np.exp(-np.mean(log_probs)))",
                        "return float(2.0 ** (-np.mean(log_probs)))")
    checks, _ = _grade(folder, questions=frozenset({"language_models.perplexity"}))
    assert checks["perplexity.values"].score == 0
    assert "exactly those of the mean of natural logarithms raised to a power of 2" in \
        checks["perplexity.values"].message
    assert checks["perplexity.values"].details["mistake"].startswith(
        "the mean of natural logarithms raised to a power of 2")


def test_add_delta_without_delta_v_in_the_denominator_is_named(tmp_path):
    """The usual add-δ mistakes are recognised from the same counts and said; the right
    formula is not mistaken for any of them."""
    folder = _with_edit(tmp_path, "ngrams", "np.log(context + delta * vocab_size)",
                        "np.log(context + delta)")
    checks, _ = _grade(folder, questions=frozenset({"language_models.add_delta"}))
    check = checks["add_delta.values"]
    assert check.score == 0
    assert "exactly those of δ missing from the denominator" in check.message
    assert "C(c) + δ|V|" in check.message


def test_the_add_delta_mistakes_differ_from_the_right_formula():
    import numpy as np

    from nlpdojo_course.language_models.ngrams import add_delta_mistakes
    from nlpdojo_solutions.language_models import ngrams

    rng = np.random.default_rng(3)
    stream = rng.integers(1, 12, 300)
    stream[::9] = 0
    for n, delta in ((1, 0.5), (2, 1.0), (3, 0.05)):
        model = ngrams.count_ngrams(stream, n, 12, 0)
        windows = ngrams.ngram_windows(rng.integers(1, 12, 60), n, 0)
        right = ngrams.add_delta_log_probs(model, windows, 12, delta)
        mistakes = add_delta_mistakes(model, windows, 12, delta)
        assert len(mistakes) == 4
        for what, wrong in mistakes.items():
            assert not np.allclose(right, wrong, equal_nan=True), what
        # the first is the planted bug's formula, computed independently here
        joint = ngrams.lookup(model[0], model[1], ngrams.ngram_keys(windows, 12))
        context = ngrams.lookup(model[2], model[3], ngrams.ngram_keys(windows[:, :-1], 12))
        np.testing.assert_allclose(next(iter(mistakes.values())),
                                   np.log(joint + delta) - np.log(context + delta))


def test_kneser_ney_with_raw_counts_is_named(tmp_path):
    """Kneser-Ney on raw counts at every order is absolute discounting: said so, with the
    continuation counts to use."""
    text = (REPO / "solutions" / "language_models" / "kneser_ney.py").read_text()
    start = text.index("    bigram_keys = counts[1][0]")  # the solution's whole body
    end = text.index("    ### END SOLUTION", start)
    folder = _with_edit(
        tmp_path, "kneser_ney", text[start:end],
        "    from .backoff import absolute_discount_log_probs\n"
        "    return absolute_discount_log_probs(counts, windows, vocab_size, discount)\n",
        library=True)
    checks, _ = _grade(folder, questions=frozenset({"language_models.kneser_ney"}))
    check = checks["kneser_ney.values"]
    assert check.score == 0
    assert "exactly those of interpolated absolute discounting" in check.message
    assert "continuation counts" in check.message


def test_the_torch_bptt_oracle_equals_the_reference_training_losses():
    """Parity: the grader's torch truncated BPTT (autograd, detach) and the reference's
    train_rnn_lm give the same losses on the same stream and weights."""
    import numpy as np

    from nlpdojo.selection import load_backend
    from nlpdojo_autograder.training import loop_draws, truncated_bptt_losses
    from nlpdojo_solutions.language_models.lm_training import train_and_score

    train, _, init = loop_draws(np.random.default_rng(5), "rnn")
    ours = train_and_score(load_backend("numpy", "cpu", "float64"), train, train[:20],
                           model="rnn", vocab_size=9, init=init, dim=3, hidden=4,
                           batch_size=3, bptt=4, optimizer="sgd", lr=0.5, epochs=2,
                           eval_bptt=5)["losses"]

    def torch_bptt_losses(**switches):
        return truncated_bptt_losses(train, init, cell="rnn", batch_size=3, bptt=4, lr=0.5,
                                     epochs=2, **switches)

    np.testing.assert_allclose(ours, torch_bptt_losses(), rtol=1e-10)
    assert not np.allclose(ours, torch_bptt_losses(carry=False))
    unshifted = torch_bptt_losses(shift=0)
    assert unshifted[-1] < ours[-1]  # copying the input is easier to learn than the next token


def test_a_hidden_state_not_carried_is_named(tmp_path):
    folder = _with_edit(tmp_path, "rnn_lm", "h = model.final_state(cache)  # (B, H) carried",
                        "h = model.initial_state(b)  # (B, H) carried", library=True)
    says = "exactly those of the hidden state not carried across windows"
    checks, _ = _grade(folder, questions=frozenset({"language_models.rnn_lm"}),
                       until_lost={"rnn_lm": says},  # settled there: no training after it
                       order=lambda check: check.id != "rnn_lm.truncated_bptt")
    check = checks["rnn_lm.truncated_bptt"]
    assert check.score == 0
    assert says in check.message
    assert check.details["mistake"].startswith("the hidden state not carried across windows")


#: Kneser-Ney as absolute discounting on relabelled counts: the continuation counts written,
#: the recursion handed to backoff's ``absolute_discount_log_probs`` (an adversarial trial,
#: 2026-12-07: 7 of 7 with backoff a stub, the swapped-in reference doing the work)
RELABELLED_KNESER_NEY = """\
    relabelled = []
    for k in range(1, n):  # orders 1 … n − 1: N₁₊(• c w) in place of C(c, w)
        keys, continuation = continuation_counts(counts[k][0], k, vocab_size)
        raw = counts[k - 1][0]  # every raw k-gram kept: γ's N₁₊(c •) counts them
        relabelled_counts = np.zeros(len(raw), np.int64)
        relabelled_counts[np.searchsorted(raw, keys)] = continuation
        relabelled.append((raw, relabelled_counts))
    relabelled.append(counts[n - 1])
    from .backoff import absolute_discount_log_probs
    return absolute_discount_log_probs(relabelled, windows, vocab_size, discount)
"""


def _backoff_a_stub(folder: Path) -> None:
    shutil.copy(REPO / "exercises" / "language_models" / "backoff.py", folder / "backoff.py")


def test_a_required_function_the_reference_never_calls_is_not_swapped_in(tmp_path):
    """With backoff a stub, Kneser-Ney written as a call of backoff's absolute discounting
    on relabelled counts earns nothing: a check swaps in only the required questions'
    functions that the reference of the question under test reaches (here ``ngram_keys``),
    so the student's stub runs, and the reference process refuses the others too."""
    text = (REPO / "solutions" / "language_models" / "kneser_ney.py").read_text()
    start = text.index("    bigram_keys = counts[1][0]")
    end = text.index("    ### END SOLUTION", start)
    folder = _with_edit(tmp_path, "kneser_ney", text[start:end], RELABELLED_KNESER_NEY,
                        library=True)
    _backoff_a_stub(folder)
    checks, result = _grade(folder, questions=frozenset({"language_models.kneser_ney"}))
    kn = {k: c for k, c in checks.items() if k.startswith("kneser_ney.")}
    # the continuation counts are written (their point is earned); nothing else is
    assert kn["kneser_ney.continuation"].passed
    assert {k: c.score for k, c in kn.items() if k != "kneser_ney.continuation"} == {
        "kneser_ney.values": 0, "kneser_ney.sums_to_one": 0, "kneser_ney.sotu": 0}, {
        k: (c.score, c.message) for k, c in kn.items()}
    assert "backoff: not implemented yet" in kn["kneser_ney.values"].message
    # and it says why backoff's stub ran here: the check ran the student's own function
    assert "this check ran your own absolute_discount_log_probs() (question backoff)" in \
        kn["kneser_ney.values"].message
    assert kn["kneser_ney.values"].details["own_withheld"] == [
        "backoff.absolute_discount_log_probs"]


def test_kneser_ney_keeps_its_points_where_backoff_is_a_stub(tmp_path):
    """No double charge: the check's own call of backoff's ``everygram_counts`` (the counts
    it hands Kneser-Ney) is answered by the reference, in the grader, while the student's
    stub stays the student's."""
    folder = _copy(tmp_path, library=True)
    _backoff_a_stub(folder)
    checks, _ = _grade(folder, questions=frozenset({"language_models.kneser_ney"}))
    kn = {k: c for k, c in checks.items() if k.startswith("kneser_ney.")}
    assert kn and all(c.passed for c in kn.values()), {
        k: (c.score, c.message) for k, c in kn.items()}


def test_kneser_ney_with_gamma_on_continuation_counts_is_named(tmp_path):
    """The textbook variant (γ's N₁₊(c •) counted on the continuation counts, here by handing
    backoff's absolute discounting the continuation counts alone) differs from nltk's only
    for contexts of <s> alone: said so, not left as a list of wrong rows (a student trial)."""
    text = (REPO / "solutions" / "language_models" / "kneser_ney.py").read_text()
    start = text.index("    bigram_keys = counts[1][0]")
    end = text.index("    ### END SOLUTION", start)
    folder = _with_edit(tmp_path, "kneser_ney", text[start:end], """\
    relabelled = [continuation_counts(counts[k][0], k, vocab_size) for k in range(1, n)]
    from .backoff import absolute_discount_log_probs
    return absolute_discount_log_probs([*relabelled, counts[n - 1]], windows, vocab_size,
                                       discount)
""", library=True)
    checks, _ = _grade(folder, questions=frozenset({"language_models.backoff",
                                                    "language_models.kneser_ney"}))
    assert checks["kneser_ney.values"].score == 0
    assert "counts N₁₊(c •) on the continuation counts" in checks["kneser_ney.values"].message
    assert "contexts made of <s> alone" in checks["kneser_ney.values"].message
    assert all(c.passed for k, c in checks.items() if k.startswith("backoff."))


@pytest.mark.parametrize(("old", "new", "said"), [
    # probabilities returned where log-probabilities are asked for (a student trial: the
    # sums-to-one check spoke of mass added without being taken away)
    ("        return np.log(p)\n", "        return p\n", "probabilities, not their logarithms?"),
    # no max(C − d, 0): the sum was "nan ... less than 1: some freed mass went nowhere"
    ("np.maximum(joint - discount, 0.0) / safe", "(joint - discount) / safe",
     "max(C(c, w) − d, 0) missing?"),
])
def test_backoff_mistakes_are_named_as_what_they_are(tmp_path, old, new, said):
    folder = _with_edit(tmp_path, "backoff", old, new, library=True)
    checks, _ = _grade(folder, questions=frozenset({"language_models.backoff"}))
    lost = {k: c for k, c in checks.items() if not c.passed}
    assert any(said in c.message for c in lost.values()), {
        k: c.message for k, c in lost.items()}


def test_a_list_where_an_array_is_expected_is_said(tmp_path):
    """ngram_windows returning a list: the error is raised in ngram_keys (``windows.shape``),
    a line that is right; the message says what kind of mistake it is (a student trial)."""
    folder = _with_edit(
        tmp_path, "ngrams",
        "    return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)",
        "    return windows[windows[:, -1] != bos].tolist()")
    checks, _ = _grade(folder, questions=frozenset({"language_models.ngram_counts"}))
    message = checks["ngram_counts.values"].message
    assert "'list' object has no attribute" in message
    assert "a Python list or tuple where an array was expected" in message


@pytest.mark.parametrize(("new", "said"), [
    # every window, spanning sentences (a student trial: shape lists only)
    ("        inside = np.ones(len(windows), dtype=bool)  # (T − k + 1,)\n",
     "windows that span two sentences"),
    # the padding's own k-grams dropped
    ("        inside = windows[:, -1] != bos  # (T − k + 1,)\n", "the padding"),
])
def test_everygram_counting_mistakes_are_named(tmp_path, new, said):
    folder = _with_edit(tmp_path, "backoff",
                        "        inside = (windows[:, -1] != bos) | np.all(windows == bos, "
                        "axis=1)  # (T − k + 1,)\n", new)
    checks, _ = _grade(folder, questions=frozenset({"language_models.backoff"}))
    assert said in checks["backoff.counts"].message, checks["backoff.counts"].message
