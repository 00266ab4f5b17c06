"""The machine-readable schema of the JSON report (JSON Schema draft 2020-12).

The prose version, with the compatibility policy, is ``docs/results-schema.md``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILE = "results.schema.json"


def load_schema() -> dict[str, Any]:
    """The JSON Schema of ``grade --format json`` output, as a dict (validate with jsonschema)."""
    text = resources.files("nlpdojo_reports").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)
