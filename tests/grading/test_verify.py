"""``dojo verify`` on the toy pack: stubs 0, solutions full marks, planted bugs caught."""

from __future__ import annotations

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.checks import PlantedBug
from nlpdojo_autograder.verify import verify


def test_verify_passes_and_reports_every_step(toy):
    steps = verify([toy], backends=[("numpy", "cpu")])
    names = [s.name for s in steps]
    assert names == ["stubs score 0", "solutions full marks on numpy/cpu",
                     "planted bug scale adds", "planted bug gradient doubled"]
    assert all(s.ok for s in steps), [s.detail for s in steps if not s.ok]
    assert "quadratic.gradient" in steps[3].detail


def test_verify_fails_on_a_bug_the_checks_miss(toy, monkeypatch):
    # a "bug" that changes nothing observable must be reported as not caught
    harmless = PlantedBug("harmless", "scale", '"""``x * k`` elementwise."""', '"""Scale."""',
                          "scale")
    stale = PlantedBug("stale", "scale", "no such text", "x", "scale")
    monkeypatch.setattr(toy, "planted_bugs", [harmless, stale])
    steps = verify([toy], backends=[("numpy", "cpu")])
    by_name = {s.name: s for s in steps}
    assert not by_name["planted bug harmless"].ok
    assert "not caught" in by_name["planted bug harmless"].detail
    assert not by_name["planted bug stale"].ok
    assert "update the planted bug" in by_name["planted bug stale"].detail


def test_dojo_verify_command_exit_codes(toy):
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "numpy"])
    assert result.exit_code == 0, result.output
    assert "4/4 verification steps passed" in result.output
