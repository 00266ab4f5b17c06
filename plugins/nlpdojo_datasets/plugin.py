"""Registers the first-party data sets."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    """Data sets are added by the data-pipeline work (issue 4)."""
