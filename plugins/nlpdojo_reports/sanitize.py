"""Making text and numbers safe for strict consumers: XML 1.0 and JSON without NaN."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from nlpdojo.terminal import escape_char, visible_text

__all__ = ["finite_json", "visible_name", "visible_text", "xml_text"]

# XML 1.0 allows tab, newline, carriage return and these ranges; everything else (NUL, the
# other C0 controls, lone surrogates, U+FFFE/U+FFFF) makes the document ill-formed.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by a visible ``\\xNN`` escape.

    ``<``, ``&``, ``>`` and quotes are left alone: ElementTree escapes those when it serializes.
    """
    return _XML_FORBIDDEN.sub(lambda m: escape_char(m.group()), text)


def finite_json(data: Any, default: Any = None) -> Any:
    """``data`` as plain JSON values with every NaN or infinity replaced by ``None``.

    JSON has no NaN; a diverged model's perplexity must still produce a valid document.
    ``default`` converts non-JSON objects (numpy arrays...) as in :func:`json.dumps`.
    """
    plain = json.loads(json.dumps(data, allow_nan=True, default=default))
    return _replace_non_finite(plain)


def _replace_non_finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _replace_non_finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_non_finite(v) for v in value]
    return value


def visible_name(name: str) -> str:
    """A submission's name for a person to read: :func:`visible_text`, and a name not in
    Unicode's composed form (NFC) with its combining marks as ``\\uNNNN`` escapes, so that
    ``Jose\\u0301`` is not read as ``José``, another folder on a file system that tells the two
    apart."""
    text = visible_text(name)
    if unicodedata.is_normalized("NFC", text):
        return text
    marked = "".join(escape_char(ch) if unicodedata.combining(ch) else ch for ch in text)
    if marked != text:
        return marked
    # decomposed without combining marks (Hangul's jamo): every character beyond ASCII
    return "".join(ch if ord(ch) < 0x80 else escape_char(ch) for ch in text)
