"""Round trips between the grader and the sandboxed worker, per check, of a grading as CI does
it (issue 66 item 2: "the slowest gradient check of every topic at most 2,000 round trips").

A round trip is one exchange the grader starts (``begin``, ``call``, ``many``, ``end``...:
one message each way) or one call-back the worker makes into a swapped-in question's reference
while an exchange is open (to the reference process, over the pipes that join the two: the
grader learns their number at each check's end). Each costs a pipe write, a wake-up of the other
process and the encoding of its arrays (~0.3-0.7 ms on these machines), whatever the arithmetic
it carries; ``many`` carries a gradient check's perturbed points together, and the calls it
carried are counted beside it.

The reference is graded as a submission (a copy of ``solutions/`` passed to ``--submission``,
the reference present beside it as in CI), in this process, with the grader's
:class:`~nlpdojo_autograder.runtime.remote.RemoteSubject` counted; the counts are the same on
every machine for one input seed (``--seed``), the seconds are not.

    python bench/round_trips.py                       # every topic
    python bench/round_trips.py cnn_text rnn_variants --top 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _machine import machine  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")
#: issue 66's bound on the round trips of a topic's slowest gradient check
BOUND = 2000


class Counted:
    """Counts a :class:`RemoteSubject`'s exchanges and call-backs under the check running."""

    def __init__(self, own_passed: bool = False) -> None:
        #: False: the reference stands in for every required question (a submission failing
        #: them all: the most round trips); True: as ``grade`` does, only for those it fails
        self.own_passed = own_passed
        self.trips: Counter[str] = Counter()
        self.ops: Counter[str] = Counter()
        self.kinds: dict[str, str] = {}
        self.check = "(start)"

    @contextlib.contextmanager
    def installed(self):  # noqa: ANN201 - a context manager of the bench's own
        from nlpdojo_autograder.grading import runner
        from nlpdojo_autograder.runtime import remote

        run_one, steps, end = (runner._run_one, remote.RemoteSubject._exchange_steps,
                               remote.ReferenceProcess.end)
        narrowed = runner.narrowed
        if not self.own_passed:  # every required question swapped in: the most round trips
            runner.narrowed = lambda exercise, swapped, passed, find=None: tuple(swapped)

        def counted_run_one(check, *args, **kwargs):  # noqa: ANN001, ANN202
            self.check, self.kinds[check.id] = check.id, check.kind
            return run_one(check, *args, **kwargs)

        def counted_steps(subject, request, deadline):  # noqa: ANN001, ANN202
            self.trips[self.check] += 1
            op = request.get("op", "?") if isinstance(request, dict) else "?"
            self.ops[op] += 1
            if op == "many":
                self.ops["calls carried by many"] += len(request["calls"])
            return steps(subject, request, deadline)

        def counted_end(references, deadline):  # noqa: ANN001, ANN202
            answered = end(references, deadline)  # the check's call-backs, as it counted them
            self.trips[self.check] += answered
            self.ops["call-back"] += answered
            return answered

        runner._run_one = counted_run_one
        remote.RemoteSubject._exchange_steps = counted_steps
        remote.ReferenceProcess.end = counted_end
        try:
            yield self
        finally:
            runner._run_one = run_one
            remote.RemoteSubject._exchange_steps = steps
            remote.ReferenceProcess.end = end
            runner.narrowed = narrowed


def grade(topic: str, submission: Path, seed: int, own_passed: bool = False
          ) -> tuple[Counted, float, str]:
    """Grade ``topic`` of ``submission`` in this process, counting; (counts, seconds, total)."""
    from nlpdojo_autograder.cli.grade import app

    counted = Counted(own_passed)
    out = io.StringIO()
    started = time.perf_counter()
    with counted.installed(), contextlib.redirect_stdout(out):
        try:
            app([topic, "--submission", str(submission), "--no-cache", "--quiet",
                 "--seed", str(seed)], standalone_mode=False)
        except SystemExit:
            pass
    total = next((line for line in out.getvalue().splitlines() if line.startswith("Total")),
                 "no total line")
    return counted, time.perf_counter() - started, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", default=list(TOPICS))
    parser.add_argument("--seed", type=int, default=1,
                        help="the grading's input seed (0 is the student release's)")
    parser.add_argument("--top", type=int, default=3, help="checks listed per topic")
    parser.add_argument("--own-passed", action="store_true",
                        help="as `grade` does: the submission's own code of the questions it "
                             "passes runs in the checks that require them (default: the "
                             "reference stands in for every required question, the most "
                             "round trips a check makes)")
    args = parser.parse_args()
    import numpy as np

    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loads at NumPy's first product: name its kernel
    print(f"machine: {machine()}")
    print("| topic | round trips | slowest gradient check (round trips) | most of any check "
          "| ops | grading s | total |\n|---|---:|---|---|---|---:|---|")
    worst_gradient = 0
    with tempfile.TemporaryDirectory() as tmp:
        submission = Path(tmp) / "submission"
        shutil.copytree(ROOT / "solutions", submission,
                        ignore=shutil.ignore_patterns("__pycache__"))
        for topic in args.topics:
            counted, seconds, total = grade(topic, submission, args.seed, args.own_passed)
            gradient = {c: n for c, n in counted.trips.items()
                        if counted.kinds.get(c) == "gradient"}
            slowest = max(gradient.items(), key=lambda kv: kv[1], default=("-", 0))
            worst_gradient = max(worst_gradient, slowest[1])
            most = ", ".join(f"{c} {n:,}" for c, n in counted.trips.most_common(args.top))
            ops = ", ".join(f"{op} {n:,}" for op, n in sorted(counted.ops.items()))
            print(f"| {topic} | {sum(counted.trips.values()):,} | {slowest[0]} "
                  f"({slowest[1]:,}) | {most} | {ops} | {seconds:.1f} | {total} |", flush=True)
    verdict = "within" if worst_gradient <= BOUND else "over"
    print(f"\nslowest gradient check: {worst_gradient:,} round trips ({verdict} issue 66's "
          f"{BOUND:,})", file=sys.stderr)


if __name__ == "__main__":
    main()
