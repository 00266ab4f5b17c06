"""Text bound for a person's terminal: control characters shown as escapes.

A message may quote what a student wrote (a folder's name, an exception's text, printed
output); a terminal would act on the control characters in it (ESC sequences recolour or
clear the screen, BEL rings, CR overwrites the line). Everything the command line prints that
may hold such text passes through :func:`visible_text`.
"""

from __future__ import annotations

import re

# C0 controls other than tab and newline, DEL and C1 controls (a terminal would act on them),
# lone surrogates (they cannot be encoded, so a report file could not be written), and the
# bidirectional formatting characters (Unicode's UAX #9: marks, embeddings, overrides and
# isolates), which reorder the text around them as it is shown ("Trojan Source",
# CVE-2021-42574: an exception's message reached a cohort's tables and dashboard reversed)
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                               "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_char(ch: str) -> str:
    """One character as a visible escape: ``\\xNN`` below 256, ``\\uNNNN`` above."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_text(text: str) -> str:
    """``text`` with terminal control characters (ESC, BEL, CR...) and bidirectional
    formatting characters shown as ``\\xNN`` / ``\\uNNNN`` escapes, so a message quoting
    student output cannot recolour or clear the student's terminal, nor reorder what is read."""
    return _TERMINAL_CONTROL.sub(lambda m: escape_char(m.group()), text)
