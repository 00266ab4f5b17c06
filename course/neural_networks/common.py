"""What the neural_networks questions share: torch, imported only when a check asks for the
second oracle."""

from __future__ import annotations

from typing import Any


def torch() -> Any:
    """The torch module (imported on use: the NumPy-only grader never needs it)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    return torch


def functional() -> Any:
    """``torch.nn.functional``."""
    return torch().nn.functional
