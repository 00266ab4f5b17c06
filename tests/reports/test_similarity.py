"""``dojo similarity`` (issue 64): a cohort of word_vectors in which alice and bob share code
(bob's copy renamed and reordered), carol and dave left the stubs, erin and frank wrote their
own correct answers. Only alice and bob are flagged, on the questions bob copied; the report's
inputs that cannot be read get a message and no half-written report; the HTML page renders in
a real browser and is linked from the cohort dashboard."""

from __future__ import annotations

import ast
import json
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.release.similarity import SimilarityError, compare_cohort
from nlpdojo_reports.dashboard import render_dashboard, written_at
from nlpdojo_reports.similarity import render_similarity, report_data
from tests._html import Fields, chromium, find_chromium

ROOT = Path(__file__).parents[2]
SOLUTIONS = ROOT / "solutions"
STUBS = ROOT / "exercises" / "word_vectors"
COPIED = {"word_vectors.similarity", "word_vectors.count_svd", "word_vectors.analogy"}

#: bob's renames of alice's names (whole words), and two lines he swapped
RENAMES = {"cosines": "sims", "top": "best", "norms": "denominators", "rows": "row_ids",
           "cols": "col_ids", "left": "lhs", "right": "rhs", "counts": "mat",
           "target": "query", "scores": "logits", "correct": "n_right"}

#: erin's and frank's own answers: {function: body}, written independently
ERIN = {
    "nearest_neighbours": """\
    similarity_to_word = unit.dot(unit[index])
    candidates = [i for i in np.argsort(similarity_to_word)[::-1] if i != index]
    return np.array(candidates[:k], dtype=np.int64)
""",
    "cosine_similarities": """\
    out = np.empty(len(first))
    for i, (p, q) in enumerate(zip(first, second)):
        u, v = vectors[p], vectors[q]
        out[i] = float(u @ v) / max(float(np.sqrt((u * u).sum() * (v * v).sum())), 1e-12)
    return out
""",
    "cooccurrence_matrix": """\
    n = len(token_ids)
    pairs = {}
    for t in range(n):
        lo, hi = max(0, t - window), min(n, t + window + 1)
        for u in range(lo, hi):
            if u != t:
                key = (int(token_ids[t]), int(token_ids[u]))
                pairs[key] = pairs.get(key, 0.0) + 1.0
    keys = list(pairs)
    data = [pairs[key] for key in keys]
    return sp.csr_matrix((data, ([a for a, _ in keys], [b for _, b in keys])),
                         shape=(vocab_size, vocab_size))
""",
}
FRANK = {
    "nearest_neighbours": """\
    cos = unit @ unit[index]
    cos[index] = -2.0
    picked = []
    while len(picked) < k:
        best_word = int(np.argmax(cos))
        picked.append(best_word)
        cos[best_word] = -2.0
    return np.asarray(picked)
""",
    "cosine_similarities": """\
    x = vectors[np.asarray(first)]
    y = vectors[np.asarray(second)]
    x = x / np.clip(np.sqrt(np.einsum("ij,ij->i", x, x)), 1e-12, None)[:, None]
    y = y / np.clip(np.sqrt(np.einsum("ij,ij->i", y, y)), 1e-12, None)[:, None]
    return np.einsum("ij,ij->i", x, y)
""",
    "cooccurrence_matrix": """\
    m = sp.lil_matrix((vocab_size, vocab_size))
    ids = list(token_ids)
    for offset in range(1, window + 1):
        for a, b in zip(ids, ids[offset:]):
            m[a, b] += 1
            m[b, a] += 1
    return m.tocsr().astype(np.float64)
""",
}


def _fill(text: str, function: str, body: str) -> str:
    """``text`` with the stub line of ``function`` replaced by ``body``."""
    head, _, rest = text.partition(f"\ndef {function}(")
    stub = re.search(r"\n    raise NotImplementedError\([^\n]*\)\n", rest)
    assert stub, function
    return f"{head}\ndef {function}({rest[:stub.start()]}\n{body}{rest[stub.end():]}"


def _own(folder: Path, answers: dict[str, str]) -> None:
    for module in ("evaluate.py", "count_based.py"):
        path = folder / module
        text = path.read_text()
        for function, body in answers.items():
            if f"\ndef {function}(" in text:
                text = _fill(text, function, body)
        path.write_text(text)


def _bobs(text: str) -> str:
    """alice's module renamed, its functions in reverse order, two statements swapped."""
    for old, new in RENAMES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    text = text.replace(
        "    a = np.asarray(vectors, dtype=np.float64)[first]  # (P, D)\n"
        "    b = np.asarray(vectors, dtype=np.float64)[second]  # (P, D)\n",
        "    b = np.asarray(vectors, dtype=np.float64)[second]  # (P, D)\n"
        "    a = np.asarray(vectors, dtype=np.float64)[first]  # (P, D)\n")
    head, *functions = re.split(r"\n(?=def )", text)
    return "\n".join([head, *reversed(functions)]) + "\n"


def _topic(root: Path, name: str) -> Path:
    folder = root / name / "word_vectors"
    shutil.copytree(STUBS, folder, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    return folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("similarity") / "submissions"
    for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
        folder = _topic(root, name)
        for module in ("evaluate.py", "count_based.py"):
            solution = (SOLUTIONS / "word_vectors" / module).read_text()
            if name == "alice":
                (folder / module).write_text(solution)
            elif name == "bob":
                (folder / module).write_text(_bobs(solution))
        if name in ("erin", "frank"):
            _own(folder, ERIN if name == "erin" else FRANK)
    return root


@pytest.fixture(scope="module")
def report(cohort):
    return compare_cohort(cohort, SOLUTIONS, ["word_vectors"])


def _pair(report, a, b):
    return next((p for p in report.pairs if {p.a, p.b} == {a, b}), None)


def test_the_copy_is_flagged_on_the_copied_questions(report):
    pair = _pair(report, "alice", "bob")
    assert pair is not None and report.pairs[0] is pair  # ranked first
    assert {"word_vectors.similarity", "word_vectors.count_svd"} <= set(pair.flagged)
    assert set(pair.flagged) <= COPIED
    assert pair.matches["word_vectors.count_svd"].score > 0.9


def test_stubs_and_independent_answers_are_not_flagged(report):
    for a, b in (("carol", "dave"), ("erin", "frank"), ("alice", "erin"), ("bob", "frank")):
        pair = _pair(report, a, b)
        assert pair is None or not pair.flagged, (a, b, pair and pair.matches)
    assert [p for p in report.pairs if p.flagged] == [_pair(report, "alice", "bob")]
    # the stubs are boilerplate: nothing of carol's or dave's is compared
    carol = next(s for s in report.submissions if s.name == "carol")
    assert carol.pieces == {}


def test_an_answer_defined_again_below_the_stub_or_moved_to_a_helper_is_compared(tmp_path):
    """What Python runs is compared: the last definition of a question's function (hank left
    the stub and defined alice's function again below it), and the helpers it calls that are
    no question's (gina's functions call alice's code under another name; ivan imports it
    from a module of his own). Each was a pair the report missed; the stubs' own calls of the
    released helpers are still nothing of a student's (carol)."""
    solution = (SOLUTIONS / "word_vectors" / "count_based.py").read_text()
    renamed = solution.replace("def cooccurrence_matrix(", "def _counts(").replace(
        "def ppmi(", "def _weights(")
    wrappers = ("\n\ndef cooccurrence_matrix(token_ids, vocab_size, window):\n"
                "    return _counts(token_ids, vocab_size, window)\n\n\n"
                "def ppmi(matrix, alpha=0.75):\n    return _weights(matrix, alpha)\n")
    functions = re.findall(r"\ndef (?:cooccurrence_matrix|ppmi)\(.*?(?=\n\n\ndef |\Z)",
                           solution, flags=re.S)
    assert len(functions) == 2
    root = tmp_path / "submissions"
    for name in ("alice", "carol", "gina", "hank", "ivan"):
        folder = _topic(root, name)
        stub = (folder / "count_based.py").read_text()
        text = {"alice": solution, "carol": stub, "gina": renamed + wrappers,
                "hank": stub + "\n" + "\n\n".join(functions) + "\n",
                "ivan": stub + "\nfrom .pieces import _counts, _weights\n" + wrappers}[name]
        (folder / "count_based.py").write_text(text)
        if name == "ivan":
            (folder / "pieces.py").write_text(renamed)
    found = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    for copier in ("gina", "hank", "ivan"):
        pair = _pair(found, "alice", copier)
        assert pair is not None and "word_vectors.count_svd" in pair.flagged, copier
    assert not any(p.flagged for p in found.pairs if "carol" in (p.a, p.b))
    assert not found.warnings


def test_short_answers_are_not_compared(report):
    # the reference's softmax is 56 normalised characters once the stub's lines are gone
    assert report.questions["word_vectors.softmax"] == 0
    assert report.questions["word_vectors.count_svd"] == 4  # alice, bob, erin, frank


def test_a_past_cohort_as_reference(cohort, tmp_path):
    past = tmp_path / "2025"
    shutil.copytree(cohort / "alice", past / "old_alice")
    solo = tmp_path / "now"
    shutil.copytree(cohort / "bob", solo / "bob")  # a cohort of one, with a reference
    report = compare_cohort(solo, SOLUTIONS, ["word_vectors"], references=[past])
    (pair,) = report.pairs
    assert (pair.a, pair.b, pair.reference) == ("bob", "2025/old_alice", True)
    assert "word_vectors.count_svd" in pair.flagged
    # a known solution's folder (it holds the topic's folder) is one reference submission
    known = tmp_path / "known"
    shutil.copytree(cohort / "alice", known)
    report = compare_cohort(solo, SOLUTIONS, None, references=[past, known])
    assert {(p.a, p.b) for p in report.pairs} == {("bob", "2025/old_alice"), ("bob", "known")}


def test_a_past_course_record_as_reference(cohort, tmp_path):
    """Last year's course record is last year's cohort: alice's counted attempt (its sources
    kept by the record) is compared with this year's bob; her earlier attempt, which did not
    count, and an attempt recorded without sources are not."""
    from datetime import UTC, datetime

    from nlpdojo_autograder.course.attempts import record_attempt
    from nlpdojo_autograder.course.roster import import_roster
    from tests.course.helpers import make_course, synthetic_result

    past = tmp_path / "nlp2025"
    past.mkdir()
    course = make_course(past)
    (past / "roster.csv").write_text("id,name,email,section\ns1,Alice,alice@x.edu,A\n"
                                     "s2,Carol,carol@x.edu,A\ns3,Zed,zed@x.edu,A\n")
    import_roster(course, past / "roster.csv")
    result = synthetic_result({"q1": (4, 4), "q2": (6, 6)})
    on_time = datetime(2027, 1, 20, tzinfo=UTC)
    record_attempt(course, "s1", "a1", result, submitted_at=datetime(2027, 1, 19, tzinfo=UTC),
                   submitted_from="given", folder=cohort / "erin")  # earlier: does not count
    record_attempt(course, "s1", "a1", result, submitted_at=on_time, submitted_from="given",
                   folder=cohort / "alice")
    record_attempt(course, "s2", "a1", result, submitted_at=on_time, submitted_from="given",
                   folder=cohort / "carol")
    record_attempt(course, "s3", "a1", result, submitted_at=on_time, submitted_from="given")
    course.close()
    now = tmp_path / "now"
    for name in ("bob", "frank"):
        shutil.copytree(cohort / name, now / name)
    out = tmp_path / "out"
    ran = CliRunner().invoke(build_app(), [
        "similarity", str(now), "--reference-course", str(past / "course.db"),
        "--output", str(out), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    data = json.loads(ran.stdout)
    assert data["references"] == 2  # alice's counted attempt and carol's: not erin's
    top = data["pairs"][0]
    assert (top["a"], top["b"], top["reference"]) == ("bob", "course/s1-a1", True), top
    assert set(top["flagged"]) == COPIED
    assert not any("erin" in p["b"] or p["a"] == "frank" and p["flagged"]
                   for p in data["pairs"])
    assert "1 counted attempt(s) were recorded without their sources" in " ".join(
        ran.output.split())

    missing = CliRunner().invoke(build_app(), [
        "similarity", str(now), "--reference-course", str(tmp_path / "nowhere.db"),
        "--output", str(tmp_path / "out2")])
    assert missing.exit_code == 2 and "no course file at" in missing.output
    assert not (tmp_path / "out2" / "similarity.json").exists()


def test_bad_inputs_are_said_and_cost_only_their_questions(cohort, tmp_path):
    root = tmp_path / "subs"
    shutil.copytree(cohort / "alice", root / "alice")
    shutil.copytree(cohort / "bob", root / "bob")
    odd = root / "bob" / "word_vectors"
    (odd / "plot.py").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")  # binary
    (odd / "sgd.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))  # not UTF-8
    (odd / "skipgram.py").write_text("def skipgram(:\n")  # not Python
    (odd / "negative_sampling.py").write_bytes(b"#" * 1_000_001)  # enormous
    (odd / "naive_softmax.py").write_text("x = " + "-" * 20_000 + "1\n")  # the parser gives up
    weird = root / "caf\udce9"  # a name that is not UTF-8
    shutil.copytree(cohort / "alice", weird)
    (root / "mallory").mkdir()
    (root / "mallory" / "word_vectors").symlink_to(root / "alice" / "word_vectors")  # not read
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    assert next(s for s in report.submissions if s.name == "mallory").pieces == {}
    said = "\n".join(report.warnings)
    for reason in ("plot.py: a binary file", "sgd.py: not UTF-8", "skipgram.py: not valid "
                   "Python (line 1)", "negative_sampling.py: 1,000,001 bytes",
                   "naive_softmax.py: nested too deeply"):
        assert reason in said
    assert "word_vectors.count_svd" in _pair(report, "alice", "bob").flagged
    # what is written is UTF-8: the name that is not is shown with an escape
    page = render_similarity(report).encode("utf-8")
    data = json.dumps(report_data(report), ensure_ascii=False).encode("utf-8")
    pairs = json.loads(data)["pairs"]
    assert "caf\\udce9" in {p["a"] for p in pairs} | {p["b"] for p in pairs}
    assert b"caf\\udce9" in page


def test_a_notebook_is_read_from_its_code_cells(cohort, tmp_path):
    from nlpdojo_autograder.release.notebooks import notebook_from_sources

    root = tmp_path / "subs"
    shutil.copytree(cohort / "alice", root / "alice")
    sources = {p.stem: p.read_text() for p in (cohort / "bob" / "word_vectors").glob("*.py")
               if p.stem != "__init__"}
    nb = notebook_from_sources("word_vectors", sources, None)
    (root / "bob").mkdir()
    nbformat.write(nb, root / "bob" / "word_vectors.ipynb")
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    assert "word_vectors.count_svd" in _pair(report, "alice", "bob").flagged


def test_a_decoy_notebook_neither_hides_the_graded_one_nor_stops_the_report(cohort, tmp_path):
    """The adversarial student's trial: beside the graded ``word_vectors.ipynb`` (a copy of
    bob's answers), an ``a.ipynb`` that sorts first was read in its place, and the copy was in
    no pair; with its cell ``x+0+0+...`` a thousand terms deep (which parses), the whole report
    ended in RecursionError; and a helper holding a chain ``a1 = a0; a2 = a1; ...`` of 3,000
    links took minutes (days at the size read). Only the graded notebook is read (the other
    named), a tree too deep is named and skipped, and the chain costs a worklist's pass."""
    import time

    from nlpdojo_autograder.release.notebooks import notebook_from_sources

    root = tmp_path / "subs"
    shutil.copytree(cohort / "alice", root / "alice")
    sources = {p.stem: p.read_text() for p in (cohort / "bob" / "word_vectors").glob("*.py")
               if p.stem != "__init__"}
    (root / "dave").mkdir()
    nbformat.write(notebook_from_sources("word_vectors", sources, None),
                   root / "dave" / "word_vectors.ipynb")
    decoy = dict(sources, softmax="def softmax(x):\n    return x" + "+0" * 1000 + "\n")
    nbformat.write(notebook_from_sources("word_vectors", decoy, None), root / "dave" / "a.ipynb")
    shutil.copytree(cohort / "bob", root / "frank")
    chain = "".join(f"    a{i + 1} = a{i}\n" for i in range(3000))
    with open(root / "frank" / "word_vectors" / "count_based.py", "a") as handle:
        handle.write(f"\n\ndef _warmup(a0):\n{chain}    return 1\n")
    (root / "erin" / "word_vectors").mkdir(parents=True)
    deep = root / "erin" / "word_vectors" / "softmax.py"
    deep.write_text("def softmax(x):\n    return x" + "+0" * 1000 + "\n")
    # a module that is a link to a file inside the submission is graded, so it is compared
    shutil.copytree(cohort / "bob", root / "gil")
    (root / "gil" / "answers").mkdir()
    (root / "gil" / "word_vectors" / "count_based.py").rename(root / "gil" / "answers" / "cb.txt")
    (root / "gil" / "word_vectors" / "count_based.py").symlink_to("../answers/cb.txt")
    started = time.process_time()
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    assert time.process_time() - started < 60  # (minutes before, for the chain alone)
    assert "word_vectors.count_svd" in _pair(report, "alice", "gil").flagged
    assert "word_vectors.count_svd" in _pair(report, "alice", "dave").flagged
    assert "word_vectors.count_svd" in _pair(report, "alice", "frank").flagged
    said = " ".join(report.warnings)
    assert ("dave/a.ipynb: not the notebook the grader grades (word_vectors.ipynb), not read"
            in said)
    assert "erin/word_vectors/softmax.py: nested more than 200 levels deep" in said


#: count_svd's functions, the names a student moves them under, and a call of each
MOVED = {"cooccurrence_matrix": ("cooc_impl", "(token_ids, vocab_size, window)"),
         "ppmi": ("ppmi_impl", "(matrix, alpha)"),
         "svd_vectors": ("svd_impl", "(matrix, dim, seed=seed)")}


def _renamed_functions(text: str) -> str:
    """count_svd's three functions of the reference, renamed (their calls of each other
    too), as source."""
    for name, (new, _) in MOVED.items():
        text = re.sub(rf"\b{name}\b", new, text)
    tree = ast.parse(text)
    return "\n\n".join(ast.get_source_segment(text, node) for node in tree.body
                       if isinstance(node, ast.FunctionDef)
                       and node.name in {n for n, _ in MOVED.values()})


def _thin(stub: str, call: str) -> str:
    """The released module with each of count_svd's stubs one call of ``call(new, args)``."""
    for name, (new, args) in MOVED.items():
        stub = _fill(stub, name, call(new, args))
    return stub


#: code that is no copy of anything, to pad a copy with where it never runs
PADDING = """\
acc = {}
for pos, tok in enumerate(list(range(50))):
    bucket = acc.setdefault(tok % 7, [])
    bucket.append((pos * 31 + 17) % 101)
    if len(bucket) > 3 and sum(bucket) % 2:
        bucket.sort(reverse=True)
        del bucket[-1]
table = sorted(((k, len(v), max(v)) for k, v in acc.items()), key=lambda r: -r[2])
print("never", table[:2], sum(r[1] for r in table) / max(len(table), 1))
"""


def _unreachable(text: str) -> str:
    """``text`` with :data:`PADDING` twice in each of count_svd's functions: under a test
    that never holds, first, and after the last statement (its return)."""
    tree = ast.parse(text)
    names = {"cooccurrence_matrix", "ppmi", "svd_vectors"}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            guarded = ast.parse(f"if len(str(type)) < 0:\n{textwrap.indent(PADDING, '    ')}")
            node.body[1:1] = guarded.body  # after the docstring
            node.body.extend(ast.parse(PADDING.replace("acc", "acc2")).body)
    return ast.unparse(tree) + "\n"


def _noisy(text: str, noise: str = "_z{k} = {k}") -> str:
    """``text`` with a statement doing nothing (``noise``) after each statement of count_svd's
    functions, then written out by ``ast.unparse`` (comments, parentheses, line breaks its
    own)."""
    tree, k = ast.parse(text), [0]

    def interleave(body: list) -> list:
        out = []
        for statement in body:
            for attr in ("body", "orelse"):
                if isinstance(getattr(statement, attr, None), list) and getattr(statement, attr):
                    setattr(statement, attr, interleave(getattr(statement, attr)))
            out.append(statement)
            if not isinstance(statement, ast.Return | ast.Expr):
                k[0] += 1
                out.extend(ast.parse(noise.format(k=k[0])).body)
        return out

    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in MOVED:
            node.body = interleave(node.body)
    return ast.unparse(tree) + "\n"


def test_an_answer_moved_where_no_name_leads_or_padded_with_no_ops_is_still_compared(
        cohort, tmp_path):
    """A trial's findings (round 4, F3): alice's count_svd moved verbatim behind a module's
    attribute (``_impl.cooc_impl``), an import inside the function, an alias of functions
    appended to the module, was not compared at all (each answer a one-line call), and a copy
    with a no-op statement after every statement, written out by ``ast.unparse``, scored 0.38,
    under the threshold; the grader gave each full marks."""
    root = tmp_path / "subs"
    shutil.copytree(cohort / "alice", root / "alice")
    solution = (SOLUTIONS / "word_vectors" / "count_based.py").read_text()
    stub = (STUBS / "count_based.py").read_text()
    moved = _renamed_functions(solution)
    layouts = {
        "attribute": (_thin(stub, lambda new, args: f"    return _impl.{new}{args}\n")
                      + "\nfrom . import _impl\n", moved),
        "local_import": (_thin(stub, lambda new, args: f"    from ._impl import {new}\n"
                                                      f"    return {new}{args}\n"), moved),
        "alias": (_thin(stub, lambda new, args: f"    return {new}_{args}\n")
                  + f"\n\n{moved}\n\ncooc_impl_, ppmi_impl_, svd_impl_ = cooc_impl, "
                  "ppmi_impl, svd_impl\n", None),
        "no_ops": (_noisy(solution), None),
        # round 5: the names rebound at the module's top, to copies, a partial, a factory's
        "rebound": (stub + f"\n\n{moved}\n\ncooccurrence_matrix, ppmi, svd_vectors = "
                    "cooc_impl, ppmi_impl, svd_impl\n", None),
        "partial": (stub + f"\n\nimport functools\n\n{moved}\n\ncooccurrence_matrix = "
                    "functools.partial(cooc_impl)\nppmi = functools.partial(ppmi_impl)\n"
                    "svd_vectors = functools.partial(svd_impl)\n", None),
        # `assert True` and an idle statement reading only itself, two to a line
        "idle": (_noisy(solution, "assert True; _k = _k if 0 else None"), None),
        # round 6: code of the copier's own that never runs, twice the copy's size, behind
        # a test that never holds and after the return (0.52 and 0.77 before)
        "unreachable": (_unreachable(solution), None)}
    for name, (count_based, impl) in layouts.items():
        folder = _topic(root, name)
        (folder / "count_based.py").write_text(count_based)
        if impl is not None:
            (folder / "_impl.py").write_text(impl)
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    for name in layouts:
        pair = _pair(report, "alice", name)
        assert pair is not None and "word_vectors.count_svd" in pair.flagged, (name, pair)
    # an honest one's is not: erin and frank wrote their own
    shutil.copytree(cohort / "frank", root / "frank")
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    assert "word_vectors.count_svd" not in getattr(_pair(report, "alice", "frank"), "flagged",
                                                   [])


def test_a_checkout_zipped_in_a_folder_of_its_own_is_compared_as_graded(cohort, tmp_path):
    """The grader grades ``hw1/word_vectors/`` inside a submission (a checkout zipped with its
    folder): the report reads the same files, so a copy uploaded that way is no hiding place."""
    root = tmp_path / "subs"
    shutil.copytree(cohort / "alice", root / "alice")
    shutil.copytree(cohort / "bob", root / "bob" / "hw1")
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    pair = _pair(report, "alice", "bob")
    assert pair is not None and "word_vectors.count_svd" in pair.flagged


def test_honest_students_stay_apart_however_their_editor_wraps_the_release(cohort, tmp_path):
    """Round 5's false positives: erin and frank (independent answers) with a formatter run on
    save (the release's code rewrapped) were flagged at 1.00 on nine questions, untouched
    stubs among them; four students with the reference's three-line softmax, each beside a
    small unrelated helper, were flagged on softmax (the helper took it past the minimum
    size)."""
    root = tmp_path / "subs"
    for name in ("erin", "frank"):
        shutil.copytree(cohort / name, root / name)
        for path in (root / name / "word_vectors").glob("*.py"):
            path.write_text(ast.unparse(ast.parse(path.read_text())) + "\n")  # "formatted"
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    pair = _pair(report, "erin", "frank")
    assert pair is None or not pair.flagged, pair.flagged
    helpers = {"ann": "def row_sums(v, axis=-1):\n    total = v.sum(axis=axis)\n    return total\n",
               "bo": "def peek(x):\n    print('shape', x.shape, 'dtype', x.dtype)\n"}
    softmax = (SOLUTIONS / "word_vectors" / "softmax.py").read_text()
    root = tmp_path / "softmaxes"
    for name, helper in helpers.items():
        folder = _topic(root, name)
        (folder / "softmax.py").write_text(softmax + "\n\n" + helper)
    with pytest.raises(SimilarityError, match="no question of word_vectors holds 80"):
        compare_cohort(root, SOLUTIONS, ["word_vectors"])  # nothing big enough to compare


def test_a_hostile_notebook_costs_only_its_own_submission(cohort, tmp_path):
    """A trial's finding (round 4): a notebook of JSON nested 200,000 deep, or a valid one with
    100,000 unary minuses in a module cell, stopped ``dojo similarity`` for the whole cohort
    (RecursionError, MemoryError: nothing written for anyone)."""
    from nlpdojo_autograder.release.notebooks import notebook_from_sources

    root = tmp_path / "subs"
    for name in ("alice", "bob"):
        shutil.copytree(cohort / name, root / name)
    (root / "nested").mkdir()
    (root / "nested" / "word_vectors.ipynb").write_text("[" * 200_000 + "]" * 200_000)
    sources = {p.stem: p.read_text() for p in (cohort / "carol" / "word_vectors").glob("*.py")
               if p.stem != "__init__"}
    nb = notebook_from_sources("word_vectors", sources, None)
    cell = next(c for c in nb.cells if c.metadata.get("nlpdojo", {}).get("module")
                == "count_based")
    cell.source += "\nX = " + "-" * 100_000 + "1\n"
    (root / "minuses").mkdir()
    nbformat.write(nb, root / "minuses" / "word_vectors.ipynb")
    report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
    assert "word_vectors.count_svd" in _pair(report, "alice", "bob").flagged
    said = "\n".join(report.warnings)
    assert "nested too deeply to read" in said, said
    assert "too deeply nested for Python's parser" in said, said


@pytest.mark.parametrize("case, message", [
    ("one", "holds 1 submission folder(s): a report compares at least two"),
    ("stubs", "no question of word_vectors holds 80 or more normalised characters"),
    ("missing_ref", "reference folder"),
])
def test_refusals_write_nothing(cohort, tmp_path, case, message):
    root = tmp_path / "subs"
    out = tmp_path / "out"
    shutil.copytree(cohort / "carol", root / "carol")
    if case == "stubs":
        shutil.copytree(cohort / "dave", root / "dave")
    args = ["similarity", str(root), "--topic", "word_vectors", "--output", str(out)]
    if case == "missing_ref":
        shutil.copytree(cohort / "dave", root / "dave")
        args += ["--reference", str(tmp_path / "nowhere")]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not out.exists()  # not even the folder (check_writable's, taken away again)
    with pytest.raises(SimilarityError):
        compare_cohort(root, SOLUTIONS, ["word_vectors"],
                       references=[tmp_path / "nowhere"] if case == "missing_ref" else ())


def test_a_misspelt_folder_or_course_leaves_no_empty_results_folder(tmp_path, monkeypatch):
    """An instructor's finding: `dojo similarity typo_subs` said the folder does not exist and
    left an empty ``typo_subs-results`` behind; a missing --reference-course an empty
    --output."""
    monkeypatch.chdir(tmp_path)
    for args, said in ((["similarity", "typo_subs"], "does not exist"),
                       (["similarity", "typo_subs", "-o", "deep/outX", "--reference-course",
                         "nope.course"], "no course file at nope.course")):
        result = CliRunner().invoke(build_app(), args)
        assert result.exit_code == 2, result.output
        assert said in " ".join(result.output.split()), result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == [], args


def test_the_command_writes_json_and_html_and_links_the_dashboard(cohort, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    summary = {"schema_version": "1.2", "count": 0, "score": {}, "submissions": [],
               "questions": [], "checks": [], "failure_clusters": []}
    (out / "summary.json").write_text(json.dumps(summary))
    (out / "dashboard.html").write_text(render_dashboard(summary))
    result = CliRunner().invoke(build_app(), ["similarity", str(cohort), "--output", str(out),
                                              "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "similarity.json").read_text())
    assert data["pairs"][0]["a"] == "alice" and data["pairs"][0]["b"] == "bob"
    assert data["pairs_flagged"] == 1
    assert '"pairs_flagged": 1' in result.stdout
    page = (out / "dashboard.html").read_text()
    assert 'href="similarity.html"' in page
    assert "<mark>" in (out / "similarity.html").read_text()
    # when it was written, since a later grading may be of other files (the TA's trial: a new
    # dashboard linked an older run's report as if it were of this cohort)
    written = written_at(out / "similarity.html")
    assert written.endswith(" UTC") and (
        f'data-field="similarity_written">{written}</span>, of the submissions as they were '
        "then: run dojo similarity again after they change") in page


BROWSER = find_chromium()


@pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (make test installs it)")
def test_the_report_renders_in_a_browser(report, tmp_path):
    page = tmp_path / "similarity.html"
    page.write_text(render_similarity(report))
    proc = chromium(BROWSER, page, tmp_path / "profile", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Fields()
    dom.feed(proc.stdout)
    assert dom.fields[("a", "1")] == "alice" and dom.fields[("b", "1")] == "bob"
    assert float(dom.fields[("score", "1")]) == pytest.approx(report.pairs[0].score, abs=0.005)
    assert int(dom.fields[("pairs_flagged", "")]) == 1
    assert "<mark>" in proc.stdout  # the matched regions
    assert all(url.startswith("#pair-") for url in dom.urls)  # nothing fetched


def test_the_page_shows_code_for_the_first_pairs_only(report):
    page = render_similarity(report, side_by_side=0)
    assert "<mark>" not in page and 'id="pair-1"' not in page
    assert "similarity.json lists every pair above" in page
    assert 'data-pair="1" data-field="a">alice<' in page  # still ranked


def test_the_report_goes_where_grade_writes_the_cohort(cohort, tmp_path, monkeypatch):
    """Without --output: the course's folder for cohort reports (here from the environment),
    as grade --submissions uses, so that the dashboard links the report."""
    monkeypatch.setenv("NLPDOJO_GRADE_OUTPUT", str(tmp_path / "reports"))
    result = CliRunner().invoke(build_app(), ["similarity", str(cohort)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / f"{cohort.name}-results" / "similarity.html").is_file()


def test_the_library_compared_is_the_one_the_grader_grades(tmp_path):
    """A submission with a library beside its topic folder (graded) and a decoy one inside
    it: the report reads the one graded."""
    from nlpdojo_autograder.release.similarity import _modules

    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "layers.py").write_text("GRADED = 1\n")
    (tmp_path / "topic" / "library").mkdir(parents=True)
    (tmp_path / "topic" / "library" / "layers.py").write_text("DECOY = 1\n")
    found = _modules(tmp_path, "topic", "sub", [])
    assert found[("library", "layers")][0] == "GRADED = 1\n"


def test_a_module_is_read_as_python_reads_it(tmp_path):
    """An adversarial trial: a copy saved with a byte-order mark (or a coding declaration) was
    "not valid Python, its questions not compared", while the grader graded it: read as the
    import reads it, it is compared as its text."""
    from nlpdojo_autograder.release.similarity import _read_text

    skipped: list[str] = []
    for name, data in (("bom.py", b"\xef\xbb\xbfdef f():\n    return 1\n"),
                       ("latin.py", b"# -*- coding: latin-1 -*-\nS = '\xe9'\n")):
        (tmp_path / name).write_bytes(data)
    assert _read_text(tmp_path / "bom.py", "bom.py", skipped) == "def f():\n    return 1\n"
    assert "S = 'é'" in _read_text(tmp_path / "latin.py", "latin.py", skipped)
    assert skipped == []


def test_a_notebooks_library_cell_is_compared_over_the_library_file_beside_it(tmp_path):
    """A notebook graded alone takes its library cells over the library/ files beside it (an
    adversarial trial: a copied loss in the notebook's cell, the released stub in
    library/losses.py, and the report read the stub); a folder graded as a folder keeps its
    files."""
    from nlpdojo_autograder.release.notebooks import notebook_from_sources
    from nlpdojo_autograder.release.similarity import _modules

    sources = {"softmax": "GRADED_TOPIC = 1\n", "library.losses": "COPIED = 1\n"}
    nb = notebook_from_sources("word_vectors", sources, None)
    (tmp_path / "nb" / "library").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "nb" / "word_vectors.ipynb")
    (tmp_path / "nb" / "library" / "losses.py").write_text("STUB = 1\n")
    (tmp_path / "nb" / "library" / "layers.py").write_text("OWN = 1\n")
    found = _modules(tmp_path / "nb", "word_vectors", "nb", [])
    assert found[("library", "losses")][0] == "COPIED = 1\n"
    assert found[("library", "layers")][0] == "OWN = 1\n"  # no cell: the file
    (tmp_path / "nb" / "word_vectors").mkdir()
    (tmp_path / "nb" / "word_vectors" / "softmax.py").write_text("FOLDER = 1\n")
    found = _modules(tmp_path / "nb", "word_vectors", "nb", [])  # graded as a folder now
    assert found[("library", "losses")][0] == "STUB = 1\n"


#: an adversarial trial's student (vic), a copy of vic's softmax cross-entropy with operands
#: swapped, keyword arguments reordered, temporaries annotated and a tuple assigned (0.56
#: before the normal form: not flagged)
VIC = """\
    def forward(self, prediction: Array, target: Array) -> tuple[Array, tuple]:
        xp = self.xp
        num_rows, num_classes = prediction.shape
        labels = xp.astype(target, xp.int64)
        row_max = xp.max(prediction, axis=1, keepdims=True)
        centered = prediction - row_max
        exps = xp.exp(centered)
        denom = xp.sum(exps, axis=1, keepdims=True)
        softmax = exps / denom
        picked = xp.take_along_axis(centered, xp.reshape(labels, (num_rows, 1)), axis=1)
        per_row = xp.log(denom) - picked
        loss = xp.asarray(xp.sum(per_row) / num_rows)
        onehot = xp.astype(xp.arange(num_classes, device=self.backend.device)[None, :]
                           == labels[:, None], prediction.dtype)
        return loss, (softmax, onehot)

    def backward(self, grad_output: Array | float, cache: tuple) -> Array:
        xp = self.xp
        softmax, onehot = cache
        num_rows = softmax.shape[0]
        difference = softmax - onehot
        return difference * (grad_output / num_rows)
"""
SWAPPED = """\
    def forward(self, prediction: Array, target: Array) -> tuple[Array, tuple]:
        xp = self.xp
        N, C = prediction.shape
        y: Array = xp.astype(target, xp.int64)
        top: Array = xp.max(prediction, keepdims=True, axis=1)
        z: Array = prediction + (-top)
        e, s = xp.exp(z), xp.sum(xp.exp(z), keepdims=True, axis=1)
        p: Array = e * (1.0 / s)
        got: Array = xp.take_along_axis(z, xp.reshape(y, (N, 1)), axis=1)
        rows: Array = -got + xp.log(s)
        loss = xp.asarray(xp.sum(rows) * (1.0 / N))
        one_hot = xp.astype(y[:, None] == xp.arange(C, device=self.backend.device)[None, :],
                            prediction.dtype)
        return loss, (p, one_hot)

    def backward(self, grad_output: Array | float, cache: tuple) -> Array:
        xp = self.xp
        p, one_hot = cache
        N = p.shape[0]
        d = -one_hot + p
        return (grad_output / N) * d
"""
#: two honest students' Adam (a trial of a normal form that inlined temporaries flagged
#: them at 0.81: standard formulas collapse into one expression)
ALICE_ADAM = """\
self.steps += 1
t = self.steps
for i, param in enumerate(self.params):
    state = self.state.setdefault(i, {})
    if "m" not in state:
        state["m"] = xp.zeros_like(param.grad)
        state["v"] = xp.zeros_like(param.grad)
    state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * param.grad
    state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * param.grad ** 2
    m_hat = state["m"] / (1 - self.beta1 ** t)
    v_hat = state["v"] / (1 - self.beta2 ** t)
    param.data = param.data - self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)
"""
ERIN_ADAM = """\
self.steps += 1
c1 = 1.0 - self.beta1 ** self.steps
c2 = 1.0 - self.beta2 ** self.steps
for i, p in enumerate(self.params):
    g = p.grad
    st = self.state.get(i)
    if st is None:
        st = {"m": xp.zeros_like(g), "v": xp.zeros_like(g)}
        self.state[i] = st
    st["m"] = st["m"] * self.beta1 + g * (1.0 - self.beta1)
    st["v"] = st["v"] * self.beta2 + g * g * (1.0 - self.beta2)
    update = (st["m"] / c1) / (xp.sqrt(st["v"] / c2) + self.eps)
    p.data = p.data - self.lr * update
"""


def _student(root: Path, name: str, losses: str | None = None, adam: str | None = None) -> None:
    """A neural_networks submission: the solutions' library with vic's kind of loss, or the
    released optimizers with ``adam`` written in for its stub line."""
    folder = root / name
    shutil.copytree(SOLUTIONS / "library", folder / "library",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(STUBS.parent / "neural_networks", folder / "neural_networks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if losses is not None:
        text = (SOLUTIONS / "library" / "losses.py").read_text()
        start = text.index("    def forward", text.index("class SoftmaxCrossEntropy"))
        end = text.index("class MaxMargin")
        (folder / "library" / "losses.py").write_text(text[:start] + losses + "\n\n" +
                                                      text[end:])
    if adam is not None:
        stub = (STUBS.parent / "library" / "optim.py").read_text()
        line = next(ln for ln in stub.split("\n") if "neural_networks.adam: not impl" in ln)
        indent = line[: len(line) - len(line.lstrip())]
        (folder / "library" / "optim.py").write_text(stub.replace(line, textwrap.indent(
            adam, indent).rstrip("\n")))


def test_a_copy_rewritten_as_an_editor_does_is_flagged_and_honest_answers_stay_apart(tmp_path):
    """Operands swapped (``a - b`` as ``-b + a``, ``x / n`` as ``x * (1.0 / n)``, ``==``'s
    sides), keyword arguments reordered, temporaries annotated and a tuple assigned: the
    normal form undoes each (autograder/release/normal_form.py); two honest Adams, one with
    its temporaries, one without, stay apart."""
    root = tmp_path / "subs"
    _student(root, "vic", losses=VIC, adam=ALICE_ADAM)
    _student(root, "copy", losses=SWAPPED)
    _student(root, "erin", adam=ERIN_ADAM)
    report = compare_cohort(root, SOLUTIONS, ["neural_networks"])
    pair = _pair(report, "vic", "copy")
    assert pair is not None and "neural_networks.softmax_ce" in pair.flagged
    honest = _pair(report, "vic", "erin")
    assert honest is None or "neural_networks.adam" not in honest.flagged, honest.matches


def test_the_normal_form_orders_operands_and_assignments():
    from nlpdojo_autograder.release.normal_form import flattened, normal_form

    def form(code: str) -> str:
        return ast.unparse(normal_form(ast.parse(textwrap.dedent(code))))

    assert form("y = a - b * c") == form("y = -(c * b) + a") or form("y = a - b * c") == \
        form("y = -(b * c) + a")
    assert form("return f(b=1, a=2.0)") == "return f(a=2, b=1)"
    assert form("x: int = 1\nx = x\na, b = u, v") == "x = 1\na = u\nb = v"
    assert form("a, b = b, a") == "a, b = (b, a)"  # a swap stays one statement
    assert form("t = a + b\nreturn t") == "t = a + b\nreturn t"  # temporaries stay
    # a function's lines without the loop header the release ships parse, one level out
    assert ast.parse(flattened("n = 0\n    x = f(n)\n    n += x\nreturn n"))
