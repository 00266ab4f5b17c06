"""Every returned value judged as it was returned, not as it crossed the wire.

What comes back from the worker is data (:mod:`~nlpdojo_autograder.runtime.channel`): a NumPy
array for a NumPy array, for a torch tensor on a GPU and for an ``array_api_strict`` array
alike, and a Python float decodes to the same 0-d array as a 0-d array does. Judged after that
conversion, a norm returned as ``float(norm)`` or put back on the default device by
``xp.asarray([...])`` kept full marks on NumPy and broke on torch and on a GPU. So the worker
describes each number and array of a result as the code returned it (its namespace, device
and dtype, or "a Python float") and the kinds of the arrays it was given
(:func:`~nlpdojo_autograder.runtime.calls.returned_kinds`), and the grader judges each value
where a check converts it for comparison (:meth:`.context.Context.to_numpy`):

* a call given arrays of the backend (``ctx.asarray``) returns arrays, 0-d ones for single
  numbers, not Python numbers, unless the check declares the value a number (``number=True``,
  a builder's ``numbers=``: a contract such as CS224n's ``float(loss)`` that says so);
* an array returned is of the namespace and on the device of the call's array arguments;
* a floating array returned has the floating dtype of the call's floating arguments.

The description comes from the untrusted worker: code that took the worker over could describe
anything, and gains nothing it could not have by returning the right kinds.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from nlpdojo_autograder.runtime.channel import Token

#: the replies whose values a context keeps described: a check converts what a call returned
#: soon after the call (and the values kept stay alive, so that their ids are not reused)
KEPT_REPLIES = 8

Kind = tuple[str, ...]
#: the Python numbers a kind ``("python", ...)`` names; its other kinds are lists (or tuples)
#: made only of Python numbers (``"list of floats"``) or of 0-d arrays (``"list of 0-d
#: arrays"``), judged as one value
NUMBERS = ("float", "int")


def _kind(value: Any) -> Kind | None:
    """A described kind as a tuple of strings, None where it is not one (a malformed reply)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None
    if value[0] == "python" and len(value) == 2 or value[0] == "array" and len(value) == 4:
        return tuple(value)
    return None


def _sends_backend_arrays(value: Any, depth: int = 0) -> bool:
    """Whether a request's arguments hold an array for the backend (``ctx.asarray``)."""
    if isinstance(value, Token):
        return value.kind == "array" or (depth < 8 and _sends_backend_arrays(value.args,
                                                                             depth + 1))
    if depth < 8 and isinstance(value, (tuple, list)):
        return any(_sends_backend_arrays(v, depth + 1) for v in value)
    if depth < 8 and isinstance(value, dict):
        return any(_sends_backend_arrays(v, depth + 1) for v in value.values())
    return False


def _at(value: Any, path: list) -> tuple[bool, Any]:
    """The part of a decoded result at ``path`` (positions and keys), if there is one."""
    for step in path:
        if isinstance(value, (tuple, list)) and type(step) is int and 0 <= step < len(value):
            value = value[step]
        elif isinstance(value, dict) and type(step) in (str, int) and step in value:
            value = value[step]
        else:
            return False, None
    return True, value


class Returned:
    """The described values of a context's last :data:`KEPT_REPLIES` replies, by identity."""

    def __init__(self) -> None:
        self._replies: deque[dict[int, tuple[Any, Kind, tuple[Kind, ...], bool]]] = deque(
            maxlen=KEPT_REPLIES)
        #: where the last reply's result held a Python number: ``"*"`` for the result itself,
        #: else its position or key (one level), for :meth:`.context.Context.require_arrays`
        self.top_numbers: list[str] = []

    def note(self, args: Any, kwargs: Any, reply: dict) -> None:
        """A reply to a request with these arguments: remember each described value."""
        described = reply.get("returned")
        self.top_numbers = []
        if not isinstance(described, dict):
            return
        given = described.get("inputs", [])
        inputs = tuple(k for k in map(_kind, given if isinstance(given, list) else [])
                       if k is not None and k[0] == "array")
        backend = _sends_backend_arrays(args) or _sends_backend_arrays(kwargs)
        entries = {}
        leaves = described.get("leaves", [])
        for leaf in leaves if isinstance(leaves, list) else []:
            if not (isinstance(leaf, list) and len(leaf) == 2 and isinstance(leaf[0], list)):
                continue
            kind = _kind(leaf[1])
            found, value = _at(reply.get("value"), leaf[0])
            if kind is None or not found:
                continue
            entries[id(value)] = (value, kind, inputs, backend)
            if kind[0] == "python" and kind[1] in NUMBERS and len(leaf[0]) <= 1:
                self.top_numbers.append(str(leaf[0][0]) if leaf[0] else "*")
        self._replies.append(entries)

    def dtype(self, value: Any) -> str | None:
        """The dtype ``value`` had as its call returned it (``"float32"``), None where a call
        did not return it as an array (a check reading it before :meth:`.Context.to_numpy`
        converts floats to float64: a function given no array, whose dtype no argument sets)."""
        for entries in reversed(self._replies):
            entry = entries.get(id(value))
            if entry is not None and entry[0] is value:
                return entry[1][3] if entry[1][0] == "array" else None
        return None

    def problem(self, value: Any, what: str, *, number: bool = False) -> str | None:
        """Why ``value``, if a call returned it, is not what its call should return (None:
        it is, or it was not returned by a call)."""
        for entries in reversed(self._replies):
            entry = entries.get(id(value))
            if entry is not None and entry[0] is value:
                return judge(what, *entry[1:], number=number)
        return None


def _home(inputs: tuple[Kind, ...]) -> Kind | None:
    """The namespace and device a call's results belong to: its array arguments' where they
    share one, else that of its one non-NumPy kind (integer ids sent as NumPy arrays beside
    a layer's tensors); None where there is no telling."""
    places = list(dict.fromkeys(k[1:3] for k in inputs))
    if len(places) == 1:
        return places[0]
    others = [p for p in places if p[0] != "numpy"]
    return others[0] if len(others) == 1 else None


def _floating(dtype: str) -> bool:
    return dtype.startswith(("float", "bfloat", "complex"))


def _array_label(namespace: str, device: str, *, plural: bool = False) -> str:
    """``a torch tensor on cuda:0``; ``torch tensors on cuda:0`` (``plural``)."""
    if namespace == "numpy":
        return "NumPy arrays" if plural else "a NumPy array"
    if namespace == "torch":
        return f"torch tensors on {device}" if plural else f"a torch tensor on {device}"
    return f"{namespace} arrays on device {device}" if plural else \
        f"an {namespace} array on device {device}"


def judge(what: str, kind: Kind, inputs: tuple[Kind, ...], backend: bool, *,
          number: bool = False) -> str | None:
    """Why a value of ``kind`` is not what a call given arrays of ``inputs`` should return
    (``backend``: some were sent as the backend's arrays), or None."""
    home = _home(inputs)
    if kind[0] == "python":
        if number or not backend:
            return None
        given = f", its inputs as {_array_label(*home, plural=True)}" if home else ""
        if kind[1].endswith("of 0-d arrays"):  # one number per item, each an array
            return (f"{what} was returned as a Python {kind[1]}{given}; return one array "
                    "(`xp.stack(norms)` joins 0-d arrays into one): a list is not an array "
                    "of the namespace, so code given it (`xp.max(norms)`, `norms * 2`) fails "
                    "on torch and on a GPU")
        if kind[1] not in NUMBERS:  # a list of Python numbers
            return (f"{what} was returned as a Python {kind[1]}{given}; return one array of "
                    "the inputs' namespace (no `.tolist()`; `xp.stack` of 0-d arrays, not "
                    "`[float(n) ...]` or `.item()`), so that it stays on the device: each "
                    "Python number is copied to the host, which on a GPU waits for the device "
                    "every time")
        return (f"{what} was returned as a Python {kind[1]}{given}; return a 0-d array of "
                "the inputs' namespace (`xp.sum(...)`, not `float(...)` or `.item()`), so "
                "that it stays on the device: a Python number copies it to the host, which "
                "on a GPU waits for the device at every call")
    if home is None:
        return None
    namespace, device, dtype = kind[1:]
    if namespace != home[0]:
        return (f"{what} was returned as {_array_label(namespace, device)}, but its inputs "
                f"are {_array_label(*home, plural=True)}: return an array of the inputs' "
                "namespace and device (`xp = array_namespace(x)`; `xp.stack` or `xp.concat` "
                "to join arrays), not NumPy's or a list")
    if device != home[1]:
        return (f"{what} was returned on device {device}, but its inputs are on {home[1]}: an "
                "array made without `device=` (`xp.asarray([...])`, `xp.zeros(n)`) lands on "
                "the default device, which beside a GPU's inputs is the CPU; build it from the "
                "inputs (`xp.stack` of 0-d arrays) or pass `device=device(x)` (`from "
                "array_api_compat import device`; `self.backend.device` in a layer)")
    floats = {k[3] for k in inputs if k[1:3] == home and _floating(k[3])}
    if _floating(dtype) and len(floats) == 1 and dtype not in floats:
        (expected,) = floats
        return (f"{what} has dtype {dtype}, but its inputs are {expected}: an array made "
                "without `dtype=` takes the namespace's default (float32 on torch); make it "
                f"with the inputs' dtype (`dtype=x.dtype`) or keep the inputs' precision")
    return None
