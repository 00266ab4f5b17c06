"""The torch backend's thread policy: ``NLPDOJO_TORCH_THREADS`` wins, a count chosen before
nlpdojo is kept, otherwise the policy's; decided when a backend is created, never at import.
(No timings here: the numbers behind the policy are in ``bench/torch_threads.py``.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from nlpdojo.errors import ConfigError
from nlpdojo.selection import load_backend

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
tb = pytest.importorskip("nlpdojo_torch.backend")


@pytest.fixture
def fresh(monkeypatch):
    """A process where no torch backend has chosen yet and torch has its default count."""
    saved = torch.get_num_threads()
    for var in (tb.THREADS_ENV, "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(tb, "_thread_choice", None)
    torch.set_num_threads(torch.get_num_interop_threads())  # torch's start-up default
    yield
    torch.set_num_threads(saved)


def test_the_environment_variable_is_honoured(fresh, monkeypatch):
    monkeypatch.setenv(tb.THREADS_ENV, "3")
    backend = load_backend("torch", "cpu")
    assert torch.get_num_threads() == 3
    assert backend.threads.source == tb.THREADS_ENV and backend.threads.threads == 3
    assert backend.describe()["threads"] == 3
    monkeypatch.setenv(tb.THREADS_ENV, " 2 ")  # set again later: an explicit setting wins
    load_backend("torch", "cpu")
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("bad", ["zero", "0", "-2", "1.5", "auto"])
def test_an_invalid_value_names_the_variable(fresh, monkeypatch, bad):
    monkeypatch.setenv(tb.THREADS_ENV, bad)
    message = rf"NLPDOJO_TORCH_THREADS must be a positive integer.*got '{re.escape(bad)}'"
    with pytest.raises(ConfigError, match=message):
        load_backend("torch", "cpu")


def test_the_default_is_the_policys(fresh):
    had = torch.get_num_threads()
    backend = load_backend("torch", "cpu")
    expected = tb.policy_threads(tb.usable_cores())
    assert expected == 1  # small per-op work: one thread (docs/benchmarks.md)
    assert torch.get_num_threads() == expected
    assert tb.thread_choice() == backend.threads
    assert (backend.threads.source, backend.threads.torch_had) == ("policy", had)


def test_a_count_set_before_nlpdojo_is_kept(fresh):
    if torch.get_num_interop_threads() == 1:
        pytest.skip("one core: a user's count cannot be told from torch's default here")
    torch.set_num_threads(torch.get_num_interop_threads() + 1)
    chosen = torch.get_num_threads()
    backend = load_backend("torch", "cpu")
    assert torch.get_num_threads() == chosen
    assert backend.threads.source == "torch.set_num_threads"


def test_torchs_own_variables_count_as_a_choice(fresh, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch.set_num_threads(2)  # what torch would have read at start-up
    assert load_backend("torch", "cpu").threads.source == "OMP_NUM_THREADS"
    assert torch.get_num_threads() == 2


def test_the_first_decision_stands(fresh):
    first = load_backend("torch", "cpu").threads
    torch.set_num_threads(first.threads + 1)  # the user changes it afterwards
    assert load_backend("torch", "cpu").threads is first
    assert torch.get_num_threads() == first.threads + 1  # not overridden


def test_importing_the_backend_changes_nothing():
    code = ("import torch; n = torch.get_num_threads(); import nlpdojo_torch.backend; "
            "import nlpdojo_torch.plugin; assert torch.get_num_threads() == n")
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "NLPDOJO_TORCH_THREADS": "1"})
