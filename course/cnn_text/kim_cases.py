"""The case of Kim (2014)'s sentence CNNs (CS224n lecture 11), for both of its questions:
``SentenceCNN`` (:mod:`.classifier`) and ``MultichannelCNN`` (:mod:`.multichannel`, its static
table drawn too), over a padded batch whose filter widths each grading draws, one sentence a
single word that only the wide convolution's zeros give windows."""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo_autograder.authoring import Context, LayerCase, settings_rng
from nlpdojo_autograder.authoring.inputs import padded_sentences, setting, settled

#: as many filters as embedding dimensions in every case let a SentenceCNN that took one for the
#: other keep full marks, and two classes in every case one with 2 written in: F ≠ D, and
#: the case at scale has another C. V words of D dimensions, F filters a width, C classes, B
#: sentences of T positions; the weights at ``std``
CASE = {"V": 5, "D": 2, "F": 3, "T": 5, "B": 3, "C": 2, "std": 0.7}
#: at scale: about 140,000 parameters (builders' ``at_scale``: a backward that differentiates
#: the forward numerically cannot finish there), over a batch of 256 sentences, so that the
#: reference's CPU time there is its arithmetic: at 3 sentences it was the fixed cost of a
#: call, and an attacker's backward by forwards on bumps (a row of the output layer for every
#: class, a filter bank's row for every filter, a word's row for all its occurrences) ran in
#: 0.04-0.22 s, under the 1 s floor (3 of 3)
AT_SCALE = {"V": 4096, "D": 32, "F": 40, "T": 10, "B": 256, "C": 3, "std": 0.1}
#: the filter widths of a grading, one set drawn from these (settings_rng): a SentenceCNN
#: whose pooling lengths were written in for widths (2, 3) kept full marks where every check
#: had (2, 3); no set here starts with (2, 3) nor shares a pattern of lengths with another
WIDTH_SETS = ((1, 3), (2, 4), (3, 4), (1, 2, 4), (1, 3, 4), (2, 4, 5), (3, 5))
#: the word of the one-word sentence (row 1), whatever the draw
LONE_WORD = 1
#: the dropout check's rate, drawn per grading from a range that leaves out Kim's 0.5 (a number
#: a model might write in)
DROPOUT = setting(0.25, 0.45)


def drawn_widths(ctx: Context) -> tuple[int, ...]:
    """The filter widths of this grading's Kim CNN cases (one of :data:`WIDTH_SETS`)."""
    return WIDTH_SETS[int(settings_rng(ctx).integers(len(WIDTH_SETS)))]


def cnn_params(rng: np.random.Generator, widths: tuple[int, ...], d: int, f: int,
               classes: int, std: float) -> dict[str, np.ndarray]:
    """The convolutions' and the output layer's parameters of a case, drawn after the
    embedding. Filter 0 of every width answers the one-word sentence (whose word's vector the
    case makes all ones) below its own bias, so the padding's outputs (ReLU of the bias) would
    win its max on every draw; its taps are of unequal weight: equal ones would tie windows of
    the same words in another order, and a gradient check at a tie of the max differentiates a
    kink."""
    params = {}
    for j, k in enumerate(widths):
        params[f"convs.{j}.weight"] = std * rng.standard_normal((k, d, f))
        params[f"convs.{j}.bias"] = 0.3 * rng.standard_normal(f)
    for j, k in enumerate(widths):
        params[f"convs.{j}.weight"][:, :, 0] = -0.8 - 0.15 * np.arange(k)[:, None]
        params[f"convs.{j}.bias"][0] = 1.0
    return {**params, "output.weight": rng.standard_normal((f * len(widths), classes)),
            "output.bias": rng.standard_normal(classes)}


def kim_case(dropout: Any, sizes: dict = CASE, static: bool = False):
    """The layer case of Kim's CNN at ``sizes``; ``dropout`` a rate, or a ``setting`` drawn per
    grading. ``static``: the multichannel CNN's, its static table (an argument) drawn before
    the fine-tuned one, the one-word sentence's vector split between them."""
    v, d, f, t, b, classes, std = (sizes[n] for n in ("V", "D", "F", "T", "B", "C", "std"))

    def make(ctx: Context) -> LayerCase:
        rng, widths = ctx.rng(), drawn_widths(ctx)
        tables = [rng.standard_normal((v, d)) for _ in range(1 + static)]  # [static,] tuned
        params = {"embedding.weight": tables[-1], **cnn_params(rng, widths, d, f, classes, std)}
        # the word's vector, the channels added, is all ones: see cnn_params
        for table, share in zip(tables, (0.4, 0.6) if static else (1.0,), strict=True):
            table[LONE_WORD] = share
        return LayerCase(args=(ctx.backend, ctx.asarray(tables[0]), classes) if static
                         else (ctx.backend, v, d, classes),
                         kwargs={"widths": widths, "filters": f, "dropout": settled(ctx, dropout)},
                         torch_kwargs={"widths": widths, **({"static": tables[0]} if static
                                                            else {})},
                         sizes=frozenset({"filters"}), params=params,
                         # row 1 a single word, shorter than every filter: only the wide
                         # convolution's zeros give it windows
                         inputs=padded_sentences(v, b, t, low=1, lone_word=LONE_WORD),
                         # vectorized over time too (a padding mask built a position at a
                         # time kept 3 of 3: a helper's trial)
                         longer=lambda r, factor: (padded_sentences(
                             v, b, t * factor, low=1, lone_word=LONE_WORD)(r), None),
                         differentiable=(), names=("ids", "lengths"))
    return make
