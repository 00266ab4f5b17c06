"""The line counter (``runtime.probes._counted``) sees the work of the code under test wherever
it runs: it is what tells a backward by the chain rule from one that differences the forward,
and whole-array code from Python loops over the data.

Found by an attacker: ``sys.settrace`` sees one thread, so a pooling layer whose backward ran
central differences inside a ``threading.Thread`` kept 2.4 of 3 points, and a max over time
looped over the sentences in a thread kept 1.5 of 1.5. Now a thread started during a count is
traced too, threads of the submission running beside a count and a tracer taken away fail
the count with a message that says why.

Found by the next attacker: code that notices the tracer (``sys.gettrace()``) answered zeros
while counted and looped over the tokens otherwise, keeping 5 points of "vectorized" checks.
Now every counted call's result must be an uncounted call's on the same inputs
(``builders.counted_lines``), and a count padded while traced (to make the two sizes' counts
equal) is stopped by a cap on the lines a vectorized function runs."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading

import pytest

from nlpdojo_autograder.runtime import code_rules, probes
from nlpdojo_autograder.runtime.probes import UncountedWork, python_lines
from tests.grading.courses import edited_course
from tests.grading.test_mistakes_that_passed import _grade

pytestmark = pytest.mark.seeded


@pytest.fixture(autouse=True)
def _without_code_rules(monkeypatch):
    """The counter's own defences: the code rules would refuse these attacks (``sys``,
    ``threading``'s internals, ``compile``) before they run, so they are off here;
    test_code_rules.py tests them."""
    monkeypatch.setenv(code_rules.ENV, "off")


def _loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def _in_a_thread(n: int) -> int:
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("v", _loop(n)))
    worker.start()
    worker.join()
    return out["v"]


def test_a_thread_started_during_the_count_is_counted():
    here = python_lines(_loop, (200,), root_of=_loop)
    threaded = python_lines(_in_a_thread, (200,), root_of=_loop)
    assert here > 400 and threaded >= here  # the loop's lines, whichever thread ran them


def test_taking_the_tracer_away_fails_the_count():
    def untraced(n):
        sys.settrace(None)
        return _loop(n)

    with pytest.raises(UncountedWork, match="changed the tracer"):
        python_lines(untraced, (10,), root_of=_loop)
    assert sys.settrace.__name__ == "settrace"  # sys.settrace is itself again


def test_a_thread_of_the_submission_running_beside_the_count_fails_it(monkeypatch):
    monkeypatch.setattr(probes, "_THREADS_BEFORE_SUBMISSION", probes._thread._count())
    stop = threading.Event()
    pool = threading.Thread(target=stop.wait)  # a worker the submission started at import
    pool.start()
    try:
        with pytest.raises(UncountedWork, match="thread running before"):
            python_lines(_loop, (10,), root_of=_loop)
    finally:
        stop.set()
        pool.join()
    assert python_lines(_loop, (10,), root_of=_loop) > 10  # none left: counted as before


def test_a_thread_left_running_after_the_count_fails_it(monkeypatch):
    monkeypatch.setattr(probes, "_THREADS_BEFORE_SUBMISSION", probes._thread._count())
    stop = threading.Event()

    def leaves_one_running():
        threading.Thread(target=stop.wait).start()

    try:
        with pytest.raises(UncountedWork, match="thread running after"):
            python_lines(leaves_one_running, (), root_of=_loop)
    finally:
        stop.set()


#: MaxOverTime's backward by central differences of its forward, run in a thread (the attack)
THREADED_NUMERICAL_POOLING = '''
import threading

_reference_forward = MaxOverTime.forward


def _forward(self, h, lengths):
    out, cache = _reference_forward(self, h, lengths)
    return out, (cache, h, lengths)


def _backward(self, grad_output, cache):
    xp = self.xp
    _, h, lengths = cache
    n = 1
    for s in h.shape:
        n *= s
    flat = xp.reshape(h, (n,))
    eye = xp.eye(n, dtype=h.dtype)
    result = {{}}

    def f(z):
        return xp.sum(grad_output * _reference_forward(self, z, lengths)[0])

    def work():
{prelude}
        g = [(f(xp.reshape(flat + 1e-6 * eye[i, :], h.shape))
              - f(xp.reshape(flat - 1e-6 * eye[i, :], h.shape))) / 2e-6 for i in range(n)]
        result["g"] = xp.reshape(xp.stack(g), h.shape)

    {run}
    return result["g"], None


MaxOverTime.forward = _forward
MaxOverTime.backward = _backward
'''
IN_A_THREAD = "t = threading.Thread(target=work); t.start(); t.join()"
UNTRACED = "import sys; sys.settrace(None); work()"


@pytest.mark.parametrize("run", [IN_A_THREAD, UNTRACED], ids=["thread", "settrace"])
def test_a_backward_by_differences_out_of_the_counters_sight_earns_nothing(tmp_path, run):
    code = THREADED_NUMERICAL_POOLING.format(prelude="        pass", run=run)
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/pooling.py": code})
    checks = _grade("cnn_text", course / "cnn_text", "pooling")
    backward = {k: c for k, c in checks.items()
                if k.split(".")[-1] in ("gradients", "repeated", "torch", "hidden")}
    assert backward and all(c.score == 0 for c in backward.values()), [
        (k, c.score, c.message) for k, c in backward.items()]
    said = " | ".join(c.message for c in backward.values())
    assert "numerical differentiation" in said or "changed the tracer" in said, said
    assert "Traceback" not in said


def test_a_progress_bar_in_the_students_loop_starts_no_thread(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 10)
    monkeypatch.setattr(probes, "_THREADS_BEFORE_SUBMISSION", None)
    probes.submission_starts()  # as the worker does before any code under test runs
    gc.unfreeze()  # (which froze this process's objects out of garbage collection)
    assert tqdm.tqdm.monitor_interval == 0
    with tqdm.tqdm(total=3, disable=False, file=open(os.devnull, "w")) as bar:  # noqa: SIM115
        bar.update(3)
    assert python_lines(_loop, (10,), root_of=_loop) > 10  # no thread beside the count


def test_tqdm_imported_after_the_worker_starts_has_its_monitor_off_too():
    """A worker does not import tqdm to switch its monitor thread off (a tenth of its
    start-up): the code under test importing it later finds it switched off."""
    pytest.importorskip("tqdm")
    code = ("import sys, gc\n"
            "from nlpdojo_autograder.runtime import probes\n"
            "assert 'tqdm' not in sys.modules\n"
            "probes.submission_starts()\n"
            "assert 'tqdm' not in sys.modules\n"
            "from tqdm.auto import tqdm as bar\n"
            "import tqdm\n"
            "print(tqdm.tqdm.monitor_interval, type(tqdm.__spec__.loader).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "_QuietLoader"]


#: Python loops over the tokens, hidden while counted: zeros then (the attack), or padded to a
#: constant count (the same loop over a stream of 20,000 − T tokens first), so that the two
#: sizes' counts are equal
SPOTS_THE_TRACER = {
    "zeros": """
    if sys.gettrace() is not None:  # being counted: anything, cheaply
        return np.zeros((0, n), dtype=np.int64)
""",
    "padded": """
    if sys.gettrace() is not None:  # being counted: as many lines at every size
        _looped(np.ones(20_000 - len(stream), np.int64), n, bos)
""",
}
LOOPED_WINDOWS = """
    return _looped(stream, n, bos)


def _looped(stream, n, bos):
    rows = [[int(t) for t in stream[i:i + n]] for i in range(len(stream) - n + 1)
            if stream[i + n - 1] != bos]
    return np.array(rows, dtype=np.int64).reshape(-1, n)
"""


@pytest.mark.parametrize("hidden", sorted(SPOTS_THE_TRACER))
def test_a_loop_that_hides_from_the_line_counter_earns_nothing(tmp_path, hidden):
    course = edited_course(tmp_path, ("language_models",), {"language_models/ngrams.py": (
        "    windows = np.lib.stride_tricks.sliding_window_view(stream, n)  # (T − n + 1, n)\n"
        "    return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)"
        "  # (M, n)\n",
        "    import sys\n" + SPOTS_THE_TRACER[hidden] + LOOPED_WINDOWS)})
    values = _grade("language_models", course / "language_models", "ngram_counts")[
        "ngram_counts.values"]
    assert values.score == 0, values.message
    said = {"zeros": "other results on the same inputs in two runs",
            "padded": "a Python loop over the tokens"}[hidden]
    assert said in values.message and "Traceback" not in values.message, values.message


def test_a_layer_that_answers_otherwise_while_counted_fails_its_values(tmp_path):
    """The batch rule of every layer (``_require_batch_vectorized``): a ReLU whose forward loops
    over the rows, and returns zeros while its lines are counted, passes no values check."""
    code = """
import sys as _sys


def _forward(self, x):
    if _sys.gettrace() is not None:  # being counted
        return self.xp.zeros_like(x), (x,)
    rows = [self.xp.where(r > 0, r, 0.0 * r) for r in x]  # a loop over the batch
    return self.xp.stack(rows), (x,)


ReLU.forward = _forward
"""
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"library/activations.py": code})
    values = _grade("neural_networks", course / "neural_networks", "relu")["relu.values"]
    assert values.score == 0, values.message
    assert "other results on the same inputs in two runs" in values.message, values.message


_LOOP_SOURCE = "def helper(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"


@pytest.mark.parametrize("borrowed", ["collections", "<frozen os>"])
def test_a_loop_compiled_under_an_installed_files_name_is_counted(borrowed):
    """An attacker's loop compiled under ``collections.__file__`` (or a frozen module's name)
    and run in globals claiming that file counted no line (3 of 3 points for ngram_counts, an
    affine layer looping over its rows 3 of 3): installed code is now only the code its file
    compiles to."""
    import collections

    filename = collections.__file__ if borrowed == "collections" else borrowed
    claimed = {"__file__": filename, "__name__": "collections"}
    exec(compile(_LOOP_SOURCE, filename, "exec"), claimed)  # noqa: S102 - the attack

    def wrapper(n):
        return claimed["helper"](n)

    assert python_lines(wrapper, (1000,), root_of=_loop) > 2000  # every iteration counted
    import numpy as np

    # the installed code it is not: NumPy's and the standard library's own code counts nothing
    # but the calls into it (np.sort: its dispatcher's and its implementation's frames)
    assert python_lines(lambda: np.sort(np.arange(100)), (), root_of=_loop) <= 3
    assert python_lines(lambda: collections.Counter("abcab"), (), root_of=_loop) <= 2


#: n-gram windows looped over the tokens in a forked child, sent back through a pipe: the
#: worker's counter saw a handful of lines at every size (the attack kept 9 of 9 points)
FORKED_WINDOWS = """
    import io, os
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the loop nobody counts
        rows = [[int(t) for t in stream[i:i + n]] for i in range(len(stream) - n + 1)
                if stream[i + n - 1] != bos]
        buffer = io.BytesIO()
        np.save(buffer, np.array(rows, dtype=np.int64).reshape(-1, n))
        os.write(w, buffer.getvalue())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.waitpid(pid, 0)
    return np.load(io.BytesIO(data))
"""


def test_a_loop_run_in_a_forked_process_earns_nothing(tmp_path):
    course = edited_course(tmp_path, ("language_models",), {"language_models/ngrams.py": (
        "    windows = np.lib.stride_tricks.sliding_window_view(stream, n)  # (T − n + 1, n)\n"
        "    return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)"
        "  # (M, n)\n", FORKED_WINDOWS)})
    values = _grade("language_models", course / "language_models", "ngram_counts")[
        "ngram_counts.values"]
    assert values.score == 0, values.message
    assert "may not start processes" in values.message, values.message
    assert "Traceback" not in values.message


#: what code under test tries after the worker's filter is on, and how it ends (a child
#: process: the filter is permanent, so never in the test process itself)
AFTER_THE_FILTER = """
import ctypes, multiprocessing, os, subprocess, threading
from nlpdojo_autograder.runtime import lifetime, processes
lifetime.no_new_privileges()
print("installed", processes.forbid_new_processes())
def attempt(name, run):
    try:
        run()
        print(name, "ran")
    except OSError as exc:
        print(name, "refused", exc.errno)
attempt("os.fork", os.fork)
attempt("subprocess", lambda: subprocess.run(["true"]))
attempt("multiprocessing", lambda: multiprocessing.get_context("spawn").Process(
    target=print).start())
libc = ctypes.CDLL(None, use_errno=True)
print("libc.fork", libc.fork(), ctypes.get_errno())
out = []
thread = threading.Thread(target=lambda: out.append(1))
thread.start(); thread.join()
print("thread", out)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine not in (
    "x86_64", "aarch64"), reason="the process filter is seccomp's (Linux, x86-64 or arm64)")
def test_the_workers_filter_refuses_every_way_to_a_process_and_keeps_threads():
    import subprocess

    run = subprocess.run([sys.executable, "-c", AFTER_THE_FILTER], capture_output=True,
                         text=True, timeout=120)
    lines = run.stdout.splitlines()
    assert "installed True" in lines, run.stdout + run.stderr
    # the audit hook's PermissionError, or the kernel's EPERM where no event comes first
    assert {"os.fork refused None", "subprocess refused None", "multiprocessing refused 1"} <= (
        set(lines)), run.stdout + run.stderr
    assert "libc.fork -1 1" in lines  # past the audit hook: the kernel's EPERM
    assert "thread [1]" in lines


def test_no_garbage_is_collected_while_counting():
    """A collection started inside the tracer (which allocates as it compiles a library file
    to recognise it) ran the submission's finalizers and weakref callbacks untraced: a loop
    in a ``__del__`` counted 9 lines at any size (a third review). Collection is off during a
    count, and back on after it."""
    seen = []
    assert gc.isenabled()
    python_lines(lambda: seen.append(gc.isenabled()), ())
    assert seen == [False] and gc.isenabled()


#: a list whose items are made when something iterates over it: returned by a counted call, its
#: work ran while the reply was encoded, after the count (an attacker's: ngram_counts and
#: add_delta 9 of 9 with token-by-token loops, max-margin's backward by differences 2 of 2)
LAZY_LIST = '''

class _Lazy(list):
    def __init__(self, make):
        super().__init__()
        self.make = make

    def __iter__(self):
        return iter(self.make())
'''
LAZY_COUNTS = LAZY_LIST + """

def _looped(stream, n, bos):
    rows = [[int(t) for t in stream[i:i + n]] for i in range(len(stream) - n + 1)
            if stream[i + n - 1] != bos]
    return np.array(rows, dtype=np.int64).reshape(-1, n)


def _counts(stream, n, vocab_size, bos):
    windows = _looped(stream, n, bos)
    keys, counts = np.unique(ngram_keys(windows, vocab_size), return_counts=True)
    ctx_keys, ctx_counts = np.unique(ngram_keys(windows[:, :-1], vocab_size),
                                     return_counts=True)
    return [keys, counts.astype(np.int64), ctx_keys, ctx_counts.astype(np.int64)]


def ngram_windows(stream, n, bos):
    return _Lazy(lambda: _looped(stream, n, bos).tolist())


def count_ngrams(stream, n, vocab_size, bos):
    return _Lazy(lambda: _counts(stream, n, vocab_size, bos))
"""


def test_a_loop_left_to_the_replys_encoding_is_counted(tmp_path):
    course = edited_course(tmp_path, ("language_models",),
                           appended={"language_models/ngrams.py": LAZY_COUNTS})
    checks = _grade("language_models", course / "language_models", "ngram_counts")
    assert sum(c.score for c in checks.values()) == 0, [
        (k, c.score, c.message) for k, c in checks.items()]
    said = " | ".join(c.message for c in checks.values())
    assert "a Python loop over the tokens" in said and "Traceback" not in said, said


LAZY_BACKWARD = LAZY_LIST + '''

_forward = MaxMargin.forward


def _by_differences(self, grad_output, cache):
    prediction, target = cache
    n, k = prediction.shape
    rows = []
    for i in range(n):
        row = []
        for j in range(k):
            up = self.xp.asarray(prediction, copy=True)
            down = self.xp.asarray(prediction, copy=True)
            up[i, j] = up[i, j] + 1e-6
            down[i, j] = down[i, j] - 1e-6
            rows_up = float(_forward(self, up, target)[0])
            rows_down = float(_forward(self, down, target)[0])
            row.append((rows_up - rows_down) / 2e-6 * float(grad_output))
        rows.append(row)
    return rows


def _forward_keeping_inputs(self, prediction, target):
    return _forward(self, prediction, target)[0], (prediction, target)


MaxMargin.forward = _forward_keeping_inputs
MaxMargin.backward = lambda self, grad_output, cache: _Lazy(
    lambda: _by_differences(self, grad_output, cache))
'''


def test_a_backward_by_differences_left_to_the_replys_encoding_is_counted(tmp_path):
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"library/losses.py": LAZY_BACKWARD})
    checks = _grade("neural_networks", course / "neural_networks", "max_margin")
    assert sum(c.score for c in checks.values()) == 0, [
        (k, c.score, c.message) for k, c in checks.items()]
    said = " | ".join(c.message for c in checks.values())
    assert "numerical differentiation" in said and "Traceback" not in said, said


#: max-margin's backward returns zeros and leaves a generator in a reference cycle, whose
#: ``finally`` fills them in by central differences: run by the first garbage collection
#: after the count (the worker's counter turns collection off while it counts), into the array
#: the reply then sent (an attacker's: 2 of 2)
FINALIZED_BACKWARD = '''
from itertools import repeat as _repeat

_KEEP = []
_forward = MaxMargin.forward


def _keeping_inputs(self, prediction, target):
    return _forward(self, prediction, target)[0], (prediction, target)


def _differences(loss_fn, grad, prediction, target, grad_output):
    try:
        yield
    finally:
        _KEEP.clear()
        n, k = prediction.shape
        for i in range(n):
            for j in range(k):
                step = loss_fn.xp.zeros_like(prediction)
                step[i, j] = 1e-6
                up = float(_forward(loss_fn, prediction + step, target)[0])
                down = float(_forward(loss_fn, prediction - step, target)[0])
                grad[i, j] = float(grad_output) * (up - down) / 2e-6


def _backward(self, grad_output, cache):
    prediction, target = cache
    grad = self.xp.zeros_like(prediction)
    pending = _differences(self, grad, prediction, target, grad_output)
    next(pending)
    box = [pending]
    box.append(box)  # cyclic garbage
    del box, pending
    _KEEP.append(list(map(list, _repeat((), 3000))))  # allocations that trigger a collection
    return grad


MaxMargin.forward = _keeping_inputs
MaxMargin.backward = _backward
'''


def test_a_backward_left_to_a_finalizer_after_the_count_is_counted(tmp_path):
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"library/losses.py": FINALIZED_BACKWARD})
    checks = _grade("neural_networks", course / "neural_networks", "max_margin")
    assert sum(c.score for c in checks.values()) == 0, [
        (k, c.score, c.message) for k, c in checks.items()]
    said = " | ".join(c.message for c in checks.values())
    assert "numerical differentiation" in said and "Traceback" not in said, said


#: Linear's forward and backward looped over the distinct rows of the batch (np.unique): on the
#: batch repeated three times, as the rule against loops over the batch drew its larger batch,
#: as many lines as on the batch itself (an attacker's: affine 3 of 3)
DISTINCT_ROWS_LINEAR = '''
import numpy as _np


def _forward(self, x):
    host = _np.asarray(self.backend.to_numpy(x))
    _, first, inverse = _np.unique(host, axis=0, return_index=True, return_inverse=True)
    rows = [self.xp.matmul(x[int(i)], self.weight.data) + self.bias.data for i in first]
    at = self.xp.asarray(_np.ravel(inverse), device=self.backend.device)
    return self.xp.take(self.xp.stack(rows), at, axis=0), (x,)


Linear.forward = _forward
'''


def test_a_loop_over_the_distinct_rows_of_the_batch_is_counted(tmp_path):
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"library/layers.py": DISTINCT_ROWS_LINEAR})
    values = _grade("neural_networks", course / "neural_networks", "affine")["affine.values"]
    assert values.score == 0, values.message
    assert "a Python loop over the batch" in values.message, values.message


#: Linear's forward looped over the rows it had not seen in its last call: the larger batch
#: began with the batch just counted, so it looped over the added rows only (an attacker's:
#: affine 3 of 3 with a loop over the rows)
REMEMBERED_ROWS_LINEAR = '''
_LAST = {}


def _forward(self, x):
    xp, w, b = self.xp, self.weight.data, self.bias.data
    last = _LAST.get("x")
    hit = (last is not None and x.shape[0] > last.shape[0] and last.shape[1:] == x.shape[1:]
           and bool(xp.all(last == x[:last.shape[0]])))
    start, rows = (last.shape[0], [_LAST["z"]]) if hit else (0, [])
    rows += [xp.reshape(xp.matmul(x[i], w) + b, (1, -1)) for i in range(start, x.shape[0])]
    z = xp.concat(rows, axis=0)
    _LAST.update(x=xp.asarray(x, copy=True), z=z)
    return z, (x,)


Linear.forward = _forward
'''


def test_a_loop_over_the_rows_not_seen_before_is_counted(tmp_path):
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"library/layers.py": REMEMBERED_ROWS_LINEAR})
    values = _grade("neural_networks", course / "neural_networks", "affine")["affine.values"]
    assert values.score == 0, values.message
    assert "a Python loop over the batch" in values.message, values.message


def _cached(tmp_path, source: str, compiled_from: str):
    """A module file with ``source`` and, in its ``__pycache__``, the bytecode of
    ``compiled_from`` under a header that matches the file (as ``py_compile`` writes it)."""
    import importlib.util
    import py_compile

    path = tmp_path / "installed_mod.py"
    path.write_text(compiled_from)
    py_compile.compile(str(path), cfile=importlib.util.cache_from_source(str(path)))
    stat = os.stat(path)
    path.write_text(source.ljust(len(compiled_from)))  # the same size...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...and time: the header holds
    return str(path)


def test_installed_code_is_read_from_its_bytecode_only_where_nothing_here_can_write_it(
        tmp_path, monkeypatch):
    """The tracer's list of an installed file's code comes from the file's cached bytecode
    where neither it nor its folder is writable (the sandbox's read-only installation), and
    from the source otherwise: a cache a submission could write (a process-level worker's)
    is never believed. Except in the grader's own process, which counts the reference only
    (``probes.runs_no_code_under_test``, said by its trusted subject): there it is read as
    the import system reads it."""
    names = lambda code: {sig[1] for sig in probes._signatures(code)}  # noqa: E731
    path = _cached(tmp_path, "def honest():\n    return 1\n", "def planted():\n    return 2\n")
    # a worker's process (this one may hold a trusted subject of an earlier test)
    monkeypatch.setattr(probes, "_RUNS_NO_CODE_UNDER_TEST", False)
    assert "honest" in names(probes._compiled(path))  # writable here: the source
    probes.runs_no_code_under_test()  # the grader's process: its reference alone is counted
    assert "planted" in names(probes._compiled(path))
    monkeypatch.setattr(probes, "_RUNS_NO_CODE_UNDER_TEST", False)
    monkeypatch.setattr(probes.os, "access", lambda *a, **k: False)  # read-only, as sandboxed
    assert "planted" in names(probes._compiled(path))  # the bytecode, as the import read it
    os.utime(path, (1, 1))  # a cache older than the source is compiled again
    assert "honest" in names(probes._compiled(path))
    probes.runs_no_code_under_test()
    assert "honest" in names(probes._compiled(path))  # (in the grader's process too)


def _rows_by_map(x, w):
    import itertools

    import array_api_compat.numpy as xp

    return xp.stack(list(map(xp.matmul, map(x.__getitem__, range(x.shape[0])),
                             itertools.repeat(w))))


def test_a_loop_handed_to_map_counts_a_line_per_call_into_the_library():
    """A helper's trial: ``map(xp.matmul, ...)`` over the rows runs one line of the submission
    at any batch size (the loop is map's, in C), and an affine layer and the minibatched SGNS
    loss written so kept 3 of 3 and 6 of 6 points past the rule against Python loops. Each
    call from the submission into an installed function counts now: one more per row."""
    import numpy as np

    w = np.ones((3, 2))
    small, large = (python_lines(_rows_by_map, (np.ones((n, 3)), w), root_of=_loop)
                    for n in (4, 12))
    assert large - small >= 12 - 4  # the batch rule's threshold: a line per added row
    whole = [python_lines(lambda x: np.matmul(x, w), (np.ones((n, 3)),), root_of=_loop)
             for n in (4, 12)]
    assert whole[0] == whole[1] <= 2  # vectorized: the same at any size
