"""The JUnit XML report, for CI dashboards (Jenkins, GitLab, GitHub test reporters).

Follows the Jenkins xUnit plugin's ``junit-10.xsd`` (the schema pytest's ``--junitxml``
targets). Mapping, one ``<testsuite>`` per exercise and one ``<testcase>`` per check:

============== ======================================== ==================
status         child of ``<testcase>``                  counted in
============== ======================================== ==================
passed         none                                     ``tests``
failed         ``<failure type="failed">``              ``failures``
not_implemented ``<failure type="not_implemented">``    ``failures``
error          ``<error type="error">``                 ``errors``
timeout        ``<error type="timeout">``               ``errors``
============== ======================================== ==================

An untouched stub is a failure, not a skip: CI must go red until the student writes it. The
one skip is a check the grader did not run for want of data (status ``error`` with
``details["skipped"]``, a student's grading without ``dojo data fetch``): ``<skipped
type="data">``, counted in ``skipped``. An exercise-wide error with no checks becomes one
``<testcase name="(exercise)">`` carrying an ``<error type="exercise_error">``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nlpdojo_autograder.grading.reporting import Reporter
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from nlpdojo_reports.formatting import (
    STATUS_LABELS,
    first_line,
    fmt_points,
    metric_text,
    shown_status,
)
from nlpdojo_reports.sanitize import xml_text

#: status -> (element, type attribute); passed has no child element
STATUS_ELEMENTS: dict[str, tuple[str, str]] = {
    "failed": ("failure", "failed"),
    "not_implemented": ("failure", "not_implemented"),
    "error": ("error", "error"),
    "timeout": ("error", "timeout"),
}


class JUnitReporter(Reporter):
    """``grade --format junit``: JUnit XML, one testsuite per exercise."""

    name = "junit"
    default_filename = "junit.xml"

    def render(self, result: GradingResult) -> str:
        """The report as an XML document (UTF-8 declaration, indented)."""
        root = ET.Element("testsuites", name=_s(f"nlpdojo {result.submission}"))
        totals = {"tests": 0, "failures": 0, "errors": 0}
        for ex in result.exercises:
            suite = _suite(ex, result)
            root.append(suite)
            for key in totals:
                totals[key] += int(suite.get(key, "0"))
        for key, count in totals.items():
            root.set(key, str(count))
        root.set("time", _time(result.duration_s))
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(ex: ExerciseResult, result: GradingResult) -> ET.Element:
    suite = ET.Element("testsuite", name=_s(ex.name))
    if result.started_at:
        suite.set("timestamp", _s(result.started_at))
    suite.append(_properties(ex, result))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for check in ex.checks:
        suite.append(_testcase(ex, check))
        counts["tests"] += 1
        element = _element(check)[0]
        if element == "skipped":
            counts["skipped"] += 1
        elif element == "failure":
            counts["failures"] += 1
        elif element == "error":
            counts["errors"] += 1
    if ex.error is not None and not ex.checks:
        case = ET.SubElement(suite, "testcase", classname=_s(ex.name), name="(exercise)")
        case.set("time", _time(ex.duration_s))
        error = ET.SubElement(
            case, "error", type="exercise_error", message=_s(first_line(ex.error))
        )
        error.text = _s(ex.error)
        counts["tests"] += 1
        counts["errors"] += 1
    for key, count in counts.items():
        suite.set(key, str(count))
    suite.set("time", _time(ex.duration_s))
    if ex.error is not None:
        ET.SubElement(suite, "system-err").text = _s(ex.error)
    return suite


def _properties(ex: ExerciseResult, result: GradingResult) -> ET.Element:
    """How the run was made, repeated in every suite (the root element has no properties)."""
    props = ET.Element("properties")
    pairs: list[tuple[str, str]] = [
        ("backend", result.backend),
        ("device", result.device),
        ("submission", result.submission),
        ("solutions_present", str(result.solutions_present).lower()),
        ("score", fmt_points(ex.score, ex.max_score)),
    ]
    pairs += [(f"seed.{k}", str(v)) for k, v in sorted(result.seeds.items())]
    pairs += [(f"version.{k}", str(v)) for k, v in sorted(result.versions.items())]
    pairs += [(f"warning.{i}", w) for i, w in enumerate(result.warnings, start=1)]
    for name, value in pairs:
        ET.SubElement(props, "property", name=_s(name), value=_s(value))
    return props


def _testcase(ex: ExerciseResult, check: CheckResult) -> ET.Element:
    case = ET.Element(
        "testcase", classname=_s(f"{ex.name}.{check.question}"), name=_s(check.id),
        time=_time(check.duration_s),
    )
    tag, kind = _element(check)
    if tag:
        summary = first_line(check.message) or STATUS_LABELS[shown_status(check)]
        if check.status == "not_implemented" and "not implemented" not in summary.lower():
            summary = f"not implemented: {summary}"
        child = ET.SubElement(case, tag, type=kind, message=_s(summary))
        child.text = _s(_body(check))
    if check.output:
        ET.SubElement(case, "system-out").text = _s(check.output)
    return case


def _element(check: CheckResult) -> tuple[str, str]:
    """``(child element, type)`` of a check's testcase; ``("", "")`` for a pass."""
    if shown_status(check) == "skipped":
        return "skipped", str(check.details["skipped"])
    return STATUS_ELEMENTS.get(check.status, ("", ""))


def _body(check: CheckResult) -> str:
    """The full story of a non-passing check: message, points, metric."""
    lines = [check.message, f"points: {fmt_points(check.score, check.max_score)}"]
    metric = metric_text(check)
    if metric:
        lines.append(f"metric: {metric}")
    if check.hidden:
        lines.append("hidden check")
    return "\n".join(lines)


def _s(text: str) -> str:
    return xml_text(str(text))


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"
