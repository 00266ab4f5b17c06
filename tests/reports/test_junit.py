"""JUnit XML: valid against Jenkins' junit-10.xsd, counts consistent, hostile text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from nlpdojo_reports.junit import JUnitReporter

XSD = Path(__file__).with_name("fixtures") / "junit.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def _parse(result) -> ET.Element:
    return ET.fromstring(JUnitReporter().render(result))


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in root.iter("testcase")}


def test_validates_against_junit_xsd(result, junit_schema):
    junit_schema.validate(JUnitReporter().render(result))


def test_xsd_fixture_rejects_what_it_should(junit_schema):
    # the fixture is a real constraint: a testsuite without its required `tests` is invalid
    assert not junit_schema.is_valid("<testsuites><testsuite name='x'/></testsuites>")


def test_structure_and_names(result):
    root = _parse(result)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["word_vectors", "language_model", "broken"]
    case = _cases(root)["softmax.gradient"]
    assert case.get("classname") == "word_vectors.softmax"
    assert float(case.get("time")) == 0.0
    assert float(_cases(root)["softmax.values"].get("time")) == pytest.approx(0.01)


def test_status_mapping(result):
    cases = _cases(_parse(result))

    def child(name: str) -> ET.Element | None:
        kids = [k for k in cases[name] if k.tag in ("failure", "error", "skipped")]
        assert len(kids) <= 1
        return kids[0] if kids else None

    assert child("softmax.values") is None
    assert (child("softmax.gradient").tag, child("softmax.gradient").get("type")) == (
        "failure", "failed")
    assert (child("cbow.values").tag, child("cbow.values").get("type")) == (
        "failure", "not_implemented")
    assert "not implemented" in child("cbow.values").get("message").lower()
    assert (child("skipgram.loss").tag, child("skipgram.loss").get("type")) == ("error", "error")
    assert (child("skipgram.timeout").tag, child("skipgram.timeout").get("type")) == (
        "error", "timeout")
    assert "points: 0/2.5" in child("softmax.gradient").text


@pytest.mark.parametrize("index", [0, 1, 2])
def test_suite_counts_match_children(result, index):
    suite = _parse(result).findall("testsuite")[index]
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases)
    assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
    assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
    assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)


def test_root_counts_are_sums(result):
    root = _parse(result)
    assert root.get("tests") == "10"  # 9 checks + the broken exercise's placeholder case
    assert root.get("failures") == "4"  # 3 failed + 1 not implemented
    assert root.get("errors") == "3"  # error + timeout + the import error
    for attr in ("tests", "failures", "errors"):
        assert int(root.get(attr)) == sum(int(s.get(attr)) for s in root.findall("testsuite"))


def test_exercise_error_becomes_an_error_case(result):
    broken = _parse(result).findall("testsuite")[2]
    (case,) = broken.findall("testcase")
    assert case.get("name") == "(exercise)"
    assert case.find("error").get("type") == "exercise_error"
    assert "rnn_step" in broken.find("system-err").text


def test_properties_record_the_run(result):
    suite = _parse(result).find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["backend"] == "numpy" and props["device"] == "cpu"
    assert props["seed.global"] == "0" and props["seed.data"] == "1234"
    assert props["version.numpy"] == "2.0.1"
    assert props["score"] == "2/11.5"


def test_hostile_text_is_escaped_and_survives(result):
    text = JUnitReporter().render(result)
    assert "\x00" not in text and "\x1b" not in text and "\ud800" not in text
    text.encode("utf-8")  # no lone surrogate left
    case = _cases(ET.fromstring(text))["skipgram.loss"]
    message = case.find("error").get("message")
    assert 'bad token <unk> & "quote" \\x00 \\x1b[31mred' in message
    assert "naïve ✓ 日本語 \\ud800" in message
    out = case.find("system-out").text
    assert "\\x07bell <script>alert('x')</script> & done" in out


def test_no_output_no_system_out(result):
    assert _cases(_parse(result))["softmax.values"].find("system-out") is None
