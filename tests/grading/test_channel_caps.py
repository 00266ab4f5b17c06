"""The channel's caps hold before anything is allocated (issue 23): a frame's prefix, an
array's shape and a sparse matrix's shape are claims of the sender's that cost it a few bytes,
so the receiving side must not pay for them in memory before the bytes arrive.

Each crafted frame is received by a fresh process (a child writes it into a pipe), whose peak
resident memory (``VmHWM``) is measured around ``Channel.recv``; before the caps,
the same frames cost the receiver 1.0 GB (a declared gigabyte of arrays, allocated on the
prefix), 0.8 GB (a 32 MiB header of empty lists, parsed whole before its parts were counted)
and 3.0 GB (a 20,000 x 20,000 sparse matrix of one entry, made dense to be compared). Then the
same attacks through ``grade``: the check earns nothing, grading goes on, and no process of
the grading grows past a few hundred MB (before: 1.2 GB for the frame; for the sparse matrix
the grader grew to 22 GB and was killed by the kernel, leaving no result).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.runtime import channel
from nlpdojo_autograder.runtime.channel import (
    MAX_DENSE_ELEMENTS,
    MAX_ELEMENTS,
    MAX_FRAME_ELEMENTS,
    ChannelError,
    Sparse,
    TooLarge,
    decode,
    encode,
)

REPO = Path(__file__).resolve().parents[2]
#: what receiving a refused frame may cost, at most (the header itself is up to 32 MiB)
SMALL_MB = 150

# the receiving process: a child writes the frame ``kind`` into a pipe (its memory is its
# own), the parent receives it with the grader's limits and reports its own growth
RECEIVER = textwrap.dedent(r'''
    import json, os, struct, sys, time
    import numpy as np
    from nlpdojo_autograder.runtime.channel import MAGIC, Channel, ChannelError

    def frame(header, buffers_len, sent=b""):
        header = json.dumps(header, separators=(",", ":")).encode()
        return struct.pack("!4sIQ", MAGIC, len(header), buffers_len) + header + sent

    def header_flood():
        """32 MiB of header, each `[]` a Python list once parsed."""
        body = b"[]," * ((32 * 2**20 - 64) // 3)
        header = b'["l",[' + body + b'[]]]'
        return struct.pack("!4sIQ", MAGIC, len(header), 0) + header

    MIB256 = 1 << 28
    KINDS = {
        # 256 MiB of float64 declared (as many numbers as a frame may hold), a megabyte
        # sent, then nothing
        "declared-256mib": lambda: frame(["a", "float64", [MIB256 // 8], MIB256], MIB256,
                                         b"\0" * (1 << 20)),
        # 3.2 GB declared: over what the receiver takes from one frame
        "over-the-cap": lambda: frame(["a", "float64", [20000, 20000], 3_200_000_000],
                                      3_200_000_000),
        "header-flood": header_flood,
        # one entry of a 20,000 x 20,000 sparse matrix: 24 bytes
        "sparse": lambda: frame(["S", [20000, 20000], ["a", "int64", [1], 8],
                                 ["a", "int64", [1], 8], ["a", "float64", [1], 8]], 24,
                                b"\0" * 24),
        # a control: 256 MiB really sent are accepted, and cost what they are
        "real-256mib": lambda: frame(["a", "float64", [1 << 25], 1 << 28], 1 << 28,
                                     np.ones(1 << 25).tobytes()),
    }

    kind, wait_s = sys.argv[1], float(sys.argv[2])
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(r)
        data = KINDS[kind]()
        view = memoryview(data)
        while view:
            view = view[os.write(w, view[:1 << 20]):]
        time.sleep(30)  # the pipe stays open: the receiver waits for what was declared
        os._exit(0)
    os.close(w)
    received = Channel(r, os.open(os.devnull, os.O_WRONLY), max_bytes=1 << 30)
    def high_water_kb():
        # VmHWM is this process's own peak; ru_maxrss is not: exec keeps the peak of the
        # process that started it (vfork shares the pytest worker's memory), so a receiver
        # started by a worker that once held a gigabyte would measure no growth at all
        with open("/proc/self/status") as status:
            return int(next(x for x in status if x.startswith("VmHWM:")).split()[1])

    before = high_water_kb()
    try:
        value = received.recv(time.monotonic() + wait_s)
        if hasattr(value, "todense"):  # as the grader compares it (context.Context.to_numpy)
            value = np.asarray(value.todense()).astype(np.float64)
        outcome = f"accepted {type(value).__name__} of {value.nbytes:,} bytes"
    except ChannelError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    grew = (high_water_kb() - before) / 1024
    os.kill(child, 9)
    os.waitpid(child, 0)
    print(json.dumps({"outcome": outcome, "grew_mb": grew}), flush=True)
    os._exit(0)
''')


def receive(kind: str, wait_s: float = 3.0) -> tuple[str, float]:
    """(what ``Channel.recv`` did with frame ``kind`` within ``wait_s``, how many MB the
    receiver grew)."""
    proc = subprocess.run([sys.executable, "-c", RECEIVER, kind, str(wait_s)], capture_output=True,
                          text=True, timeout=120, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["outcome"], report["grew_mb"]


def test_a_declared_array_is_not_allocated_before_it_arrives():
    outcome, grew = receive("declared-256mib")
    assert outcome.startswith("ChannelTimeout"), outcome  # a megabyte came, then nothing
    assert grew < SMALL_MB, f"the receiver grew by {grew:.0f} MB for 1 MB received"


def test_a_frame_over_the_cap_is_refused_on_its_prefix():
    outcome, grew = receive("over-the-cap")
    assert outcome.startswith("TooLarge") and "3,200,000,000 of arrays" in outcome, outcome
    assert grew < SMALL_MB, grew


def test_a_header_of_millions_of_parts_is_counted_before_it_is_parsed():
    outcome, grew = receive("header-flood")
    assert outcome == "TooLarge: the reply has too many parts (at most 200,000 are accepted)"
    assert grew < SMALL_MB, f"the receiver grew by {grew:.0f} MB for a 32 MiB header"


def test_a_sparse_matrix_larger_than_the_cap_when_dense_is_refused_before_it_is_made():
    outcome, grew = receive("sparse")
    assert outcome == ("TooLarge: your code returned a 20,000×20,000 sparse matrix "
                       "(400,000,000 elements when dense); at most 33,554,432 elements are "
                       "accepted"), outcome
    assert grew < SMALL_MB, grew


def test_the_measure_sees_memory_that_is_really_sent():
    """A control: what a frame really carries is accepted and costs its size (the
    measurement above is not blind)."""
    outcome, grew = receive("real-256mib", wait_s=100)  # a busy machine writes it slowly
    assert outcome == "accepted ndarray of 268,435,456 bytes", outcome
    assert 200 < grew < 256 + SMALL_MB, grew


# -- the caps, one by one (no memory at stake: refused before anything is allocated) ------------
def _frame(value) -> tuple[bytes, bytes]:
    chunks = [bytes(c) for c in encode(value)]
    return chunks[1], b"".join(chunks[2:])


def _array_header(shape: list[int], nbytes: int) -> bytes:
    return json.dumps(["a", "float64", shape, nbytes]).encode()


@pytest.mark.parametrize("shape, phrase", [
    ([MAX_ELEMENTS + 1], f"at most {MAX_ELEMENTS:,} elements"),
    ([1 << 20, 1 << 20], f"at most {MAX_ELEMENTS:,} elements"),
    # a zero-size array declares no bytes: its sizes are capped one by one
    ([0, 10 ** 15], "0×1,000,000,000,000,000 (0 elements)"),
    ([1] * 33, "an array of 33 dimensions; at most 32"),
])
def test_an_arrays_declared_shape_is_capped(shape, phrase):
    count = int(np.prod(shape, dtype=object))
    with pytest.raises(TooLarge, match=re.escape(phrase)):
        decode(_array_header(shape, count * 8), b"\0" * (8 if count == 1 else 0))


def test_sparse_matrices_are_capped_when_decoded_and_when_expanded():
    big = Sparse((20000, 20000), np.array([0]), np.array([0]), np.array([1.0]))
    with pytest.raises(TooLarge, match="20,000×20,000 sparse matrix"):
        decode(*_frame(big))
    with pytest.raises(TooLarge, match="20,000×20,000 sparse matrix"):
        big.todense()
    # to CSR: memory follows the entries and the rows, so only a side is capped there
    assert big.to_scipy().shape == (20000, 20000)
    tall = Sparse((MAX_DENSE_ELEMENTS + 1, 1), np.array([0]), np.array([0]), np.array([1.0]))
    with pytest.raises(TooLarge, match="rows or columns"):
        tall.to_scipy()
    ok = Sparse((3, 4), np.array([0, 2]), np.array([1, 3]), np.array([1.0, 2.0]))
    assert np.array_equal(decode(*_frame(ok)).todense(), ok.todense())


def test_a_sparse_matrix_with_entries_outside_its_shape_is_refused():
    header, buffers = _frame(Sparse((3, 3), np.array([5]), np.array([0]), np.array([1.0])))
    with pytest.raises(ChannelError, match="outside its shape"):
        decode(header, buffers)


def test_a_header_is_counted_outside_strings_and_must_be_ascii():
    """Brackets and commas inside strings are no parts; a header in UTF-16 (which
    ``json.loads`` would take) could hide them from the count, so it is refused."""
    assert channel.json_values_bound(b'["v","[,{,[,"]') == 3
    assert channel.json_values_bound(b'["v","a\\"[,["]') == 3
    assert decode(b'["v","[[[,,,"]', b"") == "[[[,,,"
    with pytest.raises(ChannelError, match="not ASCII"):
        decode('["v","x"]'.encode("utf-16"), b"")
    many = b'["l",[' + b",".join([b'["v",0]'] * 600_000) + b"]]"
    with pytest.raises(TooLarge, match="too many parts"):
        decode(many, b"")


def test_what_the_codec_carries_comes_back_unchanged_and_writable():
    value = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, "x", None, (np.zeros((0, 4)),
                                                                          b"abc")],
             "i": np.array(3, np.int8), "flags": np.array([True, False])}
    got = decode(*_frame(value))
    assert np.array_equal(got["a"], value["a"]) and got["a"].flags.writeable
    assert got["b"][:4] == [1, 2.5, "x", None] and got["b"][4][1] == b"abc"
    assert got["b"][4][0].shape == (0, 4)
    assert got["i"].dtype == np.int8 and got["flags"].tolist() == [True, False]


def test_a_frame_is_read_as_it_arrives_in_bounded_chunks():
    """Received over a real pipe, 64 MiB across many reads; the result is the value sent."""
    import threading

    from nlpdojo_autograder.runtime.channel import Channel

    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    receiver, sender = Channel(r1, w2), Channel(r2, w1)
    sent = {"x": np.random.default_rng(0).standard_normal((1024, 8192)), "y": [1, "z"]}
    thread = threading.Thread(target=sender.send, args=(sent,))
    thread.start()
    got = receiver.recv()
    thread.join()
    assert np.array_equal(got["x"], sent["x"]) and got["y"] == [1, "z"]
    for fd in (r1, w1, r2, w2):
        os.close(fd)


# -- through `grade`: the check earns nothing, grading goes on, memory stays small --------------
MEASURED = textwrap.dedent(r'''
    import json, resource, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from tests.grading.test_hostile import AUTO, grade
    graded = grade(Path(sys.argv[2]), AUTO, "softmax", "naive_softmax",
                   submission=Path(sys.argv[3]))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"checks": graded.checks, "peak_mb": peak}))
''')


def _graded_with_peak(tmp_path: Path, folder: Path) -> tuple[dict[str, dict], float]:
    """``grade softmax naive_softmax`` on ``folder`` as test_hostile.py runs it, from a fresh
    process whose children's peak resident memory (the grader's, the worker's, any process
    of the grading: the largest of them) is measured."""
    proc = subprocess.run([sys.executable, "-c", MEASURED, str(REPO), str(tmp_path),
                           str(folder)], capture_output=True, text=True, timeout=400,
                          check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["checks"], report["peak_mb"]


def _softmax_zero_naive_full(checks: dict[str, dict]) -> list[dict]:
    softmax = [c for c in checks.values() if c["question"] == "softmax"]
    naive = [c for c in checks.values() if c["question"] == "naive_softmax"]
    assert softmax and naive
    assert all(c["score"] == 0 for c in softmax), [(c["id"], c["message"]) for c in softmax]
    assert all(c["score"] == c["max_score"] for c in naive), [c["message"] for c in naive]
    return softmax


@pytest.mark.timeout(500)
def test_a_huge_declared_sparse_matrix_costs_its_check_and_no_memory(tmp_path):
    from tests.grading.test_hostile import softmax_attack

    folder = softmax_attack(tmp_path / "sub", """
        import scipy.sparse
        return scipy.sparse.coo_matrix((20000, 20000))  # no entries: a few bytes
    """)
    checks, peak = _graded_with_peak(tmp_path, folder)
    for check in _softmax_zero_naive_full(checks):
        assert check["status"] == "error"
        assert "20,000×20,000 sparse matrix" in check["message"], check["message"]
        assert "at most 33,554,432 elements are accepted" in check["message"]
    assert peak < 1024, f"a process of the grading reached {peak:.0f} MB"


@pytest.mark.timeout(500)
def test_a_giant_declared_array_frame_costs_its_check_and_no_memory(tmp_path):
    """The worker writes, on its reply channel, a frame that declares 256 MiB of float64 (as
    many numbers as a frame may hold) and holds none of it, then exits: the grader had
    allocated what was declared on the prefix."""
    from tests.grading.test_hostile import REPLY_CHANNEL, softmax_attack

    folder = softmax_attack(tmp_path / "sub", REPLY_CHANNEL + textwrap.dedent("""
        import json, struct
        header = json.dumps(['a', 'float64', [1 << 25], 1 << 28]).encode()
        os.write(channel, struct.pack('!4sIQ', b'NLPD', len(header), 1 << 28) + header)
        os._exit(0)
    """))
    checks, peak = _graded_with_peak(tmp_path, folder)
    for check in _softmax_zero_naive_full(checks):
        assert check["status"] == "error"
        # the frame was cut by the worker's exit: no other failure of the attack's own
        assert "the process running your code exited with code 0" in check["message"], \
            check["message"]
    assert peak < 1024, f"a process of the grading reached {peak:.0f} MB"


def test_a_frames_numbers_are_capped_in_all_before_anything_is_allocated():
    """An attacker's 20 empty 4096×8192 sparse matrices (each under the per-matrix cap, a few
    bytes on the wire) made the grader densify 5.4 GiB, and float16 arrays cost it four times
    their bytes once compared as float64: a frame's numbers are counted in all, sparse
    matrices dense, and refused past MAX_FRAME_ELEMENTS before the next part is read."""
    empty = Sparse((4096, 8192), np.array([0]), np.array([0]), np.array([0.0]))
    assert 4096 * 8192 <= MAX_DENSE_ELEMENTS  # each one alone is accepted
    assert decode(*_frame([empty])) is not None
    with pytest.raises(TooLarge, match=re.escape(f"more than {MAX_FRAME_ELEMENTS:,} numbers")):
        decode(*_frame([empty] * 20))
    half = np.zeros(MAX_FRAME_ELEMENTS // 2 + 1, np.float16)  # 16 MiB each on the wire
    assert decode(*_frame([half]))[0].size == half.size
    with pytest.raises(TooLarge, match="numbers in all"):
        decode(*_frame([half, half]))


def test_a_reply_made_plain_runs_no_code_of_the_submission_when_encoded():
    """:func:`channel.plain` runs a subclass's ``__iter__``/``items`` (inside a count, in the
    worker); encoding what it made runs nothing more: work left there would go uncounted."""
    from collections import namedtuple

    from nlpdojo_autograder.runtime.channel import _PREFIX, decode, encode, plain

    def roundtrip(value):
        frame = b"".join(bytes(c) for c in encode(value))
        _, header_len, _ = _PREFIX.unpack_from(frame)
        start = _PREFIX.size + header_len
        return decode(frame[_PREFIX.size:start], frame[start:])

    ran = []

    class Rows(list):
        def __iter__(self):
            ran.append("__iter__")
            return iter([1, 2])

    class Table(dict):
        def items(self):
            ran.append("items")
            return [("a", 1.5)]

    class Number(float):
        def __float__(self):
            ran.append("__float__")
            return 0.0

    pair = namedtuple("pair", "x y")
    made = plain([Rows(), Table(), (Rows(), Number(2.5)), pair(1, np.float64(3.0))])
    ran_before = list(ran)
    assert ran_before == ["__iter__", "items", "__iter__"]  # the number read as it is
    assert roundtrip(made) == [[1, 2], {"a": 1.5}, ([1, 2], 2.5), (1, 3.0)]
    assert ran == ran_before
    # not made plain first: the encoder makes each part plain as it goes (an honest subclass)
    assert roundtrip(pair(1, 2)) == (1, 2)
