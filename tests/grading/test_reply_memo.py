"""The worker's memo of the reference's replies (runtime/replies.py): a request asked again in
the same check is answered from the memo, with arrays of its own, and nothing else changes.

A gradient check of a layer built on swapped-in reference layers calls them back for every
loss evaluation, mostly with requests it made before (the constructors' initialisers, the
sub-layers the perturbed coordinate does not reach): ``grade bilstm_classifier`` made 31,662
call-backs, 22,000 of them repeats.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_autograder.runtime.calls import to_wire
from nlpdojo_autograder.runtime.channel import _PREFIX as PREFIX
from nlpdojo_autograder.runtime.channel import decode, encode
from nlpdojo_autograder.runtime.replies import ReplyMemo
from nlpdojo_autograder.runtime.worker import Worker


class RecordingChannel:
    """The worker's side of the pipes to its reference process: records the frames sent,
    answers each with the reference's reply ``answer(request)``."""

    convert = staticmethod(to_wire)

    def __init__(self, answer) -> None:
        self.answer = answer
        self.sent: list[dict] = []

    def send_frame(self, chunks, deadline=None) -> None:
        frame = b"".join(bytes(memoryview(c).cast("B")) for c in chunks)
        _, header_len, _ = PREFIX.unpack(frame[:PREFIX.size])
        header = frame[PREFIX.size:PREFIX.size + header_len]
        self.sent.append(decode(header, frame[PREFIX.size + header_len:], allow_tokens=True))

    def recv(self, deadline=None):
        return self.answer(self.sent[-1])


def _worker(answer) -> SimpleNamespace:
    """What :meth:`Worker.reference_call` uses of a worker (``channel``: its pipes to the
    reference process, here)."""
    channel = RecordingChannel(answer)
    worker = SimpleNamespace(channel=channel, references=channel, replies=ReplyMemo(),
                             workspace=SimpleNamespace(backend=load_backend("numpy", "cpu",
                                                                            "float64")))
    worker._ask_reference = lambda frame: Worker._ask_reference(worker, frame)
    return worker


def _double(request: dict) -> dict:
    return {"value": 2 * np.asarray(request["args"][0])}


def test_a_request_asked_again_is_answered_without_a_round_trip():
    worker = _worker(_double)
    x = np.arange(3.0)
    first = Worker.reference_call(worker, "library.init", "scaled", (x,), {})
    again = Worker.reference_call(worker, "library.init", "scaled", (x.copy(),), {})
    np.testing.assert_array_equal(first, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(again, first)
    assert len(worker.channel.sent) == 1
    assert worker.replies.hits == 1
    # any difference in the request (an argument's value, dtype, the function) asks again
    Worker.reference_call(worker, "library.init", "scaled", (x + 1e-12,), {})
    Worker.reference_call(worker, "library.init", "scaled", (x.astype(np.float32),), {})
    Worker.reference_call(worker, "library.init", "other", (x,), {})
    Worker.reference_call(worker, "library.init", "scaled", (x,), {"scale": 1})
    assert len(worker.channel.sent) == 5


def test_a_reply_changed_in_place_by_the_student_does_not_change_the_next_one():
    worker = _worker(_double)
    x = np.arange(3.0)
    first = Worker.reference_call(worker, "library.init", "scaled", (x,), {})
    first += 100.0  # the student's code writes into what it got
    second = Worker.reference_call(worker, "library.init", "scaled", (x,), {})
    second *= -1.0
    third = Worker.reference_call(worker, "library.init", "scaled", (x,), {})
    np.testing.assert_array_equal(third, [0.0, 2.0, 4.0])
    assert len(worker.channel.sent) == 1


def test_errors_are_asked_again_and_a_new_check_starts_empty():
    calls = []

    def failing(request):
        calls.append(request)
        return {"error": "ValueError: shapes do not match"}

    worker = _worker(failing)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="shapes do not match"):
            Worker.reference_call(worker, "library.init", "scaled", (np.ones(2),), {})
    assert len(calls) == 2

    worker = _worker(_double)
    Worker.reference_call(worker, "library.init", "scaled", (np.ones(2),), {})
    worker.replies.clear()  # what `begin` and `end` do
    Worker.reference_call(worker, "library.init", "scaled", (np.ones(2),), {})
    assert len(worker.channel.sent) == 2


def test_a_request_too_large_to_keep_is_asked_each_time():
    """A run at scale's call-back (megabytes, asked once) is neither digested nor kept: asked
    again, it goes to the reference again, and its answer is as right as the first."""
    from nlpdojo_autograder.runtime.replies import MAX_REQUEST_BYTES

    worker = _worker(_double)
    big = np.arange(MAX_REQUEST_BYTES // 8 + 1, dtype=np.float64)  # just over the bound
    first = Worker.reference_call(worker, "library.init", "scaled", (big,), {})
    again = Worker.reference_call(worker, "library.init", "scaled", (big,), {})
    np.testing.assert_array_equal(first, 2 * big)
    np.testing.assert_array_equal(again, 2 * big)
    assert len(worker.channel.sent) == 2 and worker.replies.hits == 0
    assert worker.replies.size == 0
    small = big[:1000]  # a request under the bound is still kept
    Worker.reference_call(worker, "library.init", "scaled", (small,), {})
    Worker.reference_call(worker, "library.init", "scaled", (small,), {})
    assert len(worker.channel.sent) == 3 and worker.replies.hits == 1


def test_the_memo_keeps_no_more_than_its_bytes():
    memo = ReplyMemo(max_bytes=10_000)
    for i in range(20):
        memo.put(memo.key(encode({"i": i})), {"value": np.zeros(100)})  # 800 bytes each
    assert memo.size <= 10_000
    kept = sum(memo.get(memo.key(encode({"i": i}))) is not None for i in range(20))
    assert 5 <= kept < 20


def test_a_kept_reply_is_copied_as_a_deep_copy_would_be():
    """What the memo keeps and hands out (``replies._copied``) is a copy of everything the
    channel decodes, each array the copy's own (the caller changes them in place), the
    tokens' arrays and a record's fields included, and each part of the type it was."""
    import copy

    from nlpdojo_autograder.runtime.channel import Opaque, Record, Sparse, Token
    from nlpdojo_autograder.runtime.replies import _copied

    record = Record(weight=np.ones(3))
    record.type_name = "Config"
    reply = {"value": (np.arange(6.0).reshape(2, 3), [np.ones(2), 1, "x", None, 2.5, True]),
             "objects": {"0": {"w": np.zeros((3, 3)),
                               "cell": Token("object", ("m", "Cell", {"p": np.ones(4)}))}},
             "record": record, "opaque": Opaque("function"),
             "sparse": Sparse((2, 2), np.array([0]), np.array([1]), np.array([3.0]))}

    def arrays(tree):
        if isinstance(tree, np.ndarray):
            return [tree]
        if isinstance(tree, Token):
            return arrays(tree.args)
        if isinstance(tree, Sparse):
            return [tree.row, tree.col, tree.data]
        if isinstance(tree, dict):
            return [a for v in tree.values() for a in arrays(v)]
        if isinstance(tree, (list, tuple)):
            return [a for v in tree for a in arrays(v)]
        return []

    def shape_of(tree):  # the types, keys and values, arrays as their dtype, shape and bytes
        if isinstance(tree, np.ndarray):
            return ("array", tree.dtype.str, tree.shape, tree.tobytes(), tree.flags.writeable)
        if isinstance(tree, Token):
            return ("token", tree.kind, shape_of(tree.args))
        if isinstance(tree, Sparse):
            return ("sparse", tree.shape, *(shape_of(a) for a in (tree.row, tree.col, tree.data)))
        if isinstance(tree, Opaque):
            return ("opaque", tree.type_name)
        if isinstance(tree, dict):
            return (type(tree).__name__, getattr(tree, "type_name", None),
                    [(k, shape_of(v)) for k, v in tree.items()])
        if isinstance(tree, (list, tuple)):
            return (type(tree).__name__, [shape_of(v) for v in tree])
        return (type(tree).__name__, tree)

    copied = _copied(reply)
    assert shape_of(copied) == shape_of(copy.deepcopy(reply)) == shape_of(reply)
    originals = arrays(reply)
    assert len(arrays(copied)) == len(originals) == 8
    assert not any(np.shares_memory(a, b) for a in arrays(copied) for b in originals)
    for a in arrays(copied):
        a[...] = 7
    assert shape_of(reply) == shape_of(copy.deepcopy(reply))
    assert reply["objects"]["0"]["cell"].args[2]["p"][0] == 1.0


def _distinct_requests(worker, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        out = Worker.reference_call(worker, "library.init", "scaled", (np.full(4, float(i)),), {})
        np.testing.assert_array_equal(out, np.full(4, 2.0 * i))  # answered right, on or off


def test_a_check_no_strict_pass_replays_turns_the_memo_off_where_nothing_repeats():
    """A training's call-backs never repeat (its parameters change at every step): after
    ADAPTIVE_LOOKUPS lookups without hits, such a check digests and keeps nothing more, and a
    request asked again then goes to the reference, answered as right as before."""
    from nlpdojo_autograder.runtime.replies import ADAPTIVE_LOOKUPS

    worker = _worker(_double)
    worker.replies.begin("float64", strict_pass=False, replayed=False)
    _distinct_requests(worker, ADAPTIVE_LOOKUPS)
    assert not worker.replies.off and len(worker.replies.replies) == ADAPTIVE_LOOKUPS
    _distinct_requests(worker, 1, start=ADAPTIVE_LOOKUPS)
    assert worker.replies.off
    assert worker.replies.key(encode({"i": 1})) is None  # no digest once off
    kept = len(worker.replies.replies)
    _distinct_requests(worker, 1, start=0)  # asked before, but the memo is off: a round trip
    assert len(worker.channel.sent) == ADAPTIVE_LOOKUPS + 2
    assert len(worker.replies.replies) == kept and worker.replies.hits == 0
    # the next check starts with the memo on again
    worker.replies.begin("float64", strict_pass=False, replayed=False)
    assert not worker.replies.off and worker.replies.replies == {}
    _distinct_requests(worker, 1)
    _distinct_requests(worker, 1)
    assert worker.replies.hits == 1


def test_the_memo_stays_on_where_a_strict_pass_may_replay_the_check_or_requests_repeat():
    from nlpdojo_autograder.runtime.replies import ADAPTIVE_LOOKUPS

    # a check a strict pass may replay keeps every reply (the strict pass asks them again)
    worker = _worker(_double)
    worker.replies.begin("float64", strict_pass=False, replayed=True)
    _distinct_requests(worker, 3 * ADAPTIVE_LOOKUPS)
    assert not worker.replies.off
    worker.replies.begin("float64", strict_pass=True)  # its strict pass, same dtype
    _distinct_requests(worker, 3 * ADAPTIVE_LOOKUPS)
    assert worker.replies.hits == 3 * ADAPTIVE_LOOKUPS
    assert len(worker.channel.sent) == 3 * ADAPTIVE_LOOKUPS

    # a check no strict pass replays, whose requests repeat (each asked twice), keeps its memo
    worker = _worker(_double)
    worker.replies.begin("float64", strict_pass=False, replayed=False)
    for i in range(2 * ADAPTIVE_LOOKUPS):
        _distinct_requests(worker, 1, start=i // 2)
    assert not worker.replies.off and worker.replies.hits == ADAPTIVE_LOOKUPS
    assert len(worker.channel.sent) == ADAPTIVE_LOOKUPS
