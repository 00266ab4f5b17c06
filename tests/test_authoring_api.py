"""The authoring facade an author learns (issue 65): a small, documented set of names, and the
two namespaces beside it (seeded inputs, comparisons)."""

from __future__ import annotations

import inspect

import pytest

import nlpdojo_autograder.authoring as authoring
from nlpdojo_autograder.authoring import inputs as input_specs

#: the most names the facade exports (docs/authoring.md walks through them)
MAX_FACADE_NAMES = 45


def test_the_facade_exports_few_names_each_documented():
    names = authoring.__all__
    assert len(names) == len(set(names)) <= MAX_FACADE_NAMES, len(names)
    undocumented = []
    for name in names:
        obj = getattr(authoring, name)
        doc = inspect.getdoc(obj) or ""
        # a dataclass without a docstring of its own gets its signature as one
        if not doc.strip() or doc.startswith(f"{name}("):
            undocumented.append(name)
    assert not undocumented, undocumented


def test_seeded_inputs_are_a_namespace_of_their_own():
    for name in ("inputs", "normal", "uniform", "integers", "draw", "student", "require"):
        assert callable(getattr(input_specs, name))
        assert name not in authoring.__all__


def test_ctx_function_finds_a_function_in_the_module_of_its_questions_code(tmp_path):
    """``ctx.function(name)`` looks in the module of the check's question (``Check.module``,
    set by its ``Question``); ``ctx.module(name)``, a method, stays one (an attribute of the
    same name once shadowed it, and word_vectors' training check failed on the reference)."""
    from nlpdojo_autograder.authoring import Context, Question, value_check
    from nlpdojo_autograder.authoring.context import BackendRef

    question = Question("lstm_cell", "The LSTM cell", code="library/gated",
                        checks=[value_check("forget_bias", "t", 1.0, lambda ctx: {})])
    (check,) = question.checks
    assert check.module == "..library.gated"
    ctx = Context(subject=None, backend=BackendRef("numpy", None, "float64"), seed=0,
                  workdir=tmp_path, module=check.module)
    assert ctx.function("lstm_bias").token.args == ("student", "..library.gated", "lstm_bias")
    assert ctx.function("other", "f").token.args == ("student", "other", "f")
    assert ctx.module("vanishing").args == ("vanishing",)
    bare = Context(subject=None, backend=BackendRef("numpy", None, "float64"), seed=0,
                   workdir=tmp_path)
    with pytest.raises(ValueError, match="names no one module"):
        bare.function("lstm_bias")


def test_parity_is_a_torch_check_of_the_layers_own_oracle_and_mistakes():
    """``layer_checks(parity=Parity(...))`` adds the question's check against torch on a case
    of its own, sharing the layer's torch forward, named mistakes and case at scale (it was a
    second ``torch_check`` call repeating them); without ``torch=`` it is refused, saying so."""
    from nlpdojo_autograder.authoring import LayerCase, Parity, Question, layer_checks

    def case(ctx):  # never drawn: the declaration alone is tested
        return LayerCase(args=(ctx.backend, 2, 3), params={})

    def oracle(p, x):
        return x

    question = Question("gru_cell", "The GRU cell", code="library/gated", checks=[
        layer_checks("GRUCell", case, title="GRUCell", points=3.0, torch=oracle, at_scale=None,
                     parity=Parity(case, "GRUCell against torch.nn.GRUCell", 1.0),
                     hints={"torch": "gates in torch's order"})])
    checks = {c.name: c for c in question.checks}
    assert list(checks)[-1] == "torch"
    assert (checks["torch"].title, checks["torch"].points, checks["torch"].kind) == (
        "GRUCell against torch.nn.GRUCell", 1.0, "value")
    assert sum(c.points for c in question.checks) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="parity= compares with the torch forward: give torch="):
        Question("gru_cell", "The GRU cell", code="library/gated", checks=[
            layer_checks("GRUCell", case, title="GRUCell", points=3.0, at_scale=None,
                         parity=Parity(case, "GRUCell against torch.nn.GRUCell", 1.0))])


def test_variants_are_one_layer_checked_in_several_configurations():
    """``layer_checks(variants={name: Variant(...)})``: each variant's checks as a layer's,
    named ``<check>_<name>`` with its own points, arguments it sets winning over the call's;
    ``only`` keeps some checks, which share its points. Without a case or variants: refused."""
    from nlpdojo_autograder.authoring import LayerCase, Parity, Question, Variant, layer_checks

    def case(ctx):  # never drawn: the declaration alone is tested
        return LayerCase(args=(ctx.backend, 2, 3), params={})

    def oracle(p, x):
        return x

    question = Question("conv1d", "A convolution", code="library/conv", checks=[layer_checks(
        "Conv1d", repeat=2, torch=oracle, timeout_s=7.0, variants={
            "plain": Variant(case, "plain", 1.5, at_scale=None,
                             parity=Parity(case, "plain, against torch", 0.5)),
            "strided": Variant(case, "strided", 0.25, only=("values",), hidden=False,
                               at_scale=None)})])
    points = {c.name: c.points for c in question.checks}
    assert list(points) == ["values_plain", "hidden_plain", "gradients_plain", "repeated_plain",
                            "accumulate_plain", "torch_plain", "values_strided"]
    assert sum(points[n] for n in points if n.endswith("_plain")) == pytest.approx(2.0)
    assert points["torch_plain"] == 0.5 and points["values_strided"] == 0.25
    assert {c.timeout_s for c in question.checks} == {7.0}
    assert question.checks[0].title == "plain: forward and backward values"
    with pytest.raises(ValueError, match="give the layer's case"):
        Question("conv1d", "A convolution", code="library/conv",
                 checks=[layer_checks("Conv1d", torch=oracle)])


def test_a_hint_on_a_builders_call_waits_for_its_question():
    """``with_hint(builder(...), hint)`` inside a ``Question`` (the builder's call waiting for
    its question): the checks it makes belong to the question and say the hint when they fail
    (a helper passed question= and module= by hand to do this)."""
    import numpy as np

    from nlpdojo_autograder.authoring import Question, value_check, with_hint

    question = Question("lstm_cell", "The LSTM cell", code="library/gated", checks=[
        with_hint(value_check("forget_bias", "t", 1.0, lambda ctx: {}), "start f at one")])
    (check,) = question.checks
    assert (check.id, check.module) == ("lstm_cell.forget_bias", "..library.gated")
    failed = check.judge({"b": np.zeros(3)}, {"b": np.ones(3)})
    assert not failed.passed and failed.message.endswith("(start f at one)")
    assert check.judge({"b": np.ones(3)}, {"b": np.ones(3)}).passed


def test_a_topics_own_questions_are_named_by_their_declarations():
    """``requires=``, ``swap_in=``, ``own_code=`` and a planted bug's ``question=`` and
    ``also=`` take a question of the same topic as its ``Question`` (its id is said once, in
    its declaration); the topic names them by id. Another topic's question is named by its
    dotted id (topics import no other topic), and a declaration the topic does not hold is an
    error naming it, where it is declared and the fix."""
    from nlpdojo_autograder.authoring import Question, Topic, bug, value_check

    def check(name, **options):
        return value_check(name, "t", 1.0, lambda ctx: {}, **options)

    cell = Question("cell", "A cell", checks=[check("values")])
    unroll = Question("unroll", "An unroll", requires=(cell, "neural_networks.xavier"),
                      checks=[check("values", swap_in=(cell,))],
                      planted_bugs=[bug("b", "x", "y", also=(cell,))])
    trained = Question("trained", "Trained", code=(), integrative=True,
                       checks=[check("metric", own_code=(unroll,))])
    planted = bug("outside every block", "a", "b", question=unroll)
    assert planted.question == "unroll"
    exercise = Topic("toy", "Toy", 1, [cell, unroll, trained]).exercise()
    assert exercise.requires == {"unroll": ("cell", "neural_networks.xavier")}
    checks = {c.id: c for c in exercise.checks}
    assert checks["unroll.values"].swap_in == ("cell",)
    assert checks["trained.metric"].own_code == ("unroll",)
    assert [b.also for b in exercise.planted_bugs] == [("cell",)]

    stranger = Question("stranger", "Not in the topic", checks=[check("values")])
    orphan = Question("orphan", "Requires a stranger", requires=(stranger,),
                      checks=[check("values")])
    with pytest.raises(ValueError, match=r"topic toy: question 'orphan' names the question "
                       r"'stranger' declared in .*test_authoring_api\.py, which is not one of "
                       r"this topic's questions.*\"<topic>\.stranger\""):
        Topic("toy", "Toy", 1, [orphan])


def test_a_planted_bug_writes_its_changes_in_place():
    """``bug(name, text)`` reads each change where it is, ``«old → new»`` (inserting, deleting,
    several in one text, across lines); with ``find`` and ``replace`` given both stay as they
    are; a text with no change, or a « or » outside one, is an error naming the bug, its line
    and the notation."""
    from nlpdojo_autograder.authoring import bug

    swapped = bug("gates swapped", "xp.matmul(xp.matrix_transpose(«x → grad_output»), "
                  "«grad_output → x»)")
    assert (swapped.find, swapped.replace) == (
        "xp.matmul(xp.matrix_transpose(x), grad_output)",
        "xp.matmul(xp.matrix_transpose(grad_output), x)")
    inserted = bug("BPTT cut", "self.cell.backward(grad_hs[:, t, :] + « → 0.0 * »grad_h,")
    assert inserted.replace == "self.cell.backward(grad_hs[:, t, :] + 0.0 * grad_h,"
    deleted = bug("not rescaled", "mask = keep(shape)« / (1.0 - self.p) → »\n        out = x")
    assert (deleted.find, deleted.replace) == ("mask = keep(shape) / (1.0 - self.p)\n"
                                               "        out = x", "mask = keep(shape)\n"
                                               "        out = x")
    whole = bug("written out", "return «a»", "return b")
    assert (whole.find, whole.replace) == ("return «a»", "return b")
    with pytest.raises(ValueError, match=r"planted bug 'no change' \(.*test_authoring_api\.py:"
                       r"\d+\): no replace, and no change written in its text as «old → new»"):
        bug("no change", "return xp.add(x, k)")
    with pytest.raises(ValueError, match=r"planted bug 'stray'.*a « or » outside a change"):
        bug("stray", "return «xp.add → xp.sub»(x, «k)")
    with pytest.raises(ValueError, match=r"'no spaces'.*the arrow U\+2192 with a space each"):
        bug("no spaces", "return «xp.add→xp.sub»(x, k)")
    with pytest.raises(ValueError, match=r"'ascii arrow'.*outside a change «old → new»"):
        bug("ascii arrow", "return «xp.add -> xp.sub»(x, k)")


def test_ids_and_check_names_are_what_markers_and_file_names_can_hold():
    """``Question("Attention_Entropy", ...)`` was accepted, and the messages then suggested a
    malformed marker; a check named ``fwd/bwd`` broke the release on a temporary path."""
    from nlpdojo_autograder.authoring import Question, value_check

    with pytest.raises(ValueError, match="question id 'Attention_Entropy': a question's id is "
                       "lowercase letters"):
        Question("Attention_Entropy", "Entropy", checks=[value_check(
            "values", "v", 1.0, lambda ctx: {})])
    with pytest.raises(ValueError, match="check entropy.fwd/bwd: a check's name is lowercase"):
        value_check("fwd/bwd", "v", 1.0, lambda ctx: {}, question="entropy")


def test_a_question_or_check_declared_twice_names_where():
    """The error pointed at the topic's register call and said "fix that line"; it names both
    declarations now, and two checks of one name are refused at their question."""
    from nlpdojo_autograder.authoring import Question, Topic, value_check

    def question():
        return Question("entropy", "Entropy", checks=[value_check(
            "values", "v", 1.0, lambda ctx: {})])

    first, second = question(), question()
    with pytest.raises(ValueError, match=r"question 'entropy' is declared twice \(.*"
                       r"test_authoring_api.py:\d+ and .*test_authoring_api.py:\d+\)"):
        Topic("toy_attn", "Toy", 9, [first, second])
    with pytest.raises(ValueError, match="question entropy: two of its checks are named "
                       "'values'"):
        Question("entropy", "Entropy", checks=[
            value_check("values", "v", 1.0, lambda ctx: {}),
            value_check("values", "w", 1.0, lambda ctx: {})])


def test_a_layer_without_a_case_at_scale_hears_of_parameters_false():
    """A layer without parameters needs no case at scale, but the error asked for one only."""
    from nlpdojo_autograder.authoring import LayerCase, layer_checks

    with pytest.raises(ValueError, match=r"names no case at scale.*says parameters=False"):
        layer_checks("Swish", lambda ctx: LayerCase(args=(ctx.backend,), params={}),
                     question="swish", module="m", title="Swish", points=1.0)


def test_a_threshold_the_reference_cannot_reach_is_said_to_the_reference_only():
    """The reference's own run short of a threshold set from it (a floor above what it
    reaches) heard only "short of the threshold ... (shown once reached)": the author saw
    neither the threshold nor that it is theirs. A student's run still does not see it."""
    from nlpdojo_autograder.authoring import metric_check

    check = metric_check("accuracy", "accuracy after training", 1.0, lambda ctx: {},
                         question="attention", metric="accuracy",
                         threshold=lambda ref: max(0.9, ref - 0.05), budget="10 steps")
    own = check.judge({"value": 0.79}, {"value": 0.79})
    assert not own.passed
    assert "short of ≥ 0.9, the threshold set from the reference's own run" in own.message
    theirs = check.judge({"value": 0.5}, {"value": 0.79})
    assert "0.9" not in theirs.message and "shown once reached" in theirs.message


def test_a_pass_within_a_loose_tolerance_says_the_tolerance():
    """An instructor's trial: ``rtol=0.5`` passed an answer 30 % off as "matches the
    reference"; a pass within a tolerance looser than the course's says it (the default's
    says nothing more)."""
    import numpy as np

    from nlpdojo_autograder.authoring.kinds import value_check

    loose = value_check("v", "t", 1.0, lambda ctx: {}, question="q", rtol=0.5)
    verdict = loose.judge({"x": np.array([1.3])}, {"x": np.array([1.0])})
    assert verdict.passed and verdict.message.endswith("(within rtol=0.5, atol=1e-08)")
    strict = value_check("v", "t", 1.0, lambda ctx: {}, question="q")
    verdict = strict.judge({"x": np.array([1.0])}, {"x": np.array([1.0])})
    assert verdict.passed and "within" not in verdict.message
