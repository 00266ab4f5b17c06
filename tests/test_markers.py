"""Question markers: strict parsing, stubs that keep everything but the solution, question map."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from pathlib import Path

import pytest

from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.authoring.markers import (
    Block,
    MarkerError,
    parse_blocks,
    questions_in,
    strip_solutions,
)

FIXTURE_TOPIC = Path(__file__).parent / "fixtures" / "release_topic" / "solutions" / "toy"

GOOD = '''\
"""Module docstring."""

from __future__ import annotations

import math


def softmax(x: list[float]) -> list[float]:
    """Softmax of a list.

    Args:
        x: scores, shape (C,)
    """
    # shift for stability (comment before the block)
    ### BEGIN SOLUTION softmax
    m = max(x)
    e = [math.exp(v - m) for v in x]  # (C,)
    return [v / sum(e) for v in e]
    ### END SOLUTION
    # comment after the block


class Layer:
    """A layer."""

    def backward(self, g: float) -> float:
        """Gradient."""
        ### BEGIN SOLUTION layer_grad_2
        return 2 * g
        ### END SOLUTION
'''


def _src(body: str) -> str:
    return textwrap.dedent(body)


def test_marker_error_is_an_nlpdojo_error():
    assert issubclass(MarkerError, NlpdojoError)


def test_parse_blocks_finds_every_block_with_lines_and_indent():
    blocks = parse_blocks(GOOD)
    assert blocks == [
        Block("softmax", 15, 19, "    "),
        Block("layer_grad_2", 28, 30, "        "),
    ]
    assert blocks[1].column == 8


def test_parse_blocks_reads_a_path(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(GOOD, encoding="utf-8")
    assert [b.question for b in parse_blocks(path)] == ["softmax", "layer_grad_2"]


def test_markers_inside_strings_are_not_markers():
    text = _src('''\
        def f():
            """Write between
            ### BEGIN SOLUTION f
            and ### END SOLUTION."""
            return 1
        ''')
    assert parse_blocks(text) == []
    assert strip_solutions(text, "m.py") == text


BAD_CASES = {
    "begin_without_end": (
        """\
        def f():
            ### BEGIN SOLUTION f
            return 1
        """,
        2,
        "never closed",
    ),
    "end_without_begin": (
        """\
        def f():
            return 1
            ### END SOLUTION
        """,
        3,
        "without a matching",
    ),
    "nested": (
        """\
        def f():
            ### BEGIN SOLUTION outer
            x = 1
            ### BEGIN SOLUTION inner
            return x
            ### END SOLUTION
            ### END SOLUTION
        """,
        4,
        "nested",
    ),
    "missing_id": (
        """\
        def f():
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
        """,
        2,
        "without a question id",
    ),
    "upper_case_id": (
        """\
        def f():
            ### BEGIN SOLUTION Softmax
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed question id",
    ),
    "id_with_dash": (
        """\
        def f():
            ### BEGIN SOLUTION soft-max
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed question id",
    ),
    "id_starting_with_digit": (
        """\
        def f():
            ### BEGIN SOLUTION 2a
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed question id",
    ),
    "two_hashes": (
        """\
        def f():
            ## BEGIN SOLUTION f
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed BEGIN marker",
    ),
    "plural": (
        """\
        def f():
            ### BEGIN SOLUTIONS f
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed BEGIN marker",
    ),
    "no_space_after_hashes": (
        """\
        def f():
            ###BEGIN SOLUTION f
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed BEGIN marker",
    ),
    "lower_case": (
        """\
        def f():
            ### begin solution f
            return 1
            ### END SOLUTION
        """,
        2,
        "malformed BEGIN marker",
    ),
    "double_space_before_id": (
        """\
        def f():
            ### BEGIN SOLUTION  f
            return 1
            ### END SOLUTION
        """,
        2,
        "extra whitespace",
    ),
    "end_with_trailing_text": (
        """\
        def f():
            ### BEGIN SOLUTION f
            return 1
            ### END SOLUTION f
        """,
        4,
        "malformed END marker",
    ),
    "end_misspelled": (
        """\
        def f():
            ### BEGIN SOLUTION f
            return 1
            ## END SOLUTION
        """,
        4,
        "malformed END marker",
    ),
    "module_level": (
        """\
        ### BEGIN SOLUTION f
        X = 1
        ### END SOLUTION
        """,
        1,
        "module level",
    ),
    "empty_block": (
        """\
        def f():
            ### BEGIN SOLUTION f
            ### END SOLUTION
        """,
        2,
        "is empty",
    ),
    "only_comments_in_block": (
        """\
        def f():
            ### BEGIN SOLUTION f

            # todo
            ### END SOLUTION
            return 1
        """,
        2,
        "is empty",
    ),
    "marker_after_code": (
        """\
        def f():
            x = 1  ### BEGIN SOLUTION f
            return x
            ### END SOLUTION
        """,
        2,
        "line of its own",
    ),
    "end_indented_differently": (
        """\
        def f():
            ### BEGIN SOLUTION f
            if True:
                return 1
                ### END SOLUTION
        """,
        5,
        "indent both markers alike",
    ),
    "not_python": (
        """\
        def f(:
            ### BEGIN SOLUTION f
            return 1
            ### END SOLUTION
        """,
        1,
        "not valid Python",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_every_marker_error_names_file_line_and_problem(case):
    body, line, words = BAD_CASES[case]
    with pytest.raises(MarkerError) as info:
        strip_solutions(_src(body), "solutions/topic/mod.py")
    message = str(info.value)
    assert f"solutions/topic/mod.py:{line}:" in message
    assert words in message


def test_marker_error_from_a_file_names_that_file(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def f():\n    ### BEGIN SOLUTION f\n    return 1\n", encoding="utf-8")
    with pytest.raises(MarkerError, match=rf"{path.name}:2: .*never closed.*'### END SOLUTION'"):
        parse_blocks(path)


def test_block_whose_removal_breaks_the_code_is_an_error():
    text = _src("""\
        def f(x):
            ### BEGIN SOLUTION f
            try:
                return 1
            ### END SOLUTION
            except ValueError:
                return 2
        """)
    with pytest.raises(
        MarkerError, match=r"m\.py:2: replacing the block of 'f'.*complete statements"
    ):
        strip_solutions(text, "m.py")


def test_stub_keeps_everything_outside_the_blocks_byte_for_byte():
    stubbed = strip_solutions(GOOD, "m.py")
    expected = GOOD.split("    ### BEGIN SOLUTION softmax\n")[0]
    assert stubbed.startswith(expected)  # docstring, type hints, shape comment, comment before
    assert "    # comment after the block\n" in stubbed
    assert "math.exp" not in stubbed and "2 * g" not in stubbed
    assert "BEGIN SOLUTION" not in stubbed and "END SOLUTION" not in stubbed
    lines = stubbed.splitlines()
    assert lines[14] == (
        '    raise NotImplementedError("softmax: not implemented yet — '
        'replace this line with your code")'
    )
    assert lines[-1].startswith(
        '        raise NotImplementedError("layer_grad_2: not implemented yet'
    )
    assert len(lines) == len(GOOD.splitlines()) - 4 - 2  # each block became one line
    ast.parse(stubbed)


def test_stub_keeps_crlf_line_endings():
    text = GOOD.replace("\n", "\r\n")
    stubbed = strip_solutions(text, "m.py")
    assert "\n" not in stubbed.replace("\r\n", "")
    assert stubbed.startswith(GOOD.split("    ### BEGIN")[0].replace("\n", "\r\n"))


def test_stubs_keep_signature_docstring_and_raise_naming_the_question():
    namespace = types.ModuleType("stubbed")
    exec(compile(strip_solutions(GOOD, "m.py"), "stubbed.py", "exec"), namespace.__dict__)
    softmax = namespace.softmax
    assert str(inspect.signature(softmax)) == "(x: 'list[float]') -> 'list[float]'"
    assert softmax.__doc__.startswith("Softmax of a list.")
    with pytest.raises(NotImplementedError, match=r"^softmax: not implemented yet"):
        softmax([1.0, 2.0])
    with pytest.raises(NotImplementedError, match=r"^layer_grad_2: not implemented yet"):
        namespace.Layer().backward(1.0)


def test_module_without_markers_is_unchanged():
    text = "def f():\n    return 1\n"
    assert strip_solutions(text, "m.py") == text


def test_questions_in_maps_questions_to_module_and_enclosing_function(tmp_path):
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "layers.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "extra.py").write_text(
        "def g():\n    ### BEGIN SOLUTION softmax\n    return 0\n    ### END SOLUTION\n",
        encoding="utf-8",
    )
    assert questions_in(tmp_path) == {
        "softmax": [("layers", "softmax"), ("sub.extra", "g")],
        "layer_grad_2": [("layers", "Layer.backward")],
    }


def test_questions_in_fixture_topic():
    assert questions_in(FIXTURE_TOPIC) == {
        "sigmoid": [("activations", "sigmoid")],
        "logistic": [("classifier", "LogisticRegression.forward"), ("classifier", "predict")],
    }


def test_questions_in_propagates_marker_errors(tmp_path):
    (tmp_path / "bad.py").write_text("def f():\n    ### END SOLUTION\n", encoding="utf-8")
    with pytest.raises(MarkerError, match=r"bad\.py:2:"):
        questions_in(tmp_path)


def test_every_marker_problem_of_a_module_is_listed_at_once():
    # an inline marker (line 3), a bad question id (line 8), an unclosed block (line 14); the
    # scan goes on after each one without reporting it again as an unmatched marker
    text = _src("""\
        def f():
            x = 1
            y = 2  ### BEGIN SOLUTION f
            return x
            ### END SOLUTION

        def g():
            ### BEGIN SOLUTION G-1
            return 2
            ### END SOLUTION


        def h():
            ### BEGIN SOLUTION h
            return 3
        """)
    with pytest.raises(MarkerError) as info:
        strip_solutions(text, "a.py")
    problems = info.value.problems
    assert [p.split(":")[1] for p in problems] == ["3", "8", "14"]
    assert "line of its own" in problems[0]
    assert "malformed question id" in problems[1]
    assert "never closed" in problems[2]
    message = str(info.value)
    assert message.startswith("a.py: 3 marker problems:")
    assert all(p in message for p in problems)
    with pytest.raises(MarkerError) as parsed:
        parse_blocks(text, path="a.py")
    assert parsed.value.problems == problems


def test_nested_and_malformed_markers_are_not_reported_twice():
    text = _src("""\
        def f():
            ### BEGIN SOLUTION outer
            x = 1
            ### BEGIN SOLUTION inner
            return x
            ### END SOLUTION
            ### END SOLUTION

        def g():
            ## BEGIN SOLUTION g
            return 1
            ### END SOLUTION
        """)
    with pytest.raises(MarkerError) as info:
        strip_solutions(text, "m.py")
    problems = info.value.problems
    assert len(problems) == 2, problems
    assert "m.py:4:" in problems[0] and "nested" in problems[0]
    assert "m.py:10:" in problems[1] and "malformed BEGIN marker" in problems[1]


def test_a_marker_problem_and_a_syntax_error_are_reported_together():
    text = _src("""\
        def f():
            ### BEGIN SOLUTION f
            return 1
            ### END SOLUTION f

        x = = 1
        """)
    with pytest.raises(MarkerError) as info:
        strip_solutions(text, "m.py")
    assert len(info.value.problems) == 2
    assert "malformed END marker" in info.value.problems[0]
    assert "m.py:6: not valid Python" in info.value.problems[1]
