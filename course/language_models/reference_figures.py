"""The reference solutions' perplexities, fully trained, that ``dojo train lm`` prints next to a
run's for scale: a student release has no ``docs/``, so the figures of docs/results.md
("Language models", made by ``bench/lm_results.py``) travel with the command.
``tests/language_models/test_lm_reference_figures.py`` keeps them equal to that table.

They are the whole train split and the whole held-out split, words seen fewer than twice
``<UNK>``, δ or d chosen on the valid split, the neural models trained for several epochs with
larger sizes than ``dojo train lm``'s defaults (docs/results.md gives every setting): a run with
the defaults is not expected to reach them, only to be of their order.
"""

from __future__ import annotations

from typing import Any

#: corpus → model (``("ngram", order, smoothing)``, ``("window",)``, ``("rnn",)``) →
#: (test perplexity, valid perplexity, what the row of docs/results.md says the model is)
REFERENCE: dict[str, dict[tuple[Any, ...], tuple[float, float, str]]] = {
    "sotu": {
        ("ngram", 1, "add-delta"): (535.3, 539.0, "unigram, add-δ, δ = 0.0001"),
        ("ngram", 2, "add-delta"): (200.3, 209.4, "bigram, add-δ, δ = 0.01"),
        ("ngram", 3, "add-delta"): (713.2, 775.2, "trigram, add-δ, δ = 0.001"),
        ("ngram", 2, "backoff"): (143.7, 149.9, "bigram, backoff, d = 0.75"),
        ("ngram", 3, "backoff"): (121.8, 129.4, "trigram, backoff, d = 0.9"),
        ("ngram", 2, "kneser-ney"): (137.0, 142.6, "bigram, Kneser-Ney, d = 0.75"),
        ("ngram", 3, "kneser-ney"): (109.3, 115.7, "trigram, Kneser-Ney, d = 0.9"),
        ("ngram", 4, "kneser-ney"): (104.2, 110.8, "4-gram, Kneser-Ney, d = 0.9"),
        ("window",): (100.0, 105.8, "fixed-window neural LM, 4 epochs"),
        ("rnn",): (100.4, 106.8, "RNN LM, 7 epochs"),
    },
    "pang-lee-reviews": {
        ("ngram", 1, "add-delta"): (647.0, 660.3, "unigram, add-δ, δ = 0.0001"),
        ("ngram", 2, "add-delta"): (348.7, 370.5, "bigram, add-δ, δ = 0.001"),
        ("ngram", 3, "add-delta"): (1599.5, 1737.5, "trigram, add-δ, δ = 0.001"),
        ("ngram", 2, "backoff"): (202.6, 212.4, "bigram, backoff, d = 0.75"),
        ("ngram", 3, "backoff"): (178.7, 189.2, "trigram, backoff, d = 0.9"),
        ("ngram", 2, "kneser-ney"): (191.3, 200.6, "bigram, Kneser-Ney, d = 0.75"),
        ("ngram", 3, "kneser-ney"): (159.9, 169.1, "trigram, Kneser-Ney, d = 0.9"),
        ("ngram", 4, "kneser-ney"): (153.8, 162.9, "4-gram, Kneser-Ney, d = 0.9"),
        ("window",): (164.5, 172.1, "fixed-window neural LM, 5 epochs"),
        ("rnn",): (149.6, 157.8, "RNN LM, 16 epochs"),
    },
    "brown": {
        ("ngram", 1, "add-delta"): (546.4, 573.0, "unigram, add-δ, δ = 0.0001"),
        ("ngram", 2, "add-delta"): (406.2, 449.8, "bigram, add-δ, δ = 0.01"),
        ("ngram", 3, "add-delta"): (2523.4, 2739.4, "trigram, add-δ, δ = 0.001"),
        ("ngram", 2, "backoff"): (219.2, 239.1, "bigram, backoff, d = 0.9"),
        ("ngram", 3, "backoff"): (221.5, 241.6, "trigram, backoff, d = 0.9"),
        ("ngram", 2, "kneser-ney"): (208.5, 225.9, "bigram, Kneser-Ney, d = 0.9"),
        ("ngram", 3, "kneser-ney"): (199.3, 215.1, "trigram, Kneser-Ney, d = 0.9"),
        ("ngram", 4, "kneser-ney"): (200.6, 216.4, "4-gram, Kneser-Ney, d = 0.9"),
        ("window",): (164.5, 182.3, "fixed-window neural LM, 8 epochs"),
        ("rnn",): (168.9, 189.6, "RNN LM, 8 epochs"),
    },
}


def model_key(report: dict[str, Any]) -> tuple[Any, ...]:
    """The key of :data:`REFERENCE` for a run of ``dojo train lm`` (its model and options)."""
    if report.get("model") == "ngram":
        return ("ngram", int(report.get("order", 0)), str(report.get("smoothing")))
    return (str(report.get("model")),)


def reference_line(report: dict[str, Any]) -> str:
    """What the reference reaches on the run's corpus and split with the same model, for scale
    (``""`` where docs/results.md has no such row)."""
    corpus, split = str(report.get("corpus")), str(report.get("heldout", "test"))
    found = REFERENCE.get(corpus, {}).get(model_key(report))
    if found is None or split not in ("test", "valid"):
        return ""
    figure = found[0] if split == "test" else found[1]
    return (f"for scale, the reference solutions fully trained reach {figure:.1f} on {corpus}'s "
            f"{split} split ({found[2]}; the settings and the other models: docs/results.md in "
            "the nlpdojo repository)")
