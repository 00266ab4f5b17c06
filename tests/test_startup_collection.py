"""What ``grade`` and ``dojo`` do before their imports (framework/startup.py): the imports run
with the garbage collector off and what they made is frozen out of later collections; the
collector's own state is given back, whatever the block raised. In a fresh process each: the
frozen generation is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from nlpdojo.startup import imports_without_collection
seen = {"before": gc.get_freeze_count()}
with imports_without_collection():
    seen["inside"] = gc.isenabled()
    import email.mime.text, xml.dom.minidom  # noqa: E401 - something to freeze
seen["after"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count() > seen["before"]
try:
    with imports_without_collection():
        raise KeyError("a broken import")
except KeyError:
    seen["after_error"] = gc.isenabled()
gc.disable()
with imports_without_collection():
    pass
seen["kept_off"] = not gc.isenabled()
print(json.dumps(seen))
"""


def _probe(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_imports_run_without_collection_and_are_frozen_after():
    seen = _probe(PROBE)
    assert seen["inside"] is False and seen["after"] is True and seen["frozen"] is True
    assert seen["after_error"] is True  # a failed import does not leave the collector off
    assert seen["kept_off"] is True  # a caller that had switched it off keeps it off


def test_the_grade_script_freezes_its_imports_and_collects_after():
    """The console script's entry (cli/launch.py) imports the grader with the collector off
    and leaves it on for the grading."""
    code = ("import gc, json, sys\n"
            "from nlpdojo_autograder.cli import launch\n"
            "import nlpdojo_autograder.cli.grade as grade\n"
            "seen = {}\n"
            "grade.main = lambda: seen.update(enabled=gc.isenabled(),\n"
            "                                 frozen=gc.get_freeze_count())\n"
            "sys.modules['nlpdojo_autograder.cli.grade'] = grade\n"
            "launch.grade()\n"
            "print(json.dumps(seen))")
    seen = _probe(code)
    assert seen["enabled"] is True and seen["frozen"] > 10_000
