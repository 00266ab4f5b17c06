"""The training kit, shared by every topic that trains a model (docs/authoring.md, "Training a
model: the kit"):

* metric checks measured on the grader's side (:mod:`.trained`): the
  student's code trains from the grader's initial parameters (:class:`TrainingPlan`,
  :func:`initial_parameters`), the parameters come back as data, the grader scores held-out
  data with the reference's forward and audits every step (:func:`train_and_measure`,
  :func:`audit`); the two plans the course's checks take, a language model's and a
  classifier's, and the options every such check passes (:mod:`.plans`:
  :func:`language_model_plan`, :func:`classifier_plan`, MR's :func:`mr_polarity_plan` and
  its check :func:`mr_polarity_checks`, :func:`measured`, :data:`TRAINED`);
* evaluation (:mod:`.evaluate`): perplexity, accuracy, the floors (add-one unigram, majority
  class, most frequent label) and the metrics with their too-good bounds;
* data preparation (:mod:`.prepare`): vocabulary and ids, running text as id streams, BPTT
  targets, labelled sentences as padded matrices, held-out samples from the input seed;
  tagged text as word windows and the most-frequent-tag baseline (:mod:`.tagging`);
* ``dojo train`` / ``dojo sample`` plumbing: whose code trains (:class:`TopicCode`,
  :class:`CodeChoice`), data checks (:func:`require_datasets`), output files (the outputs
  folder, :func:`output_path`, :func:`input_path`; :func:`check_output`) and the errors
  (:class:`TrainError`) (:mod:`.train`); the options every training command shares
  (:mod:`.options`);
  model kinds and their options, the run driver (:mod:`.commands`); one checkpoint format
  (:mod:`.checkpoint`); text generation from any language model (:mod:`.generate`); neural
  language models, each three functions of its topic (:mod:`.neural_lm`); sentence
  classifiers on MR, each its topic's given module (:mod:`.polarity`), over the one
  minibatch loop of the framework (:mod:`nlpdojo.training`, which graded code may import);
* the torch oracle of a language model's truncated-BPTT loop, for every cell, that names a
  loop's mistake by its losses (:mod:`.bptt_oracle`: :func:`truncated_bptt_losses`; its
  unroll is a layer check's torch forward too, :func:`torch_lm`), and the value check of a
  student's loop, SGD then Adam, each run's mistakes named against it (:mod:`.loop_runs`:
  :func:`loop_check` over :func:`checked_runs`, the stream and parameters of
  :func:`loop_draws`; :data:`OPTIMIZER_STATE_MISTAKES`; the two runs of the course's checks,
  :func:`sgd_then_adam`);
* the course's recurrent cells, a layer check's case of one and its ``torch.nn`` twin
  (:mod:`.lm_cases`: :func:`cell_case`, :func:`torch_cell`), and its recurrent language models'
  parameters by name (:func:`lm_shapes`), a layer check's case of one (:func:`lm_case`) and
  the check of the state one hands on (:func:`lm_final_state_check`);
* a neural language model's quick budget on State of the Union declared as data and its
  perplexity check (:mod:`.sotu_lm`: :class:`SotuLM`, :func:`sotu_perplexity_checks` over
  :func:`sotu_lm_plan`);
* the value check of a student's cutting of a stream into truncated-BPTT windows
  (:mod:`.windows_check`: :func:`windows_check`);
* the fixed-window network of the course (the window classifier, the fixed-window LM): its
  parameters by name, a layer check's case of it and its torch forward (:mod:`.window_cases`:
  :func:`window_shapes`, :func:`window_case`, :func:`torch_window`; both
  as the layer checks' arguments for a model of it, :func:`window_network`);
* the recurrent sentence classifier of the course (language_models' RNN encoder and its
  classifier, rnn_variants' BiLSTM): its parameters by name, a layer check's case of it over
  padded sentences and its torch forward over packed sequences (:mod:`.sentence_cases`:
  :func:`sentence_shapes`, :func:`sentence_case`, :func:`torch_sentence`; a layer check's
  variant of one pooling, :func:`sentence_variant`).
"""

from nlpdojo_autograder.training.bptt_oracle import torch_lm, truncated_bptt_losses
from nlpdojo_autograder.training.checkpoint import (
    Checkpoint,
    CheckpointFiles,
    load_parameters,
    read_checkpoint,
    read_meta,
    restore,
    save_checkpoint,
    save_training,
)
from nlpdojo_autograder.training.commands import (
    ModelKind,
    ModelRegistry,
    Run,
    check_finite,
    check_rate,
    require_records,
    resume_epoch,
    run_epochs,
    run_training,
    say,
)
from nlpdojo_autograder.training.evaluate import (
    accuracy,
    accuracy_metric,
    majority_share,
    most_frequent_label_accuracy,
    perplexity,
    perplexity_metric,
    unigram_perplexity,
)
from nlpdojo_autograder.training.generate import TrainedLM, add_sample_command, generate
from nlpdojo_autograder.training.lm_cases import (
    LM_FINAL_STATE_HINT,
    cell_case,
    lm_case,
    lm_final_state_check,
    lm_shapes,
    torch_cell,
)
from nlpdojo_autograder.training.loop_runs import (
    OPTIMIZER_STATE_MISTAKES,
    LoopRun,
    checked_runs,
    loop_check,
    loop_draws,
    name_the_loop_mistake,
    sgd_then_adam,
)
from nlpdojo_autograder.training.neural_lm import (
    NeuralLM,
    neural_lm_kind,
    start_bptt,
    stream_scores,
)
from nlpdojo_autograder.training.plans import (
    TRAINED,
    classifier_plan,
    language_model_plan,
    measured,
    mr_polarity_checks,
    mr_polarity_plan,
)
from nlpdojo_autograder.training.polarity import PolarityClassifier, polarity_kind
from nlpdojo_autograder.training.prepare import (
    EOS,
    SENTENCE_END,
    UNK,
    SentenceData,
    TokenStreams,
    heldout_rng,
    labelled_sentences,
    pad_rows,
    sample_indices,
    sentence_matrices,
    sentence_tokens,
    stream_targets,
    stretch,
    take,
    token_ids,
    token_streams,
    training_seed,
    vocabulary,
)
from nlpdojo_autograder.training.sentence_cases import (
    BOTH_WAYS,
    sentence_case,
    sentence_shapes,
    sentence_variant,
    torch_sentence,
)
from nlpdojo_autograder.training.sotu_lm import (
    SotuLM,
    sotu_lm_plan,
    sotu_perplexity_checks,
    sotu_shapes,
)
from nlpdojo_autograder.training.tagging import (
    PAD_ID,
    UNK_ID,
    TaggingData,
    most_frequent_tag_accuracy,
    tagged_sentences,
    tagging_data,
)
from nlpdojo_autograder.training.train import (
    OUTPUT_RULE,
    OUTPUTS_ENV,
    CodeChoice,
    TopicCode,
    TrainError,
    check_output,
    input_path,
    output_path,
    outputs_root,
    require_datasets,
    shown_output,
    solutions_installed,
)
from nlpdojo_autograder.training.trained import (
    FLOAT64,
    LOSSES,
    PARAM,
    TrainingPlan,
    audit,
    initial_parameters,
    is_float64,
    train_and_measure,
)
from nlpdojo_autograder.training.window_cases import (
    torch_window,
    window_case,
    window_network,
    window_shapes,
)
from nlpdojo_autograder.training.windows_check import windows_check

__all__ = [
    "truncated_bptt_losses", "torch_lm", "OPTIMIZER_STATE_MISTAKES", "LoopRun", "checked_runs",
    "loop_check", "loop_draws", "name_the_loop_mistake", "lm_case", "lm_shapes",
    "cell_case", "torch_cell", "lm_final_state_check", "LM_FINAL_STATE_HINT", "sgd_then_adam",
    "SotuLM", "sotu_lm_plan", "sotu_perplexity_checks", "sotu_shapes", "windows_check",
    "torch_window", "window_case", "window_network", "window_shapes", "sentence_case",
    "sentence_shapes", "torch_sentence", "sentence_variant", "BOTH_WAYS",
    "EOS", "FLOAT64", "LOSSES", "OUTPUTS_ENV", "OUTPUT_RULE", "PARAM", "SENTENCE_END",
    "TRAINED", "UNK", "PAD_ID", "UNK_ID", "TaggingData", "most_frequent_tag_accuracy",
    "tagged_sentences", "tagging_data", "Checkpoint", "CheckpointFiles", "CodeChoice", "ModelKind",
    "ModelRegistry", "NeuralLM", "PolarityClassifier", "Run", "SentenceData", "TokenStreams",
    "TopicCode", "TrainError", "TrainedLM", "TrainingPlan", "accuracy", "accuracy_metric",
    "add_sample_command", "audit", "check_finite", "check_output", "check_rate", "classifier_plan",
    "generate", "heldout_rng", "initial_parameters", "input_path", "is_float64",
    "labelled_sentences", "language_model_plan", "load_parameters", "majority_share",
    "measured", "most_frequent_label_accuracy", "mr_polarity_checks", "mr_polarity_plan",
    "neural_lm_kind", "output_path", "outputs_root", "pad_rows", "perplexity",
    "perplexity_metric",
    "polarity_kind", "read_checkpoint", "read_meta", "require_datasets", "require_records",
    "restore",
    "resume_epoch", "run_epochs", "run_training", "sample_indices", "save_checkpoint",
    "save_training", "say", "sentence_matrices", "sentence_tokens", "shown_output",
    "solutions_installed", "start_bptt", "stream_scores", "stream_targets", "stretch", "take",
    "token_ids", "token_streams", "train_and_measure", "training_seed", "unigram_perplexity",
    "vocabulary",
]
