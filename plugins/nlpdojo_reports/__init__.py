"""First-party report writers over the autograder's result model.

Formats (registered by :mod:`nlpdojo_reports.plugin`): ``table`` (:mod:`.table`), ``json``
(:mod:`.json_report`, schema in :mod:`.schema`), ``junit`` (:mod:`.junit`) and ``gradescope``
(:mod:`.gradescope`); :mod:`.cohort` summarizes many submissions. Write one with
:func:`write_report`.
"""

from __future__ import annotations

from nlpdojo_reports.writer import ReportError, get_reporter, write_report

__all__ = ["ReportError", "get_reporter", "write_report"]
