"""The worker's memo of the reference's replies within one check.

A gradient check evaluates the student's loss at hundreds of points, and where the layer under
test is built on swapped-in reference layers, every evaluation calls them back: the
constructors' initialisers (whose draws the check's parameters then replace) and the
sub-layers whose inputs the perturbed coordinate does not reach ask the same question each
time. The reference is a deterministic function of a request (randomness comes from seeds
and generators that travel as arguments or object state), so a request seen before in the
same check gets the same reply again, without the round trip.

The memo lives in the untrusted worker and changes nothing the grader relies on: the student's
code could answer its own call-backs anyway, and the grader judges what comes out. It is
cleared when a check begins, except the check's strict pass (the same check run again on
another backend in the same dtype: the reference process computes on NumPy for both, so the
same request has the same reply; the worker sends the strict pass's arrays as NumPy arrays,
as the first pass's), and holds at most :data:`MAX_BYTES` of replies.

A check that no strict pass asks again (the grader says so as it begins: a training, a loop
check) keeps the memo only while it pays: a training's call-backs carry parameters that change
at every step, so none is asked twice, and digesting each one cost more than any other part of
a call-back in the worker (``rnn_lm.perplexity``: 0.27 of the worker's 0.97 CPU-s of
call-backs, 600 of them, about a megabyte a window; thread CPU, Intel Xeon). After
:data:`ADAPTIVE_LOOKUPS` lookups with fewer than one hit in :data:`ADAPTIVE_HIT_SHARE`, such a
check's memo is off until the next check. A check whose requests do repeat (a gradient check
graded without the strict pass, whose hits are about 60 %) never comes near that; and the memo
changes no reply, whether on or off.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import numpy as np

from nlpdojo_autograder.runtime.channel import Opaque, Record, Sparse, Token

#: what the memo may hold, in bytes of reply arrays (it counts against the worker's memory)
MAX_BYTES = 64 * 2**20
#: a request larger than this is not looked up nor kept: a run at scale's call-back (up to
#: 21 MB, a Conv1d.backward of its cache), asked once, whose digest and kept copy of the reply
#: cost more than the round trip a hit would save (no such request was asked twice in a
#: grading of cnn_text; the smaller ones hit about 60 % of the time)
MAX_REQUEST_BYTES = 2**20
#: the lookups after which a check no strict pass replays turns its memo off, where fewer
#: than one in :data:`ADAPTIVE_HIT_SHARE` of them found a reply
ADAPTIVE_LOOKUPS = 64
ADAPTIVE_HIT_SHARE = 16


class ReplyMemo:
    """Replies by the digest of their request's encoded frame."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.replies: dict[bytes, Any] = {}
        self.size = 0
        self.hits = 0
        #: the dtype of the check whose replies these are (:meth:`begin`)
        self.dtype: str | None = None
        #: this check's lookups and hits, and whether it may turn the memo off (:meth:`key`)
        self.lookups = self.check_hits = 0
        self.adaptive = False
        self.off = False

    def begin(self, dtype: str | None, *, strict_pass: bool, replayed: bool = True) -> None:
        """A check begins in ``dtype``: the replies are cleared, except for the strict pass
        (``strict_pass``: another backend) of the check before, in the same dtype, which asks
        what its first pass asked. ``replayed``: a strict pass may ask this check's requests
        again (otherwise the memo turns itself off where it does not pay)."""
        if not (strict_pass and dtype == self.dtype):
            self.clear()
        self.dtype = dtype
        self.lookups = self.check_hits = 0
        self.adaptive, self.off = not replayed, False

    def key(self, chunks: list[bytes | memoryview]) -> bytes | None:
        """The digest of a request's frame (its header and every array's bytes): SHA-256:
        twice BLAKE2b's speed on a call-back's 30 kB where the CPU has the SHA extensions (the
        Xeon and EPYC machines this runs on). Nothing is guarded by it: the memo is the
        untrusted worker's own. None for a frame over :data:`MAX_REQUEST_BYTES`, and for
        every frame once the memo is off for the check (a replayed check's never is)."""
        if self.off:
            return None
        self.lookups += 1
        if self.adaptive and self.lookups > ADAPTIVE_LOOKUPS and \
                self.check_hits * ADAPTIVE_HIT_SHARE < self.lookups:
            self.off = True
            return None
        views = [memoryview(chunk) for chunk in chunks]
        if sum(view.nbytes for view in views) > MAX_REQUEST_BYTES:
            return None
        digest = hashlib.sha256()
        for view in views:
            digest.update(view)
        return digest.digest()

    def get(self, key: bytes | None) -> Any | None:
        """A copy of the reply to the same request, or None (the caller may change the
        arrays it gets, in place)."""
        if key is None:
            return None
        reply = self.replies.get(key)
        if reply is None:
            return None
        self.hits += 1
        self.check_hits += 1
        return _copied(reply)

    def put(self, key: bytes | None, reply: Any) -> None:
        """Keep a copy of ``reply`` while the memo has room; an error, or the reply to a
        request too large to keep (``key`` None), is not kept."""
        if key is None or not isinstance(reply, dict) or "error" in reply:
            return
        size = _nbytes(reply)
        if self.size + size > self.max_bytes:
            return
        self.replies[key] = _copied(reply)
        self.size += size

    def clear(self) -> None:
        self.replies.clear()
        self.size = 0


#: the values a decoded frame holds that nothing changes in place: shared, not copied
_IMMUTABLE = (type(None), bool, int, float, str, bytes)


def _copied(tree: Any) -> Any:
    """A copy of a decoded reply whose arrays are the copy's own: ``copy.deepcopy`` of what
    the channel decodes (containers, arrays, tokens, records, sparse matrices, opaque
    values), at a fifth of its cost (a memo's hit was half of a call-back's work in the
    worker). A decoded frame shares no part between two places, so neither does the copy;
    a value of any other type (none is decoded) is deep-copied as before."""
    kind = type(tree)
    if kind is np.ndarray:
        return tree.copy()
    if kind is dict:
        return {k: _copied(v) for k, v in tree.items()}
    if kind is list:
        return [_copied(v) for v in tree]
    if kind is tuple:
        return tuple([_copied(v) for v in tree])
    if kind in _IMMUTABLE:
        return tree
    if kind is Token:
        return Token(tree.kind, _copied(tree.args))
    if kind is Record:
        record = Record((k, _copied(v)) for k, v in tree.items())
        record.type_name = tree.type_name
        return record
    if kind is Sparse:
        return Sparse(tree.shape, tree.row.copy(), tree.col.copy(), tree.data.copy())
    if kind is Opaque:
        return Opaque(tree.type_name)
    return copy.deepcopy(tree)


def _nbytes(tree: Any) -> int:
    """The bytes of the arrays in a reply (and a little for everything else)."""
    if isinstance(tree, np.ndarray):
        return int(tree.nbytes) + 100
    if isinstance(tree, dict):
        return 100 + sum(_nbytes(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return 100 + sum(_nbytes(v) for v in tree)
    return 100
