"""What `dojo verify`'s record of the code each check runs costs: the baseline grading (a copy
of the solutions graded as a submission, every question but the integrative ones) untraced,
recorded by coverage.py's C tracer, and recorded by `sys.settrace`'s call events (the peer),
in turns in the same run. The two records must be the same for every check: the script says
so. Prints each run's time, the medians [min-max] and the per-round ratios of the times.

    python bench/verify_record.py rnn_variants [--rounds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from _machine import machine, ratios, spread  # bench/ is on sys.path when a bench runs

MODES = ("untraced", "coverage", "settrace")


def baseline(topic: str, mode: str, seed: int) -> tuple[float, dict | None]:
    """Seconds to grade the solutions as verify's baseline does, and the record (None
    untraced)."""
    from nlpdojo.plugins import get_registry
    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.runner import Limits
    from nlpdojo_autograder.release import verify as verify_module
    from nlpdojo_autograder.runtime import remote

    exercise = get_registry().get("exercise", topic)
    options = GradeOptions(limits=Limits(), input_seed=seed)
    questions, skipped = verify_module._graded_questions(exercise, None, (), False)
    options = verify_module._only(exercise, options, questions, skipped)
    executed: dict | None = None if mode == "untraced" else {}
    if executed is not None:
        options = dataclasses.replace(options, executed=executed)
    remote.RECORDER = "settrace" if mode == "settrace" else "coverage"
    with tempfile.TemporaryDirectory(prefix="nlpdojo-bench-") as tmp:
        topic_folder = verify_module._copy_solutions(exercise, Path(tmp) / "bug")
        started = time.perf_counter()
        result = verify_module.grade_exercise(exercise, topic_folder, options)
        seconds = time.perf_counter() - started
    remote.RECORDER = "coverage"
    lost = [c.id for c in result.checks if c.score < c.max_score]
    if lost:
        raise SystemExit(f"the solutions lost points ({', '.join(lost)}): no baseline")
    return seconds, executed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(machine())
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    records: dict[str, dict] = {}
    for round_ in range(args.rounds):
        for mode in MODES:
            seconds, record = baseline(args.topic, mode, args.seed)
            times[mode].append(seconds)
            if record is not None:
                records[mode] = record
            print(f"round {round_ + 1}: {mode:9s} {seconds:6.1f} s", flush=True)
    same = records["coverage"] == records["settrace"]
    print(f"records the same for every check ({len(records['coverage'])}): {same}")
    for mode in MODES:
        print(f"{mode:9s} {spread(times[mode], '{:.1f}')} s")
    for mode in ("coverage", "settrace"):  # time ratios, per round (lower is better)
        print(f"{mode} / untraced: {spread(ratios(times[mode], times['untraced']))}")
    print(f"coverage / settrace: {spread(ratios(times['coverage'], times['settrace']))}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
