"""Hand-built grading results for the report tests: every status, hidden and metric checks,
an exercise that failed to import, and text that is hostile to XML, JSON and terminals."""

from __future__ import annotations

import pytest

from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult

#: a message a student's exception could produce: XML specials, a NUL, ESC sequences, unicode
HOSTILE = 'bad token <unk> & "quote" \x00 \x1b[31mred\x1b[0m naïve ✓ 日本語 \ud800'
LONG = (
    "gradient of W_out differs from central differences at index (17, 3): analytic 0.123456, "
    "numeric 0.654321, relative error 0.81 (tolerance 1e-06); an error this size at one column "
    "usually means the softmax was not shifted by its row maximum before exponentiating"
)


def check(
    id: str, status: str, score: float, max_score: float, message: str = "", **kw: object
) -> CheckResult:
    """A check whose question is the part of ``id`` before the first dot."""
    return CheckResult(
        id=id, question=id.split(".")[0], kind=str(kw.pop("kind", "value")), score=score,
        max_score=max_score, status=status, message=message, **kw,  # type: ignore[arg-type]
    )


def make_result() -> GradingResult:
    """Two exercises with every status, plus one whose package failed to import."""
    word_vectors = ExerciseResult(
        name="word_vectors",
        title="Word vectors",
        duration_s=3.25,
        checks=[
            check("softmax.values", "passed", 2, 2, "matches the reference", title="softmax values",
                  duration_s=0.01),
            check("softmax.gradient", "failed", 0, 2.5, LONG, kind="gradient",
                  title="softmax gradient", details={"index": [17, 3], "rel_error": 0.81}),
            check("skipgram.loss", "error", 0, 3, f"ValueError: {HOSTILE}",
                  output="step 1\n\x07bell <script>alert('x')</script> & done\n"),
            check("skipgram.timeout", "timeout", 0, 1, "took longer than 10 s (limit 10 s)"),
            check("cbow.values", "not_implemented", 0, 2,
                  "NotImplementedError: Need to implement for cbow"),
            check("skipgram.hidden_values", "failed", 0, 1, "max error 0.5 at [0, 1]",
                  hidden=True),
        ],
    )
    language_model = ExerciseResult(
        name="language_model",
        title="A neural language model",
        duration_s=42.0,
        checks=[
            check("lm.perplexity", "passed", 2, 2, "perplexity below threshold", kind="metric",
                  title="validation perplexity", value=152.3, threshold=160.0),
            check("lm.accuracy", "failed", 0.5, 1, "accuracy 0.71 < 0.8", kind="metric",
                  value=0.71, threshold=0.8, details={"higher_is_better": True}),
            check("lm.hidden_perplexity", "passed", 1.5, 1.5, "ok", kind="metric", hidden=True,
                  value=140.0, threshold=160.0),
        ],
    )
    broken = ExerciseResult(
        name="broken", title="Broken package", checks=[],
        error="ImportError: cannot import name 'rnn_step' from <student>",
    )
    return GradingResult(
        exercises=[word_vectors, language_model, broken],
        backend="numpy",
        device="cpu",
        submission="students/ada",
        seeds={"global": 0, "data": 1234},
        versions={"python": "3.11.9", "nlpdojo": "0.1.0", "numpy": "2.0.1"},
        options={"exercises": ["word_vectors", "language_model"], "backend": "numpy"},
        solutions_present=True,
        started_at="2025-01-31T12:00:00+00:00",
        duration_s=45.5,
    )


@pytest.fixture
def result() -> GradingResult:
    """A fresh :func:`make_result` per test (tests may mutate it)."""
    return make_result()


@pytest.fixture
def make_check():
    """The :func:`check` builder (test modules cannot import conftest under importlib mode)."""
    return check


@pytest.fixture
def build_result():
    """The :func:`make_result` factory, for tests that need several independent results."""
    return make_result


@pytest.fixture
def long_message() -> str:
    """A long diagnostic whose every word must survive wrapping."""
    return LONG


@pytest.fixture
def hostile() -> str:
    """Text with XML specials, control characters, unicode and a lone surrogate."""
    return HOSTILE
