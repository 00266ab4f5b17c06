"""How long `dojo verify TOPIC --strict` takes (NumPy), with the planted bugs' baseline against
the same verification grading every check again for every bug (the peer, in the same run).

The baseline (docs/grading.md, "dojo verify") grades a bug again only on the checks that ran a
unit of code the bug changes; the peer (``--peer``) reuses nothing, as verify did before it for
the checks that a probe widened to every file. Both must reach the same verdicts: the script
says so, step by step. Prints each step's time and the totals, and the ratio.

    python bench/verify_time.py rnn_variants [--peer] [--bugs 0,3,7]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from _machine import machine  # bench/ is on sys.path when a bench runs


def run(topic: str, bugs: list[int] | None, reuse: bool) -> tuple[float, dict[str, bool]]:
    from nlpdojo.plugins import get_registry
    from nlpdojo_autograder.release import verify as verify_module

    exercise = get_registry().get("exercise", topic)
    if bugs is not None:
        exercise = dataclasses.replace(
            exercise, planted_bugs=[exercise.planted_bugs[i] for i in bugs])
    real = verify_module._reusable
    if not reuse:
        verify_module._reusable = lambda *args, **kwargs: {}
    started = time.perf_counter()

    def shown(step):
        print(f"  {time.perf_counter() - started:7.1f} s  {'ok  ' if step.ok else 'FAIL'} "
              f"{step.name}", flush=True)

    try:
        steps = verify_module.verify([exercise], backends=[("numpy", "cpu")], strict=True,
                                     on_step=shown)
    finally:
        verify_module._reusable = real
    return time.perf_counter() - started, {s.name: s.ok for s in steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic")
    parser.add_argument("--peer", action="store_true",
                        help="also run the verification that reuses nothing")
    parser.add_argument("--bugs", help="only these planted bugs (indices, comma-separated)")
    args = parser.parse_args()
    bugs = [int(b) for b in args.bugs.split(",")] if args.bugs else None
    print(machine())
    print(f"dojo verify {args.topic} --strict, with the baseline:")
    with_baseline, verdicts = run(args.topic, bugs, reuse=True)
    print(f"with the baseline: {with_baseline:.0f} s")
    if args.peer:
        print("grading every check again for every bug (the peer):")
        peer, peer_verdicts = run(args.topic, bugs, reuse=False)
        print(f"peer: {peer:.0f} s; with the baseline {peer / with_baseline:.2f}x faster")
        differ = {k for k in verdicts if peer_verdicts.get(k) != verdicts[k]}
        print("same verdicts on every step" if not differ else f"verdicts differ: {differ}")


if __name__ == "__main__":
    main()
