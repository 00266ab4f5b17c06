"""The wire between the grader and the process that runs a student's code.

Everything that crosses it is *data*: a tree of ``None``, booleans, numbers, strings, lists,
tuples, dicts and NumPy arrays of plain numeric dtypes, plus a few tagged tokens that the
trusted side uses to name things in the worker (the backend, a function, a module, a file in
the scratch folder). No pickle: decoding a reply can never run code, and every reply is
validated and size-capped before it is used (docs/security.md).

A frame is ``MAGIC | header length (u32) | buffers length (u64) | header (JSON) | buffers``;
the header is the encoded tree, in which each array names its slice of the buffers.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import re
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo.arrays import is_torch, to_numpy

MAGIC = b"NLPD"
#: a pickled frame: only ever sent by the grader to the worker (the direction in which the
#: reader trusts the writer), never accepted from a worker
MAGIC_PICKLE = b"NLPP"
_PREFIX = struct.Struct("!4sIQ")
#: dtypes that may cross the wire (no objects, no structured or void types)
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                    "uint64", "float16", "float32", "float64"})
MAX_HEADER_BYTES = 32 * 2**20
MAX_DEPTH = 32
MAX_NODES = 200_000
#: JSON values a header may hold, counted before it is parsed (a part of a reply is a few of
#: them: ``["v", 0.5]`` is three, an array five and one per dimension): parsing builds a
#: Python object per value, so the count bounds what parsing can allocate (a 32 MiB header of
#: ``[],[],...`` would otherwise become 1.3 GB of lists before a single part was counted)
MAX_JSON_VALUES = 8 * MAX_NODES
#: strings inside a reply (messages, reprs) are cut to this many characters
MAX_STRING = 20_000
#: an array may declare at most this many dimensions (NumPy 1's own limit)
MAX_NDIM = 32
#: an array may declare at most this many elements, and no dimension larger (a zero-size
#: array declares no bytes, so its dimensions need a cap of their own): 1 GiB of float64, the
#: most a reply may carry
MAX_ELEMENTS = 1 << 27
#: a sparse matrix may declare at most this many elements when dense (rows x columns: the
#: grader compares it dense), and no side larger (SciPy's CSR form allocates a row index of
#: that length): 256 MiB of float64, whatever the few bytes of entries that came with it
MAX_DENSE_ELEMENTS = 1 << 25
#: the numbers one frame may hold in all, each array counted by its elements (the grader
#: compares them as float64: a float16 array costs it four times its bytes) and each sparse
#: matrix dense: 256 MiB of float64, whatever the frame's bytes. Without a total, 20 empty
#: sparse matrices of a few bytes each, each under :data:`MAX_DENSE_ELEMENTS`, became 5 GiB
#: in the grader
MAX_FRAME_ELEMENTS = 1 << 25
#: the most one read from the pipe takes: a frame's bytes are gathered as they arrive, never
#: allocated at the length its prefix declares
READ_CHUNK = 1 << 20


class ChannelError(Exception):
    """The other side sent something that is not a valid frame (or closed the channel)."""


class ChannelClosed(ChannelError):
    """End of file: the other process is gone."""


class ChannelTimeout(ChannelError):
    """No complete frame before the deadline."""


class TooLarge(ChannelError):
    """A frame, an array or a sparse matrix declares more than the receiving side accepts.

    Raised before anything of the declared size is allocated: a declaration costs the sender
    a few bytes, its memory would be the receiver's."""


@dataclasses.dataclass(frozen=True)
class Token:
    """A name the trusted side sends for something that only exists in the worker.

    ``kind``: ``backend`` (the backend object), ``array`` (a host array the worker turns into
    a backend array: ``args = (array, dtype or None)``), ``function`` (``args = (where,
    module, qualname)`` with ``where`` ``student`` or ``given``), ``module`` (the student's
    module ``args[0]``), ``path`` (a file in the check's scratch folder), ``call`` (``args =
    (function token, positional tuple, keyword dict)``, evaluated in the worker), ``object``
    (``args = (module, class qualname, state)``: an object of the code under test as data,
    rebuilt as the receiving side's class; :mod:`.objects`).
    """

    kind: str
    args: tuple = ()


TOKEN_KINDS = frozenset({"backend", "array", "function", "module", "path", "call", "object"})


@dataclasses.dataclass
class Opaque:
    """A value the worker could not put on the wire (a function, an arbitrary object)."""

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


class Record(dict):
    """A dataclass instance from the worker, as a dict whose fields read as attributes."""

    type_name: str = ""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{self.type_name or 'record'} has no field {name!r}") from None


@dataclasses.dataclass
class Sparse:
    """A SciPy sparse matrix in COO form (``to_scipy()`` rebuilds it)."""

    shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    data: np.ndarray

    def to_scipy(self) -> Any:
        """The CSR matrix. Its row index has an entry per row, so each side is checked first
        (:class:`TooLarge`); its size otherwise follows the entries, which are real bytes."""
        import scipy.sparse as sp

        self._check(dense=False)
        return sp.coo_matrix((self.data, (self.row, self.col)), shape=self.shape).tocsr()

    def todense(self) -> np.ndarray:
        """The dense matrix, refused (:class:`TooLarge`) when its declared shape holds more
        than :data:`MAX_DENSE_ELEMENTS`: a few bytes of entries may declare any shape."""
        self._check(dense=True)
        dense = np.zeros(self.shape, self.data.dtype)
        np.add.at(dense, (self.row, self.col), self.data)
        return dense

    def _check(self, *, dense: bool) -> None:
        if not is_shape(self.shape, 2):
            raise ChannelError(f"a sparse matrix of shape {self.shape!r:.100}")
        _refuse(sparse_shape_problem(self.shape, dense=dense))


def is_shape(shape: Any, ndim: int | None = None) -> bool:
    """Whether ``shape`` is a list or tuple of sizes (non-negative ints), ``ndim`` of them."""
    return isinstance(shape, (list, tuple)) and (ndim is None or len(shape) == ndim) and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)


def sparse_shape_problem(shape: tuple[int, int] | list[int], *, dense: bool = True
                         ) -> str | None:
    """Why a sparse matrix of declared ``shape`` (two sizes) is not accepted (``None``: it
    is): a side over :data:`MAX_DENSE_ELEMENTS` (its CSR form allocates a row index that
    long), or, where it is to be ``dense``, more than that many elements."""
    rows, cols = shape
    what = f"your code returned a {rows:,}×{cols:,} sparse matrix"
    if dense and rows * cols > MAX_DENSE_ELEMENTS:
        return (f"{what} ({rows * cols:,} elements when dense); at most "
                f"{MAX_DENSE_ELEMENTS:,} elements are accepted")
    if max(rows, cols) > MAX_DENSE_ELEMENTS:
        return f"{what}; at most {MAX_DENSE_ELEMENTS:,} rows or columns are accepted"
    return None


def array_shape_problem(shape: tuple[int, ...] | list[int], count: int | None = None
                        ) -> str | None:
    """Why an array of declared ``shape`` (sizes; ``count``, their product, where the caller
    has it) is not accepted (``None``: it is): more than :data:`MAX_NDIM` dimensions, or than
    :data:`MAX_ELEMENTS` elements (or one size alone larger: a zero-size array declares no
    bytes)."""
    if len(shape) > MAX_NDIM:
        return (f"your code returned an array of {len(shape)} dimensions; at most {MAX_NDIM} "
                "are accepted")
    count = math.prod(shape) if count is None else count
    # (where there are elements no size exceeds their count: one size alone can be larger
    # only beside a 0)
    if count > MAX_ELEMENTS or not count and any(s > MAX_ELEMENTS for s in shape):
        return (f"your code returned an array of shape {'×'.join(f'{s:,}' for s in shape)} "
                f"({count:,} elements); at most {MAX_ELEMENTS:,} elements are accepted")
    return None


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise TooLarge(problem)


def map_tree(value: Any, leaf: Any) -> Any:
    """``value`` with ``leaf(x)`` applied to everything that is not a list, tuple or dict
    (those are followed, their type kept)."""
    if isinstance(value, (list, tuple)):
        items = [map_tree(v, leaf) for v in value]
        return items if type(value) is list else type(value)(items)
    if isinstance(value, dict):
        return {k: map_tree(v, leaf) for k, v in value.items()}
    return leaf(value)


def is_backend_array(x: Any) -> bool:
    """Whether ``x`` is an array of a backend other than NumPy (a tensor, an array of the
    array API's strict namespace)."""
    if isinstance(x, np.ndarray):
        return False
    return is_torch(x) or hasattr(x, "__array_namespace__")


def to_wire(obj: Any) -> Any:
    """``Encoder.convert``: backend arrays as NumPy arrays (dtype kept), sparse matrices in COO
    form; ``NotImplemented`` for anything else."""
    if is_backend_array(obj):  # a tensor (any device), an array_api_strict array
        return to_numpy(obj, copy=False)
    if type(obj).__module__.startswith("scipy.sparse") and hasattr(obj, "tocoo"):
        coo = obj.tocoo()
        return Sparse(tuple(int(s) for s in coo.shape), np.asarray(coo.row, np.int64),
                      np.asarray(coo.col, np.int64), np.asarray(coo.data))
    return NotImplemented


# -- encoding ---------------------------------------------------------------------------------
#: NumPy's scalar types (``np.float64``...), each sent as a 0-d array (``np.float64`` as a
#: float, which it is)
_NUMPY_SCALARS = frozenset(t for t in np.sctypeDict.values() if issubclass(t, np.generic))

#: ``dtype.name`` by dtype: NumPy computes the name in Python each time it is asked (4 us,
#: a third of encoding a layer's call-back); a few dtypes are ever seen, the cache is capped
_DTYPE_NAMES: dict[np.dtype, str] = {}
#: the wire's dtypes by name (decoding)
_WIRE_DTYPES = {name: np.dtype(name) for name in DTYPES}


def dtype_name(dtype: np.dtype) -> str:
    """``dtype.name``, cached per dtype."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = dtype.name
        if len(_DTYPE_NAMES) < 256:
            _DTYPE_NAMES[dtype] = name
    return name


@dataclasses.dataclass(frozen=True)
class _Fields:
    """A dataclass instance made plain (:func:`plain`): its class's name, its fields."""

    type_name: str
    fields: tuple[tuple[str, Any], ...]


@dataclasses.dataclass(frozen=True)
class _Converted:
    """A backend array made plain (:func:`plain`): the NumPy array ``convert`` gave for it. (Not
    the NumPy array itself: the worker's rule that code given backend arrays returns backend
    arrays, not NumPy's, still reads it as the backend array it was.)"""

    array: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Unsendable:
    """What :func:`plain` makes of a value the wire cannot carry: why (sent as ``Opaque``)."""

    why: str


def _type_name(obj: Any) -> str:
    # read off the type as ``type`` keeps it: a metaclass cannot answer for it
    return type.__dict__["__name__"].__get__(type(obj), type)


def _plain_one(obj: Any, convert: Any) -> Any:
    """``obj``, not of a type the encoder sends as it is (:func:`_exact`), as one that is: a
    subclass of a container as the container (its items as its own ``__iter__`` or ``items``
    gives them), of a number or a string as the number or string it holds, a backend array
    as ``convert`` gives it, a dataclass instance as its fields, anything else as what
    cannot be sent. The code of the submission this takes (a subclass's ``__iter__``, a
    field's property, a tensor subclass's conversion) runs here."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        return int.__int__(obj)  # the number itself: no method of the subclass runs
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, bytes):
        return bytes.__bytes__(obj)
    if isinstance(obj, (np.ndarray, np.generic)):
        return np.asarray(obj)
    if isinstance(obj, tuple):
        return tuple(obj)
    if isinstance(obj, list):
        return list(obj)
    if isinstance(obj, dict):
        return dict(obj.items())
    if convert is not None:
        converted = convert(obj)
        if type(converted) is np.ndarray:
            return _Converted(converted)
        if converted is not NotImplemented:
            return converted
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _Fields(_type_name(obj), tuple((f.name, getattr(obj, f.name, None))
                                              for f in dataclasses.fields(obj)))
    return _Unsendable(_type_name(obj))


def _key(key: Any) -> Any:
    """A dict's key as sent (a str or an int, exactly), or None where it cannot be."""
    if type(key) is str or type(key) is int:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return int.__int__(key)
    return None


def plain(obj: Any, convert: Any = None, depth: int = 0) -> Any:
    """``obj`` as the wire carries it, a copy: every part of a type the encoder sends as it
    is (see :func:`_plain_one` for what becomes of the others), every container and array
    new. Encoding what this returns runs no code of the submission, and nothing the
    submission still holds is part of it; so the worker calls it on what a counted call
    returned *inside* the count (:mod:`.probes`): a list subclass whose ``__iter__`` does the
    work would otherwise do it while the reply is encoded, after the count, uncounted, and a
    finalizer run after the count could fill in an array returned empty."""
    if depth > MAX_DEPTH:
        return _Unsendable("a structure nested too deeply")
    if not _exact(obj):
        obj = _plain_one(obj, convert)
        if not _exact(obj):  # (a converter's odd answer)
            return _Unsendable(_type_name(obj))
    kind = type(obj)
    if kind is tuple or kind is list:
        return kind(plain(x, convert, depth + 1) for x in obj)
    if kind is dict:
        items = [(_key(k), k, v) for k, v in obj.items()]
        odd = next((k for sent, k, _ in items if sent is None), None)
        if odd is not None:
            return _Unsendable(f"a dict with a {_type_name(odd)} key")
        return {sent: plain(v, convert, depth + 1) for sent, _, v in items}
    if kind is _Fields:
        return _Fields(obj.type_name, tuple((name, plain(v, convert, depth + 1))
                                            for name, v in obj.fields))
    if kind is Token:
        return Token(obj.kind, plain(obj.args, convert, depth + 1))
    # arrays copied: code of the submission that runs later (a finalizer) cannot write into
    # what is sent, nor into a tensor's memory a converted array shares
    if kind is np.ndarray:
        return obj.copy()
    if kind is _Converted:
        return _Converted(obj.array.copy())
    if kind is Sparse:
        return Sparse(obj.shape, obj.row.copy(), obj.col.copy(), obj.data.copy())
    return obj


_SCALARS = (type(None), bool, int, float, str, bytes, np.ndarray, np.float64)
_CONTAINERS = (tuple, list, dict, Token, Sparse, _Fields, _Converted, _Unsendable)


def _exact(obj: Any) -> bool:
    """Whether ``obj`` is of a type the encoder sends without running any method of it."""
    kind = type(obj)
    return kind in _SCALARS or kind in _CONTAINERS or kind in _NUMPY_SCALARS


class Encoder:
    """Turns a tree into (header, buffers). ``convert(obj)`` (the worker's) turns a backend
    array into a NumPy one, or returns ``NotImplemented`` for anything it does not know.

    Only values of exactly the types the wire carries are encoded as they are; any other
    (a subclass, a backend array, a dataclass instance) is made one first (:func:`_plain_one`),
    which may run its code. A value that :func:`plain` has made plain runs none."""

    def __init__(self, convert: Any = None) -> None:
        self.convert = convert
        self.buffers: list[bytes | memoryview] = []
        self.size = 0

    def encode(self, obj: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return ["?", "a structure nested too deeply"]
        kind = type(obj)
        if obj is None or kind is bool or kind is str:
            return ["v", obj]
        if kind is int:
            return ["v", obj] if -2**63 <= obj < 2**64 else ["?", "an int too large"]
        if kind is float or kind is np.float64:
            # float(obj): repr(np.float64(inf)) is "np.float64(inf)", not "inf"
            return ["f", repr(float(obj))] if not math.isfinite(obj) else ["v", float(obj)]
        if kind is bytes:
            return self._array(np.frombuffer(obj, np.uint8), "bytes")
        if kind is np.ndarray:
            return self._array(obj)
        if kind in _NUMPY_SCALARS:
            return self._array(np.asarray(obj))
        if kind is Token:
            return ["T", obj.kind, [self.encode(a, depth + 1) for a in obj.args]]
        if kind is Sparse:
            return ["S", list(obj.shape), self._array(obj.row), self._array(obj.col),
                    self._array(obj.data)]
        if kind is tuple:
            return ["t", [self.encode(x, depth + 1) for x in obj]]
        if kind is list:
            return ["l", [self.encode(x, depth + 1) for x in obj]]
        if kind is dict:
            items = []
            for k, v in obj.items():
                key = _key(k)
                if key is None:
                    return ["?", f"a dict with a {_type_name(k)} key"]
                items.append([key, self.encode(v, depth + 1)])
            return ["d", items]
        if kind is _Fields:
            return ["r", obj.type_name, [[name, self.encode(v, depth + 1)]
                                         for name, v in obj.fields]]
        if kind is _Converted:
            return self._array(obj.array)
        if kind is _Unsendable:
            return ["?", obj.why]
        return self.encode(_plain_one(obj, self.convert), depth + 1)

    def _array(self, arr: np.ndarray, tag: str = "a") -> Any:
        name = dtype_name(arr.dtype)
        if name not in DTYPES:
            return ["?", f"an array of dtype {arr.dtype}"]
        # (in the wire's byte order: a big-endian float64 is named float64 too)
        data = np.ascontiguousarray(arr, dtype=_WIRE_DTYPES[name])
        view = memoryview(data).cast("B") if data.size else b""
        self.buffers.append(view)
        self.size += len(view)
        return [tag, name, list(arr.shape), len(view)]


#: a header's JSON: compact, ASCII, and without the cycle check (40 % of the encoding of a
#: call-back's header): the tree is the encoder's own, fresh lists and scalars, no cycle
_HEADER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def encode(obj: Any, convert: Any = None) -> list[bytes | memoryview]:
    """The frame for ``obj``, as a list of byte chunks to write in order."""
    encoder = Encoder(convert)
    tree = encoder.encode(obj)
    header = _HEADER.encode(tree).encode()
    return [_PREFIX.pack(MAGIC, len(header), encoder.size), header, *encoder.buffers]


# -- decoding ---------------------------------------------------------------------------------
#: a JSON string (its escapes included), for counting a header's values outside strings
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def json_values_bound(header: bytes | bytearray) -> int:
    """An upper bound on the number of values (keys included) in the ASCII JSON text
    ``header``, found without parsing it: a value is the whole text, or follows a ``[``, a
    ``{`` or a ``,`` outside a string. Strings are found as JSON finds them (a ``"`` outside a
    string opens one, the first ``"`` not escaped closes it), so the bound holds for any text
    that ``json.loads`` accepts, and for the part it reads of any text it refuses. (ASCII: in
    UTF-16, which ``json.loads`` would also take from bytes, a character may hold a ``"``
    byte.)"""
    outside = _JSON_STRING.sub(b'""', header)
    return 1 + outside.count(b"[") + outside.count(b"{") + outside.count(b",")


def parse_header(header: bytes | bytearray) -> Any:
    """The header's tree, its size counted before it is parsed (:data:`MAX_JSON_VALUES`)."""
    if len(header) > MAX_HEADER_BYTES:
        raise TooLarge(f"the reply's header is too large ({len(header):,} bytes; at most "
                       f"{MAX_HEADER_BYTES:,} are accepted)")
    if not header.isascii():  # the encoder writes ASCII (json.dumps escapes the rest)
        raise ChannelError("the reply's header is not ASCII")
    # a value takes a character and is parted from the one before by another: a header of
    # 2 x MAX_JSON_VALUES characters or fewer needs no counting
    if len(header) > 2 * MAX_JSON_VALUES and json_values_bound(header) > MAX_JSON_VALUES:
        raise TooLarge(f"the reply has too many parts (at most {MAX_NODES:,} are accepted)")
    try:
        return json.loads(header.decode("ascii"))
    except (ValueError, RecursionError) as exc:
        raise ChannelError("the reply's header is not valid JSON") from exc


class _Decoder:
    """Turns a parsed header into the value it encodes. ``take(n)``: the next ``n`` bytes of
    the frame's buffers, as a ``bytearray`` of the decoder's own (read from the pipe as they
    arrive, or copied from a frame in memory); ``limit``: how many bytes the frame's buffers
    hold. Every array's declared shape and size is checked before its bytes are taken, and the
    parts are counted as they are decoded."""

    def __init__(self, take: Callable[[int], bytearray], limit: int,
                 allow_tokens: bool) -> None:
        self.take = take
        self.limit = limit
        self.offset = 0
        self.nodes = 0
        self.elements = 0
        self.counting = True
        self.allow_tokens = allow_tokens

    def finish(self, tree: Any) -> Any:
        value = self.decode(tree)
        if self.offset != self.limit:
            raise ChannelError("the reply carries bytes that no array claims")
        return value

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH + 2 or self.nodes > MAX_NODES:
            raise ChannelError("the reply is nested too deeply or has too many parts")
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise ChannelError("malformed reply")
        # the parts a frame holds most (values, arrays, dicts, tuples, tokens) are looked for
        # first, each part read in place (a slice of every node was a tenth of decoding)
        tag, size = node[0], len(node)
        if tag == "v":
            if size == 2:
                value = node[1]
                if value is None or isinstance(value, (bool, int, float, str)):
                    return value[:MAX_STRING] if isinstance(value, str) else value
        elif tag == "a" or tag == "bytes":
            if size == 4:
                arr = self._array(node[1], node[2], node[3])
                return arr.tobytes() if tag == "bytes" else arr
        elif tag == "d":
            if size == 2 and isinstance(node[1], list):
                out = {}
                for pair in node[1]:
                    if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(
                            pair[0], (str, int)) or isinstance(pair[0], bool)):
                        raise ChannelError("malformed dict in reply")
                    out[pair[0]] = self.decode(pair[1], depth + 1)
                return out
        elif tag == "t" or tag == "l":
            if size == 2 and isinstance(node[1], list):
                items = [self.decode(x, depth + 1) for x in node[1]]
                return tuple(items) if tag == "t" else items
        elif tag == "T":
            if self.allow_tokens and size == 3 and isinstance(node[1], str) and \
                    node[1] in TOKEN_KINDS:
                return Token(node[1], tuple(self.decode(x, depth + 1) for x in node[2]))
        elif tag == "f":
            if size == 2 and node[1] in ("nan", "inf", "-inf"):
                return float(node[1])
        elif tag == "r":
            if size == 3 and isinstance(node[2], list):
                record = Record()
                record.type_name = str(node[1])[:100]
                for pair in node[2]:
                    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(
                            pair[0], str):
                        raise ChannelError("malformed record in reply")
                    record[pair[0]] = self.decode(pair[1], depth + 1)
                return record
        elif tag == "S":
            if size == 5:
                return self._sparse(node[1:], depth)
        elif tag == "?":
            if size == 2 and isinstance(node[1], str):
                return Opaque(node[1][:200])
        raise ChannelError(f"unexpected part {tag!r} in reply")

    def _sparse(self, rest: list, depth: int) -> Sparse:
        """A sparse matrix: its declared shape is checked before its entries are read, and
        its indices against that shape (a densified matrix may not be larger than
        :data:`MAX_DENSE_ELEMENTS`, whatever few entries it holds)."""
        shape = rest[0]
        if not is_shape(shape, 2):
            raise ChannelError("malformed sparse matrix in reply")
        _refuse(sparse_shape_problem(shape))
        self._count(shape[0] * shape[1])
        self.counting = False  # its entries are in its dense size (real bytes besides)
        row, col, data = (self.decode(x, depth + 1) for x in rest[1:])
        self.counting = True
        if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in (row, col, data)) or \
                not row.size == col.size == data.size or not all(
                    np.issubdtype(a.dtype, np.integer) for a in (row, col)):
            raise ChannelError("malformed sparse matrix in reply")
        for index, size in ((row, shape[0]), (col, shape[1])):
            if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
                raise ChannelError("a sparse matrix in the reply has entries outside its shape")
        return Sparse((shape[0], shape[1]), row, col, data)

    def _count(self, elements: int) -> None:
        """Add an array's or a sparse matrix's numbers to the frame's total, refused
        (:class:`TooLarge`) beyond :data:`MAX_FRAME_ELEMENTS`, before any is allocated."""
        self.elements += elements if self.counting else 0
        if self.elements > MAX_FRAME_ELEMENTS:
            raise TooLarge(f"your code returned more than {MAX_FRAME_ELEMENTS:,} numbers in "
                           "all (arrays and sparse matrices counted dense) from one call")

    def _array(self, dtype: Any, shape: Any, nbytes: Any) -> np.ndarray:
        # what is_shape and array_shape_problem check, inline (exact types: what JSON parses
        # to; a bool is not an int here): a fifth less to decode an RNN's forward reply of 61
        # arrays (0.42 to 0.34 ms), which a training's every window receives
        wire = _WIRE_DTYPES.get(dtype) if type(dtype) is str else None
        if wire is None or type(shape) is not list or type(nbytes) is not int:
            raise ChannelError("malformed array in reply")
        if len(shape) > MAX_NDIM:
            _refuse(array_shape_problem(shape))
        count = 1
        for size in shape:
            if type(size) is not int or size < 0:
                raise ChannelError("malformed array shape in reply")
            count *= size
        if count > MAX_ELEMENTS or not count:
            _refuse(array_shape_problem(shape, count))
        self._count(count)
        if count * wire.itemsize != nbytes or self.offset + nbytes > self.limit:
            raise ChannelError("array sizes in reply do not add up")
        raw = self.take(nbytes)
        self.offset += nbytes
        # the bytearray is this array's own: a view of it, no copy
        return np.frombuffer(raw, dtype=wire).reshape(shape)


def decode(header: bytes | bytearray, buffers: bytes | bytearray | memoryview, *,
           allow_tokens: bool = False) -> Any:
    """The value of a frame held in memory (its header and buffers)."""
    view = memoryview(buffers).cast("B")
    decoder: _Decoder

    def take(n: int) -> bytearray:
        start = decoder.offset
        return bytearray(view[start:start + n])

    decoder = _Decoder(take, len(view), allow_tokens)
    return decoder.finish(parse_header(header))


# -- a channel over two file descriptors ----------------------------------------------------
class Channel:
    """Frames over a pair of pipes. ``max_bytes`` caps what one received frame may hold;
    ``allow_tokens``: whether received frames may hold tokens (only the worker accepts them:
    the trusted side never takes a token from the worker)."""

    def __init__(self, read_fd: int, write_fd: int, *, max_bytes: int = 1 << 30,
                 allow_tokens: bool = False, convert: Any = None, send_pickles: bool = False,
                 accept_pickles: bool = False) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.max_bytes = max_bytes
        self.allow_tokens = allow_tokens
        self.convert = convert
        #: the grader writes pickles to the worker (fast; the worker trusts the grader) and
        #: reads only the data codec from it
        self.send_pickles = send_pickles
        self.accept_pickles = accept_pickles

    def send(self, obj: Any, deadline: float | None = None) -> None:
        """Write one frame. With a ``deadline`` the pipe is written without blocking, so a
        reader that stopped reading (a worker stuck in a loop) cannot stall the writer."""
        if self.send_pickles:
            data = pickle.dumps(obj, protocol=5)
            chunks: list[Any] = [_PREFIX.pack(MAGIC_PICKLE, 0, len(data)), data]
        else:
            chunks = encode(obj, self.convert)
        self.send_frame(chunks, deadline)

    def send_frame(self, chunks: list[bytes | memoryview], deadline: float | None = None
                   ) -> None:
        """Write one frame already encoded (:func:`encode` with this channel's ``convert``).
        A frame of up to :data:`COALESCE_BYTES` goes in one write: the reader then wakes once
        for it, not once per array (a call-back's round trip is mostly such wake-ups)."""
        if sum(memoryview(c).nbytes for c in chunks) <= COALESCE_BYTES:
            chunks = [b"".join(chunks)]
        if deadline is not None:
            os.set_blocking(self.write_fd, False)
        poller = select.poll()
        poller.register(self.write_fd, select.POLLOUT | select.POLLERR | select.POLLHUP)
        for chunk in chunks:
            # a memoryview, never the bytes themselves: slicing bytes copies what is left, and a
            # frame larger than the pipe goes in pipe-sized writes (quadratic in its length)
            view = memoryview(chunk).cast("B")
            while len(view):
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ChannelTimeout("the other side does not read")
                    if not poller.poll(int(min(left, 0.05) * 1000) + 1):
                        continue
                try:
                    written = os.write(self.write_fd, view[:1 << 20])
                except BlockingIOError:
                    continue
                except BrokenPipeError as exc:
                    raise ChannelClosed("the other side closed the channel") from exc
                view = view[written:]

    def recv(self, deadline: float | None = None, *, on_wait: Any = None) -> Any:
        """The next frame's value. ``deadline`` (``time.monotonic()``) bounds the wait;
        ``on_wait()`` is called about every 50 ms while waiting (the memory watch).

        What the prefix declares is a claim of the sender's, so nothing is allocated at its
        length: the header is read (its length capped first) and counted before it is parsed,
        each array's shape is checked before its bytes are taken, and bytes are gathered only
        as they arrive (:class:`_FrameReader`). A frame refused part-way leaves the channel out
        of step: the caller stops the worker (``RemoteSubject``)."""
        reader = _FrameReader(self.read_fd, deadline, on_wait)
        magic, header_len, buffers_len = _PREFIX.unpack(reader.take(_PREFIX.size))
        if magic == MAGIC_PICKLE and self.accept_pickles:
            reader.left = buffers_len
            return pickle.loads(reader.take(buffers_len))
        if magic != MAGIC:
            raise ChannelError("the worker wrote something that is not a reply")
        if header_len > MAX_HEADER_BYTES or buffers_len > self.max_bytes:
            raise TooLarge(f"the reply is too large ({header_len:,} bytes of header, "
                           f"{buffers_len:,} of arrays; at most {MAX_HEADER_BYTES:,} and "
                           f"{self.max_bytes:,} are accepted)")
        reader.left = header_len + buffers_len
        tree = parse_header(reader.take(header_len))
        return _Decoder(reader.take, buffers_len, self.allow_tokens).finish(tree)


#: frames up to this size are written with one ``write`` (:meth:`Channel.send_frame`)
COALESCE_BYTES = 1 << 20


class _FrameReader:
    """One frame's bytes from a pipe, handed out in the pieces asked for (``take``).

    The pipe is read as bytes arrive, at most :data:`READ_CHUNK` at a time and never past the
    frame's end (``left``: what the frame still holds in the pipe, set once the prefix says),
    so a sender that declares a gigabyte and sends nothing costs nothing, and a frame of many
    small arrays costs one read, not one per array."""

    def __init__(self, fd: int, deadline: float | None, on_wait: Any) -> None:
        self.fd, self.deadline, self.on_wait = fd, deadline, on_wait
        self.left = _PREFIX.size
        self.pending = b""
        self.pos = 0
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def take(self, n: int) -> bytearray:
        """The frame's next ``n`` bytes, in a bytearray of their own."""
        out = bytearray()
        while True:
            use = min(len(self.pending) - self.pos, n - len(out))
            out += memoryview(self.pending)[self.pos:self.pos + use]
            self.pos += use
            if len(out) == n:
                return out
            self.pending, self.pos = self._arrived(), 0

    def _arrived(self) -> bytes:
        """What the pipe holds of the frame now (waiting for something to arrive)."""
        if self.left <= 0:
            raise ChannelError("internal: a read past the end of the frame")
        while True:
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise ChannelTimeout("no reply before the deadline")
                wait_ms = int(min(left, 0.05) * 1000) + 1
            else:
                wait_ms = 50
            if self.poller.poll(wait_ms):
                break
            if self.on_wait is not None:
                self.on_wait()
        data = os.read(self.fd, min(self.left, READ_CHUNK))
        if not data:
            raise ChannelClosed("the other side closed the channel")
        self.left -= len(data)
        return data
