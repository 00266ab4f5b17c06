"""Grading one submission of a cohort in a process of its own: ``grade ... --submission
FOLDER --output result.json`` in its own session, so that whatever happens to it (killed by
the student's code where there is no OS sandbox, a crash, a hang) costs that submission only.
Its JSON result is read size-capped and validated. The local ``--jobs`` pool
(:mod:`nlpdojo_autograder.cli.grade`) and a Dask cluster's tasks (:mod:`.cluster`) both run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nlpdojo.errors import NlpdojoError, StopRequested
from nlpdojo_autograder.grading.results import REFUSED, GradingResult
from nlpdojo_autograder.runtime.lifetime import on_parent_death

#: the module the child runs (``python -m``): the ``grade`` command, started as the console
#: script starts it (:mod:`nlpdojo_autograder.cli.launch`: its imports without garbage
#: collection)
GRADE_MODULE = "nlpdojo_autograder.cli.launch"
#: in the child's environment: the pid of the process that waits for it
PARENT_ENV = "NLPDOJO_COHORT_PARENT"


def grade_command() -> list[str]:
    """How every grader process runs ``grade``: ``-P``, so that the working folder is not on
    its import path (the environment's PYTHONPATH is kept: an instructor's plugins may be
    there); run it in a working folder of its own."""
    return [sys.executable, "-P", "-m", GRADE_MODULE]


class ChildGradingError(NlpdojoError):
    """The process grading one submission of a cohort failed, was killed or lied;
    ``exit_code``: what the cohort exits with for it (3 where the child's own grader failed,
    an internal error, else 2)."""

    def __init__(self, message: str, exit_code: int = 2, *, refused: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        #: the child refused the submission itself (a link out of it, too many files): its
        #: report says why, with 0 points; the grader did not fail
        self.refused = refused


#: a child's JSON result larger than this is refused (results hold messages capped at 2 kB)
MAX_CHILD_RESULT = 64 * 2**20

#: the children running now, and whether the cohort is stopping (:func:`stop_children`)
_RUNNING: set[subprocess.Popen] = set()
_LOCK = threading.Lock()
_STOPPING = threading.Event()


class Interrupted(ChildGradingError):
    """The cohort's grading was stopped (Ctrl-C, SIGTERM) while this submission waited or
    was graded: nothing of it is kept (``--resume`` grades it)."""


def stop_children() -> None:
    """Stop the cohort: every child running now is killed (its session: its workers too) and
    none starts any more. A child runs in a session of its own, so the terminal's Ctrl-C never
    reaches it, and the pool's exit waited for every queued submission to be graded and
    recorded (a TA's Ctrl-C took effect after the whole cohort)."""
    _STOPPING.set()
    with _LOCK:
        running = list(_RUNNING)
    for proc in running:
        _kill_group(proc)


def resume_children() -> None:
    """Children may start again (a later cohort in the same process: the tests')."""
    _STOPPING.clear()


def run_child(folder: Path, argv: list[str], env: dict[str, str], deadline_s: float
              ) -> GradingResult:
    """Run ``grade ARGV --submission FOLDER`` in a process of its own session, with ``env``
    added to this process's environment; returns its validated GradingResult."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-cohort-") as tmp:
        out = Path(tmp) / "result.json"
        # every temporary folder of the child (snapshot, workers' scratch, checks) is made
        # in here, so that removing this folder removes them also when the child was killed
        scratch = Path(tmp) / "tmp"
        scratch.mkdir()
        # absolute (the child runs elsewhere) but not resolved: a submission that is a link
        # must reach the child as a link, which the snapshot refuses (resolve() followed it)
        command = [*grade_command(), *argv, "--submission", str(folder.absolute()),
                   "--output", str(out)]
        # -P (grade_command) and a working folder of its own: nothing of the folder the cohort
        # is graded from (which may hold a submission named like a package the grader
        # imports) is on the child's import path (docs/security.md)
        with _LOCK:
            if _STOPPING.is_set():
                raise Interrupted("the cohort's grading was interrupted before this one")
            proc = subprocess.Popen(command, cwd=tmp, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    start_new_session=True,
                                    env={**os.environ, **env, "TMPDIR": str(scratch),
                                         PARENT_ENV: str(os.getpid())})
            _RUNNING.add(proc)
        try:
            _, err = proc.communicate(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ChildGradingError(f"grading took longer than {deadline_s:g} s and was "
                                    "stopped") from None
        finally:
            with _LOCK:
                _RUNNING.discard(proc)
            _kill_group(proc)  # whatever it left behind in its session
        if _STOPPING.is_set():
            raise Interrupted("the cohort's grading was interrupted while this one was graded")
        error = next((line for line in err.decode(errors="replace").splitlines()
                      if line.startswith("error: ")), "")
        if proc.returncode < 0:
            raise ChildGradingError(f"the process grading it was killed by signal "
                                    f"{-proc.returncode} (by the submission's code?)")
        if proc.returncode not in (0, 1):
            raise ChildGradingError(error[len("error: "):] if error else
                                    f"the grader exited with code {proc.returncode}",
                                    exit_code=3 if proc.returncode == 3 else 2,
                                    refused=proc.returncode == 2 and _refusal_written(out))
        try:
            if out.stat().st_size > MAX_CHILD_RESULT:
                raise ChildGradingError("its result is too large")
            return GradingResult.from_dict(json.loads(out.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ChildGradingError(f"no valid result was written ({exc})") from exc


def _refusal_written(out: Path) -> bool:
    """Whether the child's report at ``out`` is that of a submission it refused (every check
    marked :data:`~nlpdojo_autograder.grading.grade.REFUSED`). A report forged by the
    submission's code can claim that too, and earns 0 points by it."""
    try:
        if out.stat().st_size > MAX_CHILD_RESULT:
            return False
        checks = [c for e in json.loads(out.read_text(encoding="utf-8"))["exercises"]
                  for c in e["checks"]]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(checks) and all(isinstance(c, dict) and isinstance(c.get("details"), dict)
                                and c["details"].get(REFUSED) is True for c in checks)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def end_with_parent(poll_s: float = 0.5) -> None:
    """In a child of :func:`run_child`: stop, cleaning up as on Ctrl-C, when the process that
    waits for it dies (a Dask worker killed, a pool's ``grade`` interrupted), instead of
    grading on as an orphan. Nothing where the environment does not name a parent.

    Two ways lead to the same stop, SIGTERM raised as ``SystemExit`` in the main thread: the
    kernel's parent-death signal (at once), and a watchdog thread that sees the parent change
    (within ``poll_s``) and sends SIGTERM to the main thread itself. The watchdog covers what
    the kernel's signal cannot: a process-directed signal may go to another thread (BLAS and
    torch start their own), and then a main thread blocked in a system call (waiting for a
    worker) sleeps on; SIGTERM is also unblocked, in case the mask the child inherited from
    whoever started it blocks it."""
    parent = os.environ.pop(PARENT_ENV, None)
    if parent is None:
        return
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, _stop)
    on_parent_death(signal.SIGTERM)
    if str(os.getppid()) != parent:  # it died before the request was made
        _stop(signal.SIGTERM, None)
    main = threading.main_thread().ident or threading.get_ident()

    def watch() -> None:
        while str(os.getppid()) == parent:
            time.sleep(poll_s)
        signal.pthread_kill(main, signal.SIGTERM)

    threading.Thread(target=watch, name="nlpdojo-end-with-parent", daemon=True).start()


def _stop(signum: int, frame: object) -> None:
    """Stop once: a second SIGTERM (the kernel's and the watchdog's) does not interrupt the
    clean-up the first one started (a handler, not SIG_IGN, which programs started during
    the clean-up would inherit)."""
    signal.signal(signal.SIGTERM, _stopping)
    raise StopRequested(128 + signum)


def _stopping(signum: int, frame: object) -> None:
    """SIGTERM while stopping: nothing more to do."""
