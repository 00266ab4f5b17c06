"""Registers the first-party report formats: table, json, junit, gradescope."""

from __future__ import annotations

from nlpdojo.hookspecs import Register, hookimpl


@hookimpl
def register_reporters(register: Register) -> None:
    """One instance per format; ``grade --format NAME`` looks them up by name."""
    from nlpdojo_reports.gradescope import GradescopeReporter
    from nlpdojo_reports.json_report import JsonReporter
    from nlpdojo_reports.junit import JUnitReporter
    from nlpdojo_reports.table import TableReporter

    for reporter in (TableReporter(), JsonReporter(), JUnitReporter(), GradescopeReporter()):
        register(reporter.name, reporter)
