"""The authoring API: everything a topic (built-in or a third-party exercise pack) declares
its questions and checks with, and nothing else of the engine. A topic imports from here
only; the engine behind it may be rearranged without touching a topic.

* declarations: :class:`Topic`, :class:`Question`, :func:`bug` (:mod:`.topic`);
* check builders for the common shapes of a question (:mod:`.builders`):
  a function, a few calls, a layer (and its parity with a torch module), an unroll over any
  cell (a sequence), a loss, an optimizer, a property, a trained model's metrics;
* the check kinds underneath them (:mod:`.kinds`) and what a check's code
  sees (:class:`Context`, :class:`Verdict`, :class:`CheckFailure`);
* helpers a check's code calls (:func:`run_layer`, :func:`stable_call`,
  :func:`require_vectorized`, :func:`with_hint`).

Two namespaces of their own sit beside it: seeded inputs and requirements on outputs
(:mod:`.inputs`: ``inputs(x=normal(4, 3), k=uniform(0.5, 2))``, ``integers``, ``draw``,
``student``...) and comparisons (:mod:`.compare`); an exercise pack that declares an
:class:`~.checks.Exercise` by hand, without :class:`Topic`, imports it and
:class:`~.checks.PlantedBug` from :mod:`.checks`.

The metric checks' training kit (trained on the worker, measured on the grader's side) is
:mod:`nlpdojo_autograder.training`. ``docs/authoring.md`` walks through a topic.

The package also holds the authoring side's internals, which the engine uses and this facade
does not export: solution markers (:mod:`.markers`), planted bugs (:mod:`.planted`), question
ids and requirements (:mod:`.questions`) and ``dojo new-topic`` (:mod:`.scaffold`). It is
a layer above the runtime (docs/architecture.md): it speaks the wire's values and names the
worker's probes, and reaches no process.
"""

from nlpdojo_autograder.authoring.builders import (
    LayerCase,
    LossCase,
    Metric,
    OptimizerCase,
    Parity,
    Saturated,
    Variant,
    call,
    calls_check,
    drawn_setting,
    final_state_check,
    function_check,
    function_checks,
    layer_checks,
    literal,
    loss_checks,
    metric_checks,
    optimizer_checks,
    require_vectorized,
    run_layer,
    saturating_offsets,
    sequence_checks,
    settings_rng,
    stable_call,
    stand_in_cell,
    state_of,
    torch_twin,
    with_hint,
)
from nlpdojo_autograder.authoring.checks import Check, CheckFailure, Verdict
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.kinds import (
    GradientProblem,
    custom_check,
    gradient_check,
    metric_check,
    property_check,
    value_check,
)
from nlpdojo_autograder.authoring.properties import Property, finite, rows_sum_to_one, within
from nlpdojo_autograder.authoring.topic import Question, Topic, bug

__all__ = [
    "Check", "CheckFailure", "Context", "GradientProblem", "LayerCase", "LossCase", "Metric",
    "OptimizerCase", "Parity", "Property", "Question", "Saturated", "Topic", "Variant", "Verdict",
    "bug", "call", "calls_check", "custom_check", "drawn_setting", "final_state_check", "finite",
    "function_check", "function_checks", "gradient_check", "layer_checks", "literal", "loss_checks",
    "metric_check", "metric_checks", "optimizer_checks", "property_check", "require_vectorized",
    "rows_sum_to_one", "run_layer", "saturating_offsets", "sequence_checks", "settings_rng",
    "stable_call", "stand_in_cell", "state_of", "torch_twin", "value_check", "with_hint", "within",
]
