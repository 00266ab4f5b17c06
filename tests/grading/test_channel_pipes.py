"""The channel's pipes: a frame larger than the pipe arrives whole, however it was handed to
``send_frame`` (bytes or a memoryview of an array), and the pipes the sandbox makes hold a
megabyte where the system allows it (an array of a run at scale then goes in one write)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.runtime import sandbox
from nlpdojo_autograder.runtime.channel import _PREFIX, Channel, ChannelError, decode, encode


def _through_a_pipe(chunks, *, deadline: float | None) -> bytes:
    read, write = os.pipe()  # the default capacity: 64 KiB on Linux
    received = bytearray()

    def drain() -> None:
        while data := os.read(read, 1 << 16):
            received.extend(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        Channel(read, write).send_frame(chunks, deadline)
    finally:
        os.close(write)
        reader.join()
        os.close(read)
    return bytes(received)


@pytest.mark.parametrize("deadline", [None, 1e12], ids=["blocking", "with a deadline"])
def test_a_frame_larger_than_the_pipe_arrives_whole(deadline):
    rng = np.random.default_rng(0)
    array = rng.standard_normal(300_000)  # 2.4 MB: over the coalescing limit, many writes
    small = rng.bytes(700_000)  # joined into one bytes object, then written in pieces
    for chunks in ([small, b"tail"], [b"head", memoryview(array)]):
        sent = b"".join(bytes(memoryview(c).cast("B")) for c in chunks)
        assert _through_a_pipe(chunks, deadline=deadline) == sent


def test_an_encoded_frame_decodes_after_crossing_a_small_pipe():
    value = {"x": np.arange(200_000, dtype=np.float64).reshape(400, 500), "n": 3}
    read, write = os.pipe()
    channel = Channel(read, write)
    got = {}
    reader = threading.Thread(target=lambda: got.update(value=channel.recv()))
    reader.start()
    channel.send_frame(encode(value, None))
    reader.join()
    os.close(read)
    os.close(write)
    np.testing.assert_array_equal(got["value"]["x"], value["x"])
    assert got["value"]["n"] == 3


def test_arrays_of_either_byte_order_arrive_with_their_values():
    """The wire carries arrays in the machine's byte order: a big-endian float64 (named
    "float64" too) is sent as its values, not as its bytes read the other way round."""
    values = np.linspace(-2.0, 3.0, 7)
    value = {"little": values.astype("<f8"), "big": values.astype(">f8"),
             "ints": np.arange(5).astype(">i4"), "mask": values > 0}
    chunks = encode(value, None)
    frame = b"".join(bytes(memoryview(c).cast("B")) for c in chunks)
    _, header_len, _ = _PREFIX.unpack(frame[:_PREFIX.size])
    got = decode(frame[_PREFIX.size:_PREFIX.size + header_len],
                 frame[_PREFIX.size + header_len:])
    for key, sent in value.items():
        assert got[key].dtype == sent.dtype.newbyteorder("=")
        np.testing.assert_array_equal(got[key], sent)


@pytest.mark.parametrize("tree", [
    ["T", ["array"], []],  # a token's kind that is not a string (a list cannot be hashed)
    ["a", ["float64"], [2], 16],  # an array's dtype that is not a string
    ["a", "float64", [0, 1 << 40], 0],  # no elements, one size beyond the bound
    ["v", [1]], ["t", "ab"], ["d", [[["k"], ["v", 1]]]],
], ids=["token kind", "dtype", "empty huge", "value", "tuple", "dict key"])
def test_a_malformed_part_is_a_channel_error(tree):
    """What the other side sent is data: a part of the wrong shape is refused as a
    ChannelError (the worker or reference process is then replaced), never another exception
    from inside the decoder."""
    with pytest.raises(ChannelError):
        decode(json.dumps(tree).encode(), b"", allow_tokens=True)


def test_the_sandboxs_pipes_hold_a_megabyte_where_the_system_allows():
    limit = Path("/proc/sys/fs/pipe-max-size")
    if not limit.exists():
        pytest.skip("not Linux: pipes keep the system's default capacity")
    import fcntl

    read, write = sandbox.pipe()
    try:
        size = fcntl.fcntl(write, fcntl.F_GETPIPE_SZ)
    finally:
        os.close(read)
        os.close(write)
    allowed = int(limit.read_text())
    if allowed < sandbox.PIPE_BYTES and os.getuid() != 0:
        pytest.skip(f"fs.pipe-max-size is {allowed:,} bytes here: the default capacity stays")
    assert size == sandbox.PIPE_BYTES
