"""Calls of the code under test whose arguments do not fit its signature: a student who changed
a stub's parameters (added ``axis``, dropped one) is told to keep the stub's signature, beside
Python's own TypeError ("softmax() missing 1 required positional argument: 'axis'")."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: where :func:`invoke` leaves the hint on the TypeError (read by :func:`signature_hint_of`)
_HINT = "nlpdojo_signature_hint"


def invoke(func: Callable[..., Any], pos: Any, kw: dict[str, Any]) -> Any:
    """``func(*pos, **kw)``. A TypeError raised by the call itself, for arguments that do not
    fit ``func``'s signature, not by anything inside it (a traceback with no frame below the
    call), carries the hint that says so (:func:`signature_hint_of`)."""
    try:
        return func(*pos, **kw)
    except TypeError as exc:
        if exc.__traceback__ is not None and exc.__traceback__.tb_next is None:
            hint = signature_hint(func, tuple(pos), kw)
            if hint:
                exc.__dict__[_HINT] = hint
        raise


def signature_hint_of(exc: BaseException) -> str:
    """The hint :func:`invoke` left on ``exc``, or ""."""
    hint = getattr(exc, "__dict__", {}).get(_HINT)
    return hint if isinstance(hint, str) else ""


def signature_hint(func: Callable[..., Any], pos: tuple, kw: dict[str, Any]) -> str:
    """Where ``pos`` and ``kw`` do not fit ``func``'s signature: what the grader passed, the
    signature the code under test has, and to keep the stub's ("" where they fit, or where the
    signature cannot be read)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return ""
    try:
        signature.bind(*pos, **kw)
        return ""  # the arguments fit: the TypeError came from elsewhere
    except TypeError:
        pass
    name = str(getattr(func, "__qualname__", None) or getattr(func, "__name__", "the function"))
    plain = str(signature.replace(return_annotation=inspect.Signature.empty, parameters=[
        p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]))
    if len(plain) > 200:
        plain = plain[:200] + "…)"
    passed = f"{len(pos)} positional argument{'' if len(pos) == 1 else 's'}"
    if kw:
        passed += f" and the keyword argument{'' if len(kw) == 1 else 's'} {', '.join(kw)}"
    return (f". Hint: the grader calls {name[:100]}() with {passed}, as the stub declares it; "
            f"yours is {name[:100]}{plain}: keep the stub's signature (its parameters, in their "
            "order; a parameter you add needs a default)")
