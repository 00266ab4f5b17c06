"""Call-backs into a swapped-in reference (issue 23, part 1): the grader forwards them, checked
as data, to a reference process of their own, and rebuilds nothing the worker names.

When a check swaps the reference in for a question its question builds on, the student's code
calls proxies and each call comes back to the grader. These attacks used to work, because the
grader ran the reference in its own process on objects rebuilt from the worker's data:

* (a) an object token naming a library class with a finaliser (NumPy's ``DataSource``, which
  deletes its folder), reached from a reference module's attributes (``np.lib...``): the
  grader's user deleted a folder outside the sandbox;
* (b) a shell ``RNN`` whose ``cell`` is the student's ``RNNLM``: the swapped-in ``RNN.forward``
  ran the reference ``RNNLM.forward``, the question under test (full marks for it, unwritten);
* (c) an argument that makes the reference return a gigabyte, and (d) one that makes it loop
  for hours: reference code ran in the grader without a deadline or a memory cap;
* (e) every restarted worker left its scratch folder until grading ended;
* (f) a module that does not import (``ngrams.py``) was stood in for by proxies to *all* the
  reference's functions of that module, the question under test's included (full marks).

Each attack runs through ``grade`` as CI runs it, with test_hostile's ``grade`` helper (no
process left, nothing changed outside scratch, the grader's TMPDIR empty at the end), on a copy
of the language_models solutions with ``RNNLM.forward`` (or one file) replaced. The last tests
drive the reference process's own walls directly: they must hold even if the grader's checks
were bypassed.
"""

from __future__ import annotations

import copy
import gc
import os
import shutil
import struct
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_autograder.grading.runner import hidden_folders
from nlpdojo_autograder.runtime import objects, remote
from nlpdojo_autograder.runtime.callbacks import SwapScope
from nlpdojo_autograder.runtime.calls import REFERENCE_TOKENS, Workspace
from nlpdojo_autograder.runtime.channel import Token
from nlpdojo_autograder.runtime.probes import _changed, same_array, same_bytes
from nlpdojo_autograder.runtime.remote import RemoteSubject, WorkerSettings
from nlpdojo_autograder.runtime.subject import Fence, NotSwappedIn, ReferenceCode
from nlpdojo_autograder.runtime.worker import ReferenceWorker, _load_reference
from tests.grading.test_hostile import (
    AUTO,
    GRADE,
    SOLUTIONS,
    TOPIC,
    Graded,
    grade,
    levels,
)

#: the attacks judged on the points of checks that draw their inputs are marked `seeded`
#: (`make test-seeds` runs them for 20 input seeds); the rest end in time-outs, errors or the
#: reference process's own walls, whatever the draw

LM = "language_models"
#: the tests that grade through `grade` (a process of its own: nothing in it patched) a copy
#: of the course's own solutions, with the course's reference: its expected outcomes are those
#: the other tests of the course's topics share (tests/conftest.py)
SHARED_EXPECTED = pytest.mark.shared_expected
#: the checks of rnn_lm that run RNNLM.forward (the bptt_windows check does not)
FORWARD_CHECKS = ("rnn_lm.values", "rnn_lm.hidden", "rnn_lm.gradients", "rnn_lm.repeated",
                  "rnn_lm.accumulate")
FORWARD_BLOCK = (
    "        ### BEGIN SOLUTION rnn_lm\n        b, t_steps = ids.shape\n",
    "        return scores, (c_emb, c_rnn, c_out, hs[:, -1, :])\n        ### END SOLUTION\n")


def lm_submission(root: Path, forward: str | None = None, *,
                  edits: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of the language_models solutions and the library in ``root``, with the body of
    ``RNNLM.forward`` replaced by ``forward`` and ``edits`` made ({file: (old, new)})."""
    for name in ("library", LM):
        shutil.copytree(SOLUTIONS / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    if forward is not None:
        path = root / LM / "rnn_lm.py"
        text = path.read_text()
        begin = text.index(FORWARD_BLOCK[0])
        end = text.index(FORWARD_BLOCK[1], begin) + len(FORWARD_BLOCK[1])
        body = textwrap.indent(textwrap.dedent(forward).strip("\n") + "\n", " " * 8)
        path.write_text(text[:begin] + body + text[end:])
    for rel, (old, new) in (edits or {}).items():
        path = root / rel
        assert old in path.read_text(), f"edit target not in {rel}: {old!r}"
        path.write_text(path.read_text().replace(old, new))
    return root


class Watch(threading.Thread):
    """Samples, while ``grade`` runs, the grader's peak resident memory (VmHWM of the ``grade``
    process) and the worker folders in its TMPDIR: the most ``scratch*`` and ``reference*``
    folders there at once, and every one seen."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(daemon=True)
        self.tmp_path = tmp_path
        self.done = threading.Event()
        self.peak_bytes = 0
        self.most = {"scratch": 0, "reference": 0}
        self.seen: set[str] = set()

    def __enter__(self) -> Watch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            time.sleep(0.05)

    def sample(self) -> None:
        for kind in self.most:
            try:
                found = list(self.tmp_path.glob(f"run-*/tmp/nlpdojo-worker-*/{kind}*"))
            except FileNotFoundError:  # a worker's folder removed while the glob walked it
                continue  # (it killed this thread once): the next sample sees the rest
            self.most[kind] = max(self.most[kind], len(found))
            self.seen.update(p.name for p in found)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                self.peak_bytes = max(self.peak_bytes, self._high_water(entry))

    def _high_water(self, pid: str) -> int:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            if str(GRADE) not in cmdline or str(self.tmp_path) not in cmdline:
                return 0
            with open(f"/proc/{pid}/status") as f:
                line = next(x for x in f if x.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return 0
        return int(line.split()[1]) * 1024


def assert_forward_checks_zero(graded: Graded, phrase: str) -> None:
    for check_id in FORWARD_CHECKS:
        check = graded.checks[check_id]
        assert check["score"] == 0, (check_id, check["message"])
        assert phrase in check["message"], (check_id, check["message"])


# -- (a) a class named by the worker -----------------------------------------------------------
#: three ways to name NumPy's DataSource (whose __del__ deletes ``_destpath``): as the object of
#: the swapped method, as a sub-layer of a genuine Linear, and as a plain argument
DATASOURCE_ATTACK = """
from nlpdojo_autograder.runtime.channel import Token
from ..library.layers import Linear

call = next(c.cell_contents for c in Linear.forward.__closure__
            if hasattr(c.cell_contents, '__self__'))
channel = call.__self__.references  # the pipes to the reference process
state = {"_istmpdest": True, "_destpath": @VICTIM@}
source = Token("object", ("..library.layers", "np.lib._datasource.DataSource", state))
weight = self.output.weight
linear = {"weight": {"__parameter__": "weight", "data": Token("array", (weight.data, None)),
                     "grad": Token("array", (weight.grad, None))},
          "junk": {"__object__": ["..library.layers", "np.lib._datasource.DataSource"],
                   "state": state}}
replies = []
for args in [(source, ids),
             (Token("object", ("..library.layers", "Linear", linear)), ids),
             (Token("object", ("..library.layers", "Linear", {})), source)]:
    channel.send({"op": "reference", "module": "..library.layers", "name": "Linear.forward",
                  "args": args, "kwargs": {}})
    replies.append(channel.recv())
raise RuntimeError("ATTACK " + " | ".join(str(r.get("error", r))[:300] for r in replies))
"""


@SHARED_EXPECTED
@pytest.mark.seeded
@pytest.mark.timeout(400)
@pytest.mark.parametrize("level", levels())
def test_a_library_class_named_by_the_worker_is_built_nowhere(tmp_path, level):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("outside every sandbox")
    folder = lm_submission(tmp_path / "sub", DATASOURCE_ATTACK.replace("@VICTIM@",
                                                                       repr(str(victim))))
    graded = grade(tmp_path, level, "rnn_lm", "--timeout-scale", "0.3",
                   submission=folder / LM)
    assert (victim / "keep.txt").read_text() == "outside every sandbox"
    assert_forward_checks_zero(graded, "ATTACK ")
    message = graded.checks["rnn_lm.values"]["message"]
    assert "the object sent with Linear.forward() is not a Linear" in message, message
    assert "self.junk holds a np.lib._datasource.DataSource" in message, message
    assert "an object other than the layer whose method is swapped in cannot be passed" \
        in message, message


# -- (b) the question under test reached through a shell -----------------------------------------
SHELL_ATTACK = """
from ..library.rnn import RNN

shell = object.__new__(RNN)  # an RNN whose cell is this very model: the reference RNN.forward
shell.backend, shell.xp, shell.training = self.backend, self.xp, self.training
shell.hidden_size = self.hidden_size
inner = object.__new__(type(self))
inner.__dict__.update(vars(self))
shell.cell = inner
hs, (caches,) = shell(ids[:, None, :], h0)  # calls self.cell(ids, h0): the reference RNNLM
return hs[:, 0], caches[0]
"""


@SHARED_EXPECTED
@pytest.mark.seeded
@pytest.mark.timeout(400)
def test_a_shell_layer_does_not_run_the_reference_of_the_question_under_test(tmp_path):
    """Before, every check of RNNLM.forward passed (3.5 of 3.5 points) with no forward
    written."""
    folder = lm_submission(tmp_path / "sub", SHELL_ATTACK)
    graded = grade(tmp_path, AUTO, "rnn_lm", "--timeout-scale", "0.3", submission=folder / LM)
    assert_forward_checks_zero(graded, "self.cell holds a RNNLM (rnn_lm.py), the layer of "
                                       "question language_models.rnn_lm, which is not swapped "
                                       "in for this check")
    assert graded.checks["rnn_lm.windows"]["score"] == graded.checks["rnn_lm.windows"][
        "max_score"], "bptt_windows is written: its check must pass"


@pytest.mark.seeded
# -- (f) the question under test through a stand-in module ---------------------------------------
@SHARED_EXPECTED
@pytest.mark.timeout(400)
def test_a_module_that_does_not_import_earns_nothing_through_its_stand_in(tmp_path):
    """add_delta swaps in ngram_counts, whose file ngrams.py also holds add_delta: with the
    file broken, the stand-in used to answer add_delta with the reference (6 of 6 points)."""
    folder = lm_submission(tmp_path / "sub", edits={
        f"{LM}/ngrams.py": ("from __future__ import annotations\n",
                            "from __future__ import annotations\nimport no_such_module\n")})
    graded = grade(tmp_path, AUTO, "add_delta", submission=folder / LM)
    for check in graded.assert_zero("add_delta"):
        assert "ngrams.py could not be imported" in check["message"], check["message"]
        assert "no_such_module" in check["message"], check["message"]


# -- (c) a result far larger than any check's ------------------------------------------------------
#: the training runs (a vocabulary of thousands) are left alone: they would only take longer
VALUE_CHECKS_ONLY = """
if self.embedding.weight.shape[0] > 100:
    raise RuntimeError("ATTACK only in the checks of small models")
"""
HUGE_RESULT = VALUE_CHECKS_ONLY + """
from ..library.layers import Linear

wide = Linear(self.backend, 0, 11_000)  # weights (0, 11000): no bytes to send
z, _ = wide(self.xp.zeros((11_000, 0), dtype=self.backend.default_dtype))  # (11000, 11000)
raise RuntimeError(f"ATTACK got {z.shape}")
"""


@SHARED_EXPECTED
@pytest.mark.timeout(400)
def test_a_huge_result_of_a_swapped_in_reference_never_reaches_the_grader(tmp_path):
    """A Linear(0, 11000) on 11,000 rows of nothing: the reference returns 11,000 x 11,000
    (about 1 GB). Before, the grader computed it and pickled it on to the worker (its peak:
    about 2.3 GB); now the reference process computes it and the grader refuses the reply from
    its header, without reading it."""
    folder = lm_submission(tmp_path / "sub", HUGE_RESULT)
    with Watch(tmp_path) as watch:
        graded = grade(tmp_path, AUTO, "rnn_lm", "--timeout-scale", "0.3",
                       submission=folder / LM)
    for check_id in FORWARD_CHECKS:
        check = graded.checks[check_id]
        assert check["score"] == 0, (check_id, check["message"])
        assert "ATTACK got" not in check["message"], check["message"]
        assert "the reference Linear.forward() (swapped in for an earlier question) failed" \
            in check["message"], check["message"]
        assert check["duration_s"] < 30 * 0.3 + 5, check
    assert watch.peak_bytes > 0, "the grader's memory was never sampled"
    assert watch.peak_bytes < 900 * 2**20, f"the grader's peak: {watch.peak_bytes / 2**20:.0f} MB"


# -- (d) a reference that never returns ----------------------------------------------------------
#: the reference RNN spun in truncated_bptt's check (its windows are 3 x 4: the other checks'
#: 2 x 5), each of which waits out its limit; the other checks fail at once
ENDLESS = VALUE_CHECKS_ONLY + """
if tuple(ids.shape) != (3, 4):
    raise RuntimeError("ATTACK spins in truncated_bptt only")
from ..library.rnn import RNN

spin = RNN(self.backend, 0, 1)  # an input of no bytes and 100 million steps
xs = self.xp.zeros((ids.shape[0], 100_000_000, 0), dtype=self.backend.default_dtype)
spin(xs, self.xp.zeros((ids.shape[0], 1), dtype=self.backend.default_dtype))
raise RuntimeError("ATTACK came back")
"""


@SHARED_EXPECTED
@pytest.mark.long
@pytest.mark.timeout(400)
def test_a_swapped_in_reference_that_never_returns_costs_only_its_check(tmp_path):
    """A check of RNNLM.forward whose swapped-in reference never returns ends at its own limit
    (15 s at scale 0.1) saying where; the reference process is replaced, the checks after it
    run (RNNLM.forward's others fail at once, as written), and window_lm, whose checks call the
    reference back too, gets full marks after it. Before, the grader ran the loop itself,
    without a deadline. (At this scale torch in the grader made its compiler cache,
    torchinductor_<user>, in the grader's TMPDIR, which the harness refuses: `grade` now
    points TORCHINDUCTOR_CACHE_DIR at nlpdojo's user cache.)"""
    from nlpdojo_course.language_models.rnn import SEQUENCE_TIMEOUT_S

    # window_lm's value and gradient checks get 15 s at this scale, 10x what they take alone
    # (at 0.05 one ran out of its 7.5 s on a machine loaded three times over)
    scale = 0.1
    limit = SEQUENCE_TIMEOUT_S * scale
    folder = lm_submission(tmp_path / "sub", ENDLESS)
    with Watch(tmp_path) as watch:
        # (at one level, the sandbox where it works: the deadline is the grader's at both,
        # and each run waits out every check's 15 s)
        graded = grade(tmp_path, AUTO, "rnn_lm", "window_lm", "--timeout-scale", str(scale),
                       submission=folder / LM, timeout_s=380)
    check = graded.checks["rnn_lm.truncated_bptt"]
    assert check["score"] == 0 and check["status"] == "timeout", check
    assert f"took longer than {limit:g} s and was stopped (in the reference RNN.forward(), " \
           "swapped in for question language_models.rnn" in check["message"], check
    assert check["duration_s"] < limit + 5, check
    for check_id in FORWARD_CHECKS:
        assert graded.checks[check_id]["score"] == 0, graded.checks[check_id]
        assert "ATTACK spins in truncated_bptt only" in graded.checks[check_id]["message"]
    graded.assert_full_marks("window_lm")
    assert watch.most["reference"] <= 1, watch.seen
    assert len([n for n in watch.seen if n.startswith("reference")]) >= 2, watch.seen
    assert watch.peak_bytes < 900 * 2**20, f"the grader's peak: {watch.peak_bytes / 2**20:.0f} MB"


# -- (e) scratch folders of stopped workers ------------------------------------------------------
@SHARED_EXPECTED
@pytest.mark.timeout(400)
@pytest.mark.parametrize("level", levels())
def test_a_restarted_worker_leaves_no_scratch_behind(tmp_path, level):
    """RNNLM.forward exits its worker in every check that runs it (a restart each); window_lm's
    checks after them call the reference back. At no moment is more than one worker's scratch
    folder (with its stack dump) in the grader's TMPDIR, nor more than one reference process's."""
    folder = lm_submission(tmp_path / "sub", """
        import os
        os._exit(3)
    """)
    with Watch(tmp_path) as watch:
        graded = grade(tmp_path, level, "rnn_lm", "window_lm", "--timeout-scale", "0.3",
                       submission=folder / LM)
    for check_id in FORWARD_CHECKS:
        assert "exited with code 3" in graded.checks[check_id]["message"], \
            graded.checks[check_id]
    graded.assert_full_marks("window_lm")
    scratches = sorted(n for n in watch.seen if n.startswith("scratch"))
    assert len(scratches) >= 6, f"too few restarts seen to tell: {scratches}"
    assert watch.most["scratch"] == 1, (watch.most, scratches)
    assert watch.most["reference"] == 1, watch.seen


# -- the exchange: a worker is never reused out of step ------------------------------------------
def _word_vectors_subject(tmp_path: Path) -> RemoteSubject:
    from nlpdojo.plugins import get_registry
    from nlpdojo_autograder.grading.grade import question_functions
    from nlpdojo_autograder.grading.runner import _reference_names

    exercise = get_registry().get("exercise", TOPIC)
    reference = ReferenceCode(exercise.reference_package)
    qf = question_functions(exercise)
    folder = tmp_path / "course" / TOPIC
    shutil.copytree(SOLUTIONS / TOPIC, folder, ignore=shutil.ignore_patterns("__pycache__"))
    settings = WorkerSettings(
        topic=TOPIC, folder=folder, backend="numpy", device=None, isolation="process",
        memory_mb=2048, memory_mode="address-space", output_bytes=10**6, startup_s=60,
        cpu_s=600, question_functions=qf, reference_names=_reference_names(reference, qf),
        hidden=hidden_folders())
    return RemoteSubject(settings, reference)


def _naive_softmax_call(subject: RemoteSubject) -> dict:
    rng = np.random.default_rng(0)
    args = (rng.normal(size=5), 1, rng.normal(size=(7, 5)))
    return subject.call(Token("function", ("student", "naive_softmax",
                                           "naive_softmax_loss_and_gradient")),
                        args, {}, deadline=time.monotonic() + 60)


def test_an_exception_inside_an_exchange_replaces_the_worker(tmp_path, monkeypatch):
    """An error of the grader's own in an exchange (reading the worker's reply to a call): the
    worker is stopped (its channel is out of step) and its scratch removed at once; the next
    check starts a fresh worker that answers normally."""
    subject = _word_vectors_subject(tmp_path)
    try:
        subject.begin(dtype="float64", swap_in=("word_vectors.softmax",), workdir="w0",
                      deadline=time.monotonic() + 60)
        first = subject.scratch
        assert first is not None and first.is_dir()

        def broken(reply):
            raise ZeroDivisionError("a bug of the grader's")

        monkeypatch.setattr(remote, "_has_token", broken)
        with pytest.raises(ZeroDivisionError):
            _naive_softmax_call(subject)
        assert not subject.alive
        assert not first.exists(), "the stopped worker's scratch folder is still there"
        monkeypatch.undo()
        subject.end()
        subject.begin(dtype="float64", swap_in=("word_vectors.softmax",), workdir="w1",
                      deadline=time.monotonic() + 60)
        assert subject.scratch != first
        reply = _naive_softmax_call(subject)
        assert "value" in reply, reply
    finally:
        subject.close()
    assert not subject.root.exists()


def test_the_reference_process_starts_beside_the_worker_where_checks_call_back(tmp_path):
    """A grading whose checks swap reference code in starts the reference process with the
    student's worker, before any check's clock, their imports side by side; the worker's
    call-backs go to it directly and are answered, and the grader learns their number at the
    check's end. Without swap-ins none starts. The two stop together: a worker stopped takes
    its reference process with it, and the next check starts a fresh pair."""
    subject = _word_vectors_subject(tmp_path / "a")
    try:
        subject.load(60)
        assert subject.references is None
    finally:
        subject.close()
    subject = _word_vectors_subject(tmp_path / "b")
    try:
        subject.load(60, call_backs={"word_vectors.softmax"})
        assert subject.references is not None and subject.references.alive
        subject.begin(dtype="float64", swap_in=("word_vectors.softmax",), workdir="w0",
                      deadline=time.monotonic() + 60, index=0)
        reply = _naive_softmax_call(subject)
        assert "value" in reply, reply
        subject.end()
        assert subject.call_backs[0] >= 1
        first = subject.references.process
        subject.stop()
        assert not subject.references.alive and not first.scratch.exists()
        subject.begin(dtype="float64", swap_in=("word_vectors.softmax",), workdir="w1",
                      deadline=time.monotonic() + 60, index=1)
        assert subject.references.alive and subject.references.process is not first
        assert "value" in _naive_softmax_call(subject)
        subject.end()
    finally:
        subject.close()
    assert not subject.root.exists()


# -- the reference process's own walls, without the grader's checks ----------------------------
def _reference_workspace(tmp_path: Path, allowed: list[tuple[str, str]], backend: str = "numpy"
                         ) -> tuple[Workspace, objects.AllowedClasses, ReferenceCode]:
    code = ReferenceCode(f"nlpdojo_solutions.{LM}")
    classes = objects.AllowedClasses(code.module)
    classes.allow(allowed)
    backends = {d: load_backend(backend, "cpu", d) for d in ("float64", None)}
    workspace = Workspace(backends, code, tmp_path, classes=classes, tokens=REFERENCE_TOKENS)
    workspace.begin("float64", "w")
    return workspace, classes, code


def _linear_forward(workspace: Workspace, instance: Token, *args: object) -> dict:
    return workspace.call(Token("function", ("student", "..library.layers", "Linear.forward")),
                          (instance, *args), {})


def test_the_reference_process_rebuilds_only_allowed_classes_by_exact_name(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    workspace, _, _ = _reference_workspace(tmp_path, [("..library.layers", "Linear"),
                                                      ("..library.layers",
                                                       "np.lib._datasource.DataSource")])
    state = {"_istmpdest": True, "_destpath": str(victim)}
    x = Token("array", (np.ones((2, 3)), None))
    # allowed by name, yet not a class of that module: exact lookup, no attribute walk
    reply = _linear_forward(workspace, Token("object", (
        "..library.layers", "np.lib._datasource.DataSource", state)), x)
    assert "layers.py defines no class np.lib._datasource.DataSource" in \
        reply["error"]["message"], reply
    # a class the check does not allow
    reply = _linear_forward(workspace, Token("object", (
        "..library.layers", "Embedding", {})), x)
    assert "cannot be handed to the reference" in reply["error"]["message"], reply
    # anything but data in the arguments
    for token in (Token("function", ("student", "..library.layers", "Linear.forward")),
                  Token("module", ("rnn_lm",)), Token("path", ("x",)),
                  Token("call", (Token("function", ("student", "ngrams", "perplexity")), (),
                                 {}))):
        reply = _linear_forward(workspace, Token("object", ("..library.layers", "Linear", {})),
                                token)
        assert f"a {token.kind} cannot be passed to the reference" in \
            reply["error"]["message"], reply
    gc.collect()
    assert victim.is_dir()


def test_a_stand_in_cell_is_the_only_grader_class_an_object_may_name(tmp_path):
    """An unroll over the grader's stand-in cells may be handed to a swapped-in reference (a
    bidirectional wrapper on the library's RNN): the stand-ins cross by their exact name in
    ``nlpdojo_autograder.runtime.probes``; no other class of that module, or of the grader, does."""
    workspace, _, _ = _reference_workspace(tmp_path, [("..library.layers", "Linear")])
    x = Token("array", (np.ones((2, 3)), None))
    for module, qualname in (("nlpdojo_autograder.runtime.probes", "Module"),
                             ("nlpdojo_autograder.runtime.probes", "ProbeError"),
                             ("nlpdojo_autograder.runtime.probes", "ArrayStateCell.forward"),
                             ("nlpdojo_autograder.runtime.objects", "AllowedClasses")):
        reply = _linear_forward(workspace, Token("object", (module, qualname, {})), x)
        assert "cannot be handed to the reference" in reply["error"]["message"], reply
    scope = SwapScope(classes=frozenset({("..library.layers", "Linear")}))
    state = {"cell": {objects.OBJECT: ["nlpdojo_autograder.runtime.probes", "PairStateCell"],
                      "state": {}},
             "other": {objects.OBJECT: ["nlpdojo_autograder.runtime.probes", "Module"],
                       "state": {}}}
    refused = scope._instance_refusal("..library.layers", "Linear.forward",
                                      Token("object", ("..library.layers", "Linear", state)))
    assert refused is not None and "self.other holds a Module" in refused
    del state["other"]
    assert scope._instance_refusal("..library.layers", "Linear.forward", Token(
        "object", ("..library.layers", "Linear", state))) is None


def test_an_error_of_the_reference_quotes_no_line_of_it(tmp_path):
    """The message of an error in the reference process goes back to the student: it says
    what went wrong, never which line of the solution (before: "(at ngrams.py line 71: ...)")."""
    spec = {"backend": "numpy", "device": None, "modules": ["ngrams"],
            "reference": ReferenceCode(f"nlpdojo_solutions.{LM}").spec()}
    worker = ReferenceWorker(None, spec, tmp_path, _load_reference(spec))
    worker.workspace.begin("float64", "w")
    reply = worker.call({"module": "ngrams", "name": "perplexity", "args": ("not numbers",),
                         "kwargs": {}, "mutable": []})
    message = reply["error"]["message"]
    assert message.startswith("TypeError: "), message
    assert " line " not in message and "np." not in message, message


def test_the_reference_process_answers_the_worker_within_the_checks_scope_only(tmp_path):
    """The reference process's own loop, over real pipes: a call-back before any check, or
    outside the check's scope, is refused with why; one inside it is answered; the grader hears
    how many at the check's end; a frame it cannot read is answered with why, and the process
    ends (out of step with the worker: the grader replaces both)."""
    import pickle

    from nlpdojo_autograder.runtime.channel import MAGIC_PICKLE, Channel
    from nlpdojo_autograder.runtime.sandbox import pipe

    spec = {"backend": "numpy", "device": None, "modules": ["ngrams"],
            "reference": ReferenceCode(f"nlpdojo_solutions.{LM}").spec()}
    grader_reads, reference_writes = pipe()
    reference_reads, grader_writes = pipe()
    worker_reads, ref_to_worker = pipe()
    ref_from_worker, worker_writes = pipe()
    grader = Channel(grader_reads, grader_writes, send_pickles=True)
    student = Channel(worker_reads, worker_writes)
    reference = ReferenceWorker(
        Channel(reference_reads, reference_writes, accept_pickles=True), spec, tmp_path,
        _load_reference(spec),
        student=Channel(ref_from_worker, ref_to_worker, allow_tokens=True))
    serving = threading.Thread(target=reference.serve, daemon=True)
    serving.start()

    def call_back(name, *args):
        student.send({"op": "reference", "module": "ngrams", "name": name, "args": args,
                      "kwargs": {}}, time.monotonic() + 10)
        return student.recv(time.monotonic() + 30)

    counts = [[2, 1], [1, 3]]
    assert "is not swapped in for this check" in call_back("perplexity", counts)["error"]
    scope = SwapScope.of(("language_models.ngrams",),
                         {"language_models.ngrams": [("ngrams", "perplexity")]}, {})
    grader.send({"op": "begin", "dtype": "float64", "workdir": "w0", "scope": scope})
    assert "is not swapped in" in call_back("no_such_function", counts)["error"]
    reply = call_back("perplexity", np.log(np.full(4, 0.5)))
    assert "value" in reply and not isinstance(reply["value"], Token), reply
    grader.send({"op": "end"})
    assert grader.recv(time.monotonic() + 10) == {"call_backs": 2}  # this check's two
    # a pickle is never read from the worker: refused, said, and the process ends
    student.send_frame([struct.pack("!4sIQ", MAGIC_PICKLE, 0, 5), pickle.dumps(1)[:5]])
    assert "could not be read" in student.recv(time.monotonic() + 10)["error"]
    serving.join(timeout=10)
    assert not serving.is_alive()


def test_the_fence_keeps_the_question_under_tests_code_from_running(tmp_path):
    """Even with its class allowed (the grader would have refused it), RNNLM.forward of the
    reference does not run while the fence is closed for rnn_lm; it runs again once open."""
    workspace, _, code = _reference_workspace(tmp_path, [
        ("..library.rnn", "RNN"), ("..library.rnn", "RNNCell"), ("rnn_lm", "RNNLM"),
        ("..library.layers", "Embedding"), ("..library.layers", "Linear")])
    fence = Fence(code)
    scope = SwapScope.of(("language_models.rnn", "language_models.rnn_cell"),
                         {"language_models.rnn_lm": [("rnn_lm", "RNNLM.forward"),
                                                     ("rnn_lm", "bptt_windows")],
                          "language_models.rnn": [("..library.rnn", "RNN.forward")],
                          "language_models.rnn_cell": [("..library.rnn", "RNNCell.forward")]},
                         {})
    assert ("rnn_lm", "RNNLM.forward", "language_models.rnn_lm") in scope.blocked
    assert ("rnn_lm", "RNNLM") not in scope.classes
    module = code.module("rnn_lm")
    original = module.RNNLM.forward
    fence.close(scope.blocked)
    try:
        assert module.RNNLM.forward is not original
        with pytest.raises(NotSwappedIn, match="the code of question language_models.rnn_lm"):
            module.bptt_windows(np.arange(50), 2, 5)
        backend = workspace.backend
        model = module.RNNLM(backend, 7, 3, 4)
        state = objects.capture(
            model, array=lambda a: Token("array", (a, None)) if isinstance(a, np.ndarray) else a,
            backend=backend, where=workspace.locate)
        shell = {"backend": {objects.BACKEND: True}, "xp": {objects.NAMESPACE: True},
                 "training": True, "hidden_size": 4,
                 "cell": {objects.OBJECT: ["rnn_lm", "RNNLM"], "state": state}}
        ids = np.zeros((2, 1, 3), dtype=np.int64)
        reply = workspace.call(Token("function", ("student", "..library.rnn", "RNN.forward")),
                               (Token("object", ("..library.rnn", "RNN", shell)),
                                Token("array", (ids, None)),
                                Token("array", (np.zeros((2, 4)), None))), {})
        assert "RNNLM.forward(), the code of question language_models.rnn_lm" in \
            reply["error"]["message"], reply
    finally:
        fence.open()
    assert module.RNNLM.forward is original
    assert module.bptt_windows(np.arange(50), 2, 5)[0].shape == (4, 2, 5)


@pytest.mark.parametrize("name", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_a_swapped_in_method_sends_back_array_attributes_on_every_backend(tmp_path, name):
    """A reference method swapped in for an object whose state holds plain arrays beside its
    parameters (BatchNorm1d's running statistics; Adam's moments, in a dict) runs on the
    backend's arrays in the reference process, and the state it sends back holds them as
    arrays. On torch they were refused as "a Tensor, which cannot be sent to the grader", so
    the reference copied as a submission lost residual_block, rnn_lm and lstm_lm on torch
    (found grading on an H100; the tests graded torch with the reference trusted only)."""
    if name == "torch":
        pytest.importorskip("torch")
    from nlpdojo_solutions.library.normalization import BatchNorm1d

    workspace, _, _ = _reference_workspace(
        tmp_path, [("..library.normalization", "BatchNorm1d")], backend=name)
    backend = workspace.backend
    layer = BatchNorm1d(backend, 3)
    layer.scratch = {"moments": [backend.asarray(np.ones(3))]}  # an array inside a dict

    def token(x):  # what the student's worker sends for a backend array
        return Token("array", (np.asarray(backend.to_numpy(x)), None)) \
            if not isinstance(x, np.ndarray) and hasattr(x, "shape") else x

    state = objects.capture(layer, array=token, backend=backend, where=workspace.locate)
    x = np.arange(12.0).reshape(4, 3)
    reply = workspace.call(Token("function", ("student", "..library.normalization",
                                              "BatchNorm1d.forward")),
                           (Token("object", ("..library.normalization", "BatchNorm1d", state)),
                            Token("array", (x, None))), {})
    assert "error" not in reply, reply
    sent = reply["objects"]["0"]
    np.testing.assert_allclose(np.asarray(backend.to_numpy(sent["running_mean"])),
                               0.1 * x.mean(axis=0))
    # the dict of arrays comes back as arrays where the call changed it (and not at all where
    # it did not: torch's float32 copy of the moments differs from the float64 sent)
    for moment in sent.get("scratch", {"moments": []})["moments"]:
        np.testing.assert_allclose(np.asarray(backend.to_numpy(moment)), np.ones(3))


def _plain(x):
    return x.args[0] if isinstance(x, Token) else x


@pytest.mark.parametrize("sent_as", ["token", "array"])
def test_a_swapped_in_method_sends_back_only_what_it_changed_of_its_object(tmp_path, sent_as):
    """The reply carries what the reference method changed of the object's state
    (``objects.changed``), which the worker merges into the student's object: Linear.forward
    changes nothing (an empty state: the student's arrays stay as they are, not replaced by
    equal copies), Linear.backward the gradients only, a method that sets an attribute that
    attribute; a sub-layer's entry holds only its own changes. The state's arrays come as
    tokens (a backend's arrays) or as they are (the NumPy backend's worker sends NumPy arrays
    plain, which counted as changed, every parameter sent back, until the rebuilt object got
    copies of them too); either way what was sent is left as it came."""
    from nlpdojo_solutions.library.layers import Linear

    workspace, _, _ = _reference_workspace(tmp_path, [("..library.layers", "Linear")])
    backend = workspace.backend
    layer = Linear(backend, 3, 2)

    def token(x):
        if sent_as == "array":
            return x
        return Token("array", (np.asarray(x), None)) if isinstance(x, np.ndarray) else x

    def call(name, *args):
        state = objects.capture(layer, array=token, backend=backend, where=workspace.locate)
        before = copy.deepcopy(state)
        reply = workspace.call(Token("function", ("student", "..library.layers", name)),
                               (Token("object", ("..library.layers", "Linear", state)),
                                *args), {})
        assert "error" not in reply, reply
        for key in ("weight", "bias"):  # the received state is the base of the comparison
            for part in ("data", "grad"):
                np.testing.assert_array_equal(_plain(state[key][part]),
                                              _plain(before[key][part]))
        return reply

    x = np.arange(6.0).reshape(2, 3)
    reply = call("Linear.forward", Token("array", (x, None)))
    assert reply["objects"] == {"0": {}}
    weight = layer.weight.data
    objects.apply(layer, reply["objects"]["0"], array=np.asarray)
    assert layer.weight.data is weight  # kept, not replaced by a copy
    reply = call("Linear.backward", Token("array", (np.ones((2, 2)), None)),
                 (Token("array", (x, None)),))
    assert set(reply["objects"]["0"]) == {"weight", "bias"}
    objects.apply(layer, reply["objects"]["0"], array=np.asarray)
    np.testing.assert_allclose(layer.weight.grad, x.T @ np.ones((2, 2)))
    np.testing.assert_allclose(layer.bias.grad, [2.0, 2.0])

    sent = {"a": Token("array", (np.zeros(2), "float64")), "n": 3, "name": "x",
            "sub": {objects.OBJECT: ["m", "C"], "state": {
                "w": Token("array", (np.ones(2), "float64")), "k": [1, 2.5]}}}
    after = {"a": np.zeros(2), "n": 3, "name": "x", "new": 1.0,
             "sub": {objects.OBJECT: ["m", "C"], "state": {"w": np.ones(2), "k": [1, 3.5]}}}
    assert objects.changed(sent, after, host=np.asarray) == {
        "new": 1.0, "sub": {objects.OBJECT: ["m", "C"], "state": {"k": [1, 3.5]}}}
    # another dtype, shape or type is a change; NaN where NaN was is none
    assert objects.changed(sent, {**after, "a": np.zeros(2, np.float32), "n": 3.0},
                           host=np.asarray).keys() == {"a", "n", "new", "sub"}
    nan = {"a": Token("array", (np.array([np.nan, 1.0]), "float64"))}
    assert objects.changed(nan, {"a": np.array([np.nan, 1.0])}, host=np.asarray) == {}


def test_equal_arrays_read_as_equal_whether_or_not_their_bytes_are():
    """``probes.same_bytes`` answers the common case (an array a call left as it was) before
    ``np.array_equal``: what it cannot vouch for is asked of ``np.array_equal`` as before, so
    an equal array of other bytes (-0.0 for 0.0) is no change, a NaT for a NaT is one, and
    every comparison of a call's arguments and state answers as it did."""
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    assert same_bytes(x, x.copy()) and same_bytes(x.T, x.T.copy())
    assert not same_bytes(x, x.astype(np.float32)) and not same_bytes(x, x.reshape(3, 2))
    assert not same_bytes(np.array([0.0]), np.array([-0.0]))  # equal, other bytes
    assert not same_bytes(np.array([None]), np.array([None]))  # objects: not vouched for
    big = np.linspace(0, 1, 5000)  # compared in place, not as copies
    other = big.copy()
    other[-2] = 2.0  # (in the strided view too)
    assert same_bytes(big, big.copy()) and not same_bytes(big, other)
    assert same_bytes(big[::2], big[::2].copy()) and not same_bytes(big[::2], other[::2])
    for sent, now, unchanged in [
            (np.array([0.0, 1.0]), np.array([-0.0, 1.0]), True),
            (np.array([np.nan, 2.0]), np.array([np.nan, 2.0]), True),
            (np.array([1, 2]), np.array([1, 3]), False),
            (np.array(["NaT"], "datetime64[s]"), np.array(["NaT"], "datetime64[s]"), False)]:
        assert (objects.changed({"a": sent}, {"a": now}, host=np.asarray) == {}) is unchanged
    assert same_array(np.array([0.0]), np.array([-0.0]))
    assert not same_array(np.array([1.0]), np.array([1.5]))
    assert not same_array(np.array([1]), np.array([1.0]))  # equal values, another dtype
    assert _changed([np.array([-0.0])], [np.array([0.0])]) is None
    assert _changed([np.ones(2), np.array([2.0])], [np.ones(2), np.array([1.0])]) == 1


def test_a_call_backs_reply_carries_only_what_the_students_worker_receives(tmp_path):
    """The reference process answers a call-back with the result, the arrays changed in place
    and the object's changes (``callbacks.forwarded`` passes on no more); the description of
    a result that the grader reads of its own calls (``returned``, for the returned-as-is
    rules) is not computed for it. The grader's own workspace still describes its results."""
    from nlpdojo_solutions.library.layers import Linear

    workspace, _, _ = _reference_workspace(tmp_path / "ref", [("..library.layers", "Linear")])
    layer = Linear(workspace.backend, 3, 2)
    state = objects.capture(layer, array=lambda x: x, backend=workspace.backend,
                            where=workspace.locate)
    reply = _linear_forward(workspace, Token("object", ("..library.layers", "Linear", state)),
                            np.ones((2, 3)))
    assert "value" in reply and "returned" not in reply, reply.keys()
    grader = Workspace({None: workspace.backend, "float64": workspace.backend},
                       ReferenceCode(f"nlpdojo_solutions.{LM}"), tmp_path / "grader")
    grader.begin("float64", "w")
    own = grader.call(Token("function", ("student", "..library.layers", "Linear")),
                      (Token("backend"), 3, 2), {})
    assert "returned" in own, own.keys()


@pytest.mark.parametrize("mapped", [True, False], ids=["mapped", "written"])
def test_the_reference_process_notes_what_it_runs_where_the_grader_reads_it(
        tmp_path, monkeypatch, mapped):
    """The note of the call-back it runs (``stack.txt``) is in the file the grader reads at
    every change, whether the file is mapped (the usual case) or written where it cannot be."""
    import mmap

    from nlpdojo_autograder.runtime import worker

    mapping = mmap.mmap
    if not mapped:
        def refused(*args, **kwargs):
            raise OSError("this file system maps nothing")
        monkeypatch.setattr(mmap, "mmap", refused)
    note = worker._mark_file(tmp_path / "stack.txt")
    assert isinstance(note, mapping) == mapped
    holder = type("Holder", (), {"_calling": note})()
    for text in ("calling\n..library.conv\nConv1d.forward\n", "idle\n"):
        ReferenceWorker._mark(holder, text)
        written = (tmp_path / "stack.txt").read_bytes()
        assert len(written) == worker.MARK_BYTES and written.rstrip(b" ") == text.encode()
