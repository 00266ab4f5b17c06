"""The window classifier (CS224n lecture 3, notes part III; Collobert et al. 2011): an
embedding of each word of a window, concatenated, an affine layer, tanh and an affine output,
built from the course library's layers (the reference's, swapped in), checked as a layer,
also applied twice before backward, and with dropout on its hidden activations."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Question, Variant, layer_checks
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import integers, normal, setting
from nlpdojo_course.neural_networks.activations import TANH
from nlpdojo_course.neural_networks.common import torch
from nlpdojo_course.neural_networks.layers import AFFINE, DROPOUT, EMBEDDING

VW, WIN, DW, HW, CW = 10, 3, 2, 5, 4  # vocabulary, window, embedding dim, hidden, classes
#: the dropout rate of the checks with dropout on is drawn per grading between these (a rate
#: written in, not the constructor's, fails: the usual 0.5 lies outside)
WINDOW_DROPOUT = (0.2, 0.45)


def _window_at(v: int, d: int, h: int, n: int, std: float = 1.0, win: int = WIN,
               classes: int = CW, dropout: bool = False):
    """The classifier's case; ``dropout``: with dropout on its hidden activations, at a rate
    drawn per grading (:data:`WINDOW_DROPOUT`)."""
    return layer_case(v, win, d, h, classes, params={
        "embedding.weight": normal(v, d), "hidden.weight": normal(win * d, h, scale=std),
        "hidden.bias": normal(h), "output.weight": normal(h, classes, scale=std),
        "output.bias": normal(classes)},
        kwargs={"dropout": setting(*WINDOW_DROPOUT)} if dropout else {},
        inputs=(integers(v, n, win, repeated=True),), differentiable=())


#: (V, D, H, N) at scale, with WIN_AT_SCALE and CLASSES_AT_SCALE: 173,059 parameters
#: (builders' ``at_scale``: a backward that differentiates the forward numerically cannot
#: finish there)
AT_SCALE = (4096, 32, 256, 256)
#: the window and the classes at scale: others than the cases' (a WindowClassifier with a
#: window of 3 or 4 classes written in kept its points where every case had them)
WIN_AT_SCALE, CLASSES_AT_SCALE = 5, 3


def _torch_window(p, ids):
    x = p["embedding.weight"][ids].reshape(ids.shape[0], -1)
    a = torch().tanh(x @ p["hidden.weight"] + p["hidden.bias"])
    return a @ p["output.weight"] + p["output.bias"]


#: every sub-layer's method is the reference's, called back through the grader (swap-in): the
#: repeated gradient check makes thousands of such calls (7.5 s with 3 applications on a quiet
#: machine; 2 applications before backward already catch state kept on self)
WINDOW_TIMEOUT_S = 120.0
#: what a failed check with dropout on adds
DROPOUT_HINT = ("apply self.dropout once per forward, to the hidden activations a = tanh(z) "
                "before the output layer, and back through it (with that call's cache) in "
                "backward; in eval mode it must change nothing")


def _at_scale(dropout: bool = False):
    return _window_at(*AT_SCALE, std=0.1, win=WIN_AT_SCALE, classes=CLASSES_AT_SCALE,
                      dropout=dropout)


WINDOW_CLASSIFIER = Question(
    "window_classifier", "The window classifier", code="window",
    requires=(EMBEDDING, AFFINE, TANH, DROPOUT),
    checks=layer_checks(
        "WindowClassifier", _window_at(VW, DW, HW, 6), title="WindowClassifier", points=3.0,
        torch=_torch_window, timeout_s=WINDOW_TIMEOUT_S, repeat=2, at_scale=_at_scale(),
        # dropout on the hidden activations, in training (the masks are drawn from the layer's
        # seed and call count, so the reference draws the same) and in eval mode (none at all)
        variants={"dropout": Variant(
            _window_at(VW, DW, HW, 6, dropout=True),
            "WindowClassifier with dropout (its rate drawn)", 1.0, only=("values", "eval"),
            names={"values": "dropout", "eval": "dropout_eval"}, torch=None, eval_mode=True,
            shares={"values": 0.5, "eval": 0.5}, at_scale=_at_scale(dropout=True),
            hints={"values": DROPOUT_HINT, "eval": DROPOUT_HINT})}))

QUESTIONS = [WINDOW_CLASSIFIER]
