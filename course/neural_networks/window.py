"""The window classifier (CS224n lecture 3, notes part III; Collobert et al. 2011): an
embedding of each word of a window, concatenated, an affine layer, tanh and an affine output,
built from the course library's layers (the reference's, swapped in), checked as a layer,
also applied twice before backward, and with dropout on its hidden activations (the dropout
builder's variant, :func:`~nlpdojo_autograder.authoring.builders.dropout.dropout_variant`).
Its cases and torch forward are the training kit's fixed-window network's
(:func:`~nlpdojo_autograder.training.window_network`), which language_models' window LM is
too, with the vocabulary as its classes."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Question, layer_checks
from nlpdojo_autograder.authoring.builders.dropout import dropout_variant
from nlpdojo_autograder.training import window_case, window_network
from nlpdojo_course.neural_networks.activations import TANH
from nlpdojo_course.neural_networks.layers import AFFINE, DROPOUT, EMBEDDING

VW, WIN, DW, HW, CW = 10, 3, 2, 5, 4  # vocabulary, window, embedding dim, hidden, classes
#: the dropout rate of the checks with dropout on is drawn per grading between these (a rate
#: written in, not the constructor's, fails: the usual 0.5 lies outside)
WINDOW_DROPOUT = (0.2, 0.45)
#: (V, window, D, H, N) at scale and its classes: 173,059 parameters (builders' ``at_scale``:
#: a backward that differentiates the forward numerically cannot finish there); the window and
#: the classes others than the cases' (a WindowClassifier with a window of 3 or 4 classes
#: written in kept its points where every case had them)
AT_SCALE, CLASSES_AT_SCALE = (4096, 5, 32, 256, 256), 3


#: every sub-layer's method is the reference's, called back through the grader (swap-in): the
#: repeated gradient check makes thousands of such calls (7.5 s with 3 applications on a quiet
#: machine; 2 applications before backward already catch state kept on self)
WINDOW_TIMEOUT_S = 120.0
#: what a failed check with dropout on adds
DROPOUT_HINT = ("apply self.dropout once per forward, to the hidden activations a = tanh(z) "
                "before the output layer, and back through it (with that call's cache) in "
                "backward; the model's own self.dropout, built once in __init__, whose masks "
                "advance from call to call (a Dropout built in forward draws its first mask "
                "again at every call); in eval mode it must change nothing")


WINDOW_CLASSIFIER = Question(
    "window_classifier", "The window classifier", code="window",
    requires=(EMBEDDING, AFFINE, TANH, DROPOUT),
    checks=layer_checks(
        "WindowClassifier", title="WindowClassifier", points=3.0, repeat=2,
        timeout_s=WINDOW_TIMEOUT_S, **window_network(
            (VW, WIN, DW, HW, 6), AT_SCALE, classes=CW, at_scale_classes=CLASSES_AT_SCALE),
        # dropout on the hidden activations, in training (the masks are drawn from the layer's
        # seed and call count, so the reference draws the same) and in eval mode (none at all)
        variants={"dropout": dropout_variant(
            window_case(VW, WIN, DW, HW, 6, classes=CW, dropout=WINDOW_DROPOUT),
            "WindowClassifier with dropout (its rate drawn)", 1.0, hint=DROPOUT_HINT,
            at_scale=window_case(*AT_SCALE, classes=CLASSES_AT_SCALE, std=0.1,
                                 dropout=WINDOW_DROPOUT))}))

QUESTIONS = [WINDOW_CLASSIFIER]
