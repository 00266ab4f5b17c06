"""The ``backend`` fixture of the topics' parity tests: float64 NumPy on the CPU, torch on the
CPU, and torch on CUDA (skipped cleanly where there is no device). A topic's conftest.py
imports it: ``from tests._devices import backend``."""

from __future__ import annotations

import pytest

from nlpdojo.selection import load_backend


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


DEVICES = [pytest.param(("numpy", "cpu"), id="numpy-cpu"),
           pytest.param(("torch", "cpu"), id="torch-cpu"),
           pytest.param(("torch", "cuda"), id="torch-cuda", marks=[
               pytest.mark.cuda, pytest.mark.skipif(not _cuda(), reason="no CUDA device")])]


@pytest.fixture(params=DEVICES)
def backend(request):
    name, device = request.param
    return load_backend(name, device, "float64")
