"""``bench/word2vec_vs_gensim.py`` and its helpers (``bench/_machine.py``): every figure comes
with the machine it ran on, rounds are interleaved in a rotating order, and ratios are taken
per round and summarised as median [min-max]. No timing is asserted here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


@pytest.fixture(scope="module")
def machine():
    return _load("_machine")


@pytest.fixture(scope="module")
def bench():
    return _load("word2vec_vs_gensim")


def test_spread_is_the_median_and_the_range(machine):
    assert machine.spread([3.0, 1.0, 2.0]) == "2.00 [1.00-3.00]"
    assert machine.spread([1.0, 2.0]) == "1.50 [1.00-2.00]"  # even count: the mean of the two
    assert machine.spread([1234.5], "{:,.0f}") == "1,234"  # banker's rounding of .5 aside
    with pytest.raises(ValueError, match="no values"):
        machine.spread([])


def test_ratios_are_taken_round_by_round(machine):
    assert machine.ratios([2.0, 6.0], [1.0, 3.0]) == [2.0, 2.0]
    with pytest.raises(ValueError, match="interleave"):
        machine.ratios([1.0], [1.0, 2.0])


def test_the_machine_line_names_cpu_cores_blas_threads_and_load(machine):
    np.ones((4, 4)) @ np.ones((4, 4))  # NumPy's BLAS is loaded
    line = machine.machine()
    assert "cores" in line and "load average" in line and "BLAS" in line
    assert "thread" in machine.blas()  # a thread count per BLAS library
    assert len(machine.load_average().split()) == 3


def test_rounds_rotate_the_order_and_record_rates_load_and_metrics(bench):
    calls = []

    def side(name):
        def run(r):
            calls.append((name, r))
            return {"wall": 2.0, "cpu": 4.0, "words": 100, "vectors": lambda: np.zeros(1)}
        return run

    runs = bench.interleaved(3, {"a": side("a"), "b": side("b")},
                             evaluate=lambda v: {"wordsim353": 0.1, "simlex999": 0.2,
                                                 "analogy": 0.3})
    assert calls == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    run = runs["a"][0]
    assert run["wps"] == 50.0 and run["cps"] == 25.0 and "load" in run
    assert run["wordsim353"] == 0.1 and "vectors" not in run


def test_speed_and_quality_tables_compare_each_round_with_gensim(bench):
    def run(wps, cps, ws):
        return {"wps": wps, "cps": cps, "wordsim353": ws, "simlex999": 0.1, "analogy": 0.05}

    runs = {bench.GENSIM: [run(100, 200, 0.30), run(50, 100, 0.32)],
            "ours": [run(150, 200, 0.29), run(100, 300, 0.33)]}
    speed = bench.speed_rows(runs)
    # per round: wall 1.5 and 2.0, CPU 1.0 and 3.0 (not the ratio of the medians)
    assert speed[-1] == ("| ours | 125 [100-150] | 250 [200-300] | **1.75 [1.50-2.00]** "
                         "| **2.00 [1.00-3.00]** |")
    quality = bench.quality_rows(runs)
    assert quality[-1].startswith("| ours | 0.310 [0.290-0.330] | 0.100 [0.100-0.100]")
    assert quality[-1].endswith("| +0.000, +0.000, +0.000 |")


def test_write_docs_replaces_its_sections_and_keeps_the_rest(bench, tmp_path, monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    benchmarks, results = tmp_path / "docs" / "benchmarks.md", tmp_path / "docs" / "results.md"
    benchmarks.write_text("# Benchmarks\n\nhand-written\n<!-- generated -->\nold run\n")
    results.write_text("# old\n\n<!-- language_models results: begin -->\nLM\n")
    args = SimpleNamespace(corpus="sotu", dim=100, window=5, negatives=5, batch_size=1024,
                           rounds=3, seed=0, coverage="Evaluated on 189 of 353 pairs.")
    corpus = SimpleNamespace(token_ids=np.zeros(1000), words=["a"] * 10)
    sections = [(1, "Machine: x.", ["| speed |"], ["| quality |"])]
    for _ in range(2):  # twice: the same files
        bench.write_docs(args, corpus, "the machine", sections, "| svd |", ["| scaling |"])
    text = benchmarks.read_text()
    assert text.startswith("# Benchmarks\n\nhand-written\n<!-- generated -->\n## Last run of")
    assert "old run" not in text and "| speed |" in text and "| scaling |" in text
    assert "Machine: x." in text and "the machine" in text
    out = results.read_text()
    assert "| quality |" in out and "| svd |" in out and "Evaluated on 189" in out
    assert out.endswith("<!-- language_models results: begin -->\nLM\n")
