"""The planted bugs of :mod:`nlpdojo_course.neural_networks.activations`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("sigmoid derivative without (1 - y)", "return grad_output * y« * (1.0 - y) → »"),
    bug("sigmoid as e^z / (1 + e^z) everywhere: inf / inf for large z",
        "y = «xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e → xp.exp(x) / (1.0 + xp.exp(x»))"),
    bug("the textbook sigmoid 1 / (1 + e^-z): finite, after e^800 = inf",
        "y = «xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e → 1.0 / (1.0 + xp.exp(-x»))"),
    bug("tanh derivative 1 - y", "return grad_output * (1.0 - y« * y → »)"),
    bug("tanh as (e^2x − 1) / (e^2x + 1): NaN past x = 355",
        "y = «self.xp.tanh(x) → (self.xp.exp(2.0 * x) - 1.0) / (self.xp.exp(2.0 * x) + 1.0)»",
        says="your tanh returns NaN"),
    bug("hard tanh passes gradients above 1", "inside = «(x > -1.0) & (x < 1.0) → x > -1.0»"),
    bug("hard tanh's derivative 1 at its kinks", "inside = (x >« → =» -1.0) & (x <« → =» 1.0)"),
    bug("soft sign derivative not squared", "return grad_output / «(d * d) → d»"),
    bug("relu passes every gradient",
        "return grad_output * «self.xp.astype(x > 0, grad_output.dtype) → 1.0»"),
    bug("relu zeroes the caller's input in place", "        «y = self.xp.maximum(x, 0.0)  # "
        "(...): one pass → x[x < 0] = 0.0\n        y = x  # (...)»"),
    bug("relu'(0) = 1", "return grad_output * self.xp.astype(x >« → =» 0, grad_output.dtype)"),
    bug("leaky relu's derivative 1 at 0", "return self.xp.where(x >« → =» 0, grad_output"),
    bug("leaky relu's slope written in, not its constructor's", "x, «self.negative_slope → 0.1»"),
    bug("leaky relu forgets its slope in backward", "grad_output, «self.negative_slope → 0.0»"),
]
