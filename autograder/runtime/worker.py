"""The process that runs untrusted code: :func:`main`, started by
``python -m nlpdojo_autograder.runtime.worker_main IN OUT SCRATCH`` (:mod:`.worker_main`) or
forked by the fork server (:mod:`.forkserver`).

It answers requests from the grader over a pair of pipes (``IN``, ``OUT``: file descriptors;
see :mod:`.channel`): the first message is the spec (backend, the student's
folder, limits); then ``begin`` (a check starts: its dtype and swap-ins), ``call`` (run one
function of the code under test on the arguments given, return its result), ``end`` (undo the
check's swap-ins) and ``exit``. While a call runs, a swapped-in reference function sends a
``reference`` request to the reference process, over the pipes that join the two
(``reference_channel`` in the spec), and waits for its answer.

The same entry, with ``role: reference`` in the spec, is the reference process
(:class:`ReferenceWorker`): the swapped-in reference solutions, run on the arguments of the
student's call-backs (untrusted input), in a sandbox of its own that shows the solutions and
nothing of the student's.

Nothing here judges anything, and nothing the grader decides depends on this process beyond
the values it returns: inputs, expected values, comparisons, gradient evidence and metrics are
computed by the grader. Limits (memory, processes, file size, open files, CPU time), the
switch to an unprivileged user and the ban on starting processes (:mod:`.processes`) happen
here before any student code runs; the OS sandbox
around this process is set up by :mod:`.sandbox`.
"""

from __future__ import annotations

import _thread
import faulthandler
import mmap
import os
import resource
import select
import signal
import sys
import threading
import traceback
import types
from pathlib import Path
from typing import Any

import numpy as np

import nlpdojo.training  # noqa: F401 - given code's shared loops: frozen with the grader's modules
from nlpdojo import plugins
from nlpdojo.arrays import numpy_namespace
from nlpdojo.selection import make_backend
from nlpdojo_autograder.runtime import lifetime, objects, probes, processes
from nlpdojo_autograder.runtime.callbacks import (
    MAX_REFERENCE_REPLY_BYTES,
    SwapScope,
    forwarded,
    reply_problem,
)
from nlpdojo_autograder.runtime.calls import (
    REFERENCE_TOKENS,
    Workspace,
    describe,
    is_backend_array,
    to_wire,
)
from nlpdojo_autograder.runtime.channel import (
    Channel,
    ChannelClosed,
    ChannelError,
    Token,
    dtype_name,
    encode,
    map_tree,
)
from nlpdojo_autograder.runtime.executed import ExecutedCode
from nlpdojo_autograder.runtime.frozen import freeze_grader_modules
from nlpdojo_autograder.runtime.objects import AllowedClasses
from nlpdojo_autograder.runtime.reflection import refuse_reflection
from nlpdojo_autograder.runtime.replies import ReplyMemo
from nlpdojo_autograder.runtime.subject import Fence, ReferenceCode, StudentCode
from nlpdojo_autograder.runtime.untrusted import read_untrusted

compat_numpy = numpy_namespace()


def _die_with_parent() -> None:
    """Get SIGKILL when the grader goes away, instead of running on as an orphan (Linux;
    elsewhere the parent's own clean-up has to do), and gain no privileges by exec."""
    lifetime.on_parent_death(signal.SIGKILL)
    lifetime.no_new_privileges()


AUTOGRAD_REFUSAL = ("torch's autograd is not available to graded code: it would compute the "
                    "backward pass for you, and that pass is yours to write")


def _refuse_autograd(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(AUTOGRAD_REFUSAL)


class _NoEngine:
    """Stands in for torch's autograd engine (``Variable._execution_engine``)."""

    def __getattr__(self, name: str) -> Any:
        return _refuse_autograd


def restrict_torch_namespace() -> None:
    """On the torch backend graded code holds the namespace ``array_api_compat.torch``
    (``self.xp``, ``array_namespace(x)``), which re-exports all of torch: its layers' kernels
    (``conv1d``, ``lstm_cell``, ``batch_norm``) and their backward kernels (``nn.grad``'s
    ``conv1d_input``, ``ops.aten.native_batch_norm_backward``) would compute a layer, forward
    and backward, for the student (found by an attacker: the convolution and batch
    normalisation 5.5 of 5.5 on the torch backend). Code graded on both backends uses the
    names both namespaces have; the others are taken out of the namespace for the grading.
    The backend's own code, and the grader's, use torch itself."""
    compat = sys.modules.get("array_api_compat.torch")
    if compat is None:
        return
    shared = set(dir(compat_numpy))
    for name, value in list(vars(compat).items()):
        if name.startswith("__"):
            continue
        if name not in shared or (isinstance(value, types.ModuleType)
                                  and name not in SUBMODULE_VIEWS):
            delattr(compat, name)  # torch's own, or a torch module (random, testing)
        elif isinstance(value, types.ModuleType):  # linalg, fft: they hold torch itself
            setattr(compat, name, _view(value, set(dir(getattr(compat_numpy, name)))))


#: the namespace's extension modules kept, each as a view of the names NumPy's has (the
#: modules themselves import torch: ``xp.linalg.torch`` was torch, found by an attacker)
SUBMODULE_VIEWS = ("linalg", "fft")


def _view(module: types.ModuleType, names: set[str]) -> types.ModuleType:
    """A new module holding ``module``'s public attributes named in ``names``, modules
    excepted."""
    view = types.ModuleType(module.__name__, module.__doc__)
    for name, value in vars(module).items():
        if name in names and not name.startswith("_") and \
                not isinstance(value, types.ModuleType):
            setattr(view, name, value)
    return view


def disable_autograd() -> None:
    """Where the backend runs on torch, graded code holds torch tensors, and torch's autograd
    (reverse mode, forward mode, ``torch.func``) would compute a backward pass for it: grad
    mode goes off, turning it on again raises, and the entrances to the engine raise. Defence
    in depth only: code in the same process can find its way back (docs/security.md); on the
    NumPy backend torch is not in the sandbox at all."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    import torch._functorch.predispatch as predispatch
    import torch.autograd.forward_ad as forward_ad
    import torch.func

    set_grad_enabled = torch._C._set_grad_enabled

    def grad_mode(mode: bool) -> None:
        if mode:
            _refuse_autograd()
        set_grad_enabled(False)

    inference_mode = torch._C._InferenceMode

    def inference_mode_guard(mode: bool) -> Any:  # inference_mode(False) turns grad mode on
        if not mode:
            _refuse_autograd()
        return inference_mode(mode)

    set_grad_enabled(False)
    torch._C._set_grad_enabled = grad_mode
    torch._C._InferenceMode = inference_mode_guard
    # grad mode is each thread's own, on in a new one: every thread starts with it off
    start = _thread.start_new_thread

    def start_without_grad(function: Any, args: tuple, kwargs: Any = None) -> int:
        def run(*a: Any, **k: Any) -> Any:
            set_grad_enabled(False)
            return function(*a, **k)
        return start(run, args, kwargs or {})

    _thread.start_new_thread = threading._start_new_thread = start_without_grad  # type: ignore
    torch.autograd.variable.Variable._execution_engine = _NoEngine()
    entrances = [(torch._C, "_ImperativeEngine"), (torch.Tensor, "backward"),
                 (torch.autograd, "backward"), (torch.autograd, "grad"),
                 (torch._C, "_enter_dual_level"), (predispatch, "_enter_dual_level"),
                 (forward_ad, "enter_dual_level"), (forward_ad, "make_dual")]
    entrances += [(torch.func, name) for name in (
        "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize")]
    for owner, name in entrances:
        setattr(owner, name, _refuse_autograd)


def _set_limits(spec: dict[str, Any]) -> None:
    """Hard limits the student's code cannot raise again (soft = hard)."""
    limits = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: int(spec["file_bytes"]),
        resource.RLIMIT_NOFILE: int(spec["open_files"]),
        resource.RLIMIT_CPU: int(spec["cpu_s"]),
    }
    if spec.get("processes"):
        limits[resource.RLIMIT_NPROC] = int(spec["processes"])
    for which, value in limits.items():
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _drop_privileges(uid: int | None) -> None:
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _limit_memory(megabytes: int, mode: str, backend: Any) -> int | None:
    """Limit memory to what is used now plus ``megabytes``; returns the resident limit in
    bytes that the parent watches (``resident`` mode, CUDA), else None.

    ``address-space``: cap the address space (RLIMIT_AS), so that an allocation too large fails
    with a MemoryError in the student's code. ``resident`` (CUDA): the driver reserves tens of
    GB of address space, which such a cap would refuse; so the CUDA context is created first,
    the device memory this process may take is capped, and the parent watches resident memory.
    """
    if megabytes <= 0:
        return None
    if mode == "address-space":
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
        limit = mapped + megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        return None
    backend.initialize_device(memory_bytes=megabytes * 2**20)
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1]) * resource.getpagesize()
    return resident + megabytes * 2**20


class Worker:
    def __init__(self, channel: Any, spec: dict[str, Any], scratch: Path,
                 references: Any = None) -> None:
        self.channel = channel
        #: the channel to its reference process (None: no reference here)
        self.references = references
        self.spec = spec
        backends = {dtype: make_backend(spec["backend"], spec["device"], dtype)
                    for dtype in ("float64", None)}
        for name in spec.get("extra_backends", []):  # e.g. "strict", for value checks only
            backends[(name, "float64")] = make_backend(name, "cpu", "float64")
        self.code = StudentCode(
            Path(spec["folder"]), spec["topic"],
            question_functions={q: [tuple(p) for p in pairs]
                                for q, pairs in spec["question_functions"].items()},
            reference_names=spec["reference_names"], given_sources=spec["given_sources"],
            hanging_modules=dict(spec["hanging_modules"]), reference_call=self.reference_call,
            blocked_packages=spec["blocked_packages"],
            refused_modules=dict(spec.get("refused_modules", {})))
        self.workspace = Workspace(backends, self.code, scratch)
        self.pending_swap: tuple[str, ...] = ()
        self.withheld: frozenset[tuple[str, str]] = frozenset()
        #: the reference's replies within the current check (:mod:`.replies`)
        self.replies = ReplyMemo()
        self.stack_file = open(scratch / "stack.txt", "w")  # noqa: SIM115 - for faulthandler
        #: ``dojo verify`` only: the units of the solutions each check runs (:mod:`.executed`)
        self.executed = (ExecutedCode(str(Path(spec["folder"]).parent),
                                      fast=spec["executed"] != "settrace")
                         if spec.get("executed") else None)

    def serve(self) -> None:
        while True:
            request = self.channel.recv()
            op = request.get("op") if isinstance(request, dict) else None
            if op == "exit":
                return
            if op == "begin":
                self.workspace.begin(request["dtype"], request["workdir"],
                                     request.get("backend"))
                # the stack, for the grader's message, just before the check's deadline
                faulthandler.dump_traceback_later(max(0.05, float(request["timeout_s"])),
                                                  repeat=False, file=self.stack_file)
                self.pending_swap = tuple(request["swap_in"])
                self.withheld = frozenset(tuple(pair) for pair in request.get("withheld", ()))
                self.replies.begin(request["dtype"], strict_pass=bool(request.get("backend")),
                                   replayed=request.get("replayed", True) is not False)
                freeze_grader_modules()  # those imported since the last check too
                if self.executed is not None:
                    self.executed.start()
                self.channel.send({"ok": True})
            elif op == "call":
                self.channel.send(self.call(request))
            elif op == "many":
                self.channel.send([self.call(call) for call in request["calls"]])
            elif op == "load":  # import the student's modules now, not in the first check
                faulthandler.dump_traceback_later(max(0.05, float(request["timeout_s"])),
                                                  repeat=False, file=self.stack_file)
                try:
                    self.code.module_names()
                finally:
                    faulthandler.cancel_dump_traceback_later()
                    _flush_all()
                self.channel.send({"ok": True})
            elif op == "read":  # a file the check's code wrote (a plot), for the grader
                self.channel.send({"bytes": self.read(request)})
            elif op == "end":
                faulthandler.cancel_dump_traceback_later()
                called = sorted([m, n] for m, n in self.code.withheld_called)
                self.code.restore()
                self.pending_swap = ()
                reply: dict[str, Any] = {"ok": True, "withheld_called": called}
                if self.executed is not None:
                    reply["executed"] = self.executed.stop()
                self.channel.send(reply)
            else:
                raise SystemExit(f"unknown request {op!r}")

    def read(self, request: dict[str, Any]) -> bytes | None:
        """At most ``max_bytes`` of a regular file in the check's working folder, or None."""
        name, max_bytes = str(request["name"]), int(request["max_bytes"])
        workdir = Path(self.workspace.workdir)
        return read_untrusted(workdir.parent, workdir.name, Path(name).name,
                              max_bytes=max_bytes)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            if self.pending_swap:
                swap, self.pending_swap = self.pending_swap, ()
                try:
                    self.code.swap(swap, self.withheld)
                except BaseException as exc:  # noqa: BLE001 - a module that fails to import
                    return {"error": describe(exc, self.code.code_dir)}
            return self.workspace.call(request["target"], request["args"], request["kwargs"],
                                       tuple(request.get("mutable", ())))
        finally:
            _flush_all()

    # -- a swapped-in reference function, run by the reference process ----------------------
    def reference_call(self, module: str, name: str, args: tuple, kwargs: dict,
                       instance: Any = None) -> Any:
        """Run the reference's ``module.name`` in the reference process. ``instance``: the
        student's object a swapped-in method was called on; its state travels with the call and
        comes back changed (:mod:`.objects`)."""
        backend = self.workspace.backend
        originals: dict[str, Any] = {}
        # the call was given the backend or one of its arrays: what comes back is made of
        # backend arrays too (an initializer given only the backend and sizes included),
        # otherwise it stays as the reference returned it (NumPy in, NumPy out)
        on_backend = [instance is not None]

        # the strict pass of a NumPy grading sends its arrays as NumPy ones, as the first pass
        # does: the reference process (on NumPy in both) makes a token's array that same array,
        # and the same request then finds the first pass's reply in the memo (replies.py)
        plain = backend.name != "numpy" and self.workspace.backends[None].name == "numpy"

        def array(value: Any) -> Any:
            if is_backend_array(value):
                host = backend.to_numpy(value)
                return host if plain else Token("array", (host, dtype_name(host.dtype)))
            return value

        def out(value: Any, key: str | None = None) -> Any:
            if value is backend:
                on_backend[0] = True
                return Token("backend")
            if is_backend_array(value):
                on_backend[0] = True
                if key is not None:
                    originals[key] = value
                return array(value)
            if isinstance(value, (list, tuple)):
                return type(value)(out(v) for v in value)
            if isinstance(value, dict):
                return {k: out(v) for k, v in value.items()}
            return value

        sent = tuple(out(a, str(i)) for i, a in enumerate(args))
        if instance is not None:
            # rebuilt in the reference process as the reference's class of the method
            state = objects.capture(instance, array=array, backend=backend,
                                    where=self.workspace.locate)
            sent = (Token("object", (module, name.rsplit(".", 1)[0], state)), *sent)
        request = {"op": "reference", "module": module, "name": name, "args": sent,
                   "kwargs": {k: out(v, k) for k, v in kwargs.items()}}
        frame = encode(request, to_wire)
        key = self.replies.key(frame)
        reply = self.replies.get(key)
        if reply is None:  # not asked before in this check
            reply = self._ask_reference(frame)
            self.replies.put(key, reply)
        if "error" in reply:
            raise RuntimeError(f"the reference {name}() (swapped in for an earlier question) "
                               f"failed on the arguments your code passed: {reply['error']}")
        shift = 1 if instance is not None else 0
        for key, value in reply.get("updated", {}).items():  # in-place updates, mirrored
            key = str(int(key) - shift) if key.isdigit() else key
            if key in originals:
                originals[key][...] = backend.asarray(value, dtype=originals[key].dtype)
        if instance is not None:
            state = reply.get("objects", {}).get("0")
            if isinstance(state, dict):
                objects.apply(instance, state, array=lambda x: _to_backend(x, backend))
            return _to_backend(reply["value"], backend)
        return _to_backend(reply["value"], backend) if on_backend[0] else reply["value"]

    def _ask_reference(self, frame: list[Any]) -> dict[str, Any]:
        if self.references is None:
            return {"error": "no reference solutions are installed here"}
        try:
            self.references.send_frame(frame)
            reply = self.references.recv()
        except (ChannelError, OSError):
            return {"error": "the process that runs it stopped (its memory or CPU limit, on "
                             "those arguments?)"}
        if not isinstance(reply, dict) or not isinstance(reply.get("error", ""), str):
            return {"error": "the process that runs it sent an invalid reply"}
        return reply


class ReferenceWorker:
    """The swapped-in reference, run for the student's call-backs. From the grader (pickles: it
    trusts the grader): ``begin`` (a check's dtype, working folder and
    :class:`~.callbacks.SwapScope`), ``end`` (the scope closed; it answers how many call-backs
    it served) and ``exit``. From the student's worker, over a pipe of their own: ``reference``
    requests, read with the channel's codec (data: no pickle), each answered on the other pipe.

    The arguments were chosen by the student's code, so a request is refused unless the
    check's scope allows it (:meth:`~.callbacks.SwapScope.refusal`: a function or method of a
    swapped-in question, data arguments, the method's own layer), only data is accepted in
    them (arrays, the backend: :data:`~.calls.REFERENCE_TOKENS`), objects are rebuilt only as
    this check's allowed classes found by exact name (:class:`~.objects.AllowedClasses`), and
    the code of every question not swapped in raises if reached (:class:`~.subject.Fence`).
    Between checks the scope is empty: everything is refused."""

    def __init__(self, channel: Any, spec: dict[str, Any], scratch: Path, code: Any,
                 student: Any = None) -> None:
        self.channel = channel
        self.student = student
        backends = {dtype: make_backend(spec["backend"], spec["device"], dtype)
                    for dtype in ("float64", None)}
        self.code = code
        self.classes = AllowedClasses(self.code.module)
        self.fence = Fence(self.code)
        self.workspace = Workspace(backends, self.code, scratch, classes=self.classes,
                                   tokens=REFERENCE_TOKENS)
        self.scope = SwapScope()
        self.answered = 0
        # what it is running, for the grader's message where the student's worker runs out of
        # time waiting for it (the one file of its scratch the grader sees)
        self._calling = _mark_file(scratch / "stack.txt")

    def serve(self) -> None:
        poller = select.poll()
        poller.register(self.channel.read_fd, select.POLLIN)
        if self.student is not None:
            poller.register(self.student.read_fd, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            # the grader's first: a check's begin is written before the worker hears of the
            # check, so it is here before the check's first call-back
            if self.channel.read_fd in ready or self.student is None:
                if not self._from_grader():
                    return
                continue
            try:
                request = self.student.recv()
            except ChannelError as exc:  # gone, or what it sent could not be read
                if not isinstance(exc, ChannelClosed):  # the reader refused it, part-way
                    self._answer({"error": f"the call-back could not be read ({exc})"})
                # out of step with the worker: it ends, and the grader replaces both (the
                # worker's next call-back meets a closed pipe at once)
                return
            self.answered += 1
            self._answer(self.answer(request))

    def _from_grader(self) -> bool:
        request = self.channel.recv()
        op = request.get("op") if isinstance(request, dict) else None
        if op == "exit":
            return False
        if op == "begin":
            scope = request["scope"]
            self.workspace.begin(request["dtype"], request["workdir"])
            self.classes.allow([list(c) for c in sorted(scope.classes)])
            self.fence.close([list(b) for b in scope.blocked])
            self.scope, self.answered = scope, 0
        elif op == "end":
            self.scope = SwapScope()  # nothing is swapped in between checks
            self.channel.send({"call_backs": self.answered})
            self.answered = 0
        else:
            raise SystemExit(f"unknown request {op!r}")
        return True

    def answer(self, request: Any) -> dict[str, Any]:
        """The reply to the student's worker for one ``reference`` request: the result, the
        arrays changed in place and the object's state after the call
        (:func:`~.callbacks.forwarded`), or an error that says why there is none."""
        if not isinstance(request, dict) or request.get("op") != "reference":
            return {"error": "the call-back did not arrive as a request"}
        why = self.scope.refusal(request)
        if why is not None:
            return {"error": why}
        args, kwargs = request["args"], request["kwargs"]
        self._mark(f"calling\n{request['module']}\n{request['name']}\n")
        try:
            reply = self.call({"module": request["module"], "name": request["name"],
                               "args": args, "kwargs": kwargs,
                               # its arrays changed in place come back, mirrored in the worker
                               "mutable": [str(i) for i in range(len(args))] + list(kwargs)})
        finally:
            self._mark("idle\n")
        problem = reply_problem(reply)
        return forwarded(reply) if problem is None else {"error": f"it gave {problem}"}

    def _answer(self, reply: dict[str, Any]) -> None:
        frame = encode(reply, to_wire)
        size = sum(memoryview(c).nbytes for c in frame)
        if size > MAX_REFERENCE_REPLY_BYTES:  # the student's arguments asked for that much
            frame = encode({"error": f"its result is too large to send back ({size:,} bytes; "
                                     f"at most {MAX_REFERENCE_REPLY_BYTES:,})"}, to_wire)
        try:
            self.student.send_frame(frame)
        except (ChannelError, OSError):  # the worker is gone
            pass

    def _mark(self, text: str) -> None:
        self._calling[:] = text.encode("utf-8", errors="replace").ljust(MARK_BYTES)[:MARK_BYTES]

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        target = Token("function", ("student", str(request["module"]), str(request["name"])))
        try:
            return self.workspace.call(target, tuple(request["args"]), dict(request["kwargs"]),
                                       tuple(request["mutable"]))
        finally:
            _flush_all()


#: the size of the reference process's note of what it runs (``stack.txt``)
MARK_BYTES = 512


def _mark_file(path: Path) -> Any:
    """``path`` (the reference process's ``stack.txt``) as shared memory of
    :data:`MARK_BYTES`: a note written twice per call-back is a copy, not two ``pwrite`` calls
    (4 % of the process's time); the grader reads the file, whose pages these are. Where the
    file cannot be mapped, an object that writes it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.ftruncate(fd, MARK_BYTES)
        return mmap.mmap(fd, MARK_BYTES)
    except OSError:
        return _WrittenMark(os.dup(fd))
    finally:
        os.close(fd)


class _WrittenMark:
    """The note of :func:`_mark_file`, written with ``pwrite`` where it cannot be mapped."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __setitem__(self, _: slice, data: bytes) -> None:
        os.pwrite(self.fd, data, 0)


def _load_reference(spec: dict[str, Any]) -> Any:
    """The reference solutions, every module of the spec imported: called before the switch to
    the sandbox's own user (the reference is the grader's, trusted; its folder may be readable
    by the grader's user only) and before anything untrusted is read; the start-up, not a
    check, pays for the imports."""
    code = ReferenceCode.from_spec(spec["reference"])
    for name in spec.get("modules", []):
        try:
            code.module(name)
        except Exception:  # noqa: BLE001 - a broken reference shows up in its own checks
            pass
    # its errors' messages go to the student: they name no line of the reference's source
    # (calls.describe names the last frame inside ``code_dir``)
    code.code_dir = ""
    return code


def _to_backend(value: Any, backend: Any) -> Any:
    """A decoded reply (NumPy arrays, in containers of its own) with its arrays as
    ``backend``'s, each in its own dtype. On the NumPy backend that is the reply as it is."""
    if backend.name == "numpy":
        return value

    def leaf(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return backend.asarray(x, dtype=getattr(backend.xp, dtype_name(x.dtype)))
        return x

    return map_tree(value, leaf)


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the student broke: nothing to flush
            pass


#: the plugin hooks a worker or reference process never calls. No exercises, trainers or
#: their model kinds: their checks, metrics and training plans are the grader's (a worker
#: answers a question), and a course's topic modules are not even imported. No data sets or
#: report formats: the grader sends every input, and reports are written on its side; leaving
#: them out spares every worker start their registration (`bench/worker_startup.py`)
LEFT_OUT_HOOKS = ("register_exercises", "register_trainers", "register_model_kinds",
                  "register_datasets", "register_reporters", plugins.BRING_HOOK)


def main(read_fd: int, write_fd: int, scratch: str) -> int:
    _die_with_parent()

    channel = Channel(read_fd, write_fd, allow_tokens=True, convert=to_wire, accept_pickles=True)
    spec = channel.recv()
    os.chdir(scratch)
    _set_limits(spec)
    reference = _load_reference(spec) if spec.get("role") == "reference" else None
    _drop_privileges(spec.get("uid"))

    chosen = [plugins.ChosenPlugin(*entry) for entry in spec.get("plugins", ())]
    registry = plugins.build_without(LEFT_OUT_HOOKS, chosen=chosen or None)
    worker: Worker | ReferenceWorker
    if reference is not None:
        student = spec.get("student_channel")
        worker = ReferenceWorker(channel, spec, Path(scratch), reference, student=Channel(
            *student, allow_tokens=True, convert=to_wire)  # (its frames capped as the grader's)
            if student else None)
    else:
        registry.refuse_natives("native implementations are not available to graded code: "
                                "the checks grade your own implementation, so build it from "
                                "your own layers (or ask without native=True)")
        pipes = spec.get("reference_channel")
        worker = Worker(channel, spec, Path(scratch),
                        Channel(*pipes, convert=to_wire) if pipes else None)
        worker.code.seal()  # before any student code runs
        probes.submission_starts()  # threads beyond the grader's are the submission's
        freeze_grader_modules()
        if spec.get("code_rules", True):
            code_dir = worker.code.code_dir.rstrip(os.sep) + os.sep
            refuse_reflection(lambda filename: filename.startswith(code_dir))
        disable_autograd()
        restrict_torch_namespace()
    resident = _limit_memory(int(spec["memory_mb"]), spec["memory_mode"],
                             worker.workspace.backends[None])
    if reference is None:  # work in another process is work no count, clock or limit sees
        processes.forbid_new_processes()
    channel.send({"ready": True, "resident_limit": resident})
    worker.serve()
    return 0


def run_as_process(argv: list[str]) -> int:
    """:func:`main` on ``argv`` (``IN OUT SCRATCH``) as a worker process runs it, whether
    started by :mod:`.worker_main` or forked by the fork server: its exit code, 1 where it
    raised (the traceback printed, for the grader's message about this worker), the output
    streams flushed."""
    code = 1
    try:
        code = main(int(argv[0]), int(argv[1]), argv[2])
    except BaseException:  # noqa: BLE001 - shown in the grader's message about this worker
        traceback.print_exc()
    finally:
        _flush_all()
    return code
