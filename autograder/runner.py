"""Running checks in isolated child processes, with time, memory and output limits.

One worker process runs an exercise's checks in order (see :mod:`nlpdojo_autograder.worker`).
When a check hangs, floods its output or kills its process (``os._exit``, a segfault, the
memory limit), that check alone gets zero, with a message saying which, and the checks after
it run in a fresh worker. The grader never writes into the submission: workers run in a
scratch folder with ``PYTHONDONTWRITEBYTECODE`` set.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.checks import Check, Exercise

_MARKER = re.compile(rb"\x1f\[nlpdojo-check (\d+)\]\x1f\n")
_TAIL_BYTES = 4000


@dataclass
class Limits:
    """Per-check wall clock (scaled), address space above the worker's own, output bytes."""

    timeout_scale: float = 1.0
    memory_mb: int = 4096
    output_bytes: int = 1_000_000
    startup_s: float = 60.0
    #: once every check has reported, how long the worker may take to exit (a thread the
    #: student started can keep it alive) before it is killed
    exit_grace_s: float = 3.0


@dataclass
class Outcome:
    """What one check's ``collect`` produced, before any judgement."""

    status: str  # ok | not_implemented | failed | error | timeout
    message: str = ""
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    output: str = ""
    traceback: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return {**self.scalars, **self.arrays}


def read_outcome(json_path: Path) -> Outcome:
    """Load an outcome written by a worker (or stored as a fixture); arrays without pickle."""
    data = json.loads(json_path.read_text())
    arrays: dict[str, np.ndarray] = {}
    npz = json_path.with_suffix(".npz")
    if npz.exists():
        with np.load(npz, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    status = data.get("status", "error")
    return Outcome(status=status, message=data.get("message", ""), arrays=arrays,
                   scalars=data.get("scalars", {}), duration_s=float(data.get("duration_s", 0)),
                   traceback=data.get("traceback", ""))


class _OutputPump(threading.Thread):
    """Drains the worker's stdout+stderr, attributing bytes to the check running at the time
    (the worker prints a marker line before each check) and keeping only a bounded tail."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.current: int | None = None
        self.tails: dict[int | None, bytearray] = {}
        self.counts: dict[int | None, int] = {}
        self._carry = b""

    def run(self) -> None:
        while chunk := self.stream.read1(65536):
            self._feed(self._carry + chunk)
        self._add(self._carry)

    def _feed(self, data: bytes) -> None:
        pos = 0
        for match in _MARKER.finditer(data):
            self._add(data[pos:match.start()])
            self.current = int(match.group(1))
            pos = match.end()
        rest = data[pos:]
        cut = rest.rfind(b"\x1f")  # a marker may straddle two chunks: hold back its start
        if cut != -1 and cut >= len(rest) - 40:
            self._add(rest[:cut])
            self._carry = rest[cut:]
        else:
            self._add(rest)
            self._carry = b""

    def _add(self, data: bytes) -> None:
        if not data:
            return
        self.counts[self.current] = self.counts.get(self.current, 0) + len(data)
        tail = self.tails.setdefault(self.current, bytearray())
        tail.extend(data[-_TAIL_BYTES:])
        del tail[:-_TAIL_BYTES]

    def tail(self, index: int | None) -> str:
        return bytes(self.tails.get(index, b"")).decode("utf-8", errors="replace")


def run_checks(
    exercise: Exercise,
    checks: list[Check],
    *,
    topic_folder: Path | None,
    backend: str,
    device: str | None,
    seed: int,
    full: bool = False,
    limits: Limits | None = None,
    question_functions: dict[str, list[tuple[str, str]]] | None = None,
    keep_dir: Path | None = None,
    on_done: Callable[[Check], None] | None = None,
) -> dict[str, Outcome]:
    """Run ``checks`` against a folder (a student's topic) or the reference (``None``).

    ``on_done(check)`` is called as each check's outcome arrives (progress bars).

    Returns an :class:`Outcome` per check id. ``keep_dir``, when given, receives the raw
    worker files (``dojo release`` stores the reference's as fixtures).
    """
    limits = limits or Limits()
    outcomes: dict[str, Outcome] = {}
    pending = list(enumerate(checks))
    with tempfile.TemporaryDirectory(prefix="nlpdojo-grade-") as tmp:
        attempt = 0
        while pending:
            run_dir = Path(tmp) / f"run{attempt}"
            run_dir.mkdir()
            attempt += 1
            spec = {
                "exercise": exercise.name,
                "topic": exercise.name,
                "reference": exercise.reference_package,
                "folder": str(topic_folder.resolve()) if topic_folder else None,
                "backend": backend,
                "device": device,
                "seed": seed,
                "full": full,
                "memory_mb": limits.memory_mb,
                "checks": [[i, c.id] for i, c in pending],
                "question_functions": question_functions or {},
            }
            (run_dir / "spec.json").write_text(json.dumps(spec))
            finished = _run_worker(run_dir, pending, limits, outcomes, on_done)
            if keep_dir is not None:
                _keep(run_dir, pending, keep_dir)
            pending = [(i, c) for i, c in pending if c.id not in outcomes]
            if not finished and pending:
                continue
    return outcomes


def _keep(run_dir: Path, pending: list[tuple[int, Check]], keep_dir: Path) -> None:
    keep_dir.mkdir(parents=True, exist_ok=True)
    for i, check in pending:
        for suffix in (".json", ".npz"):
            src = run_dir / f"{i}{suffix}"
            if src.exists():
                os.replace(src, keep_dir / f"{check.id}{suffix}")


def _run_worker(run_dir: Path, pending: list[tuple[int, Check]], limits: Limits,
                outcomes: dict[str, Outcome],
                on_done: Callable[[Check], None] | None = None) -> bool:
    """Run one worker over ``pending``; fill ``outcomes``. Returns whether it ran to the end."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlpdojo_autograder.worker", str(run_dir)],
        cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    pump = _OutputPump(proc.stdout)
    pump.start()
    by_index = dict(pending)
    launched = time.monotonic()
    killed_for: tuple[int, str] | None = None
    reported: set[int] = set()
    all_done_at: float | None = None
    try:
        while proc.poll() is None:
            time.sleep(0.02)
            finished = {i for i in by_index if (run_dir / f"{i}.json").exists()}
            if on_done is not None:
                for index in sorted(finished - reported):
                    reported.add(index)
                    on_done(by_index[index])
            if len(finished) == len(by_index):
                all_done_at = all_done_at or time.monotonic()
                if time.monotonic() - all_done_at > limits.exit_grace_s:
                    _kill(proc)  # every outcome is in: whatever still runs is not grading
                continue
            running = _running_check(run_dir, by_index)
            if running is None:
                if time.monotonic() - launched > limits.startup_s and not _any_started(run_dir):
                    killed_for = (-1, "startup")
                    _kill(proc)
                continue
            index, started = running
            check = by_index[index]
            if time.time() - started > check.timeout_s * limits.timeout_scale:
                killed_for = (index, "timeout")
                _kill(proc)
            elif pump.counts.get(index, 0) > limits.output_bytes:
                killed_for = (index, "flood")
                _kill(proc)
    finally:
        _kill(proc)  # also any process the student's code started in the worker's group
        proc.wait()
        pump.join(timeout=5)

    for index, check in pending:
        if on_done is not None and index not in reported and (
                (run_dir / f"{index}.json").exists() or (run_dir / f"{index}.start").exists()):
            on_done(check)
        json_path = run_dir / f"{index}.json"
        if json_path.exists():
            outcome = read_outcome(json_path)
            outcome.output = pump.tail(index)
            outcomes[check.id] = outcome
        elif (run_dir / f"{index}.start").exists():
            outcomes[check.id] = _death(check, index, proc.returncode, killed_for, limits, pump)
    if killed_for == (-1, "startup") or not _any_started(run_dir):
        # the worker could not even start its first check: the same would happen again
        tail = pump.tail(None)
        for _index, check in pending:
            outcomes.setdefault(check.id, Outcome(
                status="error", output=tail,
                message="the grader's worker process failed before running any check "
                        f"(exit code {proc.returncode}); its output ends with: {tail[-500:]}"))
        return True
    return all(c.id in outcomes for _, c in pending)


def _running_check(run_dir: Path, by_index: dict[int, Check]) -> tuple[int, float] | None:
    for index in sorted(by_index, reverse=True):
        start = run_dir / f"{index}.start"
        if start.exists():
            if (run_dir / f"{index}.json").exists():
                return None
            try:
                return index, float(start.read_text() or 0)
            except ValueError:
                return index, time.time()
    return None


def _any_started(run_dir: Path) -> bool:
    return any(run_dir.glob("*.start"))


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _death(check: Check, index: int, returncode: int | None,
           killed_for: tuple[int, str] | None, limits: Limits, pump: _OutputPump) -> Outcome:
    """The outcome of a check whose process ended before it reported."""
    output = pump.tail(index)
    if killed_for == (index, "timeout"):
        limit = check.timeout_s * limits.timeout_scale
        return Outcome(status="timeout", output=output,
                       message=f"took longer than {limit:g} s and was stopped; an infinite loop, "
                               "or a Python loop where a vectorized operation is expected?")
    if killed_for == (index, "flood"):
        return Outcome(status="error", output=output,
                       message=f"printed more than {limits.output_bytes:,} bytes and was stopped; "
                               "remove debugging prints from loops")
    if returncode is not None and returncode < 0:
        sig = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        return Outcome(status="error", output=output,
                       message=f"the process running your code was killed by {sig or returncode} "
                               "(a crash, or the memory limit)")
    return Outcome(status="error", output=output,
                   message=f"the process running your code exited with code {returncode} during "
                           "this check (os._exit()?); return values instead of exiting")
