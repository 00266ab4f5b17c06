"""The fixed-window neural language model (CS224n lecture 6, "A fixed-window neural language
model"): its layer checks, and its training under a small fixed budget on State of the Union
addresses, measured by the grader (:mod:`.measure`) like the RNN LM's.
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import Question, layer_checks
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import integers, normal
from nlpdojo_autograder.training import sotu_perplexity_checks
from nlpdojo_course.language_models.measure import HELD_OUT_WHY, WINDOW_RUN
from nlpdojo_course.language_models.rnn import LIBRARY, NN, SEQUENCE_TIMEOUT_S, torch_module

V_W, CONTEXT, D_W, H_W = 10, 3, 2, 5


def _window_lm_at(v: int, d: int, h: int, n: int, std: float = 1.0, context: int = CONTEXT):
    return layer_case(v, context, d, h, params={
        "embedding.weight": normal(v, d), "hidden.weight": normal(context * d, h, scale=std),
        "hidden.bias": normal(h), "output.weight": normal(h, v, scale=std),
        "output.bias": normal(v)},
        inputs=(integers(v, n, context, repeated=True),), differentiable=())


_window_lm = _window_lm_at(V_W, D_W, H_W, 6)
#: (V, D, H, N) at scale, windows of CONTEXT_AT_SCALE words: 346,240 parameters (builders'
#: ``at_scale``: a backward that differentiates the forward numerically cannot finish there)
AT_SCALE = (2048, 32, 128, 256)
#: a context of another length than the cases' (a WindowLM with 3 written in kept its points)
CONTEXT_AT_SCALE = 4


def _torch_window_lm(p, ids):
    e = p["embedding.weight"][ids].reshape(ids.shape[0], -1)  # (N, (n−1)·D)
    return torch_module().tanh(e @ p["hidden.weight"] + p["hidden.bias"]) @ p["output.weight"] \
        + p["output.bias"]


WINDOW_LM = Question(
    "window_lm", "Fixed-window neural language model",
    checks=[
        layer_checks("WindowLM", _window_lm, title="WindowLM",
                     points=2.5, torch=_torch_window_lm, timeout_s=SEQUENCE_TIMEOUT_S,
                     directions=True,  # every parameter a swapped-in layer's: the wiring
                     at_scale=_window_lm_at(*AT_SCALE, std=0.1, context=CONTEXT_AT_SCALE)),
        sotu_perplexity_checks(
            WINDOW_RUN, "Fixed-window LM on State of the Union addresses", 1.5,
            budget="State of the Union: 40 addresses, 2,000-token vocabulary, windows of 3 "
                   "words, 300 steps of Adam (lr 0.01, batches of 256)",
            hint="the training runs your WindowLM with your own Embedding, Linear, Tanh, "
                 "SoftmaxCrossEntropy and Adam (neural_networks): their own checks say which "
                 "one is wrong", why=HELD_OUT_WHY, own_code=(f"{NN}.tanh", *LIBRARY)),
    ],
    requires=(f"{NN}.tanh", *LIBRARY), datasets=("sotu",))

QUESTIONS = [WINDOW_LM]
