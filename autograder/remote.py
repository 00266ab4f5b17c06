"""The grader's side of a call into the code under test.

A check's ``collect`` runs in the grader's process. It reaches the code under test through a
*subject*: :class:`LocalSubject` runs the reference solutions in this process (trusted);
:class:`RemoteSubject` sends each call to a sandboxed worker (:mod:`nlpdojo_autograder.worker`)
and waits for the reply with a deadline, the output and memory watched, and the reply
validated by the channel. When the student's code calls a function swapped in from the
reference, the worker asks back and :class:`RemoteSubject` runs the reference here, for the
swapped-in names of the current check only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpdojo_autograder import sandbox
from nlpdojo_autograder.calls import Workspace, to_wire
from nlpdojo_autograder.channel import (
    Channel,
    ChannelClosed,
    ChannelError,
    ChannelTimeout,
    Token,
    decode,
    encode,
    map_tree,
)
from nlpdojo_autograder.loader import LIBRARY
from nlpdojo_autograder.subject import ReferenceCode
from nlpdojo_autograder.untrusted import read_untrusted

_TAIL_BYTES = 4000
#: a reply may carry this much (trained vectors of a large vocabulary fit comfortably)
MAX_REPLY_BYTES = 1 << 30
#: files copied from a submission's topic folder into the worker's read-only code folder
_CODE_SUFFIXES = (".py", ".txt", ".json", ".md")


class WorkerGone(Exception):
    """The worker died, was stopped, or sent something invalid; ``reason`` says which."""

    def __init__(self, reason: str, message: str, *, where: str = "",
                 importing: str | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # timeout | import | memory | flood | died | invalid
        self.where = where
        self.importing = importing
        self.code = code  # the exit code of a worker that died


class StudentError(Exception):
    """The code under test raised: ``info`` is the worker's description (kind, message)."""

    def __init__(self, info: dict[str, str]) -> None:
        super().__init__(info.get("message", ""))
        self.kind = info.get("kind", "error")
        self.type = info.get("type", "")
        self.message = info.get("message", "")
        self.traceback = info.get("traceback", "")


def roundtrip(value: Any, *, tokens: bool) -> Any:
    """``value`` as it comes out of the channel: copies, backend arrays as NumPy arrays."""
    chunks = [bytes(c) for c in encode(value, to_wire)]
    return decode(chunks[1], b"".join(chunks[2:]), allow_tokens=tokens)


def _host_tree(value: Any) -> Any:
    """Backend arrays in ``value`` as NumPy arrays (tuples, lists and dicts followed)."""
    def leaf(x: Any) -> Any:
        converted = to_wire(x)
        return x if converted is NotImplemented else converted

    return map_tree(value, leaf)


class LocalSubject:
    """The reference solutions, called in this process exactly as a worker would call them."""

    isolation = "trusted"

    def __init__(self, code: ReferenceCode, backends: dict[str | None, Any]) -> None:
        self.workspace = Workspace(backends, code, Path(tempfile.mkdtemp(prefix="nlpdojo-ref-")))

    @property
    def scratch(self) -> Path:
        return self.workspace.scratch

    def begin(self, *, dtype: str | None, swap_in: tuple[str, ...], workdir: str,
              deadline: float | None = None) -> None:
        self.workspace.begin(dtype, workdir)

    def call(self, target: Token, args: tuple, kwargs: dict, mutable: tuple = (),
             deadline: float | None = None, fresh: bool = False) -> dict:
        """``fresh``: the arguments are already private copies (decoded from the channel) and
        the reply goes to a worker as a pickle, so backend arrays need only become NumPy."""
        if fresh:
            return _host_tree(self.workspace.call(target, args, kwargs, mutable))
        args, kwargs = roundtrip(args, tokens=True), roundtrip(kwargs, tokens=True)
        return roundtrip(self.workspace.call(target, args, kwargs, mutable), tokens=False)

    def call_many(self, requests: list[tuple], deadline: float | None = None) -> list[dict]:
        return [self.call(*request) for request in requests]

    def end(self) -> None:
        pass

    def read_file(self, name: str, max_bytes: int) -> bytes | None:
        return read_untrusted(self.workspace.workdir, Path(name).name, max_bytes=max_bytes)

    def close(self) -> None:
        shutil.rmtree(self.workspace.scratch, ignore_errors=True)
        forget = getattr(self.workspace.code, "forget", None)
        if forget is not None:
            forget()


class _OutputPump(threading.Thread):
    """Drains the worker's stdout+stderr into a bounded tail per check."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.current: int | None = None
        self.tails: dict[int | None, bytearray] = {}
        self.counts: dict[int | None, int] = {}

    def run(self) -> None:
        try:
            while chunk := self.stream.read1(65536):
                current = self.current
                self.counts[current] = self.counts.get(current, 0) + len(chunk)
                tail = self.tails.setdefault(current, bytearray())
                tail.extend(chunk[-_TAIL_BYTES:])
                del tail[:-_TAIL_BYTES]
        except (OSError, ValueError):
            pass

    def tail(self, index: int | None) -> str:
        return bytes(self.tails.get(index, b"")).decode("utf-8", errors="replace")


@dataclass
class WorkerSettings:
    """What a worker is started with (see :class:`RemoteSubject`)."""

    topic: str
    folder: Path
    backend: str
    device: str | None
    isolation: str
    memory_mb: int
    memory_mode: str
    output_bytes: int
    startup_s: float
    cpu_s: int
    file_bytes: int = 256 * 2**20
    open_files: int = 256
    question_functions: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    reference_names: dict[str, list[str]] = field(default_factory=dict)
    given_sources: dict[str, str] = field(default_factory=dict)
    hanging_modules: dict[str, float] = field(default_factory=dict)
    reference_package: str = ""
    hidden: list[Path] = field(default_factory=list)
    blocked_packages: tuple[str, ...] = ()
    #: backends loaded besides ``backend`` (``strict``: the array-namespace pass)
    extra_backends: tuple[str, ...] = ()


class RemoteSubject:
    """A sandboxed worker running the student's code; restarted after it dies."""

    def __init__(self, settings: WorkerSettings, reference: ReferenceCode | None) -> None:
        self.settings = settings
        self.isolation = settings.isolation
        self.reference = reference
        self._reference_subject: LocalSubject | None = None
        self.root = Path(tempfile.mkdtemp(prefix="nlpdojo-worker-"))
        os.chmod(self.root, 0o711)
        # a private read-only copy of the course: the topic and, next to it, the library
        self.course = self.root / "code"
        self.course.mkdir()
        self.code = self.course / settings.topic
        _private_copy(settings.folder, self.code)
        library = settings.folder.parent / LIBRARY
        if library.is_dir() and library != settings.folder:
            _private_copy(library, self.course / LIBRARY)
        os.chmod(self.course, 0o555)
        self.proc: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.pump: _OutputPump | None = None
        self.launched: sandbox.Launched | None = None
        self.scratch: Path = self.root / "scratch0"
        self.resident_limit: int | None = None
        self.allowed: set[tuple[str, str]] = set()
        self.current: int | None = None
        self.workdir = ""
        self._starts = 0

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.scratch = self.root / f"scratch{self._starts}"
        self._starts += 1
        self.scratch.mkdir(mode=0o700)
        s = self.settings
        self.launched = sandbox.launch(s.isolation, code=self.course, scratch=self.scratch,
                                       device=s.device, hidden=s.hidden)
        self.proc = self.launched.proc
        self.pump = _OutputPump(self.proc.stdout)
        self.pump.start()
        self.channel = Channel(self.launched.from_worker, self.launched.to_worker,
                               max_bytes=MAX_REPLY_BYTES, convert=to_wire, allow_tokens=True,
                               send_pickles=True)
        spec = {
            "topic": s.topic, "folder": f"{self.launched.code_dir}/{s.topic}",
            "backend": s.backend,
            "device": s.device, "memory_mb": s.memory_mb,
            "memory_mode": s.memory_mode, "file_bytes": s.file_bytes,
            "open_files": s.open_files, "cpu_s": s.cpu_s, "uid": self.launched.uid,
            "processes": self.launched.processes,
            "question_functions": {q: [list(p) for p in v]
                                   for q, v in s.question_functions.items()},
            "reference_names": s.reference_names, "given_sources": s.given_sources,
            "hanging_modules": s.hanging_modules, "blocked_packages": list(s.blocked_packages),
            "extra_backends": list(s.extra_backends),
        }
        try:
            self.channel.send(spec, time.monotonic() + s.startup_s)
            ready = self.channel.recv(time.monotonic() + s.startup_s)
        except (ChannelError, OSError) as exc:
            self.stop()
            tail = self.pump.tail(None) if self.pump else ""
            raise WorkerGone("startup", "the grader's worker process failed to start "
                             f"({type(exc).__name__}); its output ends with: {tail[-500:]}"
                             ) from exc
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.stop()
            raise WorkerGone("startup", "the grader's worker process did not start properly")
        limit = ready.get("resident_limit")
        self.resident_limit = int(limit) if isinstance(limit, int) and limit > 0 else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if self.pump is not None:
            self.pump.join(timeout=5)
        for fd in (self.launched.to_worker, self.launched.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    def close(self) -> None:
        if self.alive:
            try:
                self.channel.send({"op": "exit"}, time.monotonic() + 3)
                self.proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired, ChannelError):
                pass
        self.stop()
        if self._reference_subject is not None:
            self._reference_subject.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def tail(self, index: int | None) -> str:
        return self.pump.tail(index) if self.pump else ""

    def load(self, timeout_s: float) -> None:
        """Start the worker and import the submission's modules before any check's clock
        starts. A module whose import does not end within ``timeout_s`` (a loop at the top
        level of a file) is marked as hanging and the worker restarted without it, so that
        it costs one time limit, not one per check."""
        for _ in range(len(list(self.code.glob("*.py"))) + 1):
            if not self.alive:
                self.start()
            self.current = self.pump.current = None
            deadline = time.monotonic() + timeout_s
            try:
                self._exchange({"op": "load", "timeout_s": timeout_s}, deadline)
                return
            except WorkerGone as gone:
                if gone.reason != "timeout" or not gone.importing:
                    return  # the checks will meet the problem and report it
                self.settings.hanging_modules[gone.importing] = timeout_s

    # -- a check ----------------------------------------------------------------------------
    def begin(self, *, dtype: str | None, swap_in: tuple[str, ...], workdir: str,
              deadline: float | None = None, index: int | None = None,
              backend: str | None = None) -> None:
        if not self.alive:
            self.start()
        self.current = index
        self.pump.current = index
        self.workdir = workdir
        self.check_dtype = dtype  # the swapped-in reference computes in the check's dtype too
        qf = self.settings.question_functions
        self.allowed = {(m, f) for q in swap_in for m, f in qf.get(q, []) if f}
        self.allowed |= {(m, name) for q in swap_in for m, _ in qf.get(q, [])
                         for name in self.settings.reference_names.get(m, [])}
        timeout = (deadline - time.monotonic()) if deadline is not None else 3600.0
        self._exchange({"op": "begin", "dtype": dtype, "swap_in": list(swap_in),
                        "workdir": workdir, "backend": backend, "timeout_s": timeout}, deadline)

    def end(self) -> None:
        if self.alive:
            try:
                self._exchange({"op": "end"}, time.monotonic() + 10)
            except WorkerGone:
                self.stop()
        self.allowed = set()

    def call(self, target: Token, args: tuple, kwargs: dict, mutable: tuple = (),
             deadline: float | None = None) -> dict:
        reply = self._exchange({"op": "call", "target": target, "args": args, "kwargs": kwargs,
                                "mutable": list(mutable)}, deadline)
        if not isinstance(reply, dict) or not (("value" in reply) ^ ("error" in reply)):
            self.stop()
            raise WorkerGone("invalid", "the process running your code sent an invalid reply")
        if "error" in reply and not isinstance(reply["error"], dict):
            self.stop()
            raise WorkerGone("invalid", "the process running your code sent an invalid reply")
        return reply

    def call_many(self, requests: list[tuple], deadline: float | None = None) -> list[dict]:
        """Several calls in one exchange (a gradient check's loss at many points)."""
        replies = self._exchange({"op": "many", "calls": [
            {"target": t, "args": a, "kwargs": k, "mutable": list(m)} for t, a, k, m in requests
        ]}, deadline)
        if not isinstance(replies, list) or len(replies) != len(requests) or any(
                not isinstance(r, dict) or not (("value" in r) ^ ("error" in r))
                or ("error" in r and not isinstance(r["error"], dict)) for r in replies):
            self.stop()
            raise WorkerGone("invalid", "the process running your code sent an invalid reply")
        return replies

    def read_file(self, name: str, max_bytes: int) -> bytes | None:
        """A file the student's code wrote in the check's scratch folder (capped), or None.

        The worker reads it and sends it: in the sandbox its scratch folder is a size-capped
        tmpfs that only its own mount namespace sees. What comes back is untrusted data like
        any reply: bytes, at most ``max_bytes`` of them, or nothing."""
        if not self.alive:
            return None
        try:
            reply = self._exchange({"op": "read", "name": Path(name).name,
                                    "max_bytes": int(max_bytes)}, time.monotonic() + 30)
        except WorkerGone:
            return None
        if not isinstance(reply, dict) or set(reply) != {"bytes"}:
            self.stop()
            return None
        data = reply["bytes"]
        if data is None:
            return None
        if not isinstance(data, bytes) or len(data) > max_bytes:
            self.stop()
            return None
        return data

    # -- the exchange -------------------------------------------------------------------------
    def _exchange(self, request: dict, deadline: float | None) -> Any:
        try:
            self.channel.send(request, deadline if deadline is not None
                              else time.monotonic() + 60)
        except ChannelTimeout as exc:
            raise self._gone("timeout") from exc
        except (OSError, ChannelError) as exc:
            raise self._gone("died") from exc
        while True:
            try:
                # a little grace over the deadline, for the worker to dump its stack
                reply = self.channel.recv(None if deadline is None else deadline + 0.5,
                                          on_wait=self._watch)
            except ChannelTimeout as exc:
                raise self._gone("timeout") from exc
            except ChannelClosed as exc:
                raise self._gone("died") from exc
            except ChannelError as exc:
                self.stop()
                raise WorkerGone("invalid", "the process running your code sent something "
                                 f"that is not a valid reply ({exc})") from exc
            if isinstance(reply, dict) and reply.get("op") == "reference":
                try:
                    self._answer_reference(reply)  # only array and backend tokens honoured
                except ChannelError as exc:
                    raise self._gone("died") from exc
                continue
            if _has_token(reply):  # a reply is data: the worker names nothing of the grader's
                self.stop()
                raise WorkerGone("invalid", "the process running your code sent an invalid "
                                 "reply")
            return reply

    def _watch(self) -> None:
        """Called while waiting: output flood and resident memory."""
        if self.pump is not None and self.pump.counts.get(self.current, 0) > \
                self.settings.output_bytes:
            raise self._gone("flood")
        if self.resident_limit and _tree_resident(self.proc.pid) > self.resident_limit:
            raise self._gone("memory")

    def _gone(self, reason: str) -> WorkerGone:
        importing, where = (None, "")
        if reason == "timeout":
            importing, where = self._where_stopped()
        code = None
        if reason == "died" and self.proc is not None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        self.stop()
        return WorkerGone(reason, reason, where=where, importing=importing, code=code)

    def _where_stopped(self) -> tuple[str | None, str]:
        """Where the student's code was when the time ran out (the worker dumped its stack)."""
        raw = read_untrusted(self.scratch, "stack.txt", max_bytes=200_000)
        if raw is None:
            return None, ""
        text = raw.decode("utf-8", errors="replace")
        code_dir = self.launched.code_dir.rstrip(os.sep) + os.sep
        blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", text)
        main = next((b for b in blocks if "nlpdojo_autograder/worker.py" in b), text)
        frames = [(f, int(n), fn) for f, n, fn in _FRAME.findall(main)
                  if f.startswith(code_dir)]
        if not frames:
            return None, ""
        modules = {p.stem for p in self.code.glob("*.py")}
        module = next((Path(f).stem for f, _, fn in frames if fn == "<module>"), None)
        module = module if module in modules else None
        file, line, _ = frames[0]
        source = read_untrusted(self.code, Path(file).name, max_bytes=4 << 20)
        code = ""
        if source is not None:
            lines = source.decode("utf-8", errors="replace").splitlines()
            code = lines[line - 1].strip()[:200] if 0 < line <= len(lines) else ""
        return module, f" (at {Path(file).name} line {line}{': ' + code if code else ''})"

    def _answer_reference(self, request: dict) -> None:
        """Run a swapped-in reference function for the worker, if this check swapped it in."""
        module, name = request.get("module"), request.get("name")
        args, kwargs = request.get("args", ()), request.get("kwargs", {})
        if (module, name) not in self.allowed or not isinstance(args, tuple) or \
                not isinstance(kwargs, dict) or not _data_only(args) or not _data_only(kwargs):
            reply: dict = {"error": f"{module}.{name} is not swapped in for this check"}
        elif self.reference is None:
            reply = {"error": "no reference solutions are installed here"}
        else:
            target = Token("function", ("student", module, name))
            reference = self._reference()
            reference.begin(dtype=getattr(self, "check_dtype", None), swap_in=(),
                            workdir=self.workdir)
            result = reference.call(target, args, kwargs, mutable=tuple(
                [str(i) for i in range(len(args))] + list(kwargs)), fresh=True)
            if "error" in result:
                reply = {"error": result["error"].get("message", "")}
            else:
                reply = {"value": result["value"], "updated": result["updated"],
                         "objects": result.get("objects", {})}
        self.channel.send(reply, time.monotonic() + 60)

    def _reference(self) -> LocalSubject:
        if self._reference_subject is None:
            from nlpdojo.selection import load_backend

            s = self.settings
            # the strict pass's calls into the reference run on NumPy
            name = "numpy" if s.backend == "strict" else s.backend
            backends = {dtype: load_backend(name, s.device, dtype)
                        for dtype in ("float64", None)}
            self._reference_subject = LocalSubject(self.reference, backends)
        return self._reference_subject


_FRAME = re.compile(r'File "(.+)", line (\d+) in (\S+)')
def _has_token(value: Any) -> bool:
    if isinstance(value, Token):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_token(v) for v in value)
    if isinstance(value, dict):
        return any(_has_token(v) for v in value.values())
    return False


def _data_only(value: Any) -> bool:
    """What the worker sends back may hold arrays and the backend, never a function token."""
    if isinstance(value, Token):
        if value.kind == "object":  # (module, qualname, state): state is data
            return len(value.args) == 3 and all(isinstance(a, str) for a in value.args[:2]) \
                and isinstance(value.args[2], dict) and _data_only(value.args[2])
        return value.kind in ("array", "backend") and all(_data_only(a) for a in value.args)
    if isinstance(value, (list, tuple)):
        return all(_data_only(v) for v in value)
    if isinstance(value, dict):
        return all(_data_only(v) for v in value.values())
    return True


def _private_copy(folder: Path, dest: Path) -> None:
    """The topic folder's files, copied read-only for the worker (no links, nothing else)."""
    dest.mkdir()
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and path.suffix in _CODE_SUFFIXES:
            target = dest / path.name
            shutil.copyfile(path, target)
            os.chmod(target, 0o444)
    os.chmod(dest, 0o555)


def _tree_resident(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants (Linux ``/proc``)."""
    total, todo, seen = 0, [pid], set()
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total
