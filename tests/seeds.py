"""The opt-in seeded run (``make test-seeds``) and its ledger, ``tests/seeds.json``.

The tests marked ``seeded`` (planted bugs, the hostile suite's grading attacks, the trained
metrics' held-out draws) must pass for 20 input seeds in a row. One seed costs about 6 minutes on
two cores (2026-12-02, Intel Xeon), so the 20 take two hours: every seed's verdict is appended
to the ledger as soon as it is known, keyed by a **fingerprint** of everything that decides the
verdicts, and a later run goes on from the first seed not yet passed for that fingerprint.

The fingerprint is a SHA-256 over the pytest command below and the blob ids of every tracked
file of a commit except those that no seeded test reads (:data:`UNFINGERPRINTED`: the docs,
the benchmarks, the README, the Makefile that only calls this module, CI's script, this
module's bookkeeping, its tests and the ledger). A commit that changes only those keeps the
fingerprint, and with it the seeds already passed; any change of the engine, the course, the
solutions, the tests or the pinned dependencies starts the count again. Seeds run only from a
clean work tree (what runs is what is fingerprinted).

    python -m tests.seeds status          # this commit's fingerprint and its seeds in a row
    python -m tests.seeds run --seeds 20  # run from the next seed, record each one
    python -m tests.seeds record --revision REV --seed N --passed --summary "..." --seconds S
                                          # a seed run by hand (the command below) on REV
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.lanes import run_echoed

ROOT = Path(__file__).resolve().parents[1]
LEDGER = ROOT / "tests" / "seeds.json"
#: what runs for one seed (NLPDOJO_INPUT_SEED set to the seed); part of the fingerprint
COMMAND = ("NLPDOJO_SLOW_TESTS=1 python -m tests.lanes -m seeded")
#: tracked paths no seeded test reads: changing them keeps the fingerprint
UNFINGERPRINTED = ("docs/", "bench/", "README.md", "Makefile", ".ci/", ".gitignore", "tools/",
                   "tests/seeds.py", "tests/seeds.json", "tests/test_seeds_ledger.py",
                   "tests/test_install_venv.py")
#: the seeds in a row the integrity issue asks for
WANTED = 20


class SeedsError(Exception):
    """What stops a seeded run from starting or a seed from being recorded."""


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SeedsError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def fingerprinted(path: str) -> bool:
    return not any(path == p or (p.endswith("/") and path.startswith(p))
                   for p in UNFINGERPRINTED)


def fingerprint(revision: str = "HEAD", cwd: Path = ROOT) -> str:
    """The fingerprint of ``revision``'s tracked files (blob ids, modes, paths) and COMMAND."""
    digest = hashlib.sha256(COMMAND.encode())
    for line in _git("ls-tree", "-r", "--full-tree", revision, cwd=cwd).splitlines():
        meta, path = line.split("\t", 1)
        if fingerprinted(path):
            digest.update(f"{meta}\t{path}\n".encode())
    return digest.hexdigest()[:16]


def changed_files(cwd: Path = ROOT) -> list[str]:
    """Fingerprinted paths that differ from HEAD in the work tree (untracked ones included)."""
    out = _git("status", "--porcelain", "--untracked-files=all", cwd=cwd)
    paths = [line[3:].split(" -> ")[-1] for line in out.splitlines()]
    return [p for p in paths if fingerprinted(p)]


@dataclass
class Entry:
    fingerprint: str
    revision: str
    seed: int
    passed: bool
    summary: str
    seconds: float
    date: str
    machine: str
    sandbox: bool


def read_ledger(path: Path = LEDGER) -> list[Entry]:
    if not path.exists():
        return []
    try:
        return [Entry(**e) for e in json.loads(path.read_text())["entries"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SeedsError(f"{path} is not a seeds ledger ({exc}); restore it from git") from exc


def append(entry: Entry, path: Path = LEDGER) -> None:
    entries = [*read_ledger(path), entry]
    text = json.dumps({"about": "tests/seeds.py: the seeded tests' verdicts per input seed and "
                                "fingerprint", "entries": [asdict(e) for e in entries]},
                      indent=1, ensure_ascii=False)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text + "\n")
    tmp.replace(path)  # a run killed mid-write loses nothing recorded before


def in_a_row(entries: list[Entry], print_: str) -> tuple[int, Entry | None]:
    """Seeds 1..n passed for fingerprint ``print_`` (the last verdict of a seed counts), and
    the failure that ended the row, if one did."""
    last: dict[int, Entry] = {}
    for e in entries:
        if e.fingerprint == print_:
            last[e.seed] = e
    n = 0
    while n + 1 in last and last[n + 1].passed:
        n += 1
    return n, last.get(n + 1)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def run_seed(seed: int, python: str) -> tuple[bool, str, float]:
    env = {**os.environ, "NLPDOJO_INPUT_SEED": str(seed), "NLPDOJO_SLOW_TESTS": "1"}
    started = time.monotonic()
    code, said = run_echoed([python, *COMMAND.split()[2:]], env)
    return code == 0, said, round(time.monotonic() - started, 1)


def run(seeds: int, python: str) -> int:
    dirty = changed_files()
    if dirty:
        raise SeedsError("the work tree differs from HEAD in files the seeded tests read ("
                         + ", ".join(dirty[:5]) + (", ..." if len(dirty) > 5 else "")
                         + "): commit or stash them, so that what runs is what is recorded")
    print_ = fingerprint()
    revision = _git("rev-parse", "--short", "HEAD").strip()
    done, failure = in_a_row(read_ledger(), print_)
    print(f"nlpdojo: fingerprint {print_} (revision {revision}): seeds 1-{done} passed in a row"
          if done else f"nlpdojo: fingerprint {print_} (revision {revision}): no seed passed yet")
    if failure is not None:
        print(f"nlpdojo: seed {failure.seed} failed on it ({failure.summary}); running it again")
    sandbox = shutil.which("bwrap") is not None
    for seed in range(done + 1, seeds + 1):
        print(f"nlpdojo: input seed {seed} of {seeds}", flush=True)
        passed, summary, seconds = run_seed(seed, python)
        append(Entry(print_, revision, seed, passed, summary, seconds,
                     dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"), machine(),
                     sandbox))
        if not passed:
            print(f"nlpdojo: the seeded tests failed on input seed {seed} (NLPDOJO_INPUT_SEED="
                  f"{seed} {COMMAND} reproduces it); recorded in {LEDGER.name}")
            return 1
    print(f"nlpdojo: the seeded tests passed for input seeds 1 to {seeds} in a row "
          f"(fingerprint {print_}); commit {LEDGER.relative_to(ROOT)}")
    return 0


def status() -> int:
    dirty = changed_files()
    print_ = fingerprint()
    done, failure = in_a_row(read_ledger(), print_)
    where = f"HEAD, with {len(dirty)} changed files not in it" if dirty else "HEAD"
    print(f"fingerprint {print_} ({where}): {done} of {WANTED} seeds passed in a row"
          + (f"; seed {failure.seed} failed: {failure.summary}" if failure else ""))
    return 0 if done >= WANTED else 1


def record(revision: str, seed: int, passed: bool, summary: str, seconds: float,
           date: str | None, sandbox: bool) -> int:
    """A seed run by hand with COMMAND in a clean clone of ``revision``."""
    if seed < 1:
        raise SeedsError("seeds count from 1")
    print_ = fingerprint(revision)
    short = _git("rev-parse", "--short", revision).strip()
    append(Entry(print_, short, seed, passed, summary, seconds,
                 date or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
                 machine(), sandbox))
    same = " (this commit's too)" if print_ == fingerprint() else (
        " (not this commit's: it changed files the seeded tests read)")
    print(f"recorded seed {seed} {'passed' if passed else 'failed'} for fingerprint {print_}"
          f"{same}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.seeds", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="this commit's fingerprint and its seeds passed in a row")
    sub.add_parser("fingerprint", help="print this commit's fingerprint")
    go = sub.add_parser("run", help="run the next seeds, recording each")
    go.add_argument("--seeds", type=int, default=WANTED, help="up to this seed (default 20)")
    go.add_argument("--python", default=sys.executable, help="the interpreter pytest runs in")
    rec = sub.add_parser("record", help="record a seed run by hand on a revision")
    rec.add_argument("--revision", required=True)
    rec.add_argument("--seed", type=int, required=True)
    verdict = rec.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--passed", action="store_true")
    verdict.add_argument("--failed", action="store_true")
    rec.add_argument("--summary", required=True, help="pytest's last line")
    rec.add_argument("--seconds", type=float, required=True)
    rec.add_argument("--date", help="UTC, YYYY-MM-DD HH:MM (default: now)")
    rec.add_argument("--no-sandbox", action="store_true", help="bubblewrap was not present")
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            return status()
        if args.command == "fingerprint":
            print(fingerprint())
            return 0
        if args.command == "run":
            return run(args.seeds, args.python)
        return record(args.revision, args.seed, args.passed, args.summary, args.seconds,
                      args.date, not args.no_sandbox)
    except SeedsError as exc:
        print(f"nlpdojo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
