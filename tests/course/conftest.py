"""The course record's tests: a fresh course file per test, and the toy exercise pack of
tests/grading (for the one real cohort grading)."""

from __future__ import annotations

import pytest

from tests.course.helpers import make_course
from tests.grading.conftest import make_submission, toy, toy_site  # noqa: F401 - fixtures


@pytest.fixture
def course(tmp_path):
    with make_course(tmp_path) as c:
        yield c
