"""The fixed-window neural language model (CS224n lecture 6, "A fixed-window neural language
model"; Bengio et al. 2003): its layer checks, and its training under a small fixed budget on
State of the Union addresses, measured by the grader (:mod:`.measure`) like the RNN LM's. Its
case and torch forward are the training kit's fixed-window network's
(:func:`~nlpdojo_autograder.training.window_network`), neural_networks' window classifier with
the vocabulary as its classes.
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import Question, layer_checks
from nlpdojo_autograder.training import sotu_perplexity_checks, window_network
from nlpdojo_course.language_models.measure import HELD_OUT_WHY, WINDOW_RUN
from nlpdojo_course.language_models.rnn import LIBRARY, NN, SEQUENCE_TIMEOUT_S

V_W, CONTEXT, D_W, H_W = 10, 3, 2, 5
#: (V, context, D, H, N) at scale: 346,240 parameters (builders' ``at_scale``: a backward that
#: differentiates the forward numerically cannot finish there), a context of another length
#: than the cases' (a WindowLM with 3 written in kept its points)
AT_SCALE = (2048, 4, 32, 128, 256)


WINDOW_LM = Question(
    "window_lm", "Fixed-window neural language model",
    checks=[
        # directions: every parameter is a swapped-in layer's, so the wiring is what is checked
        layer_checks("WindowLM", title="WindowLM", points=2.5, timeout_s=SEQUENCE_TIMEOUT_S,
                     directions=True, **window_network((V_W, CONTEXT, D_W, H_W, 6), AT_SCALE)),
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
