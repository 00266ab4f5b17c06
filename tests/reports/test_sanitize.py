"""Sanitizing for XML 1.0, JSON without NaN, and terminals."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np

from nlpdojo_reports.sanitize import finite_json, visible_text, xml_text


def test_xml_text_escapes_forbidden_characters_only():
    raw = "a\x00b\x0bc\tok\nline\r é ✓ <&> \ud800 \ufffe 𝄞"
    clean = xml_text(raw)
    assert clean == "a\\x00b\\x0bc\tok\nline\r é ✓ <&> \\ud800 \\ufffe 𝄞"
    el = ET.Element("x", message=clean)
    el.text = clean
    parsed = ET.fromstring(ET.tostring(el, encoding="unicode"))
    assert parsed.text == clean.replace("\r", "\n")  # XML normalizes line ends in text


def test_finite_json_replaces_non_finite_everywhere():
    data = {"a": math.nan, "b": [1.0, -math.inf, {"c": math.inf}], "d": np.array([1.5, np.nan])}
    assert finite_json(data, default=lambda o: o.tolist()) == {
        "a": None, "b": [1.0, None, {"c": None}], "d": [1.5, None]}


def test_visible_text_shows_terminal_controls():
    assert visible_text("\x1b[2Jhi\x07\tok\n\x9b") == "\\x1b[2Jhi\\x07\tok\n\\x9b"
    assert visible_text("naïve ✓") == "naïve ✓"


def test_visible_text_shows_bidirectional_formatting():
    """An adversarial trial: a right-to-left override in an exception's message reordered
    the cohort's tables and dashboard as shown ("Trojan Source"); Arabic or Hebrew text
    itself is left as it is."""
    assert visible_text("ok\u202eon\u202c x") == "ok\\u202eon\\u202c x"
    assert visible_text("\u2066a\u2069\u200f\u061c") == "\\u2066a\\u2069\\u200f\\u061c"
    assert visible_text("שלום مرحبا") == "שלום مرحبا"
