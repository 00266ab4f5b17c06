"""The planted bugs of :mod:`nlpdojo_course.neural_networks.activations`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

from ..activations import ACT

BUGS = [
    bug("sigmoid derivative without (1 - y)", ACT, "return grad_output * y * (1.0 - y)",
        "return grad_output * y", "sigmoid"),
    bug("sigmoid as e^z / (1 + e^z) everywhere: inf / inf for large z", ACT,
        "y = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "y = xp.exp(x) / (1.0 + xp.exp(x))", "sigmoid"),
    bug("the textbook sigmoid 1 / (1 + e^-z): finite, after e^800 = inf", ACT,
        "y = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "y = 1.0 / (1.0 + xp.exp(-x))", "sigmoid"),
    bug("tanh derivative 1 - y", ACT, "return grad_output * (1.0 - y * y)",
        "return grad_output * (1.0 - y)", "tanh"),
    bug("tanh as (e^2x − 1) / (e^2x + 1): NaN past x = 355", ACT,
        "y = self.xp.tanh(x)  # (...)",
        "y = (self.xp.exp(2.0 * x) - 1.0) / (self.xp.exp(2.0 * x) + 1.0)  # (...)", "tanh",
        says="your tanh returns NaN"),
    bug("hard tanh passes gradients above 1", ACT,
        "inside = (x > -1.0) & (x < 1.0)", "inside = x > -1.0", "hard_tanh"),
    bug("hard tanh's derivative 1 at its kinks", ACT,
        "inside = (x > -1.0) & (x < 1.0)", "inside = (x >= -1.0) & (x <= 1.0)", "hard_tanh"),
    bug("soft sign derivative not squared", ACT, "return grad_output / (d * d)",
        "return grad_output / d", "soft_sign"),
    bug("relu passes every gradient", ACT,
        "return grad_output * self.xp.astype(x > 0, grad_output.dtype)",
        "return grad_output * 1.0", "relu"),
    bug("relu zeroes the caller's input in place", ACT,
        "        y = self.xp.maximum(x, 0.0)  # (...): one pass\n",
        "        x[x < 0] = 0.0\n        y = x  # (...)\n", "relu"),
    bug("relu'(0) = 1", ACT,
        "return grad_output * self.xp.astype(x > 0, grad_output.dtype)",
        "return grad_output * self.xp.astype(x >= 0, grad_output.dtype)", "relu"),
    bug("leaky relu's derivative 1 at 0", ACT,
        "return self.xp.where(x > 0, grad_output, self.negative_slope * grad_output)",
        "return self.xp.where(x >= 0, grad_output, self.negative_slope * grad_output)",
        "leaky_relu"),
    bug("leaky relu's slope written in, not its constructor's", ACT,
        "y = self.xp.where(x > 0, x, self.negative_slope * x)",
        "y = self.xp.where(x > 0, x, 0.1 * x)", "leaky_relu"),
    bug("leaky relu forgets its slope in backward", ACT,
        "return self.xp.where(x > 0, grad_output, self.negative_slope * grad_output)",
        "return self.xp.where(x > 0, grad_output, 0.0 * grad_output)", "leaky_relu"),
]
