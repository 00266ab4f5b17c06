"""A layer's state as data, so that a method can be swapped in across the process boundary.

Swapping the reference in for a *method* (``Linear.backward``, say, while a student's model
that uses ``Linear`` is under test) cannot hand the student's object to the grader: only data
crosses (:mod:`.channel`). So the worker sends the object's **state**, the
grader rebuilds an object of the *reference* class from it, runs the reference method, and
sends back the result and what the call changed of the state (:func:`changed`), which the
worker copies into the student's object (parameters updated in place, so a model that holds
them sees the change).

State is ``vars(obj)`` with each value encoded:

* a :class:`~nlpdojo.module.Parameter`: ``{PARAMETER: name, "data": array, "grad": array}``;
* the backend: ``{BACKEND: True}``; the array namespace (``xp``, a module):
  ``{NAMESPACE: True}`` (both become the receiving side's own);
* a sub-module (an object with a ``__dict__`` whose class is defined in the code under test):
  ``{OBJECT: (module, qualname), "state": {...}}``, rebuilt as the *reference's* class of the
  same name (the whole reference method runs, with the reference's sub-layers);
* lists, tuples, dicts of these, arrays, numbers, strings, ``None``: as they are.

Anything else (a function, an open file) cannot be swapped in and raises :class:`StateError`,
naming the attribute. Modules follow the contract of :mod:`nlpdojo.module`: what backward
needs travels in the cache it returns, not on ``self``, which is what makes this possible.

Who rebuilds what: the state comes from the student's worker, so it is untrusted. Objects are
rebuilt only in the reference process (:class:`~.worker.ReferenceWorker`),
never in the grader, and only as classes that :class:`AllowedClasses` lets through: those of
the questions swapped in for the current check, found by their exact name in the module that
defines them (:func:`exact_class`), and the grader's stand-in cells of sequence checks
(:mod:`nlpdojo_autograder.runtime.probes`: grader code, by exact name), never by walking
attributes (``np.lib...`` from a module that imports NumPy reached a library class whose
finaliser deletes a folder). The grader
checks the same before it forwards anything (:func:`named_classes`).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from nlpdojo.arrays import is_torch
from nlpdojo.module import Parameter
from nlpdojo_autograder.runtime.probes import same_array, stand_in_class, stand_in_name

PARAMETER = "__parameter__"
BACKEND = "__backend__"
NAMESPACE = "__namespace__"
OBJECT = "__object__"
#: nesting deeper than this is refused (a cycle, or an attack)
MAX_DEPTH = 16


class StateError(TypeError):
    """An object whose state cannot cross the boundary."""


def capture(obj: Any, *, array: Callable[[Any], Any], backend: Any,
            where: Callable[[type], tuple[str, str] | None]) -> dict[str, Any]:
    """``vars(obj)`` encoded as data. ``array(x)`` encodes a backend array (identity where
    arrays may cross as they are); ``where(cls)`` is ``(module, qualname)`` of a class of the
    code under test, or None for any other class."""
    return _encode_vars(obj, array, backend, where, 0)


def _encode_vars(obj: Any, array: Callable, backend: Any, where: Callable,
                 depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise StateError(f"{type(obj).__name__}: objects nested more than {MAX_DEPTH} deep")
    try:
        attributes = vars(obj)
    except TypeError:
        raise StateError(f"{type(obj).__name__} has no attributes to send") from None
    return {str(k): _encode(v, f"{type(obj).__name__}.{k}", array, backend, where, depth)
            for k, v in attributes.items()}


def _encode(value: Any, label: str, array: Callable, backend: Any, where: Callable,
            depth: int) -> Any:
    if value is backend:
        return {BACKEND: True}
    if isinstance(value, Parameter):
        return {PARAMETER: value.name, "data": array(value.data), "grad": array(value.grad)}
    if isinstance(value, types.ModuleType):
        return {NAMESPACE: True}
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    if isinstance(value, (list, tuple)):  # (as the wire carries them: exactly a list or tuple)
        return (tuple if isinstance(value, tuple) else list)(
            _encode(v, f"{label}[{i}]", array, backend, where, depth + 1)
            for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _encode(v, f"{label}[{k!r}]", array, backend, where, depth + 1)
                for k, v in value.items()}
    encoded = array(value)
    if encoded is not value or _is_array(value):
        return encoded
    located = where(type(value)) or stand_in_name(type(value))
    if located is not None:
        return {OBJECT: list(located),
                "state": _encode_vars(value, array, backend, where, depth + 1)}
    raise StateError(f"{label} is a {type(value).__name__}, which cannot be sent to the grader "
                     "to run the reference in place of your code; keep layer attributes to "
                     "parameters, sub-layers, arrays and numbers")


def _is_plain_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic))


def _is_array(value: Any) -> bool:
    """A NumPy array or scalar, or a backend's array (a torch tensor on any device, an
    ``array_api_strict`` array): where ``array`` leaves arrays as they are (the reference
    process's replies, converted by the channel), they are still arrays, not objects."""
    return _is_plain_array(value) or is_torch(value) or hasattr(value, "__array_namespace__")


def exact_class(module: types.ModuleType, qualname: str) -> type:
    """The class ``qualname`` defined in ``module``, looked up by its exact name in the
    module's own namespace (and, for a nested class, in the enclosing classes' own ``__dict__``),
    never through attributes that lead into other modules; it must say it is that class
    (``__module__`` and ``__qualname__``)."""
    parts = qualname.split(".")
    found: Any = vars(module).get(parts[0])
    for part in parts[1:]:
        found = vars(found).get(part) if isinstance(found, type) else None
    if not isinstance(found, type) or found.__module__ != module.__name__ \
            or found.__qualname__ != qualname:
        raise StateError(f"{_short(module.__name__)}.py defines no class {qualname[:200]}")
    return found


class AllowedClasses:
    """The classes an object from the student's worker may be rebuilt as, during one check: the
    classes of the questions swapped in for it (the swapped method's own class, and the
    sub-layers it holds: an RNN's cell). ``module(name)`` imports a module of the reference.
    Anything else, a class of the question under test above all, is refused: otherwise a
    student's object graph could make a swapped-in reference run that question's reference."""

    def __init__(self, module: Callable[[str], types.ModuleType]) -> None:
        self.module = module
        self.allowed: frozenset[tuple[str, str]] = frozenset()

    def allow(self, pairs: Iterable[Iterable[str]]) -> None:
        """This check's classes, as ``(module, qualname)`` pairs (the grader's list)."""
        self.allowed = frozenset((str(m), str(q)) for m, q in pairs)

    def __call__(self, module: str, qualname: str) -> type:
        stand_in = stand_in_class(module, qualname)  # the grader's own cell of a sequence check
        if stand_in is not None:
            return stand_in
        if (module, qualname) not in self.allowed:
            raise StateError(f"an object of class {qualname[:200]} ({_short(module)}.py) cannot "
                             "be handed to the reference in this check: only layers of the "
                             "questions swapped in for it can")
        return exact_class(self.module(module), qualname)


def named_classes(state: dict[str, Any], label: str = "self"
                  ) -> Iterator[tuple[str, str, str]]:
    """``(where, module, qualname)`` for every object that an object's encoded ``state`` (its
    attributes as they came over the channel: data) asks to be rebuilt; ``where`` is the
    attribute path (``self.cell``), for messages. A malformed object entry raises
    :class:`StateError`. Nothing is imported or built: this is how the grader reads a state
    before it forwards it."""
    for key, item in state.items():
        yield from _named(item, f"{label}.{key}", 0)


def _named(value: Any, label: str, depth: int) -> Iterator[tuple[str, str, str]]:
    if depth > 4 * MAX_DEPTH:
        raise StateError(f"{label}: state nested more than {4 * MAX_DEPTH} deep")
    if isinstance(value, dict) and OBJECT in value:
        named, state = value.get(OBJECT), value.get("state")
        if not (isinstance(named, (list, tuple)) and len(named) == 2
                and all(isinstance(n, str) for n in named) and isinstance(state, dict)):
            raise StateError(f"{label}: a malformed object entry")
        yield label, named[0], named[1]
        for key, item in state.items():
            yield from _named(item, f"{label}.{key}", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _named(item, f"{label}[{key!r}]", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _named(item, f"{label}[{i}]", depth + 1)


def _short(module: str) -> str:
    """``..library.rnn`` or ``nlpdojo_solutions.library.rnn`` -> ``library/rnn`` (a file)."""
    parts = [p for p in module.split(".") if p]
    return "/".join(parts[-2:] if len(parts) > 2 and parts[-2] == "library" else parts[-1:])


def rebuild(cls: type, state: dict[str, Any], *, backend: Any,
            find_class: Callable[[str, str], type]) -> Any:
    """An object of ``cls`` (the reference's class) with the state ``state`` (decoded arrays
    already on ``backend``); ``find_class(module, qualname)`` finds a sub-module's class."""
    obj = object.__new__(cls)
    for name, value in state.items():
        setattr(obj, name, _decode(value, backend, find_class, 0))
    return obj


def _decode(value: Any, backend: Any, find_class: Callable, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise StateError(f"state nested more than {MAX_DEPTH} deep")
    if isinstance(value, dict) and PARAMETER in value:
        p = Parameter(value["data"], str(value[PARAMETER] or ""))
        p.grad = value["grad"]
        return p
    if isinstance(value, dict) and value.get(NAMESPACE) is True:
        return backend.xp
    if isinstance(value, dict) and value.get(BACKEND) is True:
        return backend
    if isinstance(value, dict) and OBJECT in value:
        named, state = value[OBJECT], value.get("state")
        if not (isinstance(named, (list, tuple)) and len(named) == 2
                and isinstance(state, dict)):
            raise StateError("a malformed object entry in the state")
        return rebuild(find_class(str(named[0]), str(named[1])), state, backend=backend,
                       find_class=find_class)
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v, backend, find_class, depth + 1) for v in value)
    if isinstance(value, dict):
        return {k: _decode(v, backend, find_class, depth + 1) for k, v in value.items()}
    return value


def changed(sent: dict[str, Any], after: dict[str, Any], *,
            host: Callable[[Any], np.ndarray]) -> dict[str, Any]:
    """What of an object's state the reference method changed: the attributes of ``after``
    (:func:`capture` of the object after the call, arrays as they are) that differ from
    ``sent`` (the state as it came over the channel, arrays as NumPy arrays or as
    ``Token("array", (host array, dtype))``, left unchanged by the call: the object was
    rebuilt from copies), a sub-module's entry holding only its own changed attributes. The reply
    carries this, not the whole state: a forward that changes nothing sends back nothing, and
    the student's object keeps its own arrays (:func:`apply` merges what comes). ``host(x)``
    is a backend array as a NumPy array. Whatever cannot be compared is counted changed."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        if key not in sent:
            out[key] = value
            continue
        before = sent[key]
        if _is_object(before) and _is_object(value) and \
                list(before[OBJECT]) == list(value[OBJECT]) and \
                isinstance(before.get("state"), dict):
            inner = changed(before["state"], value["state"], host=host)
            if inner:
                out[key] = {OBJECT: value[OBJECT], "state": inner}
        elif not _unchanged(before, value, host, 0):
            out[key] = value
    return out


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and OBJECT in value and isinstance(value.get("state"), dict)


def _unchanged(sent: Any, after: Any, host: Callable[[Any], np.ndarray], depth: int) -> bool:
    """``after`` (as captured) holds what ``sent`` (as received) held: arrays equal in shape,
    dtype and every value (NaN equal to NaN), containers of one type and length, the same
    numbers and strings. False where unsure."""
    if depth > 4 * MAX_DEPTH:
        return False
    a = _sent_array(sent)
    if a is not None:
        if not _is_array(after):
            return False
        return same_array(a, host(after))
    if isinstance(sent, dict) and isinstance(after, dict):
        return sent.keys() == after.keys() and all(
            _unchanged(sent[k], after[k], host, depth + 1) for k in sent)
    if isinstance(sent, (list, tuple)) and type(sent) is type(after):
        return len(sent) == len(after) and all(
            _unchanged(s, a, host, depth + 1) for s, a in zip(sent, after, strict=True))
    if sent is None or isinstance(sent, (bool, int, float, str)):
        return type(sent) is type(after) and sent == after
    return False


def _sent_array(sent: Any) -> np.ndarray | None:
    """The array of a state's entry as it came: sent plain (the NumPy backend's), or a
    token's; None for anything else."""
    if isinstance(sent, np.ndarray):
        return sent
    args = getattr(sent, "args", None)
    if getattr(sent, "kind", None) == "array" and isinstance(args, tuple) and args and \
            isinstance(args[0], np.ndarray):
        return args[0]
    return None


def apply(obj: Any, state: dict[str, Any], *, array: Callable[[Any], Any]) -> None:
    """Copy ``state`` (from the grader, after the reference method ran) into ``obj``: each
    parameter's data and grad in place (the Parameter object is kept: optimizers and models
    hold it), sub-modules and containers recursively, anything else set as it is. ``array(x)``
    turns a host array into one of the worker's backend."""
    for name, value in state.items():
        setattr(obj, name, _merge(getattr(obj, name, None), value, array))


def _merge(current: Any, value: Any, array: Callable[[Any], Any]) -> Any:
    """The value an attribute holds after the call: ``current`` updated where it can be (so
    that every holder of a parameter, a sub-layer or a list sees the change)."""
    if isinstance(value, dict) and PARAMETER in value:
        target = current if isinstance(current, Parameter) else Parameter(
            array(value["data"]), str(value[PARAMETER] or ""))
        target.data = array(value["data"])
        target.grad = array(value["grad"])
        return target
    if isinstance(value, dict) and (value.get(NAMESPACE) is True or value.get(BACKEND) is True):
        return current  # the worker's own backend and namespace stay
    if isinstance(value, dict) and OBJECT in value:
        if current is None or not hasattr(current, "__dict__"):
            raise StateError(f"the reference created a {value[OBJECT][1]}, which cannot be "
                             "created in your process")
        apply(current, value["state"], array=array)
        return current
    if isinstance(value, list) and isinstance(current, list) and len(current) == len(value):
        current[:] = [_merge(c, v, array) for c, v in zip(current, value, strict=True)]
        return current
    if isinstance(value, tuple) and isinstance(current, tuple) and len(current) == len(value):
        return tuple(_merge(c, v, array) for c, v in zip(current, value, strict=True))
    if isinstance(value, dict) and isinstance(current, dict):
        merged = {k: _merge(current.get(k), v, array) for k, v in value.items()}
        current.clear()
        current.update(merged)
        return current
    if isinstance(value, (list, tuple)):
        return type(value)(_merge(None, v, array) for v in value)
    if isinstance(value, dict):
        return {k: _merge(None, v, array) for k, v in value.items()}
    return array(value) if _is_plain_array(value) else value
