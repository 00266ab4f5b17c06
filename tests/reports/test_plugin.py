"""The reports plugin registers its four formats through the entry point, like any plugin."""

from __future__ import annotations

from nlpdojo import plugins
from nlpdojo_autograder.grading.reporting import Reporter


def test_formats_registered_by_reports_plugin():
    registry = plugins.get_registry()
    names = {"table", "json", "junit", "gradescope"}
    assert names <= set(registry.names("reporter"))
    for name in names:
        entry = registry.entry("reporter", name)
        assert entry.plugin == "reports"
        assert isinstance(entry.obj, Reporter)
        assert entry.obj.name == name
        assert entry.obj.default_filename
