"""``dojo train lm --model ngram`` and ``dojo sample`` through the CLI (typer's CliRunner):
a checkpoint saved and its held-out perplexity printed (equal to ``nltk.lm``'s on the same
sentences, next to the add-one unigram model's), text generated from it (reproducible from
the seed, greedy at T = 0, a prompt printed once), the student's folder used by default (an
untouched stub is a clear error), and bad input refused with one ``error:`` line and exit code
2: an unknown model, a missing or foreign checkpoint, an order whose keys overflow int64."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo.text import ngram_corpus as corpus
from nlpdojo_autograder.training import TrainError
from nlpdojo_autograder.training import commands as kit_commands
from nlpdojo_course.language_models import data
from nlpdojo_course.language_models import ngram_models as ngram_cli
from nlpdojo_course.language_models import trainer as lm_cli
from tests._cli import forget_student_packages  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
WORDS = "the a cat dog sat ran on under mat log and quickly".split()


def dojo(*args: str):
    return runner.invoke(build_app(), list(args))


def _sentences(seed: int, count: int) -> tuple[tuple[str, ...], ...]:
    rng = np.random.default_rng(seed)
    return tuple(tuple(rng.choice(WORDS, rng.integers(2, 9))) for _ in range(count))


@pytest.fixture(autouse=True)
def _synthetic_corpus(monkeypatch):
    """Random sentences instead of a data set: no cache needed, each run well under a second."""
    splits = {"train": _sentences(0, 400), "valid": _sentences(1, 50), "test": _sentences(2, 50)}
    monkeypatch.setattr(data, "lm_sentences", lambda corpus, split, limit=None: splits[split])
    monkeypatch.setattr(kit_commands, "require_datasets", lambda names: None)
    return splits


@pytest.mark.parametrize(("smoothing", "nltk_class", "param"),
                         [("kneser-ney", "KneserNeyInterpolated", {"discount": 0.75}),
                          ("backoff", "AbsoluteDiscountingInterpolated", {"discount": 0.75}),
                          ("add-delta", "Lidstone", {"gamma": 0.01})])
def test_train_saves_a_checkpoint_and_prints_nltks_perplexity(tmp_path, _synthetic_corpus,
                                                              smoothing, nltk_class, param):
    nltk_lm = pytest.importorskip("nltk.lm")
    from nltk.util import everygrams
    from nltk.util import ngrams as nltk_ngrams

    out = tmp_path / "lm.npz"
    result = dojo("train", "lm", "--model", "ngram", "--order", "3", "--smoothing", smoothing,
                  "--solutions", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file() and "[3/3]" in result.output
    printed = float(result.output.split("perplexity ")[1].split()[0])
    train = [corpus.pad(s, 3) for s in _synthetic_corpus["train"]]
    lm = getattr(nltk_lm, nltk_class)(order=3, vocabulary=nltk_lm.Vocabulary(
        [t for s in train for t in s], unk_cutoff=2), **param)
    lm.fit([everygrams(s, max_len=3) for s in train])
    grams = [g for s in _synthetic_corpus["test"] for g in nltk_ngrams(corpus.pad(s, 3), 3)]
    assert printed == pytest.approx(lm.perplexity(grams), abs=0.006)  # printed with 2 decimals
    meta = lm_cli.MODELS.read_meta(out)
    assert meta["model"] == "ngram" and meta["smoothing"] == smoothing
    assert meta["heldout_perplexity"] == pytest.approx(lm.perplexity(grams), rel=1e-10)


def test_sample_generates_reproducible_text(tmp_path):
    out = tmp_path / "lm.npz"
    assert dojo("train", "lm", "--solutions", "--output", str(out)).exit_code == 0
    first = dojo("sample", str(out), "--solutions", "--sentences", "4", "--seed", "3")
    assert first.exit_code == 0, first.output
    lines = first.output.strip().splitlines()[1:]
    assert len(lines) == 4 and all(set(line.split()) <= {*WORDS, "<UNK>"} for line in lines)
    assert dojo("sample", str(out), "--solutions", "--sentences", "4", "--seed",
                "3").output == first.output
    greedy = dojo("sample", str(out), "--solutions", "--temperature", "0", "--sentences", "3")
    assert len(set(greedy.output.strip().splitlines()[1:])) == 1  # T = 0: one argmax path
    prompted = dojo("sample", str(out), "--solutions", "--prompt", "The cat", "--top-k", "2")
    assert all(line.startswith("the cat") and not line.startswith("the cat the cat")
               for line in prompted.output.strip().splitlines()[1:])


def test_a_bare_checkpoint_name_is_written_to_and_sampled_from_the_outputs_folder(
        tmp_path, monkeypatch):
    """Issue 26: `--output kn3.npz` run from `exercises/` wrote the checkpoint where `grade`
    looks. A bare name goes to the outputs folder, the closing line says how to sample it, and
    `dojo sample kn3.npz` finds it from any folder."""
    outputs, here = tmp_path / "outputs", tmp_path / "exercises"
    here.mkdir()
    monkeypatch.setenv("NLPDOJO_OUTPUTS", str(outputs))
    monkeypatch.chdir(here)
    trained = dojo("train", "lm", "--solutions", "--output", "kn3.npz")
    assert trained.exit_code == 0, trained.output
    flat = " ".join(trained.output.split())
    assert f"checkpoint -> {outputs / 'kn3.npz'} (`dojo sample kn3.npz` generates text)" in flat
    assert (outputs / "kn3.npz").is_file() and list(here.iterdir()) == []
    monkeypatch.chdir(tmp_path)
    sampled = dojo("sample", "kn3.npz", "--solutions", "--sentences", "2")
    assert sampled.exit_code == 0, sampled.output
    assert sampled.output.startswith(str(outputs / "kn3.npz"))
    missing = dojo("sample", "nothing.npz", "--solutions")
    assert missing.exit_code == 2
    assert (f"no checkpoint nothing.npz in the outputs folder {outputs} (nor in the working "
            "folder)") in " ".join(missing.output.split())


@pytest.mark.parametrize("split", ["test", "valid"])
def test_the_split_is_named_and_the_references_figure_on_it_printed(tmp_path, monkeypatch,
                                                                   _synthetic_corpus, split):
    """Issue 26: count models were scored on valid and neural ones on test, side by side. Every
    model is scored on --heldout (test by default), the line names it, and the reference's
    figure on the same split follows."""
    asked = []
    monkeypatch.setattr(data, "lm_sentences", lambda corpus, which, limit=None: (
        asked.append(which), _synthetic_corpus[which])[1])
    extra = [] if split == "test" else ["--heldout", "valid"]
    result = dojo("train", "lm", "--solutions", "--output", str(tmp_path / "kn3.npz"), *extra)
    assert result.exit_code == 0, result.output
    assert asked == ["train", split]
    flat = " ".join(result.output.split())
    assert f"on sotu's {split} split (" in flat and "add-one unigram" in flat
    figure = {"test": "109.3", "valid": "115.7"}[split]
    assert (f"for scale, the reference solutions fully trained reach {figure} on sotu's {split} "
            "split (trigram, Kneser-Ney, d = 0.9;") in flat
    assert "docs/results.md in the nlpdojo repository" in flat
    assert lm_cli.MODELS.read_meta(tmp_path / "kn3.npz")["heldout"] == split


def test_the_add_one_unigram_perplexity_is_printed_beside_the_models(tmp_path,
                                                                     _synthetic_corpus):
    """P(w) = (C(w) + 1) / (N + |V'|) over the predicted tokens (every word, </s> and <UNK>,
    never <s>), computed here by hand from the sentences."""
    from collections import Counter

    out = tmp_path / "lm.npz"
    result = dojo("train", "lm", "--model", "ngram", "--order", "2", "--solutions", "--output",
                  str(out), "--heldout", "valid")
    assert result.exit_code == 0, result.output
    printed = float(result.output.split("add-one unigram ")[1].split()[0])
    raw = Counter(w for s in _synthetic_corpus["train"] for w in s)
    raw["</s>"] = len(_synthetic_corpus["train"])
    kept = {w for w, c in raw.items() if c >= 2}

    def unk(w):
        return w if w in kept else "<UNK>"

    counts = Counter(unk(w) for s in _synthetic_corpus["train"] for w in [*s, "</s>"])
    total, kinds = sum(counts.values()), len(kept | {"<UNK>"})
    held = [unk(w) for s in _synthetic_corpus["valid"] for w in [*s, "</s>"]]
    expected = np.exp(-np.mean([np.log((counts[w] + 1) / (total + kinds)) for w in held]))
    assert printed == pytest.approx(expected, abs=0.006)
    assert float(result.output.split("held-out perplexity ")[1].split()[0]) < printed


def test_generation_never_draws_bos_and_stops_at_eos(tmp_path):
    from nlpdojo_autograder.training import generate
    from nlpdojo_autograder.training.train import CodeChoice
    from nlpdojo_solutions.language_models.sampling import sample_next

    out = tmp_path / "lm.npz"
    assert dojo("train", "lm", "--solutions", "--smoothing", "backoff", "--output",
                str(out)).exit_code == 0
    model = ngram_cli.load(out, CodeChoice(lm_cli.CODE, None))
    texts = generate(model, sample_next, sentences=50, max_words=30, temperature=3.0,
                     top_k=None, seed=0)
    assert all("<s>" not in t and "</s>" not in t for t in texts)
    assert any(len(t) < 30 for t in texts)


@pytest.mark.parametrize("smoothing", ["kneser-ney", "backoff", "add-delta"])
def test_sampling_computes_the_count_statistics_once_with_the_same_scores(
        tmp_path, monkeypatch, smoothing):
    """Issue 26: `dojo sample` on a trigram model spent 75% of every step recomputing, in the
    chosen code, what depends on the counts alone (np.unique over every key). A model now
    reuses those results across steps: the scores are the same as without reuse, and the
    statistics are computed once per order, not once per step."""
    from nlpdojo_autograder.training.train import CodeChoice
    from nlpdojo_solutions.language_models import backoff, kneser_ney

    out = tmp_path / "lm.npz"
    assert dojo("train", "lm", "--solutions", "--smoothing", smoothing, "--output",
                str(out)).exit_code == 0
    calls: list[str] = []
    for module, name in ((kneser_ney, "continuation_counts"), (backoff, "context_totals"),
                         (kneser_ney, "context_totals")):
        monkeypatch.setattr(module, name, _spy(getattr(module, name), calls))
    code = CodeChoice(lm_cli.CODE, None)
    reused, plain = ngram_cli.load(out, code), ngram_cli.load(out, code)
    history = np.random.default_rng(0).integers(0, len(reused.tokens), (3, 6))
    steps = range(2, 7)
    scores = [reused.next_scores(history[:, :t]) for t in steps]
    once = len(calls)
    for t, got in zip(steps, scores, strict=True):
        np.testing.assert_array_equal(got, plain.log_probs(_windows(plain, history[:, :t]))
                                      .reshape(got.shape))
    if smoothing == "add-delta":
        assert once == len(calls) == 0  # it computes nothing from the counts alone
    else:  # the plain model computes them at every one of the 5 steps, the reusing one once
        assert once > 0 and len(calls) - once == 5 * once
    assert not hasattr(kneser_ney.continuation_counts, "__wrapped__")  # put back after each


def _spy(real, calls: list[str]):
    def spy(*args, **kwargs):
        calls.append(real.__name__)
        return real(*args, **kwargs)

    spy.__module__, spy.__name__, spy.__qualname__ = real.__module__, real.__name__, real.__name__
    return spy


def test_sampling_code_that_changes_a_remembered_array_is_scored_without_reuse(
        tmp_path, monkeypatch):
    from nlpdojo_autograder.training.train import CodeChoice
    from nlpdojo_solutions.language_models import backoff

    out = tmp_path / "lm.npz"
    assert dojo("train", "lm", "--solutions", "--smoothing", "backoff", "--output",
                str(out)).exit_code == 0
    real = backoff.absolute_discount_log_probs

    def careless(counts, windows, vocab_size, discount):  # changes a helper's result in place
        _, totals, _ = backoff.context_totals(counts[1][0], counts[1][1], vocab_size)
        totals += 0
        return real(counts, windows, vocab_size, discount)

    careless.__module__ = real.__module__
    monkeypatch.setattr(backoff, "absolute_discount_log_probs", careless)
    code = CodeChoice(lm_cli.CODE, None)
    model, plain = ngram_cli.load(out, code), ngram_cli.load(out, code)
    history = np.random.default_rng(1).integers(0, len(model.tokens), (2, 4))
    for t in (2, 3, 4):  # the remembered array is read-only: scored again, plainly
        got = model.next_scores(history[:, :t])
        np.testing.assert_array_equal(got, plain.log_probs(_windows(plain, history[:, :t]))
                                      .reshape(got.shape))
    assert model.statistics is not None and not model.statistics.enabled


def _windows(model, history: np.ndarray) -> np.ndarray:
    v = len(model.tokens)
    context = history[:, -(model.order - 1):]
    return np.column_stack([np.repeat(context, v, axis=0), np.tile(np.arange(v), len(history))])


def test_the_students_stub_is_a_clear_error(tmp_path, monkeypatch):
    topic = tmp_path / "exercises" / "language_models"
    shutil.copytree(ROOT / "exercises" / "language_models", topic,
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    monkeypatch.chdir(tmp_path)
    result = dojo("train", "lm", "--output", "lm.npz")
    assert result.exit_code == 2
    assert "not implemented yet" in result.output and "grade language_models" in result.output
    assert "exercises/language_models" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["train", "lm", "--model", "transformer", "--solutions"], "unknown model 'transformer'"),
    (["train", "lm", "--corpus", "mr", "--solutions"], "not a language-model corpus"),
    (["train", "lm", "--smoothing", "kneser-ney", "--order", "1", "--solutions"],
     "Kneser-Ney needs --order 2"),
    (["train", "lm", "--output", "/no/such/folder/lm.npz", "--solutions"], "does not exist"),
    (["sample", "missing.npz", "--solutions"], "no checkpoint missing.npz"),
])
def test_bad_input_is_one_error_line_and_exit_code_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = dojo(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("notes.npz").write_text("hello")
    np.savez(tmp_path / "arrays.npz", x=np.zeros(3))
    for name in ("notes.npz", "arrays.npz"):
        result = dojo("sample", name, "--solutions")
        assert result.exit_code == 2 and "not a checkpoint of `dojo train lm`" in result.output


def test_keys_that_would_overflow_int64_are_refused():
    with pytest.raises(TrainError, match="2\\^63"):
        ngram_cli.check_key_range(20000, 5)
    ngram_cli.check_key_range(20000, 4)


def test_the_lm_trainer_is_listed_and_models_are_a_registry():
    listing = dojo("train")
    assert "lm" in listing.output and "language_models" in listing.output
    assert lm_cli.MODELS.get("ngram").name == "ngram"
    assert set(lm_cli.MODELS) >= {"ngram", "window", "rnn"}
    assert "neural-lm" in listing.output and "Deprecated" in listing.output


def test_a_unigram_model_trains_and_samples(tmp_path):
    out = tmp_path / "uni.npz"
    result = dojo("train", "lm", "--solutions", "--order", "1", "--smoothing", "add-delta",
                  "--delta", "1", "--output", str(out))
    assert result.exit_code == 0, result.output
    sampled = dojo("sample", str(out), "--solutions", "--sentences", "3", "--max-words", "5")
    assert sampled.exit_code == 0, sampled.output
    assert all(0 < len(line.split()) <= 5 for line in sampled.output.strip().splitlines()[1:])
