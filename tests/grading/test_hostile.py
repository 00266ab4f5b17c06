"""Hostile submissions: every attack that fooled or harmed the previous grader (issue 9) and a
few more, each run against ``grade`` as CI runs it (a subprocess, ``--format json --output``)
on a copy of the word_vectors solutions with one function replaced by the attack.

Every grading here is checked for the same things besides the attacked checks' scores and
messages: it ends in bounded time, a result is written, no process is left behind (``grade``
runs under ``hostile/reaper.py``, a child subreaper that catches every orphan, and no process
may name the test's folder or the attack's marker afterwards), the grader's folders are left
empty, and the reference solutions, the shipped fixtures and the submission are unchanged.

Each attack is tried at both isolation levels where it matters (``sandbox``: bubblewrap,
``--require-sandbox``; ``process``: ``NLPDOJO_SANDBOX=off``). Where docs/security.md says an
attack is open at the process level, that variant is a strict xfail: it shows the hole is still
there, and fails once it is closed (time to update the table). Attacks that would harm the
machine without a sandbox (``kill(-1)``, a fork bomb) run only in it. The holes found in the
product itself are strict xfails too, their reason saying what happens and where.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.runtime import sandbox
from nlpdojo_autograder.runtime.code_rules import ENV as CODE_RULES_ENV
from nlpdojo_autograder.runtime.sandbox import FORK_SERVER_ENV

#: grading attacks, judged on drawn inputs: `make test-seeds` runs them for 20 input seeds
pytestmark = [pytest.mark.seeded, pytest.mark.shared_expected]

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
#: the grading's own files: every topic's checks and fixtures (course/<topic>/)
COURSE = ROOT / "course"
REAPER = Path(__file__).parent / "hostile" / "reaper.py"
GRADE = Path(sysconfig.get_path("scripts")) / "grade"
TOPIC = "word_vectors"

SANDBOX_MISSING = sandbox.probe()
needs_sandbox = pytest.mark.skipif(SANDBOX_MISSING is not None,
                                   reason=f"no OS sandbox here: {SANDBOX_MISSING}")
#: the fork server runs where the grader is root (no user namespace to join: not done)
needs_fork_server = pytest.mark.skipif(
    SANDBOX_MISSING is not None or os.getuid() != 0,
    reason=f"no fork server here: {SANDBOX_MISSING or 'the grader is not root'}")
AUTO = "auto"  # whatever `grade` picks here: the sandbox where it works
#: the sandbox's worker started by bubblewrap, and forked into it by the fork server
SANDBOXED = ["sandbox", pytest.param("forked", id="forked", marks=needs_fork_server)]


def levels(open_without_sandbox: str | None = None) -> list:
    """Both isolation levels, the sandbox's worker started by bubblewrap and forked into it by
    the fork server (``forked``, runtime/forkserver.py: where the grader runs as root);
    ``open_without_sandbox``: why the attack succeeds at the process level
    (docs/security.md), which makes that variant a strict xfail."""
    process = pytest.param("process", id="process")
    if open_without_sandbox:
        process = pytest.param("process", id="process", marks=pytest.mark.xfail(
            strict=True, reason=f"open at the process level: {open_without_sandbox}"))
    return [pytest.param("sandbox", id="sandbox", marks=needs_sandbox),
            pytest.param("forked", id="forked", marks=needs_fork_server), process]


# -- submissions ------------------------------------------------------------------------------
#: the reference softmax's body, for attacks that also return the right answer
HONEST_SOFTMAX = """
shifted = x - xp.max(x, axis=-1, keepdims=True)
exps = xp.exp(shifted)
return exps / xp.sum(exps, axis=-1, keepdims=True)
"""


def _code(text: str, **values: object) -> str:
    """Attack code at a function body's indentation, ``@NAME@`` replaced by ``values``."""
    text = textwrap.dedent(text).strip("\n") + "\n"
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    assert "@" not in text, f"a placeholder is left in {text!r}"
    return textwrap.indent(text, "    ")


def make_submission(root: Path, *, module: str = "softmax", block: str | None = None,
                    body: str | None = None, prelude: str = "",
                    edits: tuple[tuple[str, str], ...] = ()) -> Path:
    """A copy of the word_vectors solutions in ``root/word_vectors`` in which the solution
    block ``block`` (default: ``module``) of ``module`` is replaced by ``body``, ``prelude`` is
    run when the module is imported, and ``edits`` (old, new) are made; returns ``root``."""
    topic = root / TOPIC
    shutil.copytree(SOLUTIONS / TOPIC, topic, ignore=shutil.ignore_patterns("__pycache__"))
    path = topic / f"{module}.py"
    text = path.read_text()
    if body is not None:
        begin = text.index(f"### BEGIN SOLUTION {block or module}\n")
        begin = text.rindex("\n", 0, begin) + 1
        end = text.index("### END SOLUTION\n", begin) + len("### END SOLUTION\n")
        text = text[:begin] + body + text[end:]
    for old, new in edits:
        assert old in text, f"edit target not in {module}.py: {old!r}"
        text = text.replace(old, new)
    if prelude:
        future = "from __future__ import annotations\n"
        at = text.index(future) + len(future)
        text = text[:at] + "\n" + textwrap.dedent(prelude).strip("\n") + "\n" + text[at:]
    path.write_text(text)
    return root


def softmax_attack(root: Path, code: str, *, honest: bool = False, **values: object) -> Path:
    """A submission whose softmax runs ``code`` (then the right computation, if ``honest``)."""
    code = textwrap.dedent(code).strip("\n") + "\n"
    return make_submission(root, body=_code(code + (HONEST_SOFTMAX if honest else ""),
                                            **values))


# -- running `grade`, and what must hold after any grading ----------------------------------------
def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        rel = str(path.relative_to(folder)).encode()
        digest.update(rel + (b"/" if path.is_dir() else b"\0" + path.read_bytes()))
    return digest.hexdigest()


def _protected() -> dict[str, str]:
    """sha256 of every file of the reference solutions and of the course's topics (their
    checks and shipped fixtures)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in (SOLUTIONS, COURSE) for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _changed_by_grading(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Files of the solutions or the fixtures that the grading changed, created or removed.
    This suite may run in a checkout that others edit meanwhile, so a change counts when it
    touches what an attack names (the softmax files) or carries an attack's mark."""
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    return [p for p in changed if Path(p).name.startswith("softmax")
            or (Path(p).is_file() and b"nlpdojo-hostile" in Path(p).read_bytes())]


def processes_naming(needles: list[str]) -> list[str]:
    """Processes (other than this one) whose command line or folder names one of ``needles``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if any(n in cmdline or n in cwd for n in needles):
            found.append(f"{entry}: {cmdline[:200]} (in {cwd})")
    return found


@dataclass
class Graded:
    returncode: int
    stdout: str
    stderr: str
    #: the JSON result (None for a cohort, whose reports are in the folder ``out``)
    result: dict | None
    report: str
    out: Path
    left: list[dict] = field(default_factory=list)
    timed_out: bool = False

    @property
    def checks(self) -> dict[str, dict]:
        assert self.result is not None, f"no result was written: {self.stderr[-2000:]}"
        return {c["id"]: c for e in self.result["exercises"] for c in e["checks"]}

    def question(self, name: str) -> list[dict]:
        found = [c for c in self.checks.values() if c["question"] == name]
        assert found, f"no checks of question {name} in the result"
        return found

    def score(self, name: str) -> tuple[float, float]:
        checks = self.question(name)
        return sum(c["score"] for c in checks), sum(c["max_score"] for c in checks)

    def assert_full_marks(self, name: str) -> None:
        got, most = self.score(name)
        assert got == most, [(c["id"], c["status"], c["message"]) for c in self.question(name)]

    def assert_zero(self, name: str) -> list[dict]:
        checks = self.question(name)
        assert all(c["score"] == 0 for c in checks), [(c["id"], c["score"], c["message"])
                                                      for c in checks]
        return checks


def grade(tmp_path: Path, level: str, *args: str, submission: Path | None = None,
          env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout_s: float = 240, cohort: bool = False, as_module: bool = False,
          submission_may_change: bool = False, expect_result: bool = True,
          needles: tuple[str, ...] = ()) -> Graded:
    """``grade ARGS --submission SUBMISSION -f json -o OUT`` at isolation ``level``, in a child
    subreaper; then assert what must hold after any grading (see the module's docstring).
    ``cohort``: ARGS name ``--submissions``, and OUT is the folder of the cohort's reports;
    ``as_module``: ``python -m nlpdojo_autograder.cli.grade`` instead of the ``grade`` script."""
    run = tmp_path / f"run-{uuid.uuid4().hex[:8]}"
    grader_tmp, work = run / "tmp", cwd or run / "cwd"
    for folder in (grader_tmp, work):
        folder.mkdir(parents=True, exist_ok=True)
    out, leftovers = run / ("reports" if cohort else "result.json"), run / "reaper.json"
    command = [sys.executable, "-m", "nlpdojo_autograder.cli.grade"] if as_module else [str(GRADE)]
    command += [*args, "-f", "json", "-o", str(out)]
    if submission is not None:
        command += ["--submission", str(submission)]
    # the attacks reach for the interpreter, which the code rules refuse before anything runs
    # (test_code_rules.py): off here, so that the defences behind them are what is tested
    child_env = {**os.environ, "TMPDIR": str(grader_tmp), CODE_RULES_ENV: "off", **(env or {})}
    child_env.pop("NLPDOJO_SANDBOX", None)
    if level in ("sandbox", "forked"):
        command.append("--require-sandbox")
        # every worker forked by the fork server, or started by bubblewrap, never by the other
        child_env[FORK_SERVER_ENV] = "always" if level == "forked" else "off"
    elif level == "process":
        child_env["NLPDOJO_SANDBOX"] = "off"
    before = _protected()
    submitted = tree_digest(submission) if submission is not None else ""
    proc = subprocess.run([sys.executable, str(REAPER), str(leftovers), str(timeout_s), "--",
                           *command], cwd=work, env=child_env, capture_output=True, text=True,
                          timeout=timeout_s + 60, check=False)
    reaped = json.loads(leftovers.read_text())
    report = out.read_text() if out.is_file() else ""
    graded = Graded(reaped["returncode"], proc.stdout, proc.stderr,
                    json.loads(report) if report else None, report, out, reaped["left"],
                    reaped["timed_out"])
    # bounded time, a result, nothing left running
    assert not graded.timed_out, f"grade did not end within {timeout_s:g} s (it was killed)"
    if expect_result:
        assert graded.result is not None or (cohort and (out / "summary.json").is_file()), \
            f"no result written (exit {graded.returncode}): {proc.stderr[-3000:]}"
        assert graded.returncode in (0, 1), (graded.returncode, proc.stderr[-3000:])
        if level in ("sandbox", "process", "forked") and graded.result is not None:
            assert graded.result["isolation"] == ("sandbox" if level == "forked" else level)
    assert graded.left == [], f"processes outlived grading: {graded.left}"
    alive = processes_naming([str(tmp_path), *needles])
    assert not alive, f"processes naming the submission or the attack are alive: {alive}"
    # nothing changed outside the worker's scratch folder, which is gone
    changed = _changed_by_grading(before, _protected())
    assert not changed, f"the grading changed the reference solutions or fixtures: {changed}"
    if submission is not None and not submission_may_change:
        assert tree_digest(submission) == submitted, "the submission changed while graded"
    if cwd is None:
        assert not list(work.iterdir()), \
            f"files appeared in grade's working folder: {sorted(p.name for p in work.iterdir())}"
    assert not list(grader_tmp.iterdir()), \
        f"the grader left files in its TMPDIR: {sorted(p.name for p in grader_tmp.iterdir())}"
    return graded


# -- 1-3: getting at the reference --------------------------------------------------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels(
    "the blocker is the only defence; the editable install finds the solutions on disk"))
def test_removing_the_import_blocker_does_not_give_the_reference(tmp_path, level):
    folder = softmax_attack(tmp_path / "sub", """
        import importlib, sys
        sys.meta_path[:] = [f for f in sys.meta_path if 'Blocker' not in type(f).__name__]
        for name in [n for n in sys.modules if n.startswith('nlpdojo_solutions')]:
            del sys.modules[name]
        importlib.invalidate_caches()
        from nlpdojo_solutions.word_vectors.softmax import softmax as reference
        return reference(x)
    """)
    graded = grade(tmp_path, level, "softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert check["status"] == "error"
        assert "nlpdojo_solutions" in check["message"], check["message"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_no_reference_code_is_loaded_in_the_worker(tmp_path, level):
    """Neither sys.modules nor the garbage collector's objects hold reference code."""
    folder = softmax_attack(tmp_path / "sub", """
        import gc, sys, types
        found = [m for name, m in list(sys.modules.items()) if 'solutions' in name]
        for obj in gc.get_objects():
            if isinstance(obj, types.FunctionType) and (
                    (obj.__module__ or '').startswith('nlpdojo_solutions')
                    or '/solutions/' in obj.__code__.co_filename):
                found.append(obj)
        if not found:
            raise RuntimeError('no reference code in this process')
        return getattr(found[0], 'softmax', found[0])(x)
    """)
    graded = grade(tmp_path, level, "softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert "no reference code in this process" in check["message"], check["message"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_a_swapped_in_reference_kept_for_later_is_refused(tmp_path, level):
    """naive_softmax's checks swap the reference softmax in where the submission's fails its
    own checks (a proxy that calls the reference process); the submission keeps the proxy and
    calls it from a later question's code, neg_sampling's, whose checks swap nothing in. (Its
    own softmax calling the kept proxy no longer can: a question's checks, hidden ones
    included, all run before the later questions that swap it in.)"""
    folder = softmax_attack(tmp_path / "sub", """
        raise RuntimeError('softmax left for the reference')
    """)
    naive = folder / TOPIC / "naive_softmax.py"
    assert "    y_hat = softmax(scores)" in naive.read_text()
    naive.write_text(naive.read_text().replace(
        "    y_hat = softmax(scores)",
        "    import builtins\n    builtins.__dict__.setdefault('_kept_softmax', softmax)\n"
        "    y_hat = softmax(scores)"))
    negative = folder / TOPIC / "negative_sampling.py"
    block = "    ### BEGIN SOLUTION neg_sampling\n"
    assert block in negative.read_text()
    negative.write_text(negative.read_text().replace(block, block + (
        "    import builtins\n    kept = builtins.__dict__.get('_kept_softmax')\n"
        "    if kept is None:\n        raise RuntimeError('no proxy kept yet')\n"
        "    kept(center_vec)\n")))
    graded = grade(tmp_path, level, "softmax", "naive_softmax", "neg_sampling",
                   submission=folder)
    graded.assert_zero("softmax")
    graded.assert_full_marks("naive_softmax")
    later = graded.assert_zero("neg_sampling")
    assert all("no proxy kept yet" not in c["message"] for c in later), \
        "the proxy was never kept: the attack did not run"
    for check in later:
        assert "is not swapped in for this check" in check["message"], check["message"]


EDITABLE_FINDER_PATHS = """
import glob, os, re, sysconfig
candidates = []
for finder in glob.glob(os.path.join(sysconfig.get_paths()['purelib'], '__editable__*finder.py')):
    found = re.search(r"'nlpdojo_solutions': '([^']+)'", open(finder).read())
    if found:
        candidates.append(os.path.join(found.group(1), 'word_vectors', 'softmax.py'))
candidates.append('@ROOT@/solutions/word_vectors/softmax.py')
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels("the solutions' files are readable by the worker"))
def test_the_reference_source_cannot_be_read_from_disk(tmp_path, level):
    """The editable finder's MAPPING and the repository path both name the solutions."""
    folder = softmax_attack(tmp_path / "sub", EDITABLE_FINDER_PATHS + textwrap.dedent("""
        for path in candidates:
            try:
                source = open(path).read()
            except OSError:
                continue
            scope = {}
            exec(compile(source, path, 'exec'), scope)
            return scope['softmax'](x)
        raise RuntimeError('the reference is not readable at ' + ', '.join(candidates))
    """), ROOT=ROOT)
    graded = grade(tmp_path, level, "softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert "the reference is not readable at" in check["message"], check["message"]


@pytest.mark.parametrize("level", SANDBOXED)
@needs_sandbox
@pytest.mark.timeout(300)
def test_no_file_in_the_sandbox_holds_the_reference_or_the_fixtures(tmp_path, level):
    """The whole file system the worker sees, searched for a line of the reference softmax and
    for fixture arrays (the student's own folder excepted)."""
    folder = softmax_attack(tmp_path / "sub", """
        import os
        hits = globals().get('_HITS')
        if hits is None:
            hits = []
            needle = ('exps / xp.sum(' + 'exps, axis=-1, keepdims=True)').encode()
            for top, dirs, files in os.walk('/'):
                if top.startswith(('/proc', '/sys', '/dev', '/nlpdojo/code')):
                    dirs[:] = []
                    continue
                for name in files:
                    path = os.path.join(top, name)
                    if name.endswith(('.npz', '.npy')) and 'fixtures' in path:
                        hits.append(path)
                    if not name.endswith(('.py', '.ipynb', '.json', '.txt', '.md')):
                        continue
                    try:
                        with open(path, 'rb') as f:
                            data = f.read(4_000_000)
                    except OSError:
                        continue
                    if needle in data:
                        hits.append(path)
            globals()['_HITS'] = hits
        if hits:
            raise RuntimeError('visible in the sandbox: ' + ', '.join(hits[:10]))
    """, honest=True)
    # the walk reads every text file of the system: seconds when quiet, past the 30 s limit of
    # a check under the load of the whole suite (-n 2 beside trainings), hence the scale
    graded = grade(tmp_path, level, "softmax", "--timeout-scale", "4", submission=folder,
                   timeout_s=280)
    graded.assert_full_marks("softmax")


# -- 4-7: fooling the verdict -------------------------------------------------------------------
ZERO_GRADIENTS = (("    ### END SOLUTION\n    return float(loss)",
                   "    grad_center_vec = grad_center_vec * 0.0\n"
                   "    grad_outside_vectors = grad_outside_vectors * 0.0\n"
                   "    ### END SOLUTION\n    return float(loss)"),)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_patching_the_checking_code_does_not_pass_a_zero_gradient(tmp_path, level):
    folder = make_submission(tmp_path / "sub", module="naive_softmax", prelude="""
        try:  # refused to graded code (subject.COURSE_TOOLS); patched if it ever is not
            import nlpdojo.gradcheck as _gradcheck
            _gradcheck.gather_evidence = lambda *a, **k: {}
            _gradcheck.judge_evidence = lambda *a, **k: None
            _gradcheck.check_gradient = lambda *a, **k: None
        except ImportError:
            pass
        try:  # the grader's modules are not importable in the worker (the blocker, the sandbox)
            import nlpdojo_autograder.authoring.compare as _compare
            import nlpdojo_autograder.authoring.kinds as _kinds
            from nlpdojo_autograder.authoring.checks import Verdict as _Verdict
            _compare.compare_payloads = lambda *a, **k: _Verdict(True, 'matches the reference')
            _kinds.compare_payloads = _compare.compare_payloads
        except ImportError:
            pass
    """, edits=ZERO_GRADIENTS)
    graded = grade(tmp_path, level, "naive_softmax", submission=folder)
    checks = graded.checks
    assert checks["naive_softmax.gradient"]["score"] == 0
    assert checks["naive_softmax.gradient"]["status"] == "failed"
    assert "all zeros" in checks["naive_softmax.gradient"]["message"]
    assert checks["naive_softmax.values"]["score"] == 0


@pytest.mark.timeout(300)
def test_a_made_up_loss_with_a_matching_gradient_earns_no_gradient_points(tmp_path):
    body = _code("""
        loss = xp.sum(center_vec) + xp.sum(outside_vectors)
        grad_center_vec = xp.ones_like(center_vec)
        grad_outside_vectors = xp.ones_like(outside_vectors)
    """)
    folder = make_submission(tmp_path / "sub", module="naive_softmax", body=body)
    graded = grade(tmp_path, AUTO, "naive_softmax", submission=folder)
    assert graded.checks["naive_softmax.values"]["score"] == 0  # the loss is not the loss
    gradient = graded.checks["naive_softmax.gradient"]
    assert gradient["score"] == 0
    assert "Your loss differs from the true one at the check's point" in gradient["message"]


#: sgd.py, imported by the given training loop while that loop's module is being executed,
#: makes the loop's module answer ``train_sgns`` with a function that trains nothing
PATCH_TRAINING_LOOP = """
import sys as _sys
import types as _types

_loop = _sys.modules.get(__package__ + '.train')


def _untrained(backend, token_ids, counts, dim=100, **kwargs):
    import numpy as np

    result = _types.ModuleType.__getattribute__(_loop, 'Word2VecResult')
    vectors = np.random.default_rng(0).standard_normal((counts.shape[0], dim)) * 0.01
    return result(vectors.astype(np.float32), vectors.astype(np.float32), 1e9)


class _Patched(_types.ModuleType):
    def __getattribute__(self, name):
        if name == 'train_sgns':
            return _untrained
        return super().__getattribute__(name)


if _loop is not None:
    _loop.__class__ = _Patched
"""


@pytest.mark.timeout(900)
@pytest.mark.parametrize("level", levels())
def test_replacing_the_training_loop_earns_no_training_points(tmp_path, level):
    """The given loop is the instructor's copy, but it runs in the worker, where the student's
    sgd.py can swap it: the grader computes the metrics from the vectors that come back."""
    folder = make_submission(tmp_path / "sub", module="sgd", prelude=PATCH_TRAINING_LOOP)
    graded = grade(tmp_path, level, "training", submission=folder, timeout_s=800)
    checks = graded.checks
    heldout = checks["training.heldout_loss"]
    # the untrained vectors (near 0) were measured: -log σ(0) for the pair and 5 negatives
    assert heldout["value"] == pytest.approx(6 * math.log(2), abs=0.05), heldout
    assert heldout["score"] == 0 and checks["training.analogy"]["score"] == 0
    # WordSim-353: see the next test
    assert graded.score("training")[0] <= checks["training.wordsim"]["max_score"]


@pytest.mark.timeout(900)
def test_untrained_vectors_earn_no_wordsim_point(tmp_path):
    """Untrained vectors returned by a replaced loop earn nothing: the training audit finds
    the run's losses and vectors unlike the reference's training from the same seeds (and,
    were it passed, WordSim-353's threshold never goes below what random vectors reach by
    chance: test_word_vectors_grading.py::test_a_metric_below_chance_fails...)."""
    folder = make_submission(tmp_path / "sub", module="sgd", prelude=PATCH_TRAINING_LOOP)
    graded = grade(tmp_path, AUTO, "training", submission=folder, timeout_s=800)
    graded.assert_zero("training")
    wordsim = graded.checks["training.wordsim"]
    assert "training audit" in wordsim["message"], wordsim
    assert wordsim["threshold"] is None, wordsim  # nothing of the reference's shown


@pytest.mark.timeout(900)
def test_vectors_trained_elsewhere_earn_no_training_points(tmp_path):
    from nlpdojo.selection import load_backend
    from nlpdojo_course.word_vectors.data import prepare_corpus
    from nlpdojo_solutions.word_vectors.train import train_sgns

    corpus = prepare_corpus("sotu", split="train")
    trained = train_sgns(load_backend("numpy", None, None), corpus.token_ids, corpus.counts,
                         dim=100, window=5, negatives=5, epochs=1, seed=1, progress=False)
    untrained = (
        "    vectors = np.random.default_rng(0).standard_normal((counts.shape[0], dim)) * 0.01\n"
        "    return result(vectors.astype(np.float32), vectors.astype(np.float32), 1e9)\n")
    assert untrained in PATCH_TRAINING_LOOP
    folder = make_submission(tmp_path / "sub", module="sgd", prelude=PATCH_TRAINING_LOOP.replace(
        untrained,
        "    import base64, pathlib\n"
        "    here = pathlib.Path(__file__).parent\n"
        "    def load(name):\n"
        "        raw = base64.b64decode((here / name).read_text())\n"
        "        return np.frombuffer(raw, np.float16).reshape(counts.shape[0], dim)\n"
        "    return result(load('center.txt').astype(np.float32),\n"
        "                  load('outside.txt').astype(np.float32), 1e9)\n"))
    for name, vectors in (("center.txt", trained.center_vectors),
                          ("outside.txt", trained.outside_vectors)):
        (folder / TOPIC / name).write_text(base64.b64encode(
            np.asarray(vectors, np.float16).tobytes()).decode())
    # the step functions are broken: this submission cannot train anything itself
    sgd = folder / TOPIC / "sgd.py"
    assert "alpha=-lr)" in sgd.read_text()
    sgd.write_text(sgd.read_text().replace("alpha=-lr)", "alpha=0.0 * lr)"))
    graded = grade(tmp_path, AUTO, "training", submission=folder, timeout_s=800)
    # the grader checks the step functions at the training's size before it trains: these
    # cannot train, so whatever vectors come back earn nothing
    for check in graded.assert_zero("training"):
        assert "training was not run" in check["message"], check
        assert "sparse_sgd_update" in check["message"], check


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_forged_result_files_and_a_sudden_exit_earn_nothing(tmp_path, level):
    """Forged results written wherever the worker can (its folder, $TMPDIR, $HOME and, where
    the grader's command line is visible, grade's own --output), then os._exit(0)."""
    folder = softmax_attack(tmp_path / "sub", """
        import json, os, pathlib
        forged = json.dumps({'schema_version': '1.2', 'score': 10.0, 'max_score': 10.0,
                             'status': 'passed', 'exercises': []})
        places = [pathlib.Path.cwd(), pathlib.Path(os.environ.get('TMPDIR', '.')),
                  pathlib.Path.home()]
        try:
            argv = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')
        except OSError:
            argv = []
        places += [pathlib.Path(v.decode()) for f, v in zip(argv, argv[1:])
                   if f in (b'-o', b'--output')]
        for place in places:
            names = ['result.json', 'softmax.values.json', '0.json']
            for target in [place] if place.suffix == '.json' else [place / n for n in names]:
                try:
                    target.write_text(forged)
                except OSError:
                    pass
        os._exit(0)
    """)
    graded = grade(tmp_path, level, "softmax", "naive_softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert check["status"] == "error"
        assert "the process running your code" in check["message"], check["message"]
    graded.assert_full_marks("naive_softmax")
    assert graded.result["exercises"]
    assert graded.result["score"] == graded.score("naive_softmax")[1]


@pytest.mark.waits
@pytest.mark.long
@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_a_function_that_never_returns_is_stopped_on_the_graders_clock(tmp_path, level):
    """It ignores signals, moves every file's timestamps ten years ahead, stops its own clocks
    and sleeps forever (in softmax's stability check, whose inputs are 2 x 3: each such check
    waits out its limit; the others fail at once)."""
    folder = softmax_attack(tmp_path / "sub", """
        if x.shape[-1] != 3:
            raise RuntimeError("ATTACK sleeps in one check only")
        import os, signal, time
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        future = time.time() + 10 * 365 * 86400
        for top, dirs, files in os.walk(os.getcwd()):
            for name in files:
                try:
                    os.utime(os.path.join(top, name), (future, future))
                except OSError:
                    pass
        sleep = time.sleep
        time.time = time.monotonic = time.perf_counter = lambda: 0.0
        while True:
            sleep(3600)
    """)
    # 12 s limits (scale 0.4): the honest naive_softmax's checks must finish within theirs on
    # a loaded machine too (at 6 s one timed out while two verify runs shared the 2 cores)
    graded = grade(tmp_path, level, "softmax", "naive_softmax", "--timeout-scale", "0.4",
                   submission=folder)
    for check in graded.assert_zero("softmax"):
        if check["id"] == "softmax.stability":
            assert check["status"] == "timeout"
            assert "took longer than 12 s and was stopped" in check["message"], check["message"]
        else:
            assert "ATTACK sleeps in one check only" in check["message"], check["message"]
    graded.assert_full_marks("naive_softmax")


@pytest.mark.waits
@pytest.mark.timeout(300)
def test_a_fifo_in_place_of_the_stack_dump_does_not_hang_the_grader(tmp_path):
    folder = softmax_attack(tmp_path / "sub", """
        import os, time
        try:  # in the sandbox stack.txt is a mount point: unlink fails (EBUSY)
            os.unlink('stack.txt')
            os.mkfifo('stack.txt')
        except OSError:
            pass
        while True:
            time.sleep(3600)
    """)
    graded = grade(tmp_path, AUTO, "softmax", "--timeout-scale", "0.1", submission=folder,
                   timeout_s=60)
    for check in graded.assert_zero("softmax"):
        assert check["status"] == "timeout"


@pytest.mark.timeout(300)
@needs_sandbox  # without it: open (docs/security.md), and the test would write 2 GiB
def test_a_submission_cannot_fill_the_graders_disk(tmp_path):
    """1 GiB in files of 64 MB, in the scratch folder and in /tmp: the sandbox's scratch is a
    tmpfs of 512 MB and its /tmp one of 64 MB, so the writes fail there (ENOSPC), the check
    scores 0 saying why, and nothing of it reaches the grading machine's disk."""
    folder = softmax_attack(tmp_path / "sub", """
        if not globals().get('_FILLED'):
            globals()['_FILLED'] = True
            block = bytes(64 << 20)
            for where in ('.', '/tmp'):
                for i in range(16):
                    with open(f'{where}/fill{i}', 'wb') as f:
                        f.write(block)
    """, honest=True)
    free_before = shutil.disk_usage(tempfile.gettempdir()).free
    graded = grade(tmp_path, "sandbox", "softmax", submission=folder)
    check = graded.checks["softmax.values"]
    assert check["score"] == 0
    assert "No space left on device" in check["message"], check["message"]
    assert "scratch" in check["message"], check["message"]
    # at most one 256 MB file's worth can have landed anywhere on the grader's disk meanwhile
    assert free_before - shutil.disk_usage(tempfile.gettempdir()).free < 300 << 20


@pytest.mark.parametrize("level", levels())
def test_graded_code_gets_no_native_implementation(tmp_path, level):
    """The worker's registry refuses natives: code under test that asks for one (a cuDNN LSTM
    in place of its own) gets an error that says so, and scores nothing for it."""
    folder = softmax_attack(tmp_path / "sub", """
        from nlpdojo.plugins import get_registry
        get_registry().get("backend", "numpy", backend="numpy", native=True)
    """, honest=True)
    graded = grade(tmp_path, level, "softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert "native implementations are not available to graded code" in check["message"], \
            check["message"]


# -- the wire: garbage and odd values -----------------------------------------------------------
#: attack code that finds the worker's reply channel (``channel``) among its descriptors: the
#: highest that writes to a pipe (the reference channel's, where there is one, is made first)
REPLY_CHANNEL = """
import os
def writes_to_a_pipe(f):
    try:  # (the listing's own descriptor is closed by now)
        return (os.readlink(f'/proc/self/fd/{f}').startswith('pipe:') and
                int(open(f'/proc/self/fdinfo/{f}').read().split()[3], 8) & 3 == 1)
    except OSError:
        return False
channel = max(f for f in map(int, os.listdir('/proc/self/fd')) if f > 2
              and writes_to_a_pipe(f))
"""


@pytest.mark.timeout(300)
def test_garbage_on_the_reply_channel_costs_only_that_check(tmp_path):
    """The channel's file descriptor, found among the worker's own (:data:`REPLY_CHANNEL`)."""
    folder = softmax_attack(tmp_path / "sub", REPLY_CHANNEL + textwrap.dedent("""
        os.write(channel, b'NLPD' + b'\\xff' * 64)
    """), honest=True)
    graded = grade(tmp_path, AUTO, "softmax", "naive_softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert check["status"] == "error"
        assert "not a valid reply" in check["message"], check["message"]
    graded.assert_full_marks("naive_softmax")


ODD_VALUES = {
    # the grader never calls anything of the worker's objects: no __array__, no __len__
    "array-hook": ("""
        class Evil:
            def __array__(self, *args, **kwargs):
                raise SystemExit(3)
            def __len__(self):
                raise SystemExit(4)
            def __float__(self):
                raise SystemExit(5)
        return Evil()
    """, "is not an array or a number (Evil)"),
    "deep": ("""
        deep = [0.5]
        for _ in range(5000):
            deep = [deep]
        return deep
    """, "expected numbers"),
    "wide": ("""
        return [0.5] * 400_000  # more parts than a reply may have
    """, "not a valid reply"),
    "huge-int": ("""
        return 10 ** 400
    """, "was returned as a Python int"),  # judged as returned before it is converted
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", list(ODD_VALUES))
def test_odd_return_values_are_refused_without_harm(tmp_path, kind):
    code, phrase = ODD_VALUES[kind]
    folder = softmax_attack(tmp_path / "sub", code)
    graded = grade(tmp_path, AUTO, "softmax", "naive_softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert check["status"] in ("failed", "error")
        assert phrase in check["message"], check["message"]
        assert len(check["message"]) < 5000
    graded.assert_full_marks("naive_softmax")


# -- 8-10: harming the grader -------------------------------------------------------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_a_daemon_does_not_outlive_grading(tmp_path, level):
    marker = f"nlpdojo-hostile-daemon-{uuid.uuid4().hex}"
    folder = softmax_attack(tmp_path / "sub", """
        import os, sys
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.chdir('/')
                os.execv(sys.executable, [sys.executable, '-c',
                                          'import time\\nwhile True: time.sleep(1)', 'MARK'])
            os._exit(0)
        os.wait()
    """.replace("MARK", marker), honest=True)
    # grade() asserts that no process is left (reaper) and that none names the marker
    graded = grade(tmp_path, level, "softmax", submission=folder, needles=(marker,))
    # graded code starts no process (runtime/processes.py), at either level: the daemon is
    # never born, and the check says why
    checks = graded.assert_zero("softmax")
    assert any("may not start processes" in c["message"] for c in checks), checks


@pytest.mark.parametrize("level", SANDBOXED)
@needs_sandbox  # without it kill(-1) as root would hit every process of the machine
@pytest.mark.timeout(300)
def test_signalling_the_grader_and_everything_reaches_only_the_sandbox(tmp_path, level):
    folder = softmax_attack(tmp_path / "sub", """
        import os, signal
        if b'bwrap' not in open('/proc/1/cmdline', 'rb').read():
            raise RuntimeError('refusing to signal: not in a PID namespace of bubblewrap')
        for target in (os.getppid(), -1):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    graded = grade(tmp_path, level, "softmax", "naive_softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert check["status"] == "error"
        assert "the process running your code" in check["message"], check["message"]
    graded.assert_full_marks("naive_softmax")
    assert graded.returncode == 1


@pytest.mark.timeout(300)
@pytest.mark.xfail(strict=True, reason=(
    "open at the process level: the worker can signal its parent, the grader; a single "
    "`grade` dies without a result (in a cohort only that submission's child is lost)"))
def test_killing_the_grader_without_the_sandbox(tmp_path):
    folder = softmax_attack(tmp_path / "sub", """
        import os, signal
        os.kill(os.getppid(), signal.SIGKILL)
    """, honest=True)
    graded = grade(tmp_path, "process", "softmax", "naive_softmax", submission=folder)
    graded.assert_zero("softmax")
    graded.assert_full_marks("naive_softmax")


@pytest.mark.timeout(300)
def test_a_huge_exception_message_is_capped_and_grading_finishes(tmp_path):
    folder = softmax_attack(tmp_path / "sub", "raise ValueError('x' * 20_000_000)")
    graded = grade(tmp_path, AUTO, "softmax", "naive_softmax", submission=folder)
    for check in graded.assert_zero("softmax"):
        assert check["status"] == "error"
        assert "characters cut" in check["message"], check["message"][:300]
        assert len(check["message"]) < 5000
    graded.assert_full_marks("naive_softmax")
    assert len(graded.report) < 200_000
    assert len(graded.stdout) + len(graded.stderr) < 1_000_000


def _reaped(tmp_path: Path, code: str) -> dict:
    report = tmp_path / f"reaper-{uuid.uuid4().hex[:8]}.json"
    subprocess.run([sys.executable, str(REAPER), str(report), "60", "--", sys.executable, "-c",
                    code], check=True, timeout=120)
    return json.loads(report.read_text())


def test_the_reaper_reports_a_daemon_left_behind_and_nothing_else(tmp_path):
    """What every grading here is judged by: a daemon that double-forked and left its session
    outlives the command and is reported (then killed); a command that leaves nothing is
    reported clean."""
    daemon = textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(30)  # REAPER-DAEMON
            os._exit(0)
        time.sleep(0.1)
    """)
    reaped = _reaped(tmp_path, daemon)
    assert [d["cmdline"] for d in reaped["left"]] and all(
        "REAPER-DAEMON" in d["cmdline"] for d in reaped["left"]), reaped
    assert not processes_naming(["REAPER-DAEMON"])  # killed after the report
    assert _reaped(tmp_path, "print('done')")["left"] == []


@pytest.mark.timeout(300)
def test_a_flood_of_output_is_capped(tmp_path):
    """20 MB printed by a function that then returns the right answer: only a tail is kept.
    (The check keeps its points: the output limit stops a check that is still running and
    printing, remote.py RemoteSubject._watch; this one had finished.)"""
    folder = softmax_attack(tmp_path / "sub", """
        import sys
        sys.stdout.write('y' * 20_000_000)
        sys.stdout.flush()
    """, honest=True)
    graded = grade(tmp_path, AUTO, "softmax", submission=folder)
    for check in graded.question("softmax"):
        assert check["status"] == "passed" or "printed more than" in check["message"]
        assert len(check["output"]) <= 5000
    assert len(graded.report) < 200_000
    assert len(graded.stdout) + len(graded.stderr) < 1_000_000


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels(
    "the worker runs as the grader's user (root here), which may write the solutions"))
def test_the_reference_files_cannot_be_overwritten(tmp_path, level):
    """Opened for writing (O_WRONLY | O_APPEND, nothing written, nothing created), and their
    folders checked for write access: the solutions, a fixture, the worker's own code."""
    folder = softmax_attack(tmp_path / "sub", EDITABLE_FINDER_PATHS + textwrap.dedent("""
        candidates += ['@ROOT@/course/word_vectors/fixtures/softmax.values.npz',
                       __file__]
        writable = []
        for path in candidates:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
                writable.append(path)
            except OSError:
                pass
            if os.access(os.path.dirname(path), os.W_OK):
                writable.append(os.path.dirname(path) + '/')
        if writable:
            raise RuntimeError('could have overwritten: ' + ', '.join(writable))
    """), honest=True, ROOT=ROOT)
    # grade() asserts that the solutions and the fixtures are unchanged
    graded = grade(tmp_path, level, "softmax", submission=folder)
    graded.assert_full_marks("softmax")


# -- 14: secrets, network, processes ------------------------------------------------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels(
    "the environment is scrubbed, but /proc/<grader>/environ is readable by the same user"))
def test_the_graders_secrets_are_out_of_reach(tmp_path, level):
    secret = f"hunter2-{uuid.uuid4().hex}"
    folder = softmax_attack(tmp_path / "sub", """
        import glob, os
        name = 'NLPDOJO_TEST_SECRET'
        found = [os.environ[name]] if name in os.environ else []
        for path in glob.glob('/proc/[0-9]*/environ'):
            try:
                data = open(path, 'rb').read()
            except OSError:
                continue
            found += [e.decode() for e in data.split(b'\\0') if e.startswith(name.encode())]
        if found:
            print('found', found[0])  # in the output shown with the check
            return xp.asarray([float(ord(c)) for c in found[0]])  # or smuggled as numbers
    """, honest=True)
    graded = grade(tmp_path, level, "softmax", submission=folder,
                   env={"NLPDOJO_TEST_SECRET": secret})
    encoded = ", ".join(str(float(ord(c))) for c in secret[:8])
    for text in (graded.report, graded.stdout, graded.stderr):
        assert secret not in text and encoded not in text
    graded.assert_full_marks("softmax")


@pytest.mark.parametrize("level", SANDBOXED)
@needs_sandbox
@pytest.mark.timeout(300)
def test_the_machines_configuration_files_are_out_of_reach(tmp_path, level):
    """A grading machine's ``/etc`` is world-readable: ``pip.conf`` and ``npmrc`` with a private
    index's token, ``environment``, the host's keys. The sandbox showed all of it; now only what
    a Python process needs (``sandbox.ETC_SHOWN``), and an attack listing it finds nothing else
    and reads none of those files."""
    shown = sorted(sandbox.ETC_SHOWN)
    folder = softmax_attack(tmp_path / "sub", """
        import os
        extra = sorted(set(os.listdir('/etc')) - set(@SHOWN@))
        read = []
        for name in ('pip.conf', 'npmrc', 'environment', 'hostname', 'shadow'):
            try:
                open('/etc/' + name, 'rb').read(100)
                read.append(name)
            except OSError:
                pass
        if extra or read:
            raise RuntimeError(f'in /etc: {extra[:12]}, read: {read}')
    """, honest=True, SHOWN=repr(shown))
    graded = grade(tmp_path, level, "softmax", submission=folder)
    graded.assert_full_marks("softmax")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels("the worker shares the grader's network"))
def test_the_network_is_out_of_reach(tmp_path, level):
    """A TCP port and an abstract Unix socket this test listens on."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    unix = socket.socket(socket.AF_UNIX)
    abstract = f"\0nlpdojo-hostile-{uuid.uuid4().hex}"
    unix.bind(abstract)
    unix.listen(8)
    folder = softmax_attack(tmp_path / "sub", """
        import socket
        reached = []
        try:
            socket.create_connection(('127.0.0.1', PORT), timeout=2).close()
            reached.append('127.0.0.1:PORT')
        except OSError:
            pass
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(ABSTRACT)
            reached.append('an abstract Unix socket')
        except OSError:
            pass
        if reached:
            raise RuntimeError('reached ' + ', '.join(reached))
    """.replace("PORT", str(server.getsockname()[1])).replace("ABSTRACT", repr(abstract)),
        honest=True)
    try:
        graded = grade(tmp_path, level, "softmax", submission=folder)
    finally:
        server.close()
        unix.close()
    graded.assert_full_marks("softmax")


@pytest.mark.parametrize("level", SANDBOXED)
@needs_sandbox  # without it root ignores RLIMIT_NPROC: a fork bomb on the machine
@pytest.mark.skipif(os.getuid() != 0, reason="the process limit needs a user of its own: "
                                              "bubblewrap run as root")
@pytest.mark.timeout(300)
def test_a_fork_bomb_is_limited(tmp_path, level):
    folder = softmax_attack(tmp_path / "sub", """
        import os, time
        made = 0
        for _ in range(1000):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(5)
                os._exit(0)
            made += 1
        if made >= 1000:
            raise RuntimeError('forked 1000 processes: no process limit')
    """, honest=True)
    graded = grade(tmp_path, level, "softmax", submission=folder)
    graded.assert_full_marks("softmax")


# -- 15-16: the submission's own files, memorised answers ---------------------------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_a_submission_that_edits_itself_is_graded_as_submitted(tmp_path, level):
    """It appends to its own files as the worker sees them and, where the grader's command
    line is visible (no PID namespace), to the submitted folder itself. What is graded is the
    snapshot taken before; its sha256 is recorded, and --replay refuses the changed files."""
    from nlpdojo_autograder.grading.snapshot import content_hash

    folder = softmax_attack(tmp_path / "sub", """
        import os
        targets = [__file__]
        try:
            argv = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')
        except OSError:
            argv = []
        targets += [os.path.join(v.decode(), 'word_vectors', 'softmax.py')
                    for f, v in zip(argv, argv[1:]) if f in (b'--submission', b'-s')]
        for path in targets:
            try:
                with open(path, 'a') as f:
                    f.write('\\n# edited ' + 'while graded\\n')
            except OSError:
                pass
    """, honest=True)
    submitted = content_hash(folder)
    graded = grade(tmp_path, level, "softmax", submission=folder,
                   submission_may_change=level == "process")
    graded.assert_full_marks("softmax")
    assert graded.result["submission_sha256"] == submitted
    edited = "# edited while graded" in (folder / TOPIC / "softmax.py").read_text()
    assert edited == (level == "process")  # no path to it from inside the sandbox
    if edited:
        recorded = tmp_path / "recorded.json"
        recorded.write_text(graded.report)
        replayed = subprocess.run(
            [str(GRADE), "--replay", str(recorded), "-f", "json", "-o", str(tmp_path / "r.json")],
            capture_output=True, text=True, check=False, timeout=240, cwd=tmp_path,
            env={**os.environ, "NLPDOJO_SANDBOX": "off"})
        assert replayed.returncode == 2 and "the submission changed since it was graded" in \
            " ".join(replayed.stderr.split()), replayed.stderr[-2000:]  # refused


def _memorised_softmax(root: Path) -> Path:
    """softmax answering from the shipped fixtures (keyed by input shape, on the inputs' device:
    values are judged as returned), else raising."""
    table = {}
    for name in ("softmax.values", "softmax.stability"):
        with np.load(COURSE / TOPIC / "fixtures" / f"{name}.npz") as stored:
            table.update({str(stored[k].shape): stored[k].tolist() for k in stored.files})
    return softmax_attack(root, """
        import numpy as np
        from array_api_compat import device
        table = TABLE
        key = str(tuple(x.shape))
        if key not in table:
            raise RuntimeError('not memorised')
        return xp.asarray(np.asarray(table[key]), dtype=x.dtype, device=device(x))
    """.replace("TABLE", repr(table)))


@pytest.mark.timeout(300)
def test_answers_memorised_from_the_fixtures_earn_nothing_on_fresh_inputs(tmp_path):
    folder = _memorised_softmax(tmp_path / "sub")
    fresh = grade(tmp_path, AUTO, "softmax", submission=folder)
    seed = fresh.result["seeds"].get("inputs")
    assert seed not in (None, 0), fresh.result["seeds"]
    assert fresh.checks["softmax.values"]["score"] == 0
    assert fresh.checks["softmax.hidden"]["score"] == 0
    # the same submission on the fixtures' inputs: the memorised answers are right
    fixed = grade(tmp_path, AUTO, "softmax", "--seed", "0", submission=folder)
    assert fixed.checks["softmax.values"]["status"] == "passed"


@pytest.mark.timeout(300)
def test_constant_input_checks_cannot_be_answered_from_the_fixtures(tmp_path):
    """softmax.stability's large scores are drawn from the check's input seed: a fresh seed
    asks a fresh question, which the shipped fixture does not answer."""
    folder = _memorised_softmax(tmp_path / "sub")
    graded = grade(tmp_path, AUTO, "softmax", submission=folder)
    assert graded.checks["softmax.stability"]["score"] == 0


@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels())
def test_the_graders_own_metrics_do_not_answer_a_question(tmp_path, level):
    """The analogy metric (nlpdojo_course.word_vectors) is the grader's: without the sandbox the
    import blocker refuses it, in the sandbox its file is not there either."""
    unit_line = "    unit = normalize_rows(np.asarray(vectors)[:restrict_vocab])  # (Vr, D)\n"
    delegate = _code("""
        from nlpdojo_course.word_vectors.metrics import analogy_accuracy as grader
        return grader(vectors, word2ind, questions, restrict_vocab=restrict_vocab,
                      chunk=chunk_size)
    """)
    folder = make_submission(tmp_path / "sub", module="evaluate", block="analogy",
                             body="        pass\n", edits=((unit_line, delegate + unit_line),))
    graded = grade(tmp_path, level, "analogy", submission=folder)
    for check in graded.assert_zero("analogy"):
        assert "nlpdojo_course.word_vectors" in check["message"], check["message"]



@pytest.mark.timeout(300)
@pytest.mark.parametrize("level", levels(
    "the blocker is the only defence; the grader's modules are on disk"))
def test_removing_the_blocker_does_not_give_the_graders_metrics(tmp_path, level):
    unit_line = "    unit = normalize_rows(np.asarray(vectors)[:restrict_vocab])  # (Vr, D)\n"
    delegate = _code("""
        import importlib, sys
        sys.meta_path[:] = [f for f in sys.meta_path if 'Blocker' not in type(f).__name__]
        importlib.invalidate_caches()
        from nlpdojo_course.word_vectors.metrics import analogy_accuracy as grader
        return grader(vectors, word2ind, questions, restrict_vocab=restrict_vocab,
                      chunk=chunk_size)
    """)
    folder = make_submission(tmp_path / "sub", module="evaluate", block="analogy",
                             body="        pass\n", edits=((unit_line, delegate + unit_line),))
    graded = grade(tmp_path, level, "analogy", submission=folder)
    for check in graded.assert_zero("analogy"):
        assert "nlpdojo_course.word_vectors" in check["message"], check["message"]

# -- other students ------------------------------------------------------------------------------
FIND_OTHERS = """
import os
reached = []
roots = []
pid = os.getppid()
for _ in range(4):  # the grader's command lines and folders, up the process tree
    try:
        argv = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')
        roots.append(os.readlink(f'/proc/{pid}/cwd'))
        stat = open(f'/proc/{pid}/stat').read()
    except OSError:
        break
    roots += [v.decode() for f, v in zip(argv, argv[1:])
              if f in (b'--submission', b'--submissions', b'-s', b'-o', b'--output')]
    pid = int(stat.rsplit(')', 1)[1].split()[1])
try:  # what the sandbox binds, from bubblewrap's command line
    argv = open('/proc/1/cmdline', 'rb').read().split(b'\\0')
    roots += [argv[i + 2].decode() for i, a in enumerate(argv[:-2])
              if a in (b'--ro-bind', b'--bind')]
except OSError:
    pass
for root in roots:
    if not root.startswith('/') or root.startswith(('/usr', '/etc', '/nlpdojo')) or \\
            '.venv' in root or 'pyenv' in root or root.startswith(REPO_ROOT):
        continue
    for top in {root, os.path.dirname(root)}:
        for folder, dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                if 'VICTIM' in path or name == '.env':
                    try:
                        open(path, 'rb').read(100)
                        reached.append(path)
                    except OSError:
                        pass
                if 'VICTIM' in path and name == 'result.json':
                    try:
                        open(path, 'w').write('{}')
                    except OSError:
                        pass
if reached:
    raise RuntimeError('reached ' + ', '.join(sorted(set(reached))[:5]))
raise RuntimeError('found nobody')
"""


def _cohort(root: Path) -> Path:
    for name in ("alice", "carol"):
        make_submission(root / name)
    # the repository is skipped (the tests' working folder, up bob's process tree): a walk
    # of its parent, from a clone outside /work/main, reached /tmp and, at the process level,
    # the report of the test's sandbox variant running beside it on the other xdist worker
    attack = FIND_OTHERS.replace("VICTIM", "/alice/").replace("REPO_ROOT", repr(str(ROOT)))
    softmax_attack(root / "bob", attack)
    return root


def _check_cohort(graded: Graded) -> None:
    summary = json.loads((graded.out / "summary.json").read_text())
    scores = {row["name"]: row["score"] for row in summary["submissions"]}
    assert scores["alice"] == scores["carol"] > 0 and scores["bob"] == 0, summary
    for name in ("alice", "carol"):  # their reports, untouched by bob
        result = json.loads((graded.out / name / "result.json").read_text())
        assert result.get("score") == scores[name], f"{name}'s report was changed: {result}"
    bob = json.loads((graded.out / "bob" / "result.json").read_text())
    messages = [c["message"] for e in bob["exercises"] for c in e["checks"]]
    assert messages and all("found nobody" in m for m in messages), messages


@pytest.mark.timeout(400)
@pytest.mark.parametrize("level", levels(
    "the worker sees the file system: other submissions and their reports are readable "
    "and writable"))
def test_a_cohort_submission_cannot_reach_the_others(tmp_path, level):
    cohort = _cohort(tmp_path / "cohort")
    graded = grade(tmp_path, level, "softmax", "--submissions", str(cohort), "--jobs", "1",
                   cohort=True)
    assert graded.returncode == 1, graded.stderr[-2000:]
    _check_cohort(graded)


@needs_sandbox
@pytest.mark.timeout(400)
@pytest.mark.parametrize("how", ["python -m", "PYTHONPATH=.", "PYTHONPATH=. in a checkout"])
def test_the_graders_working_folder_is_not_visible_in_the_sandbox(tmp_path, how):
    """`python -m nlpdojo_autograder.cli.grade` puts its working folder on sys.path, PYTHONPATH=.
    too: the sandbox binds only folders that packages are installed in. A project's checkout
    with an editable install holds the project's ``*.egg-info``, which passed for installed
    packages: the whole clone was bound (a source tree is not an install target)."""
    ci = tmp_path / "ci"
    cohort = _cohort(ci / "submissions")
    (ci / ".env").write_text("TOKEN=do-not-leak\n")
    if how.endswith("in a checkout"):  # as `make venv` leaves a clone of a course
        (ci / "pyproject.toml").write_text("[project]\nname = 'course'\n")
        (ci / "course.egg-info").mkdir()
    graded = grade(tmp_path, "sandbox", "softmax", submission=cohort / "bob", cwd=ci,
                   as_module=how == "python -m",
                   env={"PYTHONPATH": "."} if how.startswith("PYTHONPATH=.") else None)
    for check in graded.assert_zero("softmax"):
        assert "found nobody" in check["message"], check["message"]
