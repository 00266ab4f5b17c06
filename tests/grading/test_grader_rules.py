"""Grader-wide rules every check gets (issue 9, item 5): a function must not change its inputs
unless the check says so; code that leaves the array namespace fails on the NumPy backend too,
with a hint to use ``xp``; in-place updates that must be in place are checked as such. And the
common mistakes that used to pass: each loses points on its own question, with a message that
teaches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app

ROOT = Path(__file__).resolve().parents[2]
SOFTMAX = "    shifted = x - xp.max(x, axis=-1, keepdims=True)"


def _submission(tmp_path: Path, module: str, old: str, new: str, prelude: str = "") -> Path:
    folder = tmp_path / "sub"
    shutil.copytree(ROOT / "solutions" / "word_vectors", folder / "word_vectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "word_vectors" / f"{module}.py"
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new)
    if prelude:
        text = text.replace("from __future__ import annotations\n",
                            "from __future__ import annotations\n" + prelude, 1)
    path.write_text(text)
    return folder


def _checks(folder: Path, question: str, tmp_path: Path) -> dict:
    out = tmp_path / "r.json"
    CliRunner().invoke(app, [question, "--submission", str(folder), "-f", "json", "-o", str(out)])
    data = json.loads(out.read_text())
    return {c["id"]: c for e in data["exercises"] for c in e["checks"]}


@pytest.mark.timeout(120)
def test_a_softmax_that_overwrites_its_input_fails_with_the_argument_named(tmp_path):
    folder = _submission(tmp_path, "softmax", SOFTMAX,
                         "    x -= xp.max(x, axis=-1, keepdims=True)\n    shifted = x")
    checks = _checks(folder, "softmax", tmp_path)
    assert checks["softmax.values"]["score"] == 0
    assert "changed its argument `x` in place" in checks["softmax.values"]["message"]
    # every check that finds it says it as the grader's own finding, no class of the grader's
    # ("error: ProbeError: softmax() changed...", a student's finding)
    for check in checks.values():
        assert "ProbeError" not in check["message"], check


@pytest.mark.timeout(120)
def test_numpy_calls_on_array_api_inputs_fail_on_numpy_too_with_the_xp_hint(tmp_path):
    folder = _submission(tmp_path, "softmax", SOFTMAX,
                         "    shifted = x - np.max(x, axis=-1, keepdims=True)",
                         prelude="import numpy as np\n")
    checks = _checks(folder, "softmax", tmp_path)
    message = checks["softmax.values"]["message"]
    assert checks["softmax.values"]["score"] == 0
    assert "strict array API namespace" in message and "array_namespace(x)" in message
    assert "softmax.py line" in message  # the student's own line


@pytest.mark.timeout(120)
def test_wrong_values_are_told_before_the_strict_pass(tmp_path):
    """A check that earns nothing on NumPy is not run again on the strict namespace: its own
    message (the values that differ) is the feedback, the namespace's hint comes once they
    are right (the points are 0 either way)."""
    folder = _submission(tmp_path, "softmax", SOFTMAX,
                         "    shifted = np.abs(x - np.max(x, axis=-1, keepdims=True))",
                         prelude="import numpy as np\n")
    checks = _checks(folder, "softmax", tmp_path)
    message = checks["softmax.values"]["message"]
    assert checks["softmax.values"]["score"] == 0
    assert "strict array API namespace" not in message and "differ" in message, message
    assert not checks["softmax.values"]["details"].get("strict_pass")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("line", [
    # an array made without device=: on a GPU it sits on the CPU beside CUDA inputs
    "    shifted = x - xp.max(x, axis=-1, keepdims=True) + xp.zeros(x.shape[-1], dtype=x.dtype)",
    # an input handed to NumPy: a CUDA tensor cannot be
    "    shifted = xp.asarray(np.asarray(x) - np.max(np.asarray(x), axis=-1, keepdims=True))",
])
def test_code_that_would_mix_devices_on_a_gpu_fails_on_numpy_with_the_device_hint(tmp_path, line):
    folder = _submission(tmp_path, "softmax", SOFTMAX, line, prelude="import numpy as np\n")
    checks = _checks(folder, "softmax", tmp_path)
    message = checks["softmax.values"]["message"]
    assert checks["softmax.values"]["score"] == 0
    assert "another device than the default one" in message
    assert "device=device(x)" in message and "softmax.py line" in message


@pytest.mark.timeout(120)
def test_array_methods_outside_the_standard_are_caught(tmp_path):
    folder = _submission(tmp_path, "softmax", SOFTMAX,
                         "    shifted = x - x.max(axis=-1, keepdims=True)")
    checks = _checks(folder, "softmax", tmp_path)
    assert checks["softmax.values"]["score"] == 0
    assert "has no attribute 'max'" in checks["softmax.values"]["message"]


@pytest.mark.timeout(120)
def test_an_update_that_returns_a_copy_fails_and_the_in_place_one_passes(tmp_path):
    folder = _submission(tmp_path, "sgd", "    return backend.scatter_add(matrix,",
                         "    matrix = matrix * 1.0\n    return backend.scatter_add(matrix,")
    checks = _checks(folder, "word_vectors.sgd", tmp_path)
    assert checks["sgd.update"]["score"] == 0
    assert "must update `matrix` in place" in checks["sgd.update"]["message"]
    assert checks["sgd.outer_update"]["status"] == "passed"


# -- mistakes that used to pass ---------------------------------------------------------------
@pytest.mark.timeout(120)
def test_svd_columns_in_ascending_order_are_named_as_such(tmp_path):
    folder = _submission(tmp_path, "count_based", "order = np.argsort(s)[::-1]",
                         "order = np.argsort(s)")
    checks = _checks(folder, "count_svd", tmp_path)
    assert checks["count_svd.svd"]["score"] == 0
    assert "right singular vectors (or eigenvectors) in the wrong order" in checks[
        "count_svd.svd"]["message"]
    assert checks["count_svd.ppmi"]["status"] == "passed"


@pytest.mark.timeout(120)
def test_a_naive_softmax_loss_that_overflows_fails_its_stability_check_only(tmp_path):
    folder = _submission(
        tmp_path, "naive_softmax",
        "loss = xp.log(xp.sum(xp.exp(scores - m))) + m - scores[outside_idx]",
        "loss = -xp.log(y_hat[outside_idx])")
    checks = _checks(folder, "naive_softmax", tmp_path)
    stability = checks["naive_softmax.stability"]
    assert stability["score"] == 0
    assert "log-sum-exp" in stability["message"] or "NaN or inf" in stability["message"]
    assert checks["naive_softmax.values"]["status"] == "passed"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("old, new, key", [
    ("return max(lr0 * (1.0 - progress), lr_min)", "return lr0 * (1.0 - progress)",
     "learning_rates_with_lr_min"),
    ("progress = min(max(step / max(total_steps, 1), 0.0), 1.0)",
     "progress = min(max(step / total_steps, 0.0), 1.0)", "ZeroDivisionError"),
])
def test_linear_decay_edge_cases_are_checked(tmp_path, old, new, key):
    folder = _submission(tmp_path, "sgd", old, new)
    checks = _checks(folder, "word_vectors.sgd", tmp_path)
    assert checks["sgd.schedule"]["score"] == 0
    assert key in checks["sgd.schedule"]["message"]


# -- data: the grader's set-up, never the student's points ----------------------------------
@pytest.mark.timeout(120)
def test_missing_data_for_the_selected_checks_exits_2_before_grading(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPDOJO_DATA", str(tmp_path / "empty-cache"))
    result = CliRunner().invoke(app, ["training", "--submission", str(ROOT / "solutions")])
    assert result.exit_code == 2, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("error: "))
    assert "not fetched yet: sotu" in line and "Run: dojo data fetch sotu" in line
    # questions that need no data are graded as usual
    quick = CliRunner().invoke(app, ["softmax", "--submission", str(ROOT / "solutions")])
    assert quick.exit_code == 0, quick.output
    # the report Gradescope shows the student says whose problem it is (a CI integrator's
    # trial: "could not grade this submission: data set not fetched yet", the student's zero)
    report = tmp_path / "results.json"
    gradescope = CliRunner().invoke(app, ["training", "--submission", str(ROOT / "solutions"),
                                          "-f", "gradescope", "-o", str(report)])
    assert gradescope.exit_code == 2, gradescope.output
    text = json.loads(report.read_text())["output"]
    assert "not fetched yet: sotu" in text and "this is not your fault" in text, text


@pytest.mark.timeout(180)
def test_a_student_without_data_gets_the_rest_graded_and_the_fetch_command(tmp_path,
                                                                           monkeypatch):
    """Issue 26: without the data, a student's `grade` stopped at once. As a student release
    grades (no reference), the questions that need no data are graded, those that need it are
    skipped (status error, details.skipped, verdict `skipped`), one warning lists them with the
    command that fetches the data; the exit code follows the score."""
    import xml.etree.ElementTree as ET

    monkeypatch.setenv("NLPDOJO_DATA", str(tmp_path / "empty-cache"))
    out, junit = tmp_path / "r.json", tmp_path / "j.xml"
    args = ["softmax", "training", "--submission", str(ROOT / "solutions"), "--as-student"]
    result = CliRunner().invoke(app, [*args, "-f", "json", "-o", str(out)])
    assert result.exit_code == 1, result.output  # below full marks: the usual code
    report = json.loads(out.read_text())
    checks = {c["id"]: c for e in report["exercises"] for c in e["checks"]}
    graded = {k: c for k, c in checks.items() if k.startswith("softmax.")}
    skipped = {k: c for k, c in checks.items() if k.startswith("training.")}
    assert graded and all(c["status"] == "passed" for c in graded.values())
    assert skipped and report["score"] == sum(c["max_score"] for c in graded.values())
    fetch = "dojo data fetch sotu wordsim353 simlex999 google-analogies"
    for c in skipped.values():
        assert c["status"] == "error" and c["score"] == 0 and c["max_score"] > 0
        assert c["details"]["skipped"] == "data"
        assert c["details"]["datasets"] == ["sotu", "wordsim353", "simlex999", "google-analogies"]
        assert c["message"].startswith("not run: it needs the data sets sotu, ")
        assert f"`{fetch}` (or `dojo data fetch --all`)" in c["message"]
    (warning,) = report["warnings"]
    assert warning.startswith("skipped for want of data: word_vectors.training (no points")
    assert fetch in warning
    flat = " ".join(result.output.split())
    assert "warning: skipped for want of data: word_vectors.training" in flat
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 1
    assert f"{len(skipped)} skipped" in " ".join(table.output.split())
    assert CliRunner().invoke(app, [*args, "-f", "junit", "-o", str(junit)]).exit_code == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("skipped") == str(len(skipped)) and suite.get("errors") == "0"
    assert len(suite.findall("testcase/skipped[@type='data']")) == len(skipped)
