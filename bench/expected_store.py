"""What reading a topic's expected outcomes from the store on disk costs (``grading/expected.py``:
a cohort's children, ``dojo verify``, the planted-bug tests and repeated gradings at one seed read
an entry per topic and grading): the store's own file of raw bytes with a JSON listing, against
NumPy's ``.npz`` (the peer: the same arrays, named ``check|array``, as the store kept them before).
The outcomes are a topic's real ones: its release fixtures (every check's arrays and scalars).
Both reads must give back the same arrays, dtypes and shapes: the script says so. Prints each
format's median [min-max] of the rounds and the per-round ratios.

    python bench/expected_store.py [--topics cnn_text,rnn_variants] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import machine, ratios, spread  # bench/ is on sys.path when a bench runs

from nlpdojo_autograder.grading.expected import ExpectedStore
from nlpdojo_autograder.grading.runner import Outcome, read_outcome

COURSE = Path(__file__).resolve().parents[1] / "course"


def fixture_outcomes(topic: str) -> dict[str, Outcome]:
    """The topic's release fixtures as the store keeps outcomes (status ``ok``)."""
    found = {}
    for listing in sorted((COURSE / topic / "fixtures").glob("*.json")):
        outcome = read_outcome(listing)
        if outcome.status == "ok":
            found[listing.stem] = Outcome(status="ok", scalars=outcome.scalars,
                                          arrays=outcome.arrays)
    return found


def write_npz(folder: Path, outcomes: dict[str, Outcome]) -> None:
    folder.mkdir(parents=True)
    np.savez(folder / "arrays.npz", **{f"{cid}|{name}": value for cid, o in outcomes.items()
                                       for name, value in o.arrays.items()})
    (folder / "outcomes.json").write_text(json.dumps(
        {"checks": {cid: {"scalars": o.scalars, "arrays": sorted(o.arrays)}
                    for cid, o in outcomes.items()}}))


def read_npz(folder: Path) -> dict[str, Outcome]:
    """The peer's read, as the store's format 2 did it."""
    data = json.loads((folder / "outcomes.json").read_text())
    arrays: dict[str, dict[str, np.ndarray]] = {}
    with np.load(folder / "arrays.npz", allow_pickle=False) as stored:
        for name in stored.files:
            check_id, _, array = name.partition("|")
            arrays.setdefault(check_id, {})[array] = stored[name]
    return {cid: Outcome(status="ok", scalars=dict(entry["scalars"]),
                         arrays=arrays.get(cid, {})) for cid, entry in data["checks"].items()}


def same(a: dict[str, Outcome], b: dict[str, Outcome]) -> bool:
    return set(a) == set(b) and all(
        set(a[c].arrays) == set(b[c].arrays) and all(
            x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
            for x, y in ((a[c].arrays[n], b[c].arrays[n]) for n in a[c].arrays))
        for c in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", default="word_vectors,neural_networks,language_models,"
                        "rnn_variants,cnn_text")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(machine())
    print("| topic | checks | arrays | bytes (store / npz) | store ms | npz ms (peer) | "
          "npz / store |")
    print("|---|---:|---:|---|---|---|---|")
    for topic in args.topics.split(","):
        outcomes = fixture_outcomes(topic)
        with tempfile.TemporaryDirectory(prefix="nlpdojo-bench-") as tmp:
            store = ExpectedStore(Path(tmp) / "store")
            store.save(topic, "k", outcomes)
            npz_folder = Path(tmp) / "npz"
            write_npz(npz_folder, outcomes)
            ours, peer = [], []
            for _ in range(args.rounds):  # in turns, so that both see the same machine
                started = time.perf_counter()
                got = store.load(topic, "k")
                ours.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                theirs = read_npz(npz_folder)
                peer.append(1000 * (time.perf_counter() - started))
            if not (same(got, outcomes) and same(theirs, outcomes)):
                raise SystemExit(f"{topic}: a read gave back other arrays than were stored")
            size = sum(p.stat().st_size for p in (store.root / topic / "k").iterdir())
            npz_size = sum(p.stat().st_size for p in npz_folder.iterdir())
        per_round = ratios(peer, ours)
        print(f"| {topic} | {len(outcomes)} | {sum(len(o.arrays) for o in outcomes.values()):,} "
              f"| {size:,} / {npz_size:,} | {spread(ours, '{:.1f}')} | {spread(peer, '{:.1f}')} "
              f"| {statistics.median(per_round):.1f}x |")


if __name__ == "__main__":
    main()
