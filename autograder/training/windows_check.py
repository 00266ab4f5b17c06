"""The value check of a student's cutting of a token stream into truncated-BPTT windows (CS224n
lecture 6, "Training an RNN language model"; Zaremba et al. 2014's batching): the stream split
into B parallel streams, each cut into windows of T steps, the targets the inputs moved one
token on. The streams it cuts are drawn here (:data:`WINDOW_DRAWS`); every window must be the
reference's exactly, and cut by reshapes, its lines of Python not growing with the stream
(:func:`~nlpdojo_autograder.authoring.require_vectorized`: a helper's triple loop over the
windows, rows and tokens kept every point of the question).
"""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import Check, Context, require_vectorized, value_check

#: the streams cut, (N tokens, B streams, T steps) each, rows of L = N // B tokens: N = 61
#: drops a token (N mod B) and each row's last 3 after its K = (L − 1) // T whole windows; N =
#: 50 cuts rows of 10 into one window of 9 whose last target is the row's last token; B = 1
#: is a single stream
WINDOW_DRAWS = ((61, 3, 4), (100, 4, 7), (37, 1, 5), (50, 5, 9))
#: the ids are drawn in [0, ID_RANGE)
ID_RANGE = 1000


def windows_check(check: str, title: str, points: float, *,
                  function: str = "bptt_windows") -> Check:
    """A value check of the question's ``function(ids, B, T)``, which returns the
    ``inputs`` and ``targets`` of every window: each of :data:`WINDOW_DRAWS` cut from random
    ids, both compared with the reference's exactly (``"N=61, B=3, T=4: targets"``)."""
    def collect(ctx: Context) -> dict[str, np.ndarray]:
        rng, out = ctx.rng(), {}
        cut = ctx.function(function)
        for n, b, t in WINDOW_DRAWS:
            ids = rng.integers(0, ID_RANGE, n)
            inputs, targets = ctx.unpack(cut(ids, b, t), ["inputs", "targets"], function)
            out[f"N={n}, B={b}, T={t}: inputs"] = ctx.to_numpy(inputs, f"{function}' inputs")
            out[f"N={n}, B={b}, T={t}: targets"] = ctx.to_numpy(targets,
                                                                f"{function}' targets")
        # the READMEs' "with reshapes only (no Python loop)"
        require_vectorized(ctx, None, function, lambda n: (
            np.random.default_rng([ctx.seed, n]).integers(0, ID_RANGE, n), 4, 8),
            items="tokens")
        return out

    return value_check(check, title, points, collect, rtol=0, atol=0)
