"""What given code reads of the student's structures is said in the stub and checked on the
question that owns it (issue 62, kind 6): the given ``Recurrent.final_state`` returns
``cache[1]`` of the student's forward, and a cache laid out ``(state, caches)`` kept full marks
on ``recurrent``, then crashed inside the student's right LSTM cell when a language model
carried the list of caches into its next window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlpdojo_autograder.authoring.markers import parse_blocks, python_modules
from nlpdojo_autograder.grading.grade import GradeOptions, get_exercise, grade
from tests.grading.courses import SOLUTIONS, edited_course

#: the given lines between Recurrent.forward's block and backward's unpacking of its cache
BETWEEN = ("        ### END SOLUTION\n\n"
           "    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, State]:\n"
           "        # grad_output: (B, T, H); returns dL/dxs (B, T, D) and dL/dstate0 (the "
           "state's structure)\n        xp = self.xp\n"
           "        ### BEGIN SOLUTION rnn_variants.recurrent\n")


def _final_state_check(tmp_path: Path, topic: str, question: str, file: str, old: str,
                       new: str):
    """``question``'s final_state check graded on the solutions with ``old`` replaced by
    ``new`` in ``file`` (that check first, the grading stopped at the first loss)."""
    course = edited_course(tmp_path, ("library", topic), {file: (old, new)})
    check_id = f"{question}.final_state"
    result = grade([topic], submission=course / topic, options=GradeOptions(
        questions=frozenset({f"{topic}.{question}"}), until_lost={question: ""},
        order=lambda c: c.id != check_id), replay_options={})
    return {c.id: c for _, c in result.checks()}[check_id]


@pytest.mark.parametrize("question,file,old,new,says", [
    # listed: the unroll's cache the other way round, forward and backward consistent
    ("recurrent", "library/recurrent.py",
     "(caches, state)  # (B, T, H)\n" + BETWEEN + "        caches, final = cache\n",
     "(state, caches)  # (B, T, H)\n" + BETWEEN + "        final, caches = cache\n",
     "the given Recurrent.final_state returns cache[1]"),
    # sibling: the LM's final_state, which the given scoring carries into the next window
    ("lstm_lm", "rnn_variants/lstm_lm.py", "return self.rnn.final_state(cache[2])",
     "return self.rnn.final_state(cache[2])[0]",
     "the given rnn_log_probs (lm_training.py)"),
])
def test_a_structure_given_code_reads_otherwise_loses_the_owning_question(
        tmp_path, question, file, old, new, says):
    check = _final_state_check(tmp_path, "rnn_variants", question, file, old, new)
    assert check.score == 0 and check.max_score > 0, check.message
    assert says in check.message and "Traceback" not in check.message, check.message


def test_recurrent_forwards_stub_says_where_final_state_reads():
    stub = (Path(__file__).resolve().parents[2] / "exercises" / "library" / "recurrent.py")
    text = stub.read_text()
    assert "``cache[1]`` is the\n        state after the last step" in text
    assert "return cache[1]" in text  # given: the student reads it, never writes it


#: given code that reads a structure the student's code returns, by where it is (module and
#: what it reads), and the check of the question that owns that structure
RELIANCES = {
    ("library/recurrent.py", "cache[1]"): "rnn_variants.recurrent.final_state",
    ("language_models/lm_training.py", ".final_state(cache)"): "language_models.rnn_lm.final_state",
    ("rnn_variants/lm_training.py", ".final_state(cache)"): "rnn_variants.lstm_lm.final_state",
}
#: what given code may read of a returned structure: a cache's entries, a model's final state
READS = re.compile(r"\bcaches?\[\d+\]|\.final_state\(cache\)")


def test_every_read_of_a_students_structure_by_given_code_has_its_check():
    """An audit of the given code of every topic (the solutions outside their blocks): each
    read of a cache's entries or of a model's final state is listed in :data:`RELIANCES`, and
    the check that states its contract exists."""
    found = set()
    for path in python_modules(SOLUTIONS):
        lines = path.read_text().splitlines()
        inside = {n for b in parse_blocks(path) for n in range(b.start_line, b.end_line + 1)}
        rel = path.relative_to(SOLUTIONS).as_posix()
        for number, line in enumerate(lines, 1):
            code = line.split("#")[0]
            if number in inside or '"""' in code or "``" in code:
                continue
            found |= {(rel, m) for m in READS.findall(code)}
    assert found == set(RELIANCES), f"unlisted reads {found - set(RELIANCES)}"
    for check_id in RELIANCES.values():
        topic, _, check = check_id.partition(".")
        assert check in {c.id for c in get_exercise(topic).checks}, check_id
