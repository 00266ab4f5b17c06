"""The reporter contract: a named format that renders a :class:`GradingResult`."""

from __future__ import annotations

import abc
from typing import IO

from nlpdojo_autograder.grading.results import GradingResult


class Reporter(abc.ABC):
    """A report format, registered through ``register_reporters`` under its ``name``."""

    #: registry name, the value of ``grade --format``
    name: str
    #: default file name when written to a folder (``results.json``, ``junit.xml``)
    default_filename: str

    @abc.abstractmethod
    def render(self, result: GradingResult) -> str:
        """The whole report as text."""

    def write(self, result: GradingResult, stream: IO[str]) -> None:
        """Write the report to ``stream`` (a file, or stdout)."""
        stream.write(self.render(result))
