"""``bench/grading_profile.py``: a profile's samples split into the submission's training
runs, its other calls, the worker's machinery and the grader's process, waiting left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._bench import bench_script

WORKER = 'process 7:"python -P -m nlpdojo_autograder.runtime.worker_main 3 6"'
GRADER = 'process 5:"python -m nlpdojo_autograder.cli.grade rnn_variants"'
RUN = "run (autograder/runtime/worker_main.py:24)"
INVOKE = "invoke (autograder/runtime/signatures.py:20)"
TRAINER = "train_lm (rnn_variants/lm_training.py:43)"
WAIT = "_arrived (autograder/runtime/channel.py:771)"
WRITE = "send_frame (autograder/runtime/channel.py:696)"


def _stack(*frames: str) -> str:
    return ";".join(frames)


def test_samples_are_told_apart_by_their_stacks(tmp_path: Path):
    raw = tmp_path / "profile.raw"
    raw.write_text("\n".join([
        f"{_stack(WORKER, RUN, INVOKE, TRAINER, 'matmul (x.py:1)')} 6",
        f"{_stack(WORKER, RUN, INVOKE, 'forward (library/gated.py:80)')} 2",
        f"{_stack(WORKER, RUN, 'serve (autograder/runtime/worker.py:297)')} 1",
        f"{_stack(GRADER, 'run_checks (autograder/grading/runner.py:311)')} 1",
        # waiting for the other side: not work
        f"{_stack(WORKER, RUN, 'recv (a.py:1)', WAIT)} 30",
        f"{_stack(WORKER, RUN, 'send (a.py:1)', WRITE)} 20",
    ]) + "\n")
    with bench_script("grading_profile") as bench:
        shares = bench.shares(raw)
    assert shares == pytest.approx({"training runs": 0.6, "other calls of the submission": 0.2,
                                    "worker machinery": 0.1, "grader process": 0.1})
