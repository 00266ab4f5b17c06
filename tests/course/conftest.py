"""The course record's tests: a fresh course file per test."""

from __future__ import annotations

import pytest

from tests.course.helpers import make_course


@pytest.fixture
def course(tmp_path):
    with make_course(tmp_path) as c:
        yield c
