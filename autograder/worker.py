"""The child process that runs untrusted code: ``python -m nlpdojo_autograder.worker RUN_DIR``.

It reads ``RUN_DIR/spec.json``, sets its own resource limits, then runs each check's
``collect`` in turn. For check number ``i`` it writes ``i.start`` before and ``i.npz`` (arrays,
saved without pickle) plus ``i.json`` (status, scalars, error) after, each atomically, the JSON
last. The parent decides every verdict from those files; nothing here judges anything.
"""

from __future__ import annotations

import faulthandler
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

MARKER = "\x1f[nlpdojo-check {}]\x1f"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _limit_memory(megabytes: int, mode: str, run: Path, backend: Any) -> None:
    """Limit memory to what is used now plus ``megabytes``.

    ``address-space``: cap the address space (RLIMIT_AS), so that an allocation too large fails
    with a MemoryError in the student's code. ``resident`` (CUDA): the driver reserves tens of GB
    of address space for unified addressing, which such a cap would refuse; so the CUDA context
    is created first, the device memory this process may take is capped at ``megabytes``, and
    the parent watches the resident memory against the limit written to ``memory.limit``.
    """
    if megabytes <= 0:
        return
    if mode == "address-space":
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
        limit = mapped + megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        return
    backend.initialize_device(memory_bytes=megabytes * 2**20)
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1]) * resource.getpagesize()
    _write_atomic(run / "memory.limit", str(resident + megabytes * 2**20).encode())


def _split_payload(payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arrays for the .npz, JSON scalars for the .json; anything else is refused."""
    import numpy as np

    from nlpdojo_autograder.checks import CheckFailure

    if not isinstance(payload, dict):
        raise CheckFailure(f"internal: check returned {type(payload).__name__}, not a dict")
    arrays, scalars = {}, {}
    for key, value in payload.items():
        if isinstance(value, (bool, int, float, str)) or value is None:
            scalars[key] = value
        elif isinstance(value, np.ndarray) and value.dtype != object:
            arrays[key] = value
        elif isinstance(value, np.generic):
            scalars[key] = value.item()
        else:
            raise CheckFailure(f"internal: payload {key!r} has type {type(value).__name__}")
    return arrays, scalars


def _student_traceback(exc: BaseException, code_dir: str) -> str:
    """The traceback frames in the code under test (the grader's own frames are noise)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(code_dir)]
    lines = traceback.format_list(frames[-5:])
    return "".join(lines) + f"{type(exc).__name__}: {exc}"


def _outcome_of(exc: BaseException, code_dir: str, memory_mb: int) -> dict[str, Any]:
    from nlpdojo_autograder.checks import CheckFailure

    if isinstance(exc, NotImplementedError):
        return {"status": "not_implemented", "message": str(exc) or "not implemented yet"}
    if isinstance(exc, CheckFailure):
        return {"status": "failed", "message": str(exc)}
    if isinstance(exc, SystemExit):
        return {"status": "error", "message": f"your code called sys.exit({exc.code!r}); "
                                              "return values instead of exiting"}
    if (isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError"
            or "can't allocate memory" in str(exc).lower()):
        return {"status": "error", "message": f"ran out of memory (limit {memory_mb} MB above "
                                              "the grader's own use); is an array far too large?"}
    hint = ""
    if _numpy_given_tensor(exc):
        hint = (". Hint: a NumPy function (np.max, np.sum...) was given a torch tensor: on the "
                "torch backend use the array namespace `xp = array_namespace(x)` (xp.max, "
                "xp.sum...) instead of numpy")
    return {"status": "error", "exc_type": type(exc).__name__,
            "message": f"{type(exc).__name__}: {str(exc).strip()}{_where(exc, code_dir)}{hint}",
            "traceback": _student_traceback(exc, code_dir)}


def _numpy_given_tensor(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside NumPy while one of its arguments was a torch tensor:
    ``np.max(x, axis=-1, keepdims=True)`` on the torch backend calls ``x.max(axis=...)``, and
    torch answers with a TypeError that says nothing about NumPy."""
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    if torch is None or numpy is None or not getattr(numpy, "__file__", None):
        return False
    numpy_dir = os.path.dirname(numpy.__file__) + os.sep
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.startswith(numpy_dir) and any(
                isinstance(v, torch.Tensor) for v in list(frame.f_locals.values())):
            return True
        tb = tb.tb_next
    return False


def _where(exc: BaseException, code_dir: str) -> str:
    """`` (at softmax.py line 22: exps = ...)``: the last line of the student's code involved."""
    if isinstance(exc, SyntaxError):
        return ""  # its message names the file (or notebook cell) and the line
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(code_dir)]
    if not frames:
        return ""
    last = frames[-1]
    line = f": {last.line.strip()}" if last.line else ""
    return f" (at {os.path.basename(last.filename)} line {last.lineno}{line})"


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the grader goes away (a CI job killed mid-grading), instead of
    running on as an orphan."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's own clean-up has to do
        pass


def _dump_stack_on_request(run: Path) -> None:
    """On SIGUSR1, write every thread's stack to ``stack.txt``: the parent asks before it stops
    a check for time, to tell the student where their code was (and whether it was still
    importing a module: a loop at the top level of a file)."""
    global _STACK_FILE
    _STACK_FILE = open(run / "stack.txt", "w")  # noqa: SIM115 - kept open for the signal
    faulthandler.register(signal.SIGUSR1, file=_STACK_FILE, all_threads=True)


_STACK_FILE = None


def main(run_dir: str) -> int:
    _die_with_parent()
    run = Path(run_dir)
    _dump_stack_on_request(run)
    spec = json.loads((run / "spec.json").read_text())

    import numpy as np

    from nlpdojo.plugins import get_registry
    from nlpdojo.selection import load_backend
    from nlpdojo_autograder.checks import Context
    from nlpdojo_autograder.subject import Subject

    exercise = get_registry().get("exercise", spec["exercise"])
    backends = {dtype: load_backend(spec["backend"], spec["device"], dtype)
                for dtype in ("float64", None)}
    subject = Subject.from_spec(spec)
    subject.seal()  # before any student code runs
    _limit_memory(int(spec.get("memory_mb", 0)), spec.get("memory_mode", "address-space"), run,
                  backends[None])

    for index, check_id in spec["checks"]:
        check = exercise.check(check_id)
        _write_atomic(run / f"{index}.start", str(time.time()).encode())
        _mark_output(index)
        started = time.perf_counter()
        try:
            load: Any = subject.loader(check.swap_in)
            ctx = Context(backend=backends[check.dtype], seed=check.seed(spec["seed"]),
                          load_module=load, workdir=run / f"work{index}", full=spec["full"],
                          base_seed=spec["seed"], load_given=subject.given_module)
            ctx.workdir.mkdir(exist_ok=True)
            arrays, scalars = _split_payload(check.collect(ctx))
            outcome: dict[str, Any] = {"status": "ok", "scalars": scalars}
        except BaseException as exc:  # noqa: BLE001 - everything the student's code raises
            outcome, arrays = _outcome_of(exc, subject.code_dir, spec.get("memory_mb", 0)), {}
        finally:
            subject.restore()
        outcome["duration_s"] = time.perf_counter() - started
        if arrays:
            tmp = run / f"{index}.npz.tmp"
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, run / f"{index}.npz")
        _write_atomic(run / f"{index}.json", json.dumps(outcome, default=str).encode())
    return 0


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the student broke: nothing to flush
            pass


def _mark_output(index: int) -> None:
    """Tell the parent that what is printed from now on belongs to check ``index``: flush what
    the previous check buffered, then write the marker straight to file descriptor 1 (so a
    student who replaced or closed ``sys.stdout`` cannot break grading)."""
    _flush_all()
    try:
        os.write(1, (MARKER.format(index) + "\n").encode())
    except OSError:
        pass


if __name__ == "__main__":
    code = main(sys.argv[1])
    _flush_all()
    # os._exit: do not wait for threads the student's code left running, nor its atexit hooks
    os._exit(code)
