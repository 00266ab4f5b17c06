"""What cnn_text adds to earlier topics' training commands: Kim (2014)'s sentence CNN in
``dojo train polarity --model cnn`` (CS224n lecture 11, "Single layer CNN for sentence
classification"), trained by this topic's given ``polarity_training`` with the graded
``cnn_polarity`` check's budget as defaults (widths 3, 4, 5, dropout 0.5, the output weight
kept in the max-norm ball), and the character-aware tagger in ``dojo train tagger --model
char`` (:mod:`.char_tagger_kind`). They join language_models' and neural_networks' commands
through the ``register_model_kinds`` hook, importing nothing of those topics; the training
kit's :func:`~nlpdojo_autograder.training.polarity_kind` does the CNN's data, scoring and
checkpoint.
"""

from __future__ import annotations

from nlpdojo_autograder.training import CheckpointFiles, polarity_kind
from nlpdojo_course.cnn_text.classifier import BUDGET, SIZES

TOPIC = "cnn_text"
CNN = polarity_kind(
    "cnn", "Kim's CNN, widths 3-5, max-over-time pooling, dropout",
    "polarity_training", BUDGET, SIZES, topic=TOPIC,
    files=CheckpointFiles("dojo train polarity", "dojo train polarity --model cnn"))
#: (trainer, model) → the kind's "module:attribute", for the hook: Kim's CNN in
#: ``dojo train polarity``, the character-aware tagger in ``dojo train tagger``
#: (:mod:`.char_tagger_kind`, imported when chosen)
KINDS = {("polarity", "cnn"): f"{__name__}:CNN",
         ("tagger", "char"): "nlpdojo_course.cnn_text.char_tagger_kind:CHAR"}
