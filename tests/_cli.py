"""What the tests of the training commands (``dojo train ...``, ``dojo sample``) share: the
``dojo`` app invoked in-process, a fixture that forgets the student's package between tests
(each real ``dojo train`` is a process of its own, which loads it afresh), and a fixture of
synthetic id streams for the neural language models. A test module takes a fixture by
importing it::

    from tests._cli import dojo, forget_student_packages  # noqa: F401 - the fixture
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.training import TokenStreams, neural_lm
from nlpdojo_autograder.training import commands as kit_commands

runner = CliRunner()


def dojo(*args: str):
    """``dojo ARGS...``: its result (exit code, output)."""
    return runner.invoke(build_app(), list(args))


@pytest.fixture(autouse=True)
def forget_student_packages():
    """After each test: the student's package (``nlpdojo_submission_cli*``) is forgotten."""
    yield
    for name in [m for m in sys.modules if m.startswith("nlpdojo_submission_cli")]:
        del sys.modules[name]


@pytest.fixture
def corpus(monkeypatch) -> TokenStreams:
    """Random id streams (19 words, ``</s>``, ``<UNK>``; 800 training tokens, 10 streams of 51
    held-out) instead of a data set: every neural LM run of a test takes well under a second."""
    rng = np.random.default_rng(0)
    words = tuple(f"w{i}" for i in range(19)) + ("</s>", "<UNK>")
    fake = TokenStreams(rng.integers(0, 21, 800), rng.integers(0, 21, 10 * 51 + 1), words)
    monkeypatch.setattr(kit_commands, "require_datasets", lambda names: None)
    monkeypatch.setattr(neural_lm, "lm_data", lambda *a, **k: fake)
    return fake
