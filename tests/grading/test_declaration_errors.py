"""A mistake in one topic's declaration names its own line and leaves the other topics usable
(issue 65 item 5): a builder that refused a declaration was reported at the engine's line,
and the topic's import error stopped every command for every topic.

The commands run on a copy of the course (``tests.grading.test_new_topic``'s ``course``
fixture: the copies come first on ``PYTHONPATH``), so the checkout is never written to."""

from __future__ import annotations

import json
import re

from nlpdojo.errors import UnknownNameError
from nlpdojo.registry import Registry
from tests.grading.test_new_topic import course, run  # noqa: F401 - the fixture

#: the scaffold's declaration, and the same with an option no builder takes
DECLARED = 'points=1.0, outputs=("scaled",))'
MISTAKE = 'points=1.0, outputs=("scaled",), weight=2)'


def test_a_declaration_error_names_its_line_and_leaves_the_other_topics_usable(
        course, tmp_path):  # noqa: F811
    packages, env = course
    solutions, course_dir = packages / "nlpdojo_solutions", packages / "nlpdojo_course"
    made = run(env, tmp_path, "dojo", "new", "topic", "broken_demo", "--title", "Broken",
               "--solutions", str(solutions), "--course", str(course_dir))
    assert made.returncode == 0, made.stderr
    questions = course_dir / "broken_demo" / "questions.py"
    text = questions.read_text(encoding="utf-8")
    assert text.count(DECLARED) == 1
    questions.write_text(text.replace(DECLARED, MISTAKE), encoding="utf-8")
    # the lines of the refused `function_check(...)` call: the report names one of them
    start = text[:text.index("function_check(")].count("\n") + 1
    end = text[:text.index(DECLARED)].count("\n") + 1
    site = re.compile(r"broken_demo/questions\.py:(\d+)\)")

    listed = run(env, tmp_path, "dojo", "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {row["name"] for row in json.loads(listed.stdout)["plugins"]}
    assert {"course.word_vectors", "course.cnn_text"} <= plugins
    assert "course.broken_demo" not in plugins
    assert "course.broken_demo is left out: topic folder course/broken_demo failed to " \
        "import: TypeError" in listed.stderr and "weight" in listed.stderr
    found = site.search(listed.stderr)
    assert found and start <= int(found.group(1)) <= end, listed.stderr
    assert "autograder/" not in listed.stderr.split("is left out")[1].split(")")[0]

    # the broken topic, asked for: why it is missing, with the line; no traceback
    graded = run(env, tmp_path, "grade", "broken_demo", "--solutions")
    assert graded.returncode == 2, graded.stdout + graded.stderr
    said = graded.stdout + graded.stderr
    assert "'course.broken_demo' failed to load" in said and site.search(said), said
    assert "Traceback" not in said

    # releasing every topic cannot leave it out: refused, saying why
    released = run(env, tmp_path, "dojo", "release", "--check", "--no-fixtures",
                   "--solutions", str(solutions), "--output", str(tmp_path / "exercises"))
    assert released.returncode == 2, released.stdout + released.stderr
    assert "'course.broken_demo' failed to load" in released.stderr, released.stderr
    assert site.search(released.stderr) and "Traceback" not in released.stderr

    # another topic grades as before (one question, to keep the test short)
    other = run(env, tmp_path, "grade", "neural_networks.relu", "--solutions", "-f", "json")
    assert other.returncode == 0, other.stdout + other.stderr
    result = json.loads(other.stdout)
    assert [e["score"] for e in result["exercises"]] == [e["max_score"]
                                                         for e in result["exercises"]]


def test_a_look_up_of_what_a_broken_module_registers_says_why_it_is_missing():
    registry = Registry()
    registry.add("exercise", "word_vectors", object(), plugin="course.word_vectors")
    registry.broken["course.attention"] = "topic folder course/attention failed to import: " \
        "ValueError: at_scale missing (at /c/attention/questions.py:12)"
    try:
        registry.get("exercise", "attention")
    except UnknownNameError as exc:
        said = str(exc)
    assert "Plugin 'course.attention' failed to load, so whatever it registers is missing" \
        in said and "questions.py:12" in said
    try:
        registry.get("exercise", "attentoin")
    except UnknownNameError as exc:
        said = str(exc)
    assert "(Plugin 'course.attention' failed to load and is left out" in said
