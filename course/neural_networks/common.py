"""What the neural_networks questions share: where the course library's modules are (seen from
the topic's folder) and torch, imported only when a check asks for the second oracle."""

from __future__ import annotations

from typing import Any

#: the course library, relative to the topic's folder: ``f"{LIB}.layers"`` is the student's
#: ``library/layers.py`` (the planted bugs and the checks name its modules this way)
LIB = "..library"


def torch() -> Any:
    """The torch module (imported on use: the NumPy-only grader never needs it)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    return torch


def functional() -> Any:
    """``torch.nn.functional``."""
    return torch().nn.functional
