"""The terminal table: every verdict, wrapped messages, totals and the reproducibility footer."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from nlpdojo_autograder.grading.results import MAX_OUTPUT, printed_output
from nlpdojo_reports.table import RENDER_WIDTH, TableReporter


def test_render_lists_every_check_with_points_and_verdict(result):
    text = TableReporter().render(result)
    for _, check in result.checks():
        assert check.question in text
    for label in ("passed", "failed", "error", "timeout", "not implemented"):
        assert label in text
    assert "word_vectors: Word vectors  2/11.5" in text
    assert "0/2.5" in text and "0.5/1" in text and "1.5/1.5" in text
    assert "(hidden)" in text


def test_render_is_plain_text_within_width(result):
    text = TableReporter().render(result)
    assert "\x1b" not in text  # neither rich's colours nor the ESC in a student's message
    assert "\\x1b[31mred" in text  # ...which is shown as a visible escape instead
    assert max(len(line) for line in text.splitlines()) <= RENDER_WIDTH


def test_long_message_wraps_without_losing_words(result, long_message):
    text = TableReporter().render(result)
    assert "…" not in text and "..." not in text
    for word in long_message.split():
        assert word.strip(",;:()") in text, word


def test_metric_value_and_threshold(result):
    text = TableReporter().render(result)
    assert "152.3 (threshold 160)" in text
    assert "0.71 (threshold 0.8)" in text


def test_total_line_and_footer(result):
    text = TableReporter().render(result)
    assert "Total: 6/16 (37.5%)" in text
    assert "3 passed" in text and "3 failed" in text and "1 not implemented" in text
    assert "backend numpy on cpu" in text
    assert "data=1234" in text and "global=0" in text
    assert "numpy 2.0.1" in text and "python 3.11.9" in text
    assert "ImportError: cannot import name 'rnn_step'" in text


def test_print_to_colour_console(result):
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system="standard", width=120)
    TableReporter().print_to(console, result)
    out = buf.getvalue()
    assert "\x1b[" in out  # coloured verdicts
    assert "not implemented" in out


def test_write_to_a_non_terminal_stream_is_plain(result):
    buf = io.StringIO()
    TableReporter().write(result, buf)
    assert buf.getvalue() == TableReporter().render(result)


def test_narrow_terminal_gets_a_list_not_a_squeezed_table(result):
    """Below 100 columns every check is a line and its message wraps, indented, below it."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=False, color_system=None)
    TableReporter().print_to(console, result)
    text = buffer.getvalue()
    assert "┃" not in text and "│" not in text  # no table borders
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    for _, check in result.checks():
        assert check.id in text
        first_word = check.message.split()[0] if check.message.split() else ""
        assert first_word.strip(",;:()")[:8] in text


def test_what_a_failing_check_printed_is_shown(result):
    """The last lines a failing check printed appear under its message; a passing check's
    output does not clutter the table."""
    checks = [c for _, c in result.checks()]
    failing = next(c for c in checks if c.status == "failed")
    passing = next(c for c in checks if c.status == "passed")
    failing.output = "".join(f"debug line {i}\n" for i in range(5))
    passing.output = "noise from a passing check\n"
    text = TableReporter().render(result)  # cells wrap: look for words, not whole sentences
    assert "printed" in text and "json" in text
    assert "debug line 4" in text and "debug line 2" in text and "debug line 1" not in text
    assert "noise from" not in text


def test_a_cut_output_says_how_much_was_printed_and_kept(result):
    """A flood of prints: the output keeps its last lines (the caps are deliberate) under a
    first line that says how much was printed, and the table counts the lines printed in all
    instead of promising all of them in the JSON report."""
    printed = "".join(f"debug {i}\n" for i in range(90_000))
    tail = printed[-4000:]  # what the worker's output pump keeps: it starts mid-line
    output, cut = printed_output(tail, len(printed), 90_000, whole=False)
    assert cut == {"lines": 90_000, "bytes": len(printed)}
    first, *kept = output.splitlines()
    assert first == ("… (your code printed 90,000 lines, 1,068,890 bytes in all; only the last "
                     "200 lines are kept)")
    assert kept == [f"debug {i}" for i in range(89_800, 90_000)]
    assert len(output) <= MAX_OUTPUT
    checks = [c for _, c in result.checks()]
    failing = next(c for c in checks if c.status == "failed")
    failing.output, failing.details = output, {**failing.details, "printed": cut}
    text = " ".join(TableReporter().render(result).split())  # cells wrap
    assert ("your code printed 90,000 lines (the last 3 here; only the last 200 are kept, in "
            "--format json)") in " ".join(text.replace("│", " ").split())
    assert "debug 89999" in text and "debug 89997" in text and "debug 89996" not in text
    assert "all in --format json" not in text


def test_an_output_that_fits_is_kept_whole():
    assert printed_output("a\nb\n", 4, 2) == ("a\nb\n", {})
    one_line = printed_output("y" * 4000, 20_000_000, 1, whole=False)[0]
    assert one_line.startswith("… (your code printed 1 line, 20,000,000 bytes in all; only the "
                               "last 3,800 characters of its last line are kept)\nyyy")


def test_an_error_every_check_of_a_question_raises_is_shown_once(result, make_check):
    """A forward that raises fails every check of its layer with the same message: the table
    shows it under the first and points the others to it; the JSON report keeps each whole."""
    error = "ValueError: operands could not be broadcast together with shapes (3,4) (3,5)"
    ex = result.exercises[0]
    ex.checks = [make_check("lstm.values", "error", 0, 1, error, title="LSTMCell values"),
                 make_check("lstm.gradients", "error", 0, 1, error, title="LSTMCell gradients"),
                 make_check("gru.values", "error", 0, 1, error, title="GRUCell values"),
                 make_check("lstm.repeated", "failed", 0, 1, "h differs", title="repeated")]
    text = TableReporter().render(result)
    assert text.count("operands could not") == 2  # once per question
    assert "the same as LSTMCell values" in text
    assert "h differs" in text


def test_a_topic_none_of_whose_checks_ran_is_said_once(result, make_check):
    """A topic folder missing from the submission: every check an error with one message.
    The default table says it once for the topic (it printed it for every question, "the same
    as" for the rest of each); -v and the narrow list's -v keep every check. A topic whose
    checks did run, all failing with one message, keeps its rows."""
    missing = ("no folder /s/word_vectors: the submission must contain word_vectors/ laid out "
               "like exercises/word_vectors/")
    ex = result.exercises[0]
    ex.error = "missing folder /s/word_vectors"
    ex.checks = [make_check(f"q{i}.values", "error", 0, 1, missing, title=f"check {i}")
                 for i in range(6)]
    summary = TableReporter("summary").render(result)
    assert summary.count("no folder /s/word_vectors") == 1, summary
    assert "(none of its 6 checks ran)" in summary and "the same as" not in summary
    assert "check 3" not in summary and "┃ Question" in summary  # the other exercise's table
    verbose = TableReporter("verbose").render(result)
    assert verbose.count("no folder /s/word_vectors") == 6 and "check 3" in verbose
    narrow = io.StringIO()
    TableReporter("summary").print_to(Console(file=narrow, width=80, color_system=None), result)
    assert narrow.getvalue().count("(none of its 6 checks ran)") == 1
    # checks that ran and failed alike, or no exercise-wide error: every row as before
    ex.checks[0].status = "failed"
    assert "none of its" not in TableReporter("summary").render(result)
    ex.checks[0].status, ex.error = "error", None
    assert "none of its" not in TableReporter("summary").render(result)


def test_the_footer_says_hidden_checks_ran_only_where_one_did(result, make_check):
    """An empty submission graded with the solutions present: no check of either topic ran,
    and the footer said "solutions present (hidden checks ran)"."""
    result.solutions_present = True
    assert "solutions present (hidden checks ran)" in TableReporter().render(result)
    missing = "no folder /s/x: the submission must contain x/"
    for ex in result.exercises:
        ex.error = "missing folder /s/x"
        ex.checks = [make_check(f"q{i}.values", "error", 0, 1, missing, hidden=i == 1)
                     for i in range(3)]
    text = TableReporter().render(result)
    assert "solutions present" in text and "hidden checks ran" not in text, text
    result.solutions_present = False
    assert "solutions present" not in TableReporter().render(result)


def _solved(build_result):
    """A result whose first question passed every check, the others as they are."""
    result = build_result()
    for _, check in result.checks():
        if check.question == "softmax":
            check.status, check.score, check.message = "passed", check.max_score, "long " * 40
    return result


def test_the_summary_collapses_a_question_whose_checks_all_passed(build_result):
    """``grade`` prints a row per solved question (a solved topic printed 800 lines of passed
    checks' messages), every check of the others; -v every check; -q the total alone."""
    result = _solved(build_result)
    summary = TableReporter("summary").render(result)
    verbose = TableReporter("verbose").render(result)
    assert "2 checks passed" in summary and "4.5/4.5" in summary
    assert "long long" not in summary and "long long" in verbose
    assert "softmax gradient" not in summary and "softmax gradient" in verbose
    assert "timeout" in summary and "not implemented" in summary  # the rest in full
    assert "-v shows every check" in summary and "-v shows" not in verbose
    assert len(summary.splitlines()) < len(verbose.splitlines())
    quiet = TableReporter("quiet").render(result)
    assert quiet.splitlines()[0].startswith("Total: ") and "┃" not in quiet
    assert "versions:" not in quiet
    narrow = io.StringIO()
    TableReporter("summary").print_to(Console(file=narrow, width=80, color_system=None), result)
    assert "softmax: 2 checks passed" in narrow.getvalue()
    with pytest.raises(ValueError, match="detail must be one of"):
        TableReporter("loud")


def test_with_a_metric_column_the_check_column_keeps_its_words(result):
    """The Metric column took its width from the Check column, which shrank to 6-9
    characters and broke titles inside words; the Check column keeps 24."""
    for _, check in result.checks():
        check.title = "validation perplexity of the language model"
    text = TableReporter().render(result)
    assert "validation perplexity of" in text  # three words on one line of the cell
    assert "152.3 (threshold 160)" in text
