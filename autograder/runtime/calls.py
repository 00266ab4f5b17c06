"""Running one call of the code under test: the same steps in the sandboxed worker (a student's
code) and in the grader's own process (the reference solutions).

A call arrives as data (see :mod:`.channel`): a function token, arguments in
which tokens name the backend, backend arrays, functions, modules and scratch files. The
:class:`Workspace` turns the tokens into objects, calls the function, notes which array
arguments it changed, and turns the result back into data (backend arrays as NumPy arrays,
their dtype kept). Exceptions become a description (kind, message, the student's line) that
the trusted side turns into a verdict; nothing here judges anything.
"""

from __future__ import annotations

import difflib
import errno
import inspect
import itertools
import linecache
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np
from array_api_compat import device as array_api_device

from nlpdojo.errors import InterruptRequested, StopRequested
from nlpdojo_autograder.runtime import objects, probes
from nlpdojo_autograder.runtime.channel import (
    MAX_STRING,
    Opaque,
    Sparse,
    Token,
    dtype_name,
    is_backend_array,
    map_tree,
    to_wire,
)
from nlpdojo_autograder.runtime.loader import LIBRARY, SUBMISSION_PREFIX
from nlpdojo_autograder.runtime.signatures import invoke, signature_hint_of

#: a description of an exception is cut to this many characters (a 50 MB message is an attack)
MAX_MESSAGE = 4000


class MissingName(Exception):
    """The submission lacks a function the check calls (a renamed stub)."""


class CodeProvider(Protocol):
    """Where a workspace finds the code under test."""

    code_dir: str

    def module(self, name: str) -> ModuleType: ...

    def given(self, name: str) -> ModuleType: ...


def relative_module(package: str, full: str, cls: type | None = None) -> tuple[str, str] | None:
    """A module of topic package ``package`` by the name checks use: ``softmax`` for
    ``<package>.softmax``, ``..library.layers`` for the course library's ``layers`` (the
    package's parent's ``library.layers``); None outside the course. With ``cls``, the pair
    ``(module name, cls.__qualname__)``."""
    if not package:
        return None
    course = package.rsplit(".", 1)[0] if "." in package else ""
    if full.startswith(package + "."):
        name = full[len(package) + 1:]
    elif course and full.startswith(course + "."):
        name = ".." + full[len(course) + 1:]
    else:
        return None
    return (name, cls.__qualname__) if cls is not None else (name, "")


#: the tokens a call's arguments may hold in the reference process (its arguments come from
#: the student's worker): data, the backend, and objects of the swapped-in questions' classes;
#: never functions, modules, files or calls, which would run or reach what the student names
REFERENCE_TOKENS = frozenset({"array", "backend", "object"})


class Workspace:
    """The objects tokens stand for, in one process: backends by dtype, the code, scratch.

    ``classes(module, qualname)``: the class an object token may be rebuilt as (an
    :class:`~.objects.AllowedClasses`); without it no object is rebuilt
    (the grader and the student's worker never rebuild one). ``tokens``: the token kinds
    arguments may hold (None: any, the grader's own requests)."""

    def __init__(self, backends: dict[str | None, Any], code: CodeProvider,
                 scratch: Path, *, classes: Callable[[str, str], type] | None = None,
                 tokens: frozenset[str] | None = None) -> None:
        self.backends = backends
        self.backend = backends[None]
        self.code = code
        self.scratch = scratch
        self.workdir = scratch
        self.classes = classes
        self.tokens = tokens

    def begin(self, dtype: str | None, workdir: str, backend: str | None = None) -> None:
        """A check starts: its dtype, its scratch folder, and (the strict pass of a value
        check) another of the loaded backends by name."""
        if backend is not None and (backend, "float64") in self.backends:
            self.backend = self.backends[(backend, "float64")]
        else:
            self.backend = self.backends.get(dtype, self.backends[None])
        self.workdir = self.scratch / workdir
        self.workdir.mkdir(parents=True, exist_ok=True)

    # -- tokens into objects --------------------------------------------------------------
    def materialize(self, value: Any) -> Any:
        return map_tree(value, self._leaf)

    def _leaf(self, x: Any) -> Any:
        if isinstance(x, Token):
            if self.tokens is not None and x.kind not in self.tokens:
                raise ValueError(f"a {x.kind} cannot be passed to the reference")
            return self._token(x)
        return x.to_scipy() if isinstance(x, Sparse) else x

    def _token(self, token: Token) -> Any:
        kind, args = token.kind, token.args
        if kind == "backend":
            return self.backend
        if kind == "array":
            arr, dtype = args
            if dtype is None and np.issubdtype(arr.dtype, np.floating):
                return self.backend.asarray(arr, dtype=self.backend.default_dtype)
            return self.backend.asarray(arr, dtype=getattr(self.backend.xp, dtype or
                                                           dtype_name(arr.dtype)))
        if kind == "function":
            return self.function(*args)
        if kind == "module":
            return self.code.module(str(args[0]))
        if kind == "path":
            name = Path(str(args[0])).name  # a file name, never a path out of the folder
            return self.workdir / name
        if kind == "call":
            func, pos, kw = args
            func, pos, kw = self.materialize(func), self.materialize(pos), self.materialize(kw)
            return invoke(func, pos, kw) if self.tokens is None else func(*pos, **kw)
        if kind == "object":  # a student's object as data, rebuilt as an allowed class
            return self._object(*args)
        raise ValueError(f"unknown token {kind!r}")

    def _object(self, module: Any, qualname: Any, state: Any) -> Any:
        if self.classes is None:
            raise ValueError("objects are rebuilt only in the process that runs a swapped-in "
                             "reference")
        if not isinstance(state, dict):
            raise objects.StateError("an object's state must be a dict of its attributes")
        # the object's arrays are copies: the state as it came stays the base of what the
        # call changed (objects.changed), even where the call changes an array in place
        return objects.rebuild(self.classes(str(module), str(qualname)),
                               map_tree(state, lambda x: self._leaf(_copied(x))),
                               backend=self.backend, find_class=self.classes)

    def locate(self, cls: type) -> tuple[str, str] | None:
        """``(module, qualname)`` of a class defined in the code under test (module names as
        :func:`.subject.full_name` reads them), else None."""
        return relative_module(getattr(self.code, "package", ""), cls.__module__, cls)

    def function(self, where: str, module: str, qualname: str) -> Callable[..., Any]:
        if where == "probe":  # the grader's public procedures (probes.py), never a submission's

            return getattr(probes, qualname)
        mod = self.code.given(module) if where == "given" else self.code.module(module)
        obj: Any = mod
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if not callable(obj):
            raise MissingName(missing_name(mod, module, qualname))
        return obj

    # -- one call ---------------------------------------------------------------------------
    def call(self, target: Token, args: tuple, kwargs: dict, mutable: tuple = ()) -> dict:
        """Run one call; a reply: ``value`` or ``error``; ``mutated``, ``[key, parameter]``
        for each array argument the call changed (key: its position or keyword); ``updated``,
        ``{key: new value}`` for those of them named in ``mutable`` (by key or parameter)."""
        try:
            func = self._token(target)
            pos, kw = self.materialize(tuple(args)), self.materialize(dict(kwargs))
            probe = target.kind == "function" and bool(target.args) and \
                target.args[0] == "probe"  # a probe checks what it hands the code itself
            before, held = _arguments(pos, kw, nested=not probe)
            # the grader's calls of the code under test say where their arguments do not fit
            # its signature; not a probe's (the grader's own) nor a call-back's (the
            # student's call of the reference: ``tokens`` set)
            result = (invoke(func, pos, kw) if self.tokens is None and not probe
                      else func(*pos, **kw))
            self.backend.synchronize()
            # each object's state after the call, as far as it changed (the worker keeps the
            # rest): a swapped-in forward sends back nothing of its layer
            states = {str(i): objects.changed(
                a.args[2], objects.capture(pos[i], array=lambda x: x, backend=self.backend,
                                           where=self.locate), host=_host)
                      for i, a in enumerate(args) if isinstance(a, Token) and a.kind == "object"}
            if self.backend.name == "strict" and _has_numpy(result) and (
                    _has_backend_array(pos) or _has_backend_array(kw)):
                return {"error": {"kind": "error", "message": LEFT_NAMESPACE}}
            mutated, updated = [], {}
            names: dict[str, str] | None = None

            def named(key: str) -> tuple[str, str, bool]:
                """``(label, inner, allowed)`` of ``key`` ("0|name": an entry of argument
                0): its parameter's name, the entry, whether ``mutable`` lets it change."""
                nonlocal names
                names = names if names is not None else _parameter_names(func, len(pos))
                top, _, inner = key.partition("|")
                label = names.get(top, top)
                return label, inner, top in mutable or label in mutable

            for key, (arg, copy) in before.items():
                now = _host(arg)
                if not probes.same_array(copy, now):
                    label, inner, allowed = named(key)
                    if inner and allowed:
                        continue  # an argument the call may change: its entries too
                    mutated.append([key, _entry_label(label, inner)])
                    if allowed:
                        updated[key] = now
            for key, (container, entries) in held.items():
                if _entries(container) != entries:  # an entry set, added or removed
                    label, inner, allowed = named(key)
                    if not allowed:
                        mutated.append([key, _entry_label(label, inner)])
            reply = {"value": result, "mutated": mutated, "updated": updated}
            if self.tokens is None:  # what the grader reads of a result it asked for; a
                # call-back's reply goes to the student's worker without it (forwarded)
                reply["returned"] = returned_kinds(result, pos, kw)
            if states:
                reply["objects"] = states
            return reply
        except (StopRequested, InterruptRequested):
            raise  # the command was stopped (SIGTERM, Ctrl-C), not by the code it ran
        except BaseException as exc:  # noqa: BLE001 - everything the code under test raises
            return {"error": describe(exc, self.code.code_dir)}


#: the most values of a result (and of a call's arguments) :func:`returned_kinds` describes
MAX_DESCRIBED = 256
#: how deep into tuples, lists and dicts it looks
DESCRIBE_DEPTH = 4


def returned_kinds(result: Any, pos: tuple, kw: dict) -> dict[str, list]:
    """What a call returned, as it was returned, and what it was given: the reply's
    ``returned``, judged by the grader (:meth:`~nlpdojo_autograder.authoring.context.Context.
    to_numpy`), since the data that crosses the wire is the same for a NumPy array, a tensor
    on a GPU and a Python float. ``leaves``: ``[path, kind]`` for each number and array of
    the result (``path``: the positions and keys that lead to it, ``[]`` for the result
    itself); ``inputs``: the distinct kinds of the array arguments. A kind is ``["python",
    "float"]`` (or ``"int"``; ``"list of floats"``, ``"tuple of floats"`` for a container
    made only of Python numbers, floats among them, ``"list of 0-d arrays"`` for one of 0-d
    arrays, with or without Python numbers, each described before its items) or
    ``["array", namespace, device, dtype]`` (``["array", "torch", "cuda:0", "float32"]``)."""
    leaves: list[list] = []

    def walk(value: Any, path: list, depth: int) -> None:
        if len(leaves) >= MAX_DESCRIBED:
            return
        kind = _value_kind(value)
        if kind is not None:
            leaves.append([path, kind])
        elif depth >= DESCRIBE_DEPTH:
            return
        # the containers' own iterators: no method of a subclass of the code under test runs
        elif isinstance(value, (tuple, list)):
            items = tuple(tuple.__iter__(value) if isinstance(value, tuple)
                          else list.__iter__(value))
            # floats in a list, or 0-d arrays (each one number, `[norm(g) for g in grads]`):
            # judged as one value, whatever its length, since the wire makes both the same as
            # an array's rows (a list of whole numbers is left alone: ids and counts are the
            # host's by contract)
            numbers = {type(v) for v in items}
            scalars = [v for v in items if type(v) not in (float, int) and _zero_d(v)]
            if scalars and all(type(v) in (float, int) or _zero_d(v) for v in items):
                leaves.append([path, ["python", f"{type(value).__name__} of 0-d arrays"]])
            elif float in numbers and numbers <= {float, int}:
                leaves.append([path, ["python", f"{type(value).__name__} of floats"]])
            for i, v in enumerate(items):
                if len(leaves) >= MAX_DESCRIBED:
                    break
                walk(v, [*path, i], depth + 1)
        elif isinstance(value, dict):
            for k, v in dict.items(value):
                if len(leaves) >= MAX_DESCRIBED:
                    break
                if type(k) in (str, int):
                    walk(v, [*path, k], depth + 1)

    walk(result, [], 0)
    inputs: list[list] = []

    def given(value: Any, depth: int) -> None:
        kind = _value_kind(value)
        if kind is not None:
            if kind[0] == "array" and kind not in inputs:
                inputs.append(kind)
            return
        if depth >= DESCRIBE_DEPTH:
            return
        # a long list of arguments (a corpus's ids) is of one kind: its first items tell
        if isinstance(value, (tuple, list)):
            items = tuple.__iter__(value) if isinstance(value, tuple) else list.__iter__(value)
            for v in itertools.islice(items, MAX_DESCRIBED):
                given(v, depth + 1)
        elif isinstance(value, dict):
            for v in itertools.islice(dict.values(value), MAX_DESCRIBED):
                given(v, depth + 1)

    given(pos, 0)
    given(kw, 0)
    return {"leaves": leaves, "inputs": inputs}


def _value_kind(x: Any) -> list | None:
    """:func:`returned_kinds`' kind of ``x``, None for anything else (a bool, a string, a
    container, an object)."""
    kind = type(x)
    if kind is float or kind is int:
        return ["python", kind.__name__]
    if isinstance(x, (np.ndarray, np.generic)):
        return ["array", "numpy", "cpu", dtype_name(x.dtype)]
    if is_backend_array(x):
        try:
            where = str(array_api_device(x))
        except Exception:  # noqa: BLE001 - an array that cannot say: described as such
            where = "?"
        named = re.fullmatch(r"(?:array_api_strict\.)?Device\('(.*)'\)", where)
        return ["array", type(x).__module__.partition(".")[0],
                named.group(1) if named else where, str(x.dtype).rpartition(".")[2]]
    return None


def _zero_d(x: Any) -> bool:
    """Whether ``x`` is a 0-d array (NumPy's or the backend's): one number as an array."""
    if isinstance(x, np.generic):
        return True
    if not (isinstance(x, np.ndarray) or is_backend_array(x)):
        return False
    try:
        return len(tuple(x.shape)) == 0
    except Exception:  # noqa: BLE001 - an array that cannot say its shape: not described
        return False


LEFT_NAMESPACE = ("given arrays of the array API, it returned a NumPy array: the code calls "
                  "NumPy (np.exp, np.max...) instead of the array namespace")


def _holds(value: Any, leaf: Callable[[Any], bool], depth: int = 0) -> bool:
    """Whether ``leaf`` holds for something in ``value``, looking into tuples, lists and dicts
    (a probe's arguments and result: inputs in lists, gradients by name) a few levels deep."""
    if leaf(value):
        return True
    if depth < 4 and isinstance(value, (tuple, list)):
        return any(_holds(v, leaf, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict):
        return any(_holds(v, leaf, depth + 1) for v in value.values())
    return False


def _has_numpy(value: Any) -> bool:
    """Whether ``value`` holds a NumPy array (not a 0-d one)."""
    return _holds(value, lambda x: isinstance(x, np.ndarray) and x.ndim > 0)


def _has_backend_array(value: Any) -> bool:
    """Whether ``value`` holds an array of the backend."""
    return _holds(value, is_backend_array)


#: how deep inside list, tuple and dict arguments a call's changes are looked for (n-gram
#: counts are a list of (keys, counts) pairs: an array two levels down)
NESTED_DEPTH = 3


def _arguments(pos: tuple, kw: dict, *, nested: bool = False
               ) -> tuple[dict[str, tuple[Any, np.ndarray]], dict[str, tuple[Any, tuple]]]:
    """What a call could change of its arguments, seen before it, in one walk:
    ``(arrays, containers)``. ``arrays``: each array argument and a copy of it, keyed by
    position or keyword; with ``nested``, also the arrays inside a list, tuple or dict
    argument (``{name: array}`` of parameters, a list of (keys, counts) pairs), down to
    :data:`NESTED_DEPTH`, keyed ``"<key>|<index or repr(dict key)>"``, ``|`` again for each
    level. ``containers`` (with ``nested``): every list and dict among them and what it holds,
    by identity (:func:`_entries`): a call that sets, adds or removes an entry of one
    (``counts[k] = relabelled``) changed its argument, as one that writes into an array did."""
    arrays: dict[str, tuple[Any, np.ndarray]] = {}
    containers: dict[str, tuple[Any, tuple]] = {}

    def visit(key: str, x: Any, depth: int) -> None:
        if _is_array(x):
            arrays[key] = (x, _host(x).copy())
        elif depth < NESTED_DEPTH and isinstance(x, (list, tuple, dict)):
            if not isinstance(x, tuple):
                containers[key] = (x, _entries(x))
            for inner, value in _items(x):
                visit(f"{key}|{inner}", value, depth + 1)

    for key, arg in [*((str(i), a) for i, a in enumerate(pos)), *kw.items()]:
        visit(key, arg, 0 if nested else NESTED_DEPTH)
    return arrays, containers


def _entries(container: Any) -> tuple:
    """A list's or dict's entries by identity: ``(key, id(value))`` pairs."""
    items = container.items() if isinstance(container, dict) else enumerate(container)
    return tuple((k, id(v)) for k, v in items)


def _items(container: Any) -> list[tuple[str, Any]]:
    """A container's entries with their labels: a dict's by ``repr(key)``, a sequence's by
    index."""
    if isinstance(container, dict):
        return [(repr(k), v) for k, v in container.items()]
    return [(str(i), v) for i, v in enumerate(container)]


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_backend_array(x)


def _entry_label(label: str, inner: str) -> str:
    """``counts`` and ``1|0`` -> ``counts[1][0]``."""
    return label + "".join(f"[{part}]" for part in inner.split("|")) if inner else label


def _copied(x: Any) -> Any:
    """An array, or an array token, with a copy of its array (anything else as it is)."""
    if isinstance(x, np.ndarray):  # an array that crossed as it is (the NumPy backend's)
        return x.copy()
    if isinstance(x, Token) and x.kind == "array" and len(x.args) == 2 and \
            isinstance(x.args[0], np.ndarray):
        return Token("array", (x.args[0].copy(), x.args[1]))
    return x


def _host(x: Any) -> np.ndarray:
    converted = to_wire(x)
    return np.asarray(x if converted is NotImplemented else converted)


def _parameter_names(func: Callable[..., Any], n_positional: int) -> dict[str, str]:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return {}
    return {str(i): name for i, name in enumerate(params[:n_positional])}


# -- exceptions as data -----------------------------------------------------------------------
class StudentError(Exception):
    """The code under test raised: ``info`` is the worker's description of it (:func:`describe`:
    kind, type, message, traceback), raised again on the grader's side of the call."""

    def __init__(self, info: dict[str, str]) -> None:
        super().__init__(info.get("message", ""))
        self.kind = info.get("kind", "error")
        self.type = info.get("type", "")
        self.message = info.get("message", "")
        self.traceback = info.get("traceback", "")


def describe(exc: BaseException, code_dir: str) -> dict[str, str]:
    """``{kind, message, traceback}`` of an exception raised by the code under test."""
    if isinstance(exc, MissingName):
        return {"kind": "missing", "message": _cut(str(exc))}
    if isinstance(exc, (probes.UncountedWork, probes.ProbeError)):  # the grader's own
        # finding (an argument changed in place...): its message says it all, no class name
        return {"kind": "error", "message": _cut(str(exc))}
    if isinstance(exc, NotImplementedError):
        # where: a question of several functions says which one is still a stub (a trial's
        # lstm_bias alone left was never named)
        frames = _student_frames(exc, code_dir)
        at = (f" (in {frames[-1].name}, {os.path.basename(frames[-1].filename)} line "
              f"{frames[-1].lineno})" if frames else "")
        return {"kind": "not_implemented",
                "message": (_cut(str(exc)) or "not implemented yet") + at}
    if isinstance(exc, SystemExit):
        return {"kind": "error", "message": f"your code called sys.exit({_cut(repr(exc.code))});"
                                            " return values instead of exiting"}
    if isinstance(exc, KeyboardInterrupt):
        return {"kind": "error", "message": "your code raised KeyboardInterrupt"}
    if (isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError"
            or "can't allocate memory" in _safe_str(exc)[:2000].lower()):
        return {"kind": "memory", "message": "ran out of memory; is an array far too large?"}
    hint = ""
    if _transposed_shapes(_safe_str(exc)[:2000]):
        hint = (". Hint: the two shapes are each other's transpose: a gradient has the shape of "
                "what it is the gradient of (dL/dW the shape of W); a matrix_transpose "
                "missing or extra?")
    elif _numpy_given_tensor(exc) or _numpy_line_on_torch(exc, code_dir):
        hint = (". Hint: a NumPy function (np.max, np.sum...) was given a torch tensor: on the "
                "torch backend use the array namespace `xp = array_namespace(x)` (xp.max, "
                "xp.sum...) instead of numpy")
    elif isinstance(exc, FloatingPointError):
        hint = _floating_point_hint(_safe_str(exc)[:2000])
    elif isinstance(exc, ModuleNotFoundError) and _own_module(exc.name):
        shown = _own_module(exc.name)
        hint = (f". Hint: there is no {shown} in your submission: a module you import "
                "with `from .` must be a file of it (the topic's folder or library/); check "
                "the name, or add the file") if shown != f"{LIBRARY}/" else (
                f". Hint: there is no {LIBRARY}/ in your submission: this topic is built on "
                f"the course library, so submit its folder too ({LIBRARY}/ beside the topic's "
                "folder or among its files, as in exercises/)")
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG):
        hint = (". Hint: graded code may write only a little: its scratch folder (the working "
                "folder and $TMPDIR) holds 512 MB in all, /tmp 64 MB, and one file at most "
                "256 MB; write less, or keep results in memory")
    hint = signature_hint_of(exc) or hint  # left by invoke() on a TypeError only
    text = _cut(_safe_str(exc).strip(), 1000)
    name = type(exc).__name__[:100]
    # a class of the submission's own is said to be one: one named like the grader's words
    # ("internal: the reference failed...") read like a grader fault (an adversarial trial)
    shown = (f"{name} (an exception class of your code)"
             if _of_the_submission(type(exc).__module__) else name)
    return {"kind": "error", "type": name,
            "message": f"{shown}: {text}{where(exc, code_dir)}{hint}",
            "traceback": _cut(_student_traceback(exc, code_dir, text), 8000)}


def _of_the_submission(module: str | None) -> bool:
    """Whether ``module`` is (in) the package the submission is loaded as."""
    head = (module or "").partition(".")[0]
    return head == SUBMISSION_PREFIX or head.startswith(SUBMISSION_PREFIX + "_")


def _own_module(name: str | None) -> str:
    """The file a missing module of the submission's own package would be (``topic/
    helpers.py`` for ``nlpdojo_submission.topic.helpers``), or ""."""
    _, _, rest = (name or "").partition(".")
    if not rest or not _of_the_submission(name):
        return ""
    if rest == LIBRARY:  # the course library's folder, not a file
        return f"{LIBRARY}/"
    return rest.replace(".", "/") + ".py"


def _floating_point_hint(message: str) -> str:
    """What a FloatingPointError of a check run with overflow raised (probe
    ``without_overflow``) means, by what NumPy or the torch mode says happened."""
    why = (". Hint: this check runs the function with floating-point errors raised, since it "
           "promises numerical stability: no step may compute inf or nan, even where the result "
           "would come out finite or in a branch that xp.where discards (it computes both). ")
    if "divide by zero" in message and "log" in message:
        return why + ("This is log(0): a probability that underflowed to 0 was logged; compute "
                      "the log-probability directly, as log-sum-exp: log Σ e^(s − max s) + "
                      "max s − s_o")
    if "divide by zero" in message:
        return why + "A division by 0: which denominator can be 0 for these inputs?"
    if "invalid" in message:
        return why + ("An invalid operation (inf − inf, 0 · inf, 0 / 0, inf / inf) follows an "
                      "overflow, an underflow or a log(0): exponentiate only numbers ≤ 0, "
                      "subtracting each row's own maximum first (axis=-1, keepdims=True: the "
                      "maximum of the whole array leaves a row far below it all zeros, 0 / 0)")
    return why + ("Exponentiate only numbers ≤ 0: in a softmax, subtract each row's own maximum "
                  "first (axis=-1, keepdims=True); in a sigmoid, write e^z / (1 + e^z) with "
                  "z = −|x| (1 / (1 + e^800) is 0 after an overflow)")


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a __str__ that raises is the student's
        return f"<{type(exc).__name__} whose message cannot be shown>"


def _cut(text: str, limit: int = MAX_MESSAGE) -> str:
    text = text[:MAX_STRING]
    if len(text) <= limit:
        return text
    return text[:limit] + f" … ({len(text) - limit:,} characters cut)"


def _student_frames(exc: BaseException, code_dir: str) -> list[traceback.FrameSummary]:
    """The frames in ``code_dir`` (none without one: the reference process names no line of
    the reference in what goes back to the student)."""
    if not code_dir:
        return []
    prefix = code_dir.rstrip(os.sep) + os.sep
    return [f for f in traceback.extract_tb(exc.__traceback__, limit=200)
            if f.filename.startswith(prefix)]


def _student_traceback(exc: BaseException, code_dir: str, text: str) -> str:
    """The traceback frames in the code under test (the grader's own frames are noise)."""
    lines = traceback.format_list(_student_frames(exc, code_dir)[-5:])
    return "".join(lines) + f"{type(exc).__name__}: {text}"


def where(exc: BaseException, code_dir: str) -> str:
    """`` (at softmax.py line 22: exps = ...)``: the last line of the student's code involved."""
    if isinstance(exc, SyntaxError):
        return ""  # its message names the file (or notebook cell) and the line
    frames = _student_frames(exc, code_dir)
    if not frames:
        return ""
    last = frames[-1]
    line = f": {last.line.strip()[:200]}" if last.line else ""
    caller = ""
    # the line that called into that file from another of the student's files: a check that
    # raised on purpose (a given layer refusing a wrong shape) or a function handed a wrong
    # argument (skipgram passing every negative where one row is asked) failed in the callee,
    # and the line to fix is the caller's, which the message did not show
    called = [f for f in frames[:-1] if f.filename != last.filename]
    if called:
        c = called[-1]
        said = f": {c.line.strip()[:200]}" if c.line else ""
        caller = f", called from {os.path.basename(c.filename)} line {c.lineno}{said}"
    return f" (at {os.path.basename(last.filename)} line {last.lineno}{line}{caller})"


def _transposed_shapes(message: str) -> bool:
    """Whether a broadcasting error (NumPy's "could not be broadcast together with shapes
    (4,3) (3,4)", torch's "size of tensor a (3) must match...") names two 2-D shapes that are
    each other's transpose."""
    if "broadcast" not in message:
        return False
    shapes = {tuple(int(d) for d in m) for m in
              re.findall(r"\((\d+),\s*(\d+)\)", message)}
    return any((b, a) in shapes and a != b for a, b in shapes)


def _numpy_line_on_torch(exc: BaseException, code_dir: str) -> bool:
    """Whether torch is in use and the student's function that raised calls NumPy (``np.dot``
    is C code: no NumPy frame shows in the traceback, and torch's message says nothing of it)."""
    if not code_dir or sys.modules.get("torch") is None or \
            not isinstance(exc, (TypeError, RuntimeError)):
        return False
    last = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(code_dir):
            last = tb
        tb = tb.tb_next
    if last is None:
        return False
    # the function's lines up to the one that raised: np.dot may return an object array that
    # fails only a line later
    code = last.tb_frame.f_code
    lines = (linecache.getline(code.co_filename, n)
             for n in range(code.co_firstlineno, last.tb_lineno + 1))
    return any(re.search(r"\b(np|numpy)\.\w+\(", line) for line in lines)


def _numpy_given_tensor(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside NumPy while one of its arguments was a torch tensor:
    ``np.max(x, axis=-1, keepdims=True)`` on the torch backend calls ``x.max(axis=...)``, and
    torch answers with a TypeError that says nothing about NumPy."""
    torch = sys.modules.get("torch")
    if torch is None or not getattr(np, "__file__", None):
        return False
    numpy_dir = os.path.dirname(np.__file__) + os.sep
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.startswith(numpy_dir) and any(
                isinstance(v, torch.Tensor) for v in list(frame.f_locals.values())):
            return True
        tb = tb.tb_next
    return False


__all__ = ["CodeProvider", "MissingName", "Opaque", "Workspace", "describe", "to_wire"]


def missing_name(module: ModuleType, name: str, qualname: str) -> str:
    """What a module of the code under test lacks, said as its file (``library/mgu.py``), a
    class, function or method, and the nearest name it has ("did you mean")."""
    kind = "method" if "." in qualname else "class" if qualname[:1].isupper() else "function"
    owner = module
    for part in qualname.split(".")[:-1]:
        owner = getattr(owner, part, None)
    names = [n for n in dir(owner) if not n.startswith("_")] if owner is not None else []
    near = difflib.get_close_matches(qualname.split(".")[-1], names, n=1, cutoff=0.5)
    guess = f" (did you mean {near[0]}?)" if near else ""
    shown = name.lstrip(".").replace(".", "/") + ".py"
    return (f"{shown} has no {kind} {qualname}{'' if kind == 'class' else '()'}{guess}: keep "
            "the names of the stubs")
