"""The planted bugs of :mod:`nlpdojo_course.cnn_text.normalization`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

#: the two updates of the running statistics in the reference (what three planted bugs change)
UPDATES = ("self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean\n"
           "            self.running_var = ((1 - self.momentum) * self.running_var\n"
           "                                 + self.momentum * var * (m / (m - 1)))")


BUGS = [
    # right statistics, a Python loop over the positions: the time rule fails it
    bug("the batch mean of sequences summed a position at a time",
        "mean = «xp.mean(x, axis=axes) → (xp.mean(x, axis=axes) if x.ndim == 2 else sum(\n"
        "                xp.mean(x[:, t, :], axis=0) for t in range(x.shape[1])) / x.shape[1])»"
        "  # (C,)", says="a Python loop over the positions"),
    bug("the statistics of each position over its channels (layer normalisation, not batch "
        "normalisation)", "mean = xp.mean(x, axis=«axes → -1, keepdims=True»)  # (C,)\n"
        "            var = xp.mean((x - mean) ** 2, axis=«axes → -1, keepdims=True»)",
        says="layer normalisation"),
    bug("the batch normalised with the unbiased variance", "var = xp.«mean → sum»((x - mean) ** "
        "2, axis=axes)« →  / (m - 1)»", says="normalised with the unbiased variance"),
    bug("backward without the paths through the batch's mean and variance",
        "return scale * «(grad_output - xp.mean(grad_output, axis=axes)\n"
        "                        - x_hat * xp.mean(grad_output * x_hat, axis=axes)) → grad_output»",
        says="mean and variance for constants"),
    bug("the forward's axes (0, 1) written in: (N, C) inputs break",
        "        axes = «tuple(range(x.ndim - 1) → (0, 1»)\n        m = math.prod", by=("torch",)),
    bug("the running variance's m / (m − 1) of 12 values written in",
        "+ self.momentum * var * («m / (m - 1) → 12 / 11»))", by=("running",)),
    bug("the training backward in eval mode (the statistics' paths kept)",
        "«        if not training:  # the running statistics are constants\n"
        "            return grad_output * scale\n → »",
        says="the training backward used in eval mode"),
    bug("backward without the path through the batch's variance",
        "\n                        - x_hat * xp.mean(grad_output * x_hat, axis=axes))", ")",
        says="path through the batch's variance"),
    bug("backward without the path through the batch's mean", "return scale * (grad_output« - "
        "xp.mean(grad_output, axis=axes) → »", says="path through the batch's mean:"),
    bug("the running variance fed with the biased batch variance",
        "self.momentum * var« * (m / (m - 1)) → »)", says="biased batch variance"),
    bug("the batch's own statistics used in eval mode", "        if «self.training → True»:\n"
        "            mean = xp.mean(x, axis=axes)", says="eval batch's own mean"),
    bug("the momentum weighing the old running mean and variance", UPDATES,
        "self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean\n"
        "            self.running_var = (self.momentum * self.running_var\n"
        "                                + (1 - self.momentum) * var * (m / (m - 1)))",
        says="Keras's convention"),
    bug("the running statistics never updated", UPDATES, "pass",
        says="never updated in training"),
    bug("the running statistics updated by eval batches too",
        "else:\n« →             mean = xp.mean(x, axis=axes)\n"
        "            var = xp.mean((x - mean) ** 2, axis=axes)\n"
        f"            {UPDATES}\n»            mean, var = self.running_mean",
        says="updated in eval mode too"),
    bug("the momentum and eps written in, not the constructor's", "var + «self.eps → 1e-5»"),
    bug("the running statistics' momentum written in, not the constructor's", UPDATES,
        UPDATES.replace("self.momentum", "0.3")),
    bug("no gradient for γ and β in eval mode", "training = cache\n« →         if not training:\n"
        "            return grad_output * self.weight.data * inv_std\n»"),
    bug("backward over the axes (0, 1) written in: (N, C) inputs break",
        "axes = «tuple(range(grad_output.ndim - 1) → (0, 1»)"),
]
