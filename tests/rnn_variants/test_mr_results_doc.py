"""``bench/mr_classifier_results.py``: the committed docs/results.md holds exactly the table its
committed results (``bench/results/mr_classifiers.json``) give, and writing the section again
replaces it between its markers, leaving the rest of the file alone."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    sys.path.insert(0, str(ROOT / "bench"))  # for _machine
    spec = importlib.util.spec_from_file_location("mr_results",
                                                  ROOT / "bench" / "mr_classifier_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_table_is_the_committed_results():
    script = _script()
    results = json.loads((ROOT / "bench" / "results" / "mr_classifiers.json").read_text())
    assert {name: len(folds) for name, folds in results["folds"].items()} == {
        "bilstm": 10, "lstm": 10, "rnn": 10, "cnn": 10}
    doc = (ROOT / "docs" / "results.md").read_text()
    assert f"{script.BEGIN}\n{script.table(results)}\n{script.END}" in doc


def test_writing_again_replaces_only_the_section(tmp_path, monkeypatch):
    script = _script()
    monkeypatch.setattr(script, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "results.md"
    doc.write_text("# before\n")
    fold = {"test": 0.8, "dev": 0.79, "epoch": 2, "dev_history": [0.79, 0.78], "minutes": 1.0}
    results = {"folds": {"bilstm": {"0": fold, "1": {**fold, "test": 0.7}}}}
    script.write_docs(script.table(results))
    script.write_docs(script.table(results))
    text = doc.read_text()
    assert text.startswith("# before\n") and text.count(script.BEGIN) == 1
    assert "| BiLSTM, max pooling | 0.750 ± 0.071 | 2 | 2 |" in text
