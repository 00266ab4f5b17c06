"""Running checks in isolated child processes, with time, memory and output limits.

One worker process runs an exercise's checks in order (see :mod:`nlpdojo_autograder.worker`).
When a check hangs, floods its output or kills its process (``os._exit``, a segfault, the
memory limit), that check alone gets zero, with a message saying which, and the checks after
it run in a fresh worker. The grader never writes into the submission: workers run in a
scratch folder with ``PYTHONDONTWRITEBYTECODE`` set.
"""

from __future__ import annotations

import json
import linecache
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
    #: how ``memory_mb`` is enforced: "address-space" (RLIMIT_AS: a clean MemoryError in the
    #: student's code), "resident" (the parent watches the worker's resident memory and stops
    #: it), or "auto": resident on CUDA, whose driver reserves tens of GB of address space that
    #: an address-space cap would refuse, else address-space
    memory_mode: str = "auto"
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
    hanging: dict[str, float] = {}  # modules whose import was stopped: name -> time limit
    code_dir = str(topic_folder.resolve()) if topic_folder else None
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
                "folder": code_dir,
                "backend": backend,
                "device": device,
                "seed": seed,
                "full": full,
                "memory_mb": limits.memory_mb,
                "memory_mode": _memory_mode(limits.memory_mode, device),
                "checks": [[i, c.id] for i, c in pending],
                "question_functions": question_functions or {},
                "given_modules": list(exercise.given_modules),
                "hanging_modules": hanging,
            }
            (run_dir / "spec.json").write_text(json.dumps(spec))
            finished = _run_worker(run_dir, pending, limits, outcomes, on_done, hanging,
                                   code_dir)
            if keep_dir is not None:
                _keep(run_dir, pending, keep_dir)
            pending = [(i, c) for i, c in pending if c.id not in outcomes]
            if not finished and pending:
                continue
    return outcomes


def _memory_mode(mode: str, device: str | None) -> str:
    if mode == "auto":
        return "resident" if (device or "").startswith("cuda") else "address-space"
    if mode not in ("address-space", "resident"):
        raise ValueError(f"memory_mode must be auto, address-space or resident, not {mode!r}")
    return mode


def _resident_bytes(pid: int) -> int | None:
    """Resident set size of process ``pid`` (Linux ``/proc``), or None where unreadable."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _keep(run_dir: Path, pending: list[tuple[int, Check]], keep_dir: Path) -> None:
    keep_dir.mkdir(parents=True, exist_ok=True)
    for i, check in pending:
        for suffix in (".json", ".npz"):
            src = run_dir / f"{i}{suffix}"
            if src.exists():
                os.replace(src, keep_dir / f"{check.id}{suffix}")


def _run_worker(run_dir: Path, pending: list[tuple[int, Check]], limits: Limits,
                outcomes: dict[str, Outcome],
                on_done: Callable[[Check], None] | None, hanging: dict[str, float],
                code_dir: str | None) -> bool:
    """Run one worker over ``pending``; fill ``outcomes``. Returns whether it ran to the end.

    A check stopped for time while the worker was *importing* a module of the student's (a
    loop at the top level of a file) gets no outcome: the module is added to ``hanging`` and
    the check runs again in the next worker, where importing that module fails at once. So a
    top-level loop costs one time limit, not one per check, and only the checks that need the
    module.
    """
    stopped_at = ""  # where the student's code was when a check was stopped for time
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
    resident_limit: int | None = None  # bytes, once the worker has set it (resident mode)
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
            if resident_limit is None and (run_dir / "memory.limit").exists():
                resident_limit = int((run_dir / "memory.limit").read_text() or 0) or None
            if time.time() - started > check.timeout_s * limits.timeout_scale:
                importing, stopped_at = _where_stopped(proc, run_dir, code_dir)
                if importing:
                    hanging[importing] = check.timeout_s * limits.timeout_scale
                killed_for = (index, "import" if importing else "timeout")
                _kill(proc)
            elif resident_limit and (_resident_bytes(proc.pid) or 0) > resident_limit:
                killed_for = (index, "memory")
                _kill(proc)
            elif pump.counts.get(index, 0) > limits.output_bytes:
                killed_for = (index, "flood")
                _kill(proc)
    finally:
        _kill(proc)  # also any process the student's code started in the worker's group
        proc.wait()
        pump.join(timeout=5)

    timed_out = by_index[killed_for[0]] if killed_for and killed_for[1] == "timeout" else None
    for index, check in pending:
        if killed_for == (index, "import"):
            continue  # runs again, without the module that hung
        if (timed_out is not None and check is not timed_out and check.shares
                and check.shares == timed_out.shares and check.id not in outcomes
                and not (run_dir / f"{index}.json").exists()):
            limit = timed_out.timeout_s * limits.timeout_scale
            outcomes[check.id] = Outcome(
                status="timeout", duration_s=0.0,
                message=f"not run: it measures the same {check.shares} as {timed_out.id}, which "
                        f"took longer than {limit:g} s and was stopped{stopped_at}")
            if on_done is not None and index not in reported:
                on_done(check)
            continue
        if on_done is not None and index not in reported and (
                (run_dir / f"{index}.json").exists() or (run_dir / f"{index}.start").exists()):
            on_done(check)
        json_path = run_dir / f"{index}.json"
        if json_path.exists():
            outcome = read_outcome(json_path)
            outcome.output = pump.tail(index)
            outcomes[check.id] = outcome
        elif (run_dir / f"{index}.start").exists():
            outcomes[check.id] = _death(check, index, proc.returncode, killed_for, limits, pump,
                                        stopped_at)
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


_FRAME = re.compile(r'File "(.+)", line (\d+) in (\S+)')
_WORKER_FILE = str(Path(__file__).with_name("worker.py"))


def _where_stopped(proc: subprocess.Popen, run_dir: Path, code_dir: str | None,
                   wait_s: float = 1.0) -> tuple[str | None, str]:
    """Ask the worker for its stack (SIGUSR1, see the worker) before stopping it.

    Returns ``(module, where)``: ``module`` is the student's module whose top-level code was
    running (an import that never ends), else None; ``where`` is `` at file.py line N: code``
    for the innermost line of the student's code, or "" when it cannot be told.
    """
    if not code_dir:
        return None, ""
    stack = run_dir / "stack.txt"
    try:
        os.kill(proc.pid, signal.SIGUSR1)
    except (ProcessLookupError, PermissionError):
        return None, ""
    deadline = time.monotonic() + wait_s
    text = ""
    while time.monotonic() < deadline:
        time.sleep(0.02)
        text = stack.read_text(errors="replace") if stack.exists() else ""
        if _WORKER_FILE in text:
            break
    # the thread that runs the checks (a student's own threads have no worker.py frame)
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", text)
    main = next((b for b in blocks if _WORKER_FILE in b), "")
    frames = [(f, int(n), fn) for f, n, fn in _FRAME.findall(main)  # most recent first
              if f.startswith(code_dir.rstrip(os.sep) + os.sep)]
    if not frames:
        return None, ""
    module = next((Path(f).stem for f, _, fn in frames if fn == "<module>"), None)
    file, line, _ = frames[0]
    code = linecache.getline(file, line).strip()
    return module, f" (at {Path(file).name} line {line}{': ' + code if code else ''})"


def _any_started(run_dir: Path) -> bool:
    return any(run_dir.glob("*.start"))


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _death(check: Check, index: int, returncode: int | None,
           killed_for: tuple[int, str] | None, limits: Limits, pump: _OutputPump,
           stopped_at: str = "") -> Outcome:
    """The outcome of a check whose process ended before it reported."""
    output = pump.tail(index)
    if killed_for == (index, "timeout"):
        limit = check.timeout_s * limits.timeout_scale
        return Outcome(status="timeout", output=output, duration_s=limit,
                       message=f"took longer than {limit:g} s and was stopped{stopped_at}; an "
                               "infinite loop, or a Python loop where a vectorized operation is "
                               "expected?")
    if killed_for == (index, "flood"):
        return Outcome(status="error", output=output,
                       message=f"printed more than {limits.output_bytes:,} bytes and was stopped; "
                               "remove debugging prints from loops")
    if killed_for == (index, "memory"):
        return Outcome(status="error", output=output,
                       message=f"used more than {limits.memory_mb:,} MB of memory above the "
                               "grader's own and was stopped; is an array far too large?")
    if returncode is not None and returncode < 0:
        sig = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        return Outcome(status="error", output=output,
                       message=f"the process running your code was killed by {sig or returncode} "
                               "(a crash, or the memory limit)")
    return Outcome(status="error", output=output,
                   message=f"the process running your code exited with code {returncode} during "
                           "this check (os._exit()?); return values instead of exiting")
