"""``dojo verify`` on the toy pack: declarations consistent, stubs 0, solutions full marks,
planted bugs caught (and, with ``--strict``, costing points on their own question only)."""

from __future__ import annotations

import re
from dataclasses import replace

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.authoring.checks import PlantedBug
from nlpdojo_autograder.release.verify import (
    BASELINE_STEP,
    GIVEN_STEP,
    JUDGES_STEP,
    REQUIRES_STEP,
    Baseline,
    verify,
    verify_given_code,
    verify_requires,
)


def test_verify_passes_and_reports_every_step(toy):
    steps = verify([toy], backends=[("numpy", "cpu")])
    names = [s.name for s in steps]
    assert names == ["declarations consistent with the solutions", "stubs score 0",
                     "solution blocks hold the work", JUDGES_STEP,
                     "solutions full marks on numpy/cpu", BASELINE_STEP, GIVEN_STEP,
                     REQUIRES_STEP, "planted bug scale adds", "planted bug gradient doubled"]
    assert all(s.ok for s in steps), [s.detail for s in steps if not s.ok]
    assert steps[9].detail.startswith("caught by quadratic.values:")  # the first to catch it


def test_the_baseline_counts_the_call_backs_each_check_makes(toy):
    """quadratic's checks swap the reference's scale in and call it back; the baseline says
    the largest count and passes: the toy's limits cover them at the budget."""
    steps = {s.name: s for s in verify([toy], backends=[], stubs=False)}
    baseline = steps[BASELINE_STEP]
    assert baseline.ok, baseline.detail
    assert re.search(r"the most call-backs, [\d,]+ in quadratic\.\w+", baseline.detail), \
        baseline.detail


def test_the_baseline_says_how_many_checks_the_strict_pass_ran(toy):
    """Graded on NumPy, the baseline's value and gradient checks run again on array_api_strict
    arrays; the step says how many gave the same values, and each check's details say so."""
    steps = {s.name: s for s in verify([toy], backends=[], stubs=False)}
    found = re.search(r"; (\d+) of its value, property and gradient checks gave the same "
                      r"values again on array_api_strict arrays \(the strict pass\)",
                      steps[BASELINE_STEP].detail)
    assert found, steps[BASELINE_STEP].detail
    kinds = [c.kind for c in toy.checks]
    assert 0 < int(found[1]) <= sum(k in ("value", "property", "gradient") for k in kinds)


def test_the_baseline_fails_a_check_whose_limit_would_not_cover_its_call_backs(
        toy, monkeypatch):
    """At a made-up 100 s a call-back, no limit of the toy covers one: the baseline step fails
    naming the check, its count and what to do, and no planted bug is graded against it."""
    from nlpdojo_autograder.release import verify as verify_module

    monkeypatch.setattr(verify_module, "CALLBACK_BUDGET_S", 100.0)
    steps = {s.name: s for s in verify([toy], backends=[], stubs=False)}
    baseline = steps[BASELINE_STEP]
    assert not baseline.ok
    assert re.search(r"quadratic\.values: [\d,]+ call-backs into swapped-in reference code "
                     r"need [\d.]+ s at 100000 ms each", baseline.detail), baseline.detail
    assert "raise the check's timeout_s" in baseline.detail
    assert "scale." not in baseline.detail  # scale's checks call nothing back
    # the planted bugs are not graded against a failing baseline: one step says why
    assert not any(name.startswith("planted bug ") for name in steps)
    assert not steps["planted bugs"].ok
    assert "2 planted bugs not graded" in steps["planted bugs"].detail


def test_verify_fails_on_a_bug_the_checks_miss(toy, monkeypatch):
    # a "bug" that changes nothing observable must be reported as not caught
    harmless = PlantedBug("harmless", "scale", '"""``x * k`` elementwise."""', '"""Scale."""',
                          "scale")
    stale = PlantedBug("stale", "scale", "no such text", "x", "scale")
    monkeypatch.setattr(toy, "planted_bugs", [harmless, stale])
    steps = verify([toy], backends=[("numpy", "cpu")])
    by_name = {s.name: s for s in steps}
    assert not by_name["planted bug harmless"].ok
    assert "plant one that changes the result" in by_name["planted bug harmless"].detail
    assert "not caught" in by_name["planted bug harmless"].detail
    # the other two causes named: no case tells it, or a tolerance swallows its change
    assert "add a case that does" in by_name["planted bug harmless"].detail
    assert "tighten a tolerance" in by_name["planted bug harmless"].detail
    assert not by_name["planted bug stale"].ok
    assert "`find` 'no such text' does not occur" in by_name["planted bug stale"].detail
    consistency = by_name["declarations consistent with the solutions"]
    assert not consistency.ok and "1 problem:\n  - " in consistency.detail
    assert "scale.py: planted bug 'stale': `find` 'no such text' does not occur" in (
        consistency.detail)


def test_dojo_verify_command_exit_codes(toy):
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "numpy"])
    assert result.exit_code == 0, result.output
    assert "10/10 verification steps passed" in result.output


def test_planted_bug_definition_mistakes_fail_their_step_and_the_rest_runs(toy, monkeypatch):
    typo = PlantedBug("typo question", "scale", "xp.multiply(x, k)", "xp.add(x, k)", "scael")
    suffix = PlantedBug("with extension", "scale.py", "xp.multiply(x, k)", "xp.add(x, k)",
                        "scale")
    missing = PlantedBug("no module", "nope", "a", "b", "scale")
    good = PlantedBug("scale adds", "scale", "xp.multiply(x, k)", "xp.add(x, k)", "scale")
    monkeypatch.setattr(toy, "planted_bugs", [typo, suffix, missing, good])
    steps = {s.name: s for s in verify([toy], backends=[("numpy", "cpu")])}
    assert not steps["planted bug typo question"].ok
    assert "question 'scael' is not a question of toy; did you mean 'scale'?" in (
        steps["planted bug typo question"].detail)
    assert not steps["planted bug with extension"].ok
    assert "give the module name without .py" in steps["planted bug with extension"].detail
    assert not steps["planted bug no module"].ok
    assert "modules: quadratic, scale" in steps["planted bug no module"].detail
    assert steps["planted bug scale adds"].ok  # the steps after a broken bug still run
    assert not steps["declarations consistent with the solutions"].ok  # which lists all three
    assert "3 problems" in steps["declarations consistent with the solutions"].detail


def _without_swap_in(toy, monkeypatch):
    """The toy's quadratic checks run the student's scale instead of the reference's."""
    monkeypatch.setattr(toy, "checks", [replace(c, swap_in=()) for c in toy.checks])
    monkeypatch.setattr(toy, "planted_bugs", toy.planted_bugs[:1])  # "scale adds"


def test_a_bug_costing_points_elsewhere_is_reported_and_fails_only_under_strict(
        toy, monkeypatch):
    _without_swap_in(toy, monkeypatch)
    [step] = [s for s in verify([toy], backends=[]) if s.name == "planted bug scale adds"]
    assert step.ok and "(also lost points on quadratic.values" in step.detail
    [step] = [s for s in verify([toy], backends=[], strict=True)
              if s.name == "planted bug scale adds"]
    assert not step.ok
    assert "but it also costs points on other questions: quadratic.values" in step.detail
    assert "give those checks swap_in=(..., 'scale')" in step.detail


def test_points_lost_on_an_integrative_question_do_not_fail_strict(toy, monkeypatch):
    """A question that trains the student's whole pipeline on purpose (Exercise.integrative)
    may lose points to an earlier question's bug; the bug must still be caught on its own."""
    _without_swap_in(toy, monkeypatch)
    monkeypatch.setattr(toy, "integrative", ("quadratic",))
    [step] = [s for s in verify([toy], backends=[], strict=True, integrative=True)
              if s.name == "planted bug scale adds"]
    assert step.ok, step.detail
    assert "(and, as intended, on the integrative quadratic.values" in step.detail


def test_integrative_questions_are_graded_only_for_their_own_bugs_by_default(toy, monkeypatch):
    """Without --integrative a bug planted elsewhere does not retrain the integrative question
    (its points never decide that step), and the step says so; a bug planted on the
    integrative question is still graded there."""
    _without_swap_in(toy, monkeypatch)
    monkeypatch.setattr(toy, "integrative", ("quadratic",))
    monkeypatch.setattr(toy, "planted_bugs", [*toy.planted_bugs, PlantedBug(
        "gradient doubled", "quadratic", "grad = 2.0 *", "grad = 4.0 *", "quadratic")])
    steps = {s.name: s for s in verify([toy], backends=[], strict=True)}
    step = steps["planted bug scale adds"]
    assert step.ok, step.detail
    assert "on the integrative quadratic." not in step.detail
    assert "(integrative quadratic not graded for this bug: --integrative grades them too)" \
        in step.detail
    own = steps["planted bug gradient doubled"]
    assert own.ok and "caught by quadratic." in own.detail and "not graded" not in own.detail


def test_dojo_verify_strict_exits_1_on_a_bug_costing_points_elsewhere(toy, monkeypatch):
    _without_swap_in(toy, monkeypatch)
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "numpy", "--strict"])
    assert result.exit_code == 1, result.output
    assert "FAIL toy: planted bug scale adds" in result.output
    # the cause, said from the baseline's record before any bug is graded: quadratic runs
    # the submission's scale without requiring it
    said = " ".join(result.output.split())
    assert f"FAIL toy: {REQUIRES_STEP} — toy.quadratic's checks run toy.scale's code from " \
        "the submission" in said and "Declare requires=('scale',) on quadratic" in said
    # (and no planted bug is left for quadratic, which --strict says too)
    assert "7/10 verification steps passed" in result.output


def test_dojo_verify_lists_every_consistency_problem(toy, monkeypatch):
    checks = [replace(c, swap_in=("scael",)) if c.question == "quadratic" else c
              for c in toy.checks]
    monkeypatch.setattr(toy, "checks", checks)
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "numpy"])
    assert result.exit_code == 1, result.output
    assert "FAIL toy: declarations consistent with the solutions — 4 problems:\n  - check " \
           "quadratic.values: swap_in names unknown question 'scael'; did you mean 'scale'?" in (
               result.output)  # one problem a line, as dojo release lists them


def test_verify_with_an_empty_backend_list_grades_on_no_backend(toy):
    steps = verify([toy], backends=[])
    assert not any(s.name.startswith("solutions full marks") for s in steps)


def test_verify_without_stubs_still_grades_the_baseline_and_every_bug(toy):
    """What the planted-bug tests run at every input seed: no stubs, no backend; the
    baseline grades the solutions at the seed, and every bug is graded against it."""
    steps = verify([toy], backends=[], stubs=False)
    names = [s.name for s in steps]
    assert "stubs score 0" not in names
    assert names[:4] == ["declarations consistent with the solutions", BASELINE_STEP,
                         GIVEN_STEP, REQUIRES_STEP]
    assert len(names) == 4 + len(toy.planted_bugs) and all(s.ok for s in steps)


def test_dojo_verify_planted_bugs_only_grades_the_baseline_and_the_bugs(toy):
    """``--planted-bugs-only``: no stubs, no backend's solutions step; says so first; with
    ``--backend`` (which it would ignore) it refuses and grades nothing."""
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--planted-bugs-only"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("planted bugs only: the stubs and the solutions")
    assert "stubs score 0" not in result.output and "solutions full marks" not in result.output
    assert BASELINE_STEP in result.output and "planted bug" in result.output
    steps = 4 + len(toy.planted_bugs)  # consistency, baseline, given code, requires, bugs
    assert f"{steps}/{steps} verification steps passed" in lines[-1], result.output
    both = CliRunner().invoke(build_app(), ["verify", "toy", "--planted-bugs-only",
                                            "--backend", "numpy"])
    assert both.exit_code == 2, both.output
    assert "give one or the other" in both.output and "verification steps" not in both.output


def test_dojo_verify_refuses_an_unknown_or_unavailable_backend(toy):
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "bogus"])
    assert result.exit_code == 2, result.output
    assert "unknown backend 'bogus'" in result.output and "numpy" in result.output
    assert "verification steps" not in result.output

    from nlpdojo.plugins import get_registry

    spec = get_registry().get("backend", "numpy")  # rebuilt for the next test (reset)
    object.__setattr__(spec, "availability", lambda: "NumPy is on holiday")  # frozen spec
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "numpy"])
    assert result.exit_code == 2, result.output
    assert "backend 'numpy' is not available here: NumPy is on holiday" in result.output


def test_dojo_verify_says_which_exercises_it_skips_and_why(toy, monkeypatch):
    from nlpdojo_autograder.cli import grading_commands

    monkeypatch.setattr(toy, "reference", "nlpdojo_toy_pack.not_packaged.toy")
    monkeypatch.setattr(grading_commands, "exercise_names", lambda: ["toy"])
    result = CliRunner().invoke(build_app(), ["verify", "--backend", "numpy"])
    assert result.exit_code == 1, result.output
    assert "skip toy: its reference solutions nlpdojo_toy_pack.not_packaged.toy cannot be " \
           "imported" in result.output
    assert "nothing to verify" in result.output
    result = CliRunner().invoke(build_app(), ["verify", "toy"])
    assert result.exit_code == 2, result.output
    assert "cannot verify toy" in result.output and "packages.find" in result.output


def test_a_bug_planted_to_cost_points_on_an_integrative_question_too_must_do_so(
        toy, monkeypatch):
    """PlantedBug(also=...): the integrative question must lose points too, else the step
    fails saying so; naming a question that is not integrative is a declaration problem."""
    good = replace(toy.planted_bugs[0], also=("quadratic",))
    _without_swap_in(toy, monkeypatch)  # quadratic runs the student's scale: it loses
    monkeypatch.setattr(toy, "integrative", ("quadratic",))
    monkeypatch.setattr(toy, "planted_bugs", [good])
    [step] = [s for s in verify([toy], backends=[], strict=True)
              if s.name == "planted bug scale adds"]
    assert step.ok, step.detail
    monkeypatch.setattr(toy, "checks", [replace(c, swap_in=("scale",))
                                        if c.question == "quadratic" else c
                                        for c in toy.checks])  # now it does not lose
    steps = {s.name: s for s in verify([toy], backends=[], strict=True)}
    assert not steps["planted bug scale adds"].ok
    assert "planted to cost points on quadratic too, and every check of quadratic still " \
        "passes" in steps["planted bug scale adds"].detail
    monkeypatch.setattr(toy, "integrative", ())
    steps = {s.name: s for s in verify([toy], backends=[])}
    consistency = steps["declarations consistent with the solutions"]
    assert not consistency.ok and "also='quadratic': only an integrative question" in \
        consistency.detail


def test_verify_grades_on_the_input_seed_it_is_given(toy, monkeypatch):
    """``dojo verify --input-seed N`` and ``$NLPDOJO_INPUT_SEED`` (``make test-seeds``) draw
    every grading's inputs from that seed; without either, the base seed (the fixtures')."""
    from nlpdojo_autograder.release import verify as verify_module

    seen = []
    real = verify_module.grade_exercise

    def spy(exercise, folder, options):
        seen.append(options.inputs)
        return real(exercise, folder, options)

    monkeypatch.setattr(verify_module, "grade_exercise", spy)
    monkeypatch.delenv("NLPDOJO_INPUT_SEED", raising=False)
    assert all(s.ok for s in verify([toy], backends=[("numpy", "cpu")]))
    monkeypatch.setenv("NLPDOJO_INPUT_SEED", "17")
    assert all(s.ok for s in verify([toy], backends=[("numpy", "cpu")]))
    result = CliRunner().invoke(build_app(), ["verify", "toy", "--backend", "numpy",
                                              "--input-seed", "5"])
    assert result.exit_code == 0, result.output
    # stubs, emptied blocks, solutions, the planted bugs' baseline, two planted bugs
    assert seen == [0] * 6 + [17] * 6 + [5] * 6


def test_each_bug_keeps_the_baseline_verdicts_of_the_checks_that_run_none_of_its_change(
        toy, monkeypatch):
    """Two bugs in ``quadratic``: each reruns quadratic's checks and keeps the baseline's
    verdicts of scale's, which never run quadratic's code; each is still caught on its
    question."""
    from nlpdojo_autograder.release import verify as verify_module

    seen = []
    grade_exercise = verify_module.grade_exercise

    def recorded(exercise, topic, options):
        result = grade_exercise(exercise, topic, options)
        seen.append({c.id: c.cached for c in result.checks})
        return result

    monkeypatch.setattr(verify_module, "grade_exercise", recorded)
    monkeypatch.setattr(toy, "planted_bugs", [
        PlantedBug("gradient doubled", "quadratic", "grad = 2.0 *", "grad = 4.0 *", "quadratic"),
        PlantedBug("gradient tripled", "quadratic", "grad = 2.0 *", "grad = 6.0 *",
                   "quadratic"), toy.planted_bugs[0]])  # (and scale's: --strict asks one)
    steps = verify([toy], backends=[("numpy", "cpu")], strict=True)
    assert all(s.ok for s in steps), [s.detail for s in steps if not s.ok]
    baseline, first, second = seen[-4:-1]
    assert not any(baseline.values())  # graded in full
    for bug in (first, second):
        assert {cid for cid, cached in bug.items() if cached} == {
            cid for cid in bug if cid.startswith("scale.")} != set()


def test_a_planted_bug_must_be_caught_with_the_cause_it_says(toy, monkeypatch):
    """``says``: the words a message of the bug's question must hold (the cause named);
    a bug caught without them fails its step, saying what was expected."""
    named = PlantedBug("scale adds", "scale", "xp.multiply(x, k)", "xp.add(x, k)", "scale",
                       says="expected")  # every value mismatch says "expected ..."
    unnamed = PlantedBug("scale adds, unnamed", "scale", "xp.multiply(x, k)", "xp.add(x, k)",
                         "scale", says="you added instead of multiplying")
    monkeypatch.setattr(toy, "planted_bugs", [named, unnamed])
    steps = {s.name: s for s in verify([toy], backends=[("numpy", "cpu")])}
    assert steps["planted bug scale adds"].ok, steps["planted bug scale adds"].detail
    detail = steps["planted bug scale adds, unnamed"].detail
    assert not steps["planted bug scale adds, unnamed"].ok
    assert "no message of question 'scale' names the cause" in detail
    assert "'you added instead of multiplying'" in detail


def test_a_bug_question_is_graded_until_a_check_catches_it(toy, monkeypatch):
    """A planted bug's own question is graded only until one of its checks catches it, its
    gradient checks (the slow ones) last and left out once it is caught; until that check says what
    the bug's ``says`` asks, where it has one; ``every_check`` grades them all. The other
    questions are graded in full whatever the mode (``--strict`` needs them)."""
    doubled = next(b for b in toy.planted_bugs if b.name == "gradient doubled")
    first = verify([toy], backends=[])[-1]
    every = verify([toy], backends=[], every_check=True)[-1]
    assert first.name == every.name == "planted bug gradient doubled"
    assert first.ok and every.ok
    assert first.detail.startswith("caught by quadratic.values:"), first.detail
    assert every.detail.startswith("caught by quadratic.values, quadratic.gradient"), \
        every.detail
    # a message that only the gradient check says: grading goes on until it, its gradient
    # check last (hidden, declared after it, runs before it; the detail lists the topic's order)
    monkeypatch.setattr(toy, "planted_bugs", [replace(doubled, says="relative error")])
    said = verify([toy], backends=[])[-1]
    assert said.ok and said.detail.startswith("caught by quadratic.values, "
                                              "quadratic.gradient, quadratic.hidden:"), \
        said.detail


def test_a_bug_must_be_caught_by_each_check_its_by_names(toy, monkeypatch):
    """``by``: the checks of the bug's question that must each catch it (the proof that a
    check judged against an oracle can fail). A doubled gradient fails the values check but
    descends faster, so the descent check still passes: a step that names it fails. The
    checks ``by`` names are graded first, and the question's others only where they do not
    catch it (hidden and gradient would too: not graded)."""
    doubled = PlantedBug("gradient doubled", "quadratic", "grad = 2.0 *", "grad = 4.0 *",
                         "quadratic", by=("values",))
    monkeypatch.setattr(toy, "planted_bugs", [doubled, replace(
        doubled, name="gradient doubled, named by descent", by=("values", "descent"))])
    steps = {s.name: s for s in verify([toy], backends=[])}
    assert steps["planted bug gradient doubled"].ok, steps["planted bug gradient doubled"]
    assert steps["planted bug gradient doubled"].detail.startswith(
        "caught by quadratic.values:"), steps["planted bug gradient doubled"].detail
    failed = steps["planted bug gradient doubled, named by descent"]
    assert not failed.ok
    assert "planted to be caught by quadratic.descent too, which still passes" in failed.detail


def test_verify_validates_the_course_library_as_release_does(tmp_path, monkeypatch):
    """A typo in the topic of one library marker: `dojo release` named it with "did you
    mean", `dojo verify --strict` passed it (an instructor's finding)."""
    from nlpdojo_autograder.grading.grade import get_exercise
    from nlpdojo_autograder.release import verify as verifying
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path, ("library", "neural_networks"), {
        "library/activations.py": ("### BEGIN SOLUTION neural_networks.relu\n",
                                   "### BEGIN SOLUTION neural_netwroks.relu\n")}, once=False)
    monkeypatch.setattr(verifying, "load_reference_dir", lambda package: course / "neural_networks")
    step = verifying.verify_library([get_exercise("neural_networks")])
    assert step is not None and not step.ok, step
    assert "neural_netwroks" in step.detail and "did you mean 'neural_networks'" in step.detail
    monkeypatch.setattr(verifying, "load_reference_dir",
                        lambda package: edited_course(tmp_path / "clean", ("library",
                                                                          "neural_networks"))
                        / "neural_networks")
    assert verifying.verify_library([get_exercise("neural_networks")]).ok


def test_given_code_that_a_check_runs_from_the_submission_fails_naming_the_declaration(
        tmp_path):
    """A training loop left out of ``given_modules`` ran from the submission, so a student
    who edited it was judged on the edit, and nothing said so (issue 65 item 5)."""
    topic = tmp_path / "bug" / "topic"
    topic.mkdir(parents=True)
    (topic / "layers.py").write_text("def f(x):\n    ### BEGIN SOLUTION layer\n"
                                     "    return x\n    ### END SOLUTION\n")
    (topic / "training.py").write_text("def train(model):\n    return model\n")
    exercise = type("Exercise", (), {"name": "topic"})()
    ran = Baseline({}, {"layer.values": frozenset({("topic/layers.py", "f")}),
                        "layer.trained": frozenset({("topic/training.py", "train"),
                                                    ("library/rnn.py", "RNN.forward")}),
                        "layer.hidden": None}, [])
    step = verify_given_code(exercise, topic, ran)
    assert step.name == GIVEN_STEP and not step.ok
    assert "the checks run training.py from the submission, which hold no question's block" \
        in step.detail
    assert "given_modules=('training', ...) in course/topic/__init__.py" in step.detail
    only_questions = Baseline({}, {"layer.values": frozenset({("topic/layers.py", "f")})}, [])
    assert verify_given_code(exercise, topic, only_questions).ok


def test_a_question_that_runs_another_questions_code_without_requiring_it_fails(tmp_path):
    """A question that uses another's code without declaring it passed ``dojo verify
    --strict``; a student with it right and the other unfinished got 0 (issue 65 item 5).
    The baseline's record shows the other question's unit run from the submission."""
    from types import SimpleNamespace

    from nlpdojo_autograder.grading.results import CheckResult

    course = tmp_path / "bug"
    (course / "topic").mkdir(parents=True)
    (course / "library").mkdir()
    (course / "topic" / "cells.py").write_text(
        "class Cell:\n    def forward(self, x):\n        ### BEGIN SOLUTION cell\n"
        "        return x\n        ### END SOLUTION\n")
    (course / "topic" / "unroll.py").write_text(
        "def unroll(xs):\n    ### BEGIN SOLUTION unroll\n    return xs\n"
        "    ### END SOLUTION\n")
    (course / "library" / "init.py").write_text(
        "def xavier(shape):\n    ### BEGIN SOLUTION neural_networks.xavier\n    return shape\n"
        "    ### END SOLUTION\n")
    exercise = SimpleNamespace(name="topic", integrative=(), requires={"unroll": ("cell",)},
                               checks=())

    def result(cid):
        return CheckResult(id=cid, question=cid.split(".")[0], kind="value", score=1.0,
                           max_score=1.0, status="passed", message="")

    ran = {"unroll.values": frozenset({("topic/unroll.py", "unroll")}),
           "cell.values": frozenset({("topic/cells.py", "Cell.forward"),
                                     ("library/init.py", "xavier")})}
    baseline = Baseline({cid: result(cid) for cid in ran}, ran, [])
    step = verify_requires(exercise, course / "topic", baseline)
    assert step.name == REQUIRES_STEP and not step.ok
    assert step.detail == (
        "topic.cell's checks run neural_networks.xavier's code from the submission (xavier in "
        "library/init.py), and cell does not require it: a student with it right and "
        "neural_networks.xavier unfinished loses its points. Declare "
        "requires=('neural_networks.xavier',) on cell (its code then runs from the reference "
        "in these checks)")
    declared = SimpleNamespace(name="topic", integrative=(), checks=(), requires={
        "unroll": ("cell",), "cell": ("neural_networks.xavier",)})
    assert verify_requires(declared, course / "topic", baseline).ok
    # a required question's code never shows in the record (it is swapped in), and an
    # integrative question runs the student's whole pipeline by design
    trains = SimpleNamespace(name="topic", integrative=("cell",), requires={}, checks=())
    assert verify_requires(trains, course / "topic", baseline).ok
    # ... and a check that runs the student's own code of a question on purpose names it
    own = SimpleNamespace(name="topic", integrative=(), requires={"unroll": ("cell",)},
                          checks=(SimpleNamespace(id="cell.values",
                                                  own_code=("neural_networks.xavier",)),))
    assert verify_requires(own, course / "topic", baseline).ok


def test_a_block_that_holds_none_of_the_work_fails_its_step(tmp_path, monkeypatch,
                                                            toy_pack_site):
    """scale's work moved before its block (the block keeps a no-op): the stubs still score 0,
    yet a student who deletes the stub's raise line earns full marks (an author's trial)."""
    pack = toy_pack_site(tmp_path / "site")
    module = pack / "solutions" / "toy" / "scale.py"
    module.write_text(module.read_text().replace(
        "    xp = array_namespace(x)\n    ### BEGIN SOLUTION scale\n    return xp.multiply(x, k)\n",
        "    xp = array_namespace(x)\n    out = xp.multiply(x, k)\n    ### BEGIN SOLUTION scale\n"
        "    out = out * 1\n    ### END SOLUTION\n    return out\n    ### BEGIN SOLUTION scale\n"
        "    return out\n"))
    from nlpdojo.plugins import get_registry

    toy = get_registry().get("exercise", "toy")
    monkeypatch.setattr(toy, "planted_bugs", [])
    steps = {s.name: s for s in verify([toy], backends=[])}
    assert steps["stubs score 0"].ok
    step = steps["solution blocks hold the work"]
    assert not step.ok
    assert step.detail.startswith("question scale earns full marks with its solution blocks "
                                  "emptied")


def test_strict_asks_a_planted_bug_of_every_question(toy, monkeypatch):
    """A question without a planted bug passed --strict: a check comparing nothing went
    unnoticed (an author's trial). Integrative questions are proven by the others' bugs."""
    monkeypatch.setattr(toy, "planted_bugs", toy.planted_bugs[:1])  # scale's only
    steps = {s.name: s for s in verify([toy], backends=[], strict=True, stubs=False)}
    step = steps["every question has a planted bug"]
    assert not step.ok and step.detail.startswith("no planted bug proves the checks of "
                                                  "quadratic")
    assert "every question has a planted bug" not in {
        s.name for s in verify([toy], backends=[], stubs=False)}  # --strict only
