"""The authoring API: everything a topic (built-in or a third-party exercise pack) declares
its questions and checks with, and nothing else of the engine. A topic imports from here
only; the engine behind it may be rearranged without touching a topic.

* declarations: :class:`Topic`, :class:`Question`, :func:`bug` (:mod:`.topic`);
* check builders for the common shapes of a question (:mod:`.builders`):
  a function, a few calls, a layer (and its parity with a torch module), an unroll over any
  cell (a sequence), a loss, an optimizer, a property, a trained model's metrics;
* the check kinds underneath them (:mod:`.kinds`) and what a check's code
  sees (:class:`Context`, :class:`Verdict`, :class:`CheckFailure`);
* seeded inputs (:mod:`.inputs`) and comparisons
  (:mod:`.compare`).

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
    Saturated,
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
    torch_check,
    torch_twin,
    with_hint,
)
from nlpdojo_autograder.authoring.checks import (
    Check,
    CheckFailure,
    Context,
    Exercise,
    Payload,
    PlantedBug,
    Verdict,
)
from nlpdojo_autograder.authoring.compare import (
    compare_array,
    compare_payloads,
    name_the_mistake,
)
from nlpdojo_autograder.authoring.inputs import (
    BACKEND,
    derived,
    draw,
    inputs,
    integers,
    normal,
    padded_sentences,
    require,
    require_finite,
    require_rows_sum_to_one,
    require_shapes,
    scratch,
    student,
    uniform,
)
from nlpdojo_autograder.authoring.kinds import (
    GradientProblem,
    Property,
    custom_check,
    finite,
    gradient_check,
    metric_check,
    mistaken_outputs,
    property_check,
    rows_sum_to_one,
    value_check,
    within,
)
from nlpdojo_autograder.authoring.topic import Question, Topic, bug

__all__ = [
    "BACKEND", "Check", "CheckFailure", "Context", "Exercise", "GradientProblem", "LayerCase",
    "LossCase", "Metric", "OptimizerCase", "Payload", "PlantedBug", "Property", "Question",
    "Saturated", "saturating_offsets",
    "Topic", "finite", "property_check", "rows_sum_to_one", "within",
    "Verdict", "bug", "call", "calls_check", "compare_array", "compare_payloads",
    "custom_check", "derived", "draw", "drawn_setting", "final_state_check", "function_check",
    "function_checks", "gradient_check", "inputs", "integers", "layer_checks", "literal",
    "loss_checks", "metric_check", "name_the_mistake",
    "metric_checks", "mistaken_outputs", "normal", "optimizer_checks", "padded_sentences",
    "require", "require_finite",
    "require_rows_sum_to_one", "require_shapes", "require_vectorized", "run_layer", "scratch",
    "sequence_checks", "settings_rng", "stable_call", "state_of", "student", "stand_in_cell",
    "torch_check", "torch_twin",
    "uniform", "value_check", "with_hint",
]
