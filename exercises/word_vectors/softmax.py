"""Numerically stable softmax (CS224n lecture 1; notes "Word Vectors I", section on skip-gram).

``softmax(x)_i = exp(x_i) / sum_j exp(x_j)`` is unchanged when a constant is subtracted from every
``x_i``, so subtracting the row maximum keeps ``exp`` from overflowing without changing the result.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from nlpdojo.backend import Array


def softmax(x: Array) -> Array:
    """Softmax over the last axis of ``x`` (``(N,)`` or ``(..., N)``), numerically stable.

    Works for any float array of the numpy or torch backend; rows of the result sum to 1 and
    contain no NaN even for inputs like ``[1000, 1000]`` or ``[-1e4, 0]``.
    """
    xp = array_namespace(x)
    raise NotImplementedError("softmax: not implemented yet — replace this line with your code")
