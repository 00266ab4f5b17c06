"""The reference figures `dojo train lm` prints for scale (issue 26: it referred to
docs/results.md, which a student release does not have) are those of docs/results.md's
language-model table, row for row."""

from __future__ import annotations

import re
from pathlib import Path

from nlpdojo_course.language_models.reference_figures import REFERENCE, model_key, reference_line

ROOT = Path(__file__).resolve().parents[2]
ORDERS = {"unigram": 1, "bigram": 2, "trigram": 3, "4-gram": 4}
SMOOTHING = {"add-δ": "add-delta", "backoff (absolute discounting)": "backoff",
             "Kneser-Ney": "kneser-ney"}


def _table() -> dict[str, dict[tuple, tuple[float, float]]]:
    """corpus → model key → (test, valid), read from docs/results.md: every corpus column, the
    rows of the models `dojo train lm` trains, the cells that hold a measurement."""
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    section = text.split("<!-- language_models results: begin -->", 1)[1]
    header = re.search(r"^\| model \| (.+) \|$", section, re.MULTILINE)
    corpora = [cell.split(" test ppl")[0].strip("`") for cell in header.group(1).split(" | ")]
    found: dict[str, dict[tuple, tuple[float, float]]] = {c: {} for c in corpora}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")] if line.startswith("| ") else []
        if len(cells) != len(corpora) + 1 or cells[0] == "model":
            continue
        name = cells[0]
        if name.startswith("fixed-window"):
            key: tuple = ("window",)
        elif name == "RNN LM":
            key = ("rnn",)
        elif name.split(", ", 1)[0] in ORDERS:
            order, smoothing = name.split(", ", 1)
            key = ("ngram", ORDERS[order], SMOOTHING[smoothing])
        else:  # the gated LMs of rnn_variants: not trained by `dojo train lm`
            continue
        for corpus, cell in zip(corpora, cells[1:], strict=True):
            measured = re.match(r"([\d.]+) \(([\d.]+),", cell)
            if measured:
                found[corpus][key] = (float(measured.group(1)), float(measured.group(2)))
    return found


def test_the_printed_figures_are_docs_results_tables():
    table = _table()
    assert set(table) == set(REFERENCE) and all(len(rows) >= 8 for rows in table.values())
    for corpus, rows in table.items():
        assert {k: v[:2] for k, v in REFERENCE[corpus].items()} == rows, corpus


def test_a_run_finds_its_row_on_its_split():
    run = {"model": "ngram", "order": 3, "smoothing": "kneser-ney", "corpus": "sotu"}
    assert model_key(run) == ("ngram", 3, "kneser-ney")
    assert "reach 109.3 on sotu's test split (trigram, Kneser-Ney" in reference_line(
        {**run, "heldout": "test"})
    assert "reach 115.7 on sotu's valid split" in reference_line({**run, "heldout": "valid"})
    assert "reach 149.6 on pang-lee-reviews's test split (RNN LM, 16 epochs" in reference_line(
        {"model": "rnn", "corpus": "pang-lee-reviews", "heldout": "test"})
    assert "reach 199.3 on brown's test split" in reference_line(
        {**run, "corpus": "brown", "heldout": "test"})
    assert "reach 168.9 on brown's test split (RNN LM, 8 epochs" in reference_line(
        {"model": "rnn", "corpus": "brown", "heldout": "test"})
    assert reference_line({"model": "lstm", "corpus": "brown", "heldout": "test"}) == ""  # none
    assert reference_line({**run, "order": 5, "heldout": "test"}) == ""
