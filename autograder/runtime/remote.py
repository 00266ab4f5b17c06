"""The grader's side of a call into the code under test.

A check's ``collect`` runs in the grader's process. It reaches the code under test through a
*subject*: :class:`LocalSubject` runs the reference solutions in this process (trusted);
:class:`RemoteSubject` sends each call to a sandboxed worker (:mod:`.worker`)
and waits for the reply with a deadline, the output and memory watched, and the reply
validated by the channel. When the student's code calls a function swapped in from the
reference, the worker asks back; :class:`RemoteSubject` checks the request as data
(:mod:`.callbacks`: the current check's swap-ins only, no object but the
swapped layers) and forwards it to :class:`ReferenceProcess`, the reference solutions in a
sandboxed process of their own (the arguments are the student's: untrusted input), under the
check's deadline and the same limits. Nothing the worker sends is run or rebuilt here.
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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from nlpdojo import plugins
from nlpdojo_autograder.runtime import code_rules, forkserver, probes, sandbox
from nlpdojo_autograder.runtime.callbacks import SwapScope
from nlpdojo_autograder.runtime.calls import Workspace, to_wire
from nlpdojo_autograder.runtime.channel import (
    Channel,
    ChannelClosed,
    ChannelError,
    ChannelTimeout,
    Token,
    decode,
    encode,
)
from nlpdojo_autograder.runtime.loader import CODE_SUFFIXES, LIBRARY
from nlpdojo_autograder.runtime.subject import ReferenceCode
from nlpdojo_autograder.runtime.untrusted import read_untrusted

_TAIL_BYTES = 4000
#: a reply may carry this much (trained vectors of a large vocabulary fit comfortably)
MAX_REPLY_BYTES = 1 << 30


class WorkerGone(Exception):
    """The worker died, was stopped, or sent something invalid; ``reason`` says which."""

    def __init__(self, reason: str, message: str, *, where: str = "",
                 importing: str | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # timeout | import | memory | flood | died | invalid
        self.where = where
        self.importing = importing
        self.code = code  # the exit code of a worker that died


def roundtrip(value: Any, *, tokens: bool) -> Any:
    """``value`` as it comes out of the channel: copies, backend arrays as NumPy arrays."""
    chunks = [bytes(c) for c in encode(value, to_wire)]
    return decode(chunks[1], b"".join(chunks[2:]), allow_tokens=tokens)


class LocalSubject:
    """The reference solutions, called in this process exactly as a worker would call them."""

    isolation = "trusted"

    def __init__(self, code: ReferenceCode, backends: dict[str | None, Any]) -> None:
        self.workspace = Workspace(backends, code, Path(tempfile.mkdtemp(prefix="nlpdojo-ref-")))
        probes.runs_no_code_under_test()  # the grader's process: the reference is all it runs

    @property
    def scratch(self) -> Path:
        return self.workspace.scratch

    def begin(self, *, dtype: str | None, swap_in: tuple[str, ...], workdir: str,
              deadline: float | None = None, withheld: tuple[tuple[str, str], ...] = ()
              ) -> None:
        self.workspace.begin(dtype, workdir)

    def call(self, target: Token, args: tuple, kwargs: dict, mutable: tuple = (),
             deadline: float | None = None) -> dict:
        args, kwargs = roundtrip(args, tokens=True), roundtrip(kwargs, tokens=True)
        return roundtrip(self.workspace.call(target, args, kwargs, mutable), tokens=False)

    def call_many(self, requests: list[tuple], deadline: float | None = None) -> list[dict]:
        return [self.call(*request) for request in requests]

    def end(self) -> None:
        pass

    def cpu_seconds(self) -> float:
        """CPU seconds the calling thread has used (the reference's runs at scale are timed
        with it, :mod:`~nlpdojo_autograder.authoring.at_scale`, with the native thread pools
        at one thread, so that its work is this thread's): the grader's other threads (those
        that read a worker's output) are not the reference's."""
        return time.thread_time()

    def read_file(self, name: str, max_bytes: int) -> bytes | None:
        return read_untrusted(self.workspace.workdir, Path(name).name, max_bytes=max_bytes)

    def close(self) -> None:
        shutil.rmtree(self.workspace.scratch, ignore_errors=True)
        forget = getattr(self.workspace.code, "forget", None)
        if forget is not None:
            forget()


class _OutputPump(threading.Thread):
    """Drains the worker's stdout+stderr into a bounded tail per check, counting the bytes and
    lines printed in all (a report says how much of it the tail is)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.current: int | None = None
        self.tails: dict[int | None, bytearray] = {}
        self.counts: dict[int | None, int] = {}
        self.newlines: dict[int | None, int] = {}

    def run(self) -> None:
        try:
            while chunk := self.stream.read1(65536):
                current = self.current
                self.counts[current] = self.counts.get(current, 0) + len(chunk)
                self.newlines[current] = self.newlines.get(current, 0) + chunk.count(b"\n")
                tail = self.tails.setdefault(current, bytearray())
                tail.extend(chunk[-_TAIL_BYTES:])
                del tail[:-_TAIL_BYTES]
        except (OSError, ValueError):
            pass

    def tail(self, index: int | None) -> str:
        return bytes(self.tails.get(index, b"")).decode("utf-8", errors="replace")

    def printed(self, index: int | None) -> tuple[int, int, bool]:
        """Bytes and lines printed in all during check ``index`` (a last line without its
        newline counts as a line), and whether :meth:`tail` holds all of it."""
        tail = self.tails.get(index, b"")
        unfinished = 1 if tail and not tail.endswith(b"\n") else 0
        printed = self.counts.get(index, 0)
        return printed, self.newlines.get(index, 0) + unfinished, printed <= _TAIL_BYTES


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
    #: the topic's given modules (``Topic.given_modules``), which its other modules may not
    #: import (:mod:`.code_rules`)
    given_modules: tuple[str, ...] = ()
    hanging_modules: dict[str, float] = field(default_factory=dict)
    reference_package: str = ""
    hidden: list[Path] = field(default_factory=list)
    blocked_packages: tuple[str, ...] = ()
    #: backends loaded besides ``backend`` (``strict``: the array-namespace pass)
    extra_backends: tuple[str, ...] = ()
    #: record the units of the code each check runs (``dojo verify`` on the solutions only:
    #: :mod:`.executed`); :attr:`RemoteSubject.executed`
    executed: bool = False


#: how a worker records what each check runs (:mod:`.executed`): ``"coverage"``, coverage.py's
#: C tracer where installed; ``"settrace"``, call events (``bench/verify_record.py`` sets it)
RECORDER = "coverage"


class WorkerProcess:
    """One worker process, the student's code or the reference for its call-backs, started in
    the sandbox: its channel, its output and its scratch folder. The scratch folder (with the
    stack dump, up to 256 MB) goes the moment the process does (:meth:`stop`), not when grading
    ends: six restarts used to leave 1.5 GB behind until then.

    ``role``: what the spec says besides the common limits (the student's topic and code, or
    the reference to load); ``code``: the private copy of the course shown at ``/nlpdojo/code``
    (the student's), ``reference``: folders shown read-only at their own paths (the reference
    process's solutions). ``tokens``: whether received frames may hold tokens (the student's
    call-back requests name the arguments' arrays; the reference process's replies are plain
    data); ``max_bytes``: what one frame from it may carry. The grader reads only the data codec
    from either process, never a pickle, and writes pickles to them (they trust the grader).
    ``extra_fds``: descriptors the process keeps (its ends of the pipes between a student's
    worker and its reference process; the role names them)."""

    def __init__(self, settings: WorkerSettings, scratch: Path, role: dict[str, Any], *,
                 code: Path | None, reference: tuple[Path, ...] = (), tokens: bool,
                 max_bytes: int = MAX_REPLY_BYTES, wait: bool = True,
                 extra_fds: tuple[int, ...] = ()) -> None:
        s = settings
        scratch.mkdir(mode=0o700)
        self.scratch = scratch
        self.proc: subprocess.Popen | None = None
        try:
            self.launched = sandbox.launch(s.isolation, code=code, scratch=scratch,
                                           device=s.device, hidden=s.hidden,
                                           reference=reference, extra_fds=extra_fds)
        except BaseException:
            remove_tree(scratch)
            raise
        self.proc = self.launched.proc
        self.pump = _OutputPump(self.launched.output)
        self.pump.start()
        self.channel = Channel(self.launched.from_worker, self.launched.to_worker,
                               max_bytes=max_bytes, convert=to_wire, allow_tokens=tokens,
                               send_pickles=True)
        self.resident_limit: int | None = None
        # the grader's plugins, loaded there without scanning every installed distribution
        plugin_list = [[c.name, c.value, c.distribution] for c in plugins.chosen_plugins()]
        spec = {**role, "plugins": plugin_list, "device": s.device, "memory_mb": s.memory_mb,
                "memory_mode": s.memory_mode, "file_bytes": s.file_bytes,
                "open_files": s.open_files, "cpu_s": s.cpu_s, "uid": self.launched.uid,
                "processes": self.launched.processes}
        if code is not None:
            spec["folder"] = f"{self.launched.code_dir}/{s.topic}"
        #: the start-up's deadline while it is under way (:meth:`ready`); None once ready
        self.starting: float | None = time.monotonic() + s.startup_s
        try:
            self.channel.send(spec, self.starting)
        except (ChannelError, OSError) as exc:
            self._failed(exc)
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait for the process to say it is ready (its imports done), where it has not yet:
        a process started with ``wait=False`` imports meanwhile, beside whatever the grader
        does (the student's worker starting up)."""
        if self.starting is None:
            return
        try:
            ready = self.channel.recv(self.starting)
        except (ChannelError, OSError) as exc:
            self._failed(exc)
        self.starting = None
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.stop()
            raise WorkerGone("startup", "the grader's worker process did not start properly")
        limit = ready.get("resident_limit")
        self.resident_limit = int(limit) if isinstance(limit, int) and limit > 0 else None

    def _failed(self, exc: Exception) -> NoReturn:
        self.stop()
        raise WorkerGone("startup", "the grader's worker process failed to start "
                         f"({type(exc).__name__}); its output ends with: "
                         f"{self.pump.tail(None)[-500:]}") from exc

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def over_memory(self) -> bool:
        """Whether its resident memory is above its limit (watched where the limit is not the
        kernel's: CUDA)."""
        if not self.resident_limit or self.proc is None:
            return False
        resident = _tree_resident(self.proc.pid)
        if self.launched.parent is not None:  # the worker's, not its waiting parent's own
            resident += _tree_resident(self.launched.parent, self.launched.parent_start,
                                       root=False)
        return resident > self.resident_limit

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user and system, every thread's) its processes have used so far, as
        the kernel counts them, read from outside (``/proc``): nothing in the worker can
        change it. None where it has stopped or ``/proc`` cannot say."""
        if self.proc is None:
            return None
        seconds = _tree_cpu_seconds(self.proc.pid)
        parent = self.launched.parent  # a fork server's child, the worker's parent
        if seconds is None or parent is None:
            return seconds
        # (once the worker ended its pid may be another's: the start time tells)
        worker = _tree_cpu_seconds(parent, self.launched.parent_start)
        return None if worker is None else seconds + worker

    def stop(self) -> None:
        """Kill it (its whole process group), close its channel and remove its scratch."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.pump.join(timeout=5)
        for fd in (self.launched.to_worker, self.launched.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None
        remove_tree(self.scratch)

    def close(self) -> None:
        """Ask it to exit (a few seconds), then :meth:`stop` (at once where it has not said
        it is ready: it may still be importing)."""
        if self.alive and self.starting is None:
            try:
                self.channel.send({"op": "exit"}, time.monotonic() + 3)
                self.proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired, ChannelError):
                pass
        self.stop()


@dataclass(frozen=True)
class CheckInfo:
    """What the reference process is told as a check begins."""

    dtype: str | None
    workdir: str


class ReferenceProcess:
    """The swapped-in reference, run for the student's call-backs in a sandboxed process of its
    own (:class:`~.worker.ReferenceWorker`): the reference code runs there on arguments the
    student's code chose, with the student worker's limits (memory, CPU, files), where the
    grader's memory is out of reach. Its sandbox shows the reference solutions read-only and
    nothing of the student's.

    It is the student's worker's partner: the two start together, joined by a pair of pipes
    of their own, and stop together (:class:`RemoteSubject`). The worker sends each call-back
    to it directly, as data (the channel's codec, never a pickle); it refuses what the check
    does not swap in (:class:`~.callbacks.SwapScope`, which the grader sends it with each
    check's ``begin``), runs the rest and answers the worker. The grader keeps the time (the
    check's deadline covers the worker's wait), watches its memory, and asks at each check's
    ``end`` how many call-backs it answered."""

    def __init__(self, settings: WorkerSettings, reference: ReferenceCode, root: Path) -> None:
        self.settings = settings
        self.reference = reference
        self.root = root
        self.process: WorkerProcess | None = None
        self._starts = 0
        #: CPU seconds of its stopped processes after their start-up, and the current one's
        #: reading when it was ready (:meth:`cpu_seconds`)
        self._cpu_before = 0.0
        self._cpu_at_ready: float | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.alive

    def launch(self, student: tuple[int, int], questions: Iterable[str]) -> None:
        """Start it (not waiting for its imports: :meth:`ready`), with ``student``, its ends
        of the pipes to and from the student's worker (read, write); ``questions``: those the
        grading's checks swap in, whose modules it imports as it starts (another is imported
        when a call first needs it: word_vectors' evaluation module, SciPy's statistics with
        it, is no swap-in's and costs 0.4 s)."""
        self.stop()
        s = self.settings
        role = {"role": "reference", "reference": self.reference.spec(),
                # the strict pass's calls into the reference run on NumPy
                "backend": "numpy" if s.backend == "strict" else s.backend,
                # imported while it starts (the start-up is the grader's time, not a check's)
                "modules": sorted({m for q in questions
                                   for m, _ in s.question_functions.get(q, ())}),
                "student_channel": list(student)}
        scratch = self.root / f"reference{self._starts}"
        self._starts += 1
        self.process = WorkerProcess(s, scratch, role, code=None,
                                     reference=tuple(self.reference.folders()), tokens=False,
                                     wait=False, extra_fds=student)
        self._cpu_at_ready = None

    def ready(self) -> None:
        """Wait for the end of its start-up (raises :class:`WorkerGone` where it failed)."""
        if self.process is None:
            raise WorkerGone("startup", "the reference process did not start")
        self.process.ready()
        self._cpu_at_ready = self.process.cpu_seconds()

    def begin(self, scope: SwapScope, check: CheckInfo, deadline: float) -> None:
        """Tell it the check that starts: its dtype, working folder and what it swaps in (no
        reply: the worker's first call-back comes after it, on the other pipe, and the
        process reads the grader's pipe first)."""
        self.process.channel.send({"op": "begin", "dtype": check.dtype,
                                   "workdir": check.workdir, "scope": scope}, deadline)

    def end(self, deadline: float) -> int:
        """Close the check's scope; the number of call-backs it answered in the check."""
        self.process.channel.send({"op": "end"}, deadline)
        reply = self.process.channel.recv(deadline)
        answered = reply.get("call_backs") if isinstance(reply, dict) else None
        if type(answered) is not int or answered < 0:
            raise ChannelError("an invalid reply to end")
        return answered

    def busy_with(self) -> tuple[str, str] | None:
        """``(module, name)`` of the call-back it is running, if any (it writes that in its
        ``stack.txt`` as each starts and ends): read where the student's worker ran out of
        time, for the message."""
        if self.process is None:
            return None
        raw = read_untrusted(self.process.scratch, "stack.txt", max_bytes=4096)
        fields = (raw or b"").decode("utf-8", errors="replace").split("\n")
        return (fields[1], fields[2]) if len(fields) > 2 and fields[0] == "calling" else None

    def over_memory(self) -> bool:
        return self.process is not None and self.process.over_memory()

    def cpu_seconds(self) -> float:
        """CPU seconds its processes have used answering call-backs (their start-up is the
        grader's, not counted): work the student's code asks of the swapped-in reference is
        the student's call's work too (:meth:`RemoteSubject.cpu_seconds`)."""
        return self._cpu_before + self._current_cpu()

    def _current_cpu(self) -> float:
        if self.process is None or self._cpu_at_ready is None:
            return 0.0
        now = self.process.cpu_seconds()
        return 0.0 if now is None else max(0.0, now - self._cpu_at_ready)

    def stop(self) -> None:
        if self.process is not None:
            self._cpu_before += self._current_cpu()
            self._cpu_at_ready = None
            self.process.stop()

    def close(self) -> None:
        if self.process is not None:
            self.process.close()


class RemoteSubject:
    """A sandboxed worker running the student's code; restarted after it dies. Where its checks
    swap reference code in, a :class:`ReferenceProcess` starts beside it, joined to it by a
    pair of pipes: the worker's call-backs go there directly, and the two stop together."""

    def __init__(self, settings: WorkerSettings, reference: ReferenceCode | None) -> None:
        self.settings = settings
        self.isolation = settings.isolation
        self.reference = reference
        self.root = Path(tempfile.mkdtemp(prefix="nlpdojo-worker-"))
        os.chmod(self.root, 0o711)
        # a private read-only copy of the course: the topic and, next to it, the library
        self.course = self.root / "code"
        self.course.mkdir()
        self.code = self.course / settings.topic
        _private_copy(settings.folder, self.code)
        library = settings.folder.parent / LIBRARY
        folders = [settings.topic]
        if library.is_dir() and library != settings.folder:
            _private_copy(library, self.course / LIBRARY)
            folders.append(LIBRARY)
        os.chmod(self.course, 0o555)
        #: the modules the worker refuses to import, read from the copy it imports
        #: (:mod:`.code_rules`); none where the rules are off
        self.refused_modules = (code_rules.refused_modules(
            self.course, folders, settings.given_modules,
            autograd="torch" not in settings.blocked_packages)  # graded code holds tensors
            if code_rules.enabled() else {})
        self.worker: WorkerProcess | None = None
        self.references: ReferenceProcess | None = None
        self.scope = SwapScope()
        self._scopes: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], SwapScope] = {}
        self.check = CheckInfo(None, "")
        #: the questions the grading's checks swap in (:meth:`load`'s ``call_backs``, and
        #: those of each check begun): where there are any, the worker starts with a
        #: reference process beside it
        self.swapped: set[str] = set()
        self.current: int | None = None
        #: call-backs into swapped-in reference code, by check index (``current``): what a
        #: check's time limit must cover (``callbacks.CALLBACK_BUDGET_S`` each)
        self.call_backs: Counter[int | None] = Counter()
        #: per check, the withheld functions the worker says the student's code called (a
        #: message's hint only, never a verdict: the worker's word)
        self.withheld_called: dict[int | None, set[tuple[str, str]]] = {}
        self.workdir = ""
        self._starts = 0
        #: with ``settings.executed``: ``(file, unit)`` of the code the current check ran, as
        #: the worker reports at each ``end``; None where that is not known (the worker was
        #: stopped during the check, or it is not recorded)
        self.executed: set[tuple[str, str]] | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        s = self.settings
        role = {"role": "student", "topic": s.topic, "backend": s.backend,
                "question_functions": {q: [list(p) for p in v]
                                       for q, v in s.question_functions.items()},
                "reference_names": s.reference_names, "given_sources": s.given_sources,
                "hanging_modules": s.hanging_modules,
                "refused_modules": self.refused_modules,
                "code_rules": code_rules.enabled(),
                "blocked_packages": list(s.blocked_packages),
                "extra_backends": list(s.extra_backends),
                "executed": RECORDER if s.executed else None,
                "reference_channel": None}
        scratch = self.root / f"scratch{self._starts}"
        self._starts += 1
        if not (self.with_reference and self.reference is not None):
            self.worker = WorkerProcess(s, scratch, role, code=self.course, tokens=True)
            return
        # the pipes between the worker and its reference process: the grader holds none of
        # their ends once both have started (either's exit is the other's end of file)
        reference_reads, worker_writes = sandbox.pipe()
        worker_reads, reference_writes = sandbox.pipe()
        try:
            if self.references is None:
                self.references = ReferenceProcess(s, self.reference, self.root)
            # its imports run beside the worker's; the worker's first call-back waits for it
            self.references.launch((reference_reads, reference_writes), self.swapped)
            role["reference_channel"] = [worker_reads, worker_writes]
            self.worker = WorkerProcess(s, scratch, role, code=self.course, tokens=True,
                                        extra_fds=(worker_reads, worker_writes))
        except BaseException:
            if self.references is not None:
                self.references.stop()
            raise
        finally:
            for fd in (reference_reads, worker_writes, worker_reads, reference_writes):
                os.close(fd)
        try:
            self.references.ready()
        except WorkerGone:
            self.stop()
            raise

    @property
    def alive(self) -> bool:
        return self.worker is not None and self.worker.alive

    @property
    def scratch(self) -> Path | None:
        """The current worker's scratch folder (gone once it is stopped)."""
        return None if self.worker is None else self.worker.scratch

    def stop(self) -> None:
        """Stop the student's worker and its reference process (the next check starts a fresh
        pair); the worker's output's tail stays readable for the check's message."""
        self.executed = None
        if self.worker is not None:
            self.worker.stop()
        if self.references is not None:
            self.references.stop()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
        if self.references is not None:
            self.references.close()
        remove_tree(self.root)

    def tail(self, index: int | None) -> str:
        return self.worker.pump.tail(index) if self.worker is not None else ""

    def printed(self, index: int | None) -> tuple[int, int, bool]:
        """Bytes and lines the code printed in all during check ``index``, and whether
        :meth:`tail` holds all of it."""
        return self.worker.pump.printed(index) if self.worker is not None else (0, 0, True)

    def cpu_seconds(self) -> float | None:
        """CPU seconds the student's worker has used, and the reference process on its
        call-backs, read by the grader from ``/proc`` (:meth:`WorkerProcess.cpu_seconds`): a
        call's work is the difference of the readings before and after it (a call never
        starts a worker: one that stopped fails the call). Work handed to the swapped-in
        reference counts as the call's: its own run in the grader counts the same code. None
        where no worker runs or it cannot be read."""
        worker = self.worker.cpu_seconds() if self.alive else None
        if worker is None:
            return None
        return worker + (self.references.cpu_seconds() if self.references is not None else 0.0)

    @property
    def with_reference(self) -> bool:
        return bool(self.swapped)

    def load(self, timeout_s: float, *, call_backs: Iterable[str] = (),
             until: float | None = None) -> None:
        """Start the worker and import the submission's modules before any check's clock
        starts. A module whose import does not end within ``timeout_s`` (a loop at the top
        level of a file) is marked as hanging and the worker restarted without it, so that
        it costs one time limit, not one per check. ``call_backs``: the questions the checks
        swap in; where there are any, the worker starts with its reference process beside it
        (their imports run at once). ``until``: the ``time.monotonic()`` by which every attempt
        ends (``grade --time-limit``), whatever ``timeout_s``."""
        self.swapped.update(call_backs)
        for _ in range(len(list(self.code.glob("*.py"))) + 1):
            if until is not None and time.monotonic() >= until:
                return  # (the checks are not run: the grading's time is up)
            if not self.alive:
                self.start()
            self.current = self.worker.pump.current = None
            deadline = time.monotonic() + timeout_s
            if until is not None and until < deadline:
                deadline, timeout_s = until, max(until - time.monotonic(), 0.1)
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
              backend: str | None = None, replayed: bool = True,
              withheld: tuple[tuple[str, str], ...] = ()) -> None:
        """A check begins (``backend``: its strict pass, on that backend). ``replayed``: a
        strict pass may follow, asking the check's call-backs again (the worker's memo of
        the reference's replies then stays on for it: :mod:`.replies`). ``withheld``: the
        swapped-in questions' functions that stay the student's own (:attr:`Check.withheld`)."""
        if swap_in and self.reference is not None and not self.with_reference:
            self.stop()  # (a check begun without load's word): the pair starts
        self.swapped.update(swap_in)
        if self.alive and self.with_reference and self.reference is not None and not (
                self.references is not None and self.references.alive):
            self.stop()  # its reference process is gone: the pair starts again
        if not self.alive:
            self.start()
        self.current = index
        self.worker.pump.current = index
        self.workdir = workdir
        # the swapped-in reference computes in the check's dtype too
        self.check = CheckInfo(dtype, workdir)
        withheld = tuple(sorted(tuple(pair) for pair in withheld))
        self.scope = self._scope(tuple(swap_in), withheld)
        if self.references is not None and self.references.alive:
            try:  # before the worker's begin: its first call-back comes after this
                self.references.begin(self.scope, self.check, time.monotonic() + 10)
            except (ChannelError, OSError) as exc:
                raise self._gone("died") from exc
        timeout = (deadline - time.monotonic()) if deadline is not None else 3600.0
        self._exchange({"op": "begin", "dtype": dtype, "swap_in": list(swap_in),
                        "withheld": [list(pair) for pair in withheld],
                        "workdir": workdir, "backend": backend, "timeout_s": timeout,
                        "replayed": replayed}, deadline)

    def _scope(self, swap_in: tuple[str, ...],
               withheld: tuple[tuple[str, str], ...] = ()) -> SwapScope:
        key = (swap_in, withheld)
        if key not in self._scopes:
            self._scopes[key] = SwapScope.of(swap_in, self.settings.question_functions,
                                             self.settings.reference_names, withheld)
        return self._scopes[key]

    def end(self) -> None:
        if self.alive:
            try:
                reply = self._exchange({"op": "end"}, time.monotonic() + 10)
                self._record_executed(reply)
                called = reply.get("withheld_called") if isinstance(reply, dict) else None
                if isinstance(called, list):
                    self.withheld_called.setdefault(self.current, set()).update(
                        (p[0], p[1]) for p in called if isinstance(p, list) and len(p) == 2
                        and all(isinstance(x, str) for x in p))
            except WorkerGone:
                self.stop()
        else:
            self.executed = None  # what the stopped worker ran is not known
        if self.references is not None and self.references.alive:
            try:
                self.call_backs[self.current] += self.references.end(time.monotonic() + 10)
            except (ChannelError, OSError):
                self.stop()  # out of step, or stuck on what the worker sent: a fresh pair
        elif self.references is not None and self.alive and self.with_reference:
            self.stop()  # the reference process died in the check (its limits): a fresh pair
        self.scope = SwapScope()

    def _record_executed(self, reply: Any) -> None:
        if self.executed is None:
            return
        ran = reply.get("executed") if isinstance(reply, dict) else None
        if not isinstance(ran, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                for p in ran):
            self.executed = None
            return
        self.executed.update((file, unit) for file, unit in ran)

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
        """Send ``request`` and wait for its reply (the worker's call-backs go to its
        reference process meanwhile, not here). Whatever interrupts an exchange (a time-out,
        garbage, an error of the grader's own) stops the worker and its reference process:
        a channel could be out of step, so the next check starts a fresh pair."""
        try:
            return self._exchange_steps(request, deadline)
        except BaseException:
            self.stop()
            raise

    def _exchange_steps(self, request: dict, deadline: float | None) -> Any:
        if not self.alive:
            raise self._gone("died")
        channel = self.worker.channel
        try:
            channel.send(request, deadline if deadline is not None
                         else time.monotonic() + 60)
        except ChannelTimeout as exc:
            raise self._gone("timeout") from exc
        except (OSError, ChannelError) as exc:
            raise self._gone("died") from exc
        try:
            # a little grace over the deadline, for the worker to dump its stack
            reply = channel.recv(None if deadline is None else deadline + 0.5,
                                 on_wait=self._watch)
        except ChannelTimeout as exc:
            raise self._gone("timeout") from exc
        except ChannelClosed as exc:
            raise self._gone("died") from exc
        except ChannelError as exc:
            self.stop()
            raise WorkerGone("invalid", "the process running your code sent something "
                             f"that is not a valid reply ({exc})") from exc
        if _has_token(reply):  # a reply is data: the worker names nothing of the grader's
            self.stop()
            raise WorkerGone("invalid", "the process running your code sent an invalid reply")
        return reply

    def _watch(self) -> None:
        """Called while waiting: output flood and resident memory."""
        if self.worker.pump.counts.get(self.current, 0) > self.settings.output_bytes:
            raise self._gone("flood")
        if self.worker.over_memory():
            raise self._gone("memory")
        if self.references is not None and self.references.over_memory():
            self.references.stop()  # the worker's call-back then fails, saying so

    def _gone(self, reason: str) -> WorkerGone:
        importing, where = (None, "")
        if reason == "timeout":
            importing, where = self._where_stopped()  # before stop() removes the stack dump
            calling = self.references.busy_with() if self.references is not None else None
            if calling is not None:
                module, name = calling
                question = self.scope.question_of(module, name)
                importing, where = None, (
                    f" (in the reference {name}(), swapped in for question "
                    f"{question or 'another'}, on the arguments your code passed it: are they "
                    "far larger than the check's?)")
        code = None
        if reason == "died" and self.worker is not None and self.worker.proc is not None:
            try:
                code = self.worker.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        self.stop()
        return WorkerGone(reason, reason, where=where, importing=importing, code=code)

    def _where_stopped(self) -> tuple[str | None, str]:
        """Where the student's code was when the time ran out (the worker dumped its stack)."""
        if self.worker is None:
            return None, ""
        raw = read_untrusted(self.worker.scratch, "stack.txt", max_bytes=200_000)
        if raw is None:
            return None, ""
        text = raw.decode("utf-8", errors="replace")
        code_dir = self.worker.launched.code_dir.rstrip(os.sep) + os.sep
        blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", text)
        main = next((b for b in blocks if "nlpdojo_autograder/runtime/worker.py" in b), text)
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

_FRAME = re.compile(r'File "(.+)", line (\d+) in (\S+)')


def _has_token(value: Any) -> bool:
    if isinstance(value, Token):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_token(v) for v in value)
    if isinstance(value, dict):
        return any(_has_token(v) for v in value.values())
    return False


def remove_tree(folder: Path) -> None:
    """``folder`` and everything in it, also where a worker took its own permissions away
    (a folder it made ``chmod 000``): each folder is made ``0700`` first, never through a
    link (``follow_symlinks=False``)."""
    try:
        os.chmod(folder, 0o700, follow_symlinks=False)
    except (OSError, NotImplementedError):
        pass
    for top, dirs, _files in os.walk(folder):
        for name in dirs:
            try:
                os.chmod(os.path.join(top, name), 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
    shutil.rmtree(folder, ignore_errors=True)


def _private_copy(folder: Path, dest: Path) -> None:
    """The topic folder's files, copied read-only for the worker (no links, nothing else)."""
    dest.mkdir()
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and path.suffix in CODE_SUFFIXES:
            target = dest / path.name
            shutil.copyfile(path, target)
            os.chmod(target, 0o444)
    os.chmod(dest, 0o555)


def _tree(pid: int) -> Iterator[int]:
    """``pid`` and its descendants, each once (Linux ``/proc``: every task's children)."""
    todo, seen = [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        yield p
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue


def _tree_cpu_seconds(pid: int, started: int | None = None) -> float | None:
    """User and system CPU seconds of ``pid`` and its descendants, each process's every thread,
    and of the descendants that ended and were waited for (Linux ``/proc/PID/stat``, fields 14
    to 17); None where ``pid`` cannot be read, or did not start at ``started`` where that is
    given (``forkserver.start_time``). In the sandbox ``pid`` is bubblewrap's, the worker its
    descendant (which starts no process of its own: :mod:`.processes`), or a fork server's
    child, the worker's parent."""
    ticks, found = 0, False
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if p == pid and started is not None and int(fields[19]) != started:
                return None
            # utime, stime, cutime, cstime (fields 14-17, counted after pid and comm)
            ticks += sum(int(v) for v in fields[11:15])
        except (OSError, ValueError, IndexError):
            continue
        found = found or p == pid
    return ticks / _CLOCK_TICKS if found else None


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_resident(pid: int, started: int | None = None, *, root: bool = True) -> int:
    """Resident bytes of ``pid`` and its descendants (Linux ``/proc``); without ``pid``'s own
    where not ``root``; 0 where ``pid`` did not start at ``started`` (where that is given)."""
    if started is not None and forkserver.start_time(pid) != started:
        return 0
    total, page = 0, os.sysconf("SC_PAGE_SIZE")
    for p in _tree(pid):
        if p == pid and not root:
            continue
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total
