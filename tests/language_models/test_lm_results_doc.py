"""``bench/lm_results.py`` writes its section of docs/results.md between its markers (again and
again, leaving the rest of the file alone), with rows for the neural models marked as not yet
measured; the committed docs/results.md holds that section."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("lm_results", ROOT / "bench" / "lm_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_results(script):
    rows = {label: ("d", 0.75, 100.0 + i, 90.0 + i) for i, (label, _, _) in
            enumerate(script.MODELS)}
    return {"sotu": (rows, {"vocab": 10, "train": 100, "valid": 10, "test": 10})}


@pytest.fixture
def script_with_rnn(tmp_path, monkeypatch):
    """A factory: ``(test, epochs, history)`` → the script reading an ``lm_neural.json`` (as
    ``bench/lm_neural_results.py`` writes it) where SOTU's RNN LM has test perplexity ``test``
    after ``epochs`` epochs, ``history`` its validation perplexity per epoch (the last one is
    its validation figure)."""
    def make(test: float, epochs: int, history: list[float]):
        script = _script()
        neural = tmp_path / "lm_neural.json"
        neural.write_text(json.dumps({"sotu": {"rnn": {
            "label": "RNN LM", "test": test, "valid": history[-1], "epochs": epochs,
            "minutes": 70.0, "settings": {"hidden": 256}, "date": "2026-11-23", "machine": "m",
            "history": [{"valid": valid} for valid in history]}}}))
        monkeypatch.setattr(script, "NEURAL", neural)
        return script
    return make


def test_the_section_replaces_itself_and_keeps_the_rest(tmp_path, monkeypatch):
    script = _script()
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "NEURAL", tmp_path / "no-neural-results.json")
    (tmp_path / "docs").mkdir()
    path = tmp_path / "docs" / "results.md"
    path.write_text("# Results: word vectors\n\nsome table\n", encoding="utf-8")
    text = script.section(_fake_results(script))
    assert "| RNN LM | not yet measured |" in text
    assert "| 4-gram, Kneser-Ney | 97.0 (107.0, d = 0.75) |" in text
    script.write_docs(text)
    once = path.read_text(encoding="utf-8")
    script.write_docs(text)
    assert path.read_text(encoding="utf-8") == once
    assert once.startswith("# Results: word vectors\n\nsome table\n")
    assert once.count(script.BEGIN) == 1 and once.count(script.END) == 1


def test_measured_neural_rows_fill_the_table_and_say_when_they_lose(script_with_rnn):
    """bench/lm_neural_results.py's JSON fills its rows; an RNN LM above the best count model
    is said to be so."""
    script = script_with_rnn(test=143.4, epochs=2, history=[184.2, 148.5])
    text = script.section(_fake_results(script))
    assert "| RNN LM | 143.4 (148.5, 2 epochs) |" in text
    assert "| fixed-window neural LM | not yet measured |" in text
    assert "is not below the best count model (unigram, add-δ, 90.0)" in text
    assert "still falling by 19 % in the last epoch (184.2 → 148.5)" in text


def test_an_rnn_below_the_best_count_model_is_said_to_be(script_with_rnn):
    script = script_with_rnn(test=81.0, epochs=6, history=[90.0, 85.0])
    text = script.section(_fake_results(script))
    assert "the RNN LM (81.0 after 6 epochs) is below the best count model (unigram, " \
        "add-δ, 90.0), by 10.0 %." in text
    assert "is not below" not in text


def test_a_converged_rnn_that_loses_is_said_not_to_get_there():
    """Converged: under 1 % in the last epoch after the schedule halved the rate 3 times."""
    script = _script()
    history = [{"valid": v, "lr": lr} for v, lr in
               ((130.0, 0.002), (125.0, 0.001), (122.0, 0.0005), (120.0, 0.00025),
                (119.5, 0.00025))]
    said = script._progress(history)
    assert "fell by only 0.4 % in the last epoch (120.0 → 119.5) after 3 halvings" in said
    assert "unlikely to close the gap" in said
    assert script._progress([{"valid": 150.0}]) == "one epoch only"


def test_a_small_gain_before_the_rate_was_halved_is_not_called_convergence():
    """Under 1 % at the first rate only makes the schedule halve it: not measured beyond."""
    said = _script()._progress([{"valid": 120.0, "lr": 0.002}, {"valid": 119.5, "lr": 0.002}])
    assert "the schedule halves the learning rate next" in said
    assert "unlikely" not in said


def test_epochs_that_restarted_adam_are_named():
    """Epochs after the first that started Adam afresh (resumed, restored, or trained before
    the benchmark kept the optimizer: no ``optimizer`` in their entry) are named."""
    script = _script()
    run = {"settings": {"optimizer": "adam-clip"},
           "history": [{}, {}, {}, {"optimizer": "new"}, {"optimizer": "kept"},
                       {"optimizer": "new"}]}
    said = script._restarts(run)
    assert said == ("; Adam's moments started afresh at epochs 2-4, 6 (epochs 1-3: an earlier "
                    "version of the benchmark restarted them every epoch)")
    run["history"] = [{"optimizer": "new"}, {"optimizer": "kept"}]
    assert script._restarts(run) == ""
    assert script._restarts({"settings": {"optimizer": "sgd"}, "history": [{}, {}]}) == ""


def test_the_committed_results_hold_the_language_model_section():
    script = _script()
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    section = text.split(script.BEGIN)[1].split(script.END)[0]
    for label, _, _ in script.MODELS:
        assert f"| {label} | " in section
    for label in script.PENDING:
        assert f"| {label} | " in section


def _run(label: str, test: float, valid: list[float], **extra) -> dict:
    return {"label": label, "test": test, "valid": min(valid), "epochs": len(valid),
            "history": [{"epoch": i, "valid": v} for i, v in enumerate(valid, 1)], **extra}


def test_brown_is_set_against_bengio_et_al_by_the_gap_to_the_best_count_model():
    """Brown's gated LMs: their relative gap to the best count model beside Bengio et al.'s
    (252 against 312: 19.2 %), not their perplexities (other vocabularies)."""
    script = _script()
    rows = {label: ("d", 0.9, 220.0, 200.0 + i) for i, (label, _, _) in
            enumerate(script.MODELS)}
    results = {"brown": (rows, {})}
    neural = {"brown": {"lstm": _run("LSTM LM", 150.0, [170.0]),
                        "gru": _run("GRU LM", 180.0, [190.0])}}
    (line,) = script._bengio_line(results, neural)
    assert "relative gap to the best count model (unigram, add-δ, 200.0): the LSTM LM " \
        "25.0 %, the GRU LM 10.0 %; Bengio et al. (2003, table 1) measured 19.2 %" in line
    assert script._bengio_line({"sotu": (rows, {})}, neural) == []  # Brown only
    assert script._bengio_line(results, {"brown": {"rnn": _run("RNN LM", 150.0, [1.0])}}) == []


def test_the_deep_lstms_are_compared_with_one_layer_at_the_epochs_all_of_them_ran():
    script = _script()
    neural = {"brown": {"lstm": _run("LSTM LM", 140.0, [222.0, 177.6, 166.3, 164.5, 160.0]),
                        "lstm-2layer": _run("2-layer LSTM LM", 202.0, [400.6, 249.7, 219.4]),
                        "lstm-residual": _run("2-layer LSTM LM, residual", 138.0,
                                              [217.6, 172.8, 159.7, 157.5])},
              "sotu": {"lstm": _run("LSTM LM", 75.7, [80.6])}}
    (line,) = script._depth_line(neural)  # sotu has no deep run: no line
    assert line.strip() == (
        "`brown`, one LSTM layer against two at the same hidden size, valid perplexity after "
        "3 epochs (the fewest any of them ran): LSTM LM 166.3, 2-layer LSTM LM 219.4, "
        "2-layer LSTM LM, residual 159.7.")


def test_rows_trained_on_a_gpu_name_the_backend():
    script = _script()
    run = _run("GRU LM", 132.2, [139.4], settings={"hidden": 256}, minutes=5.3,
               date="2026-11-26", machine="m, GPU NVIDIA H100", backend="torch:cuda")
    cpu = _run("RNN LM", 149.6, [157.8], settings={"hidden": 256}, minutes=125.9,
               date="2026-11-23", machine="AMD EPYC")
    notes = "\n".join(script._neural_notes({"pang-lee-reviews": {"gru": run, "rnn": cpu}}))
    assert "GRU LM: hidden 256; 1 epoch in 5.3 min (2026-11-26; torch:cuda; m, GPU" in notes
    assert "RNN LM: hidden 256; 1 epoch in 125.9 min (2026-11-23; AMD EPYC)" in notes
