"""The planted bugs of :mod:`nlpdojo_course.neural_networks.layers`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("Xavier bound from fan_in alone",
        "bound = math.sqrt(«6.0 / (fan_in + fan_out) → 1.0 / fan_in»)", by=("statistics",)),
    bug("Xavier draws -b, 0 and b: a uniform's bound and variance, not its shape",
        "«return → u =» backend.rng(seed).uniform((fan_in, fan_out), low=«-bound, high=bound) → "
        "0.0, high=1.0)\n    xp = backend.xp\n"
        "    return bound * (xp.astype(u > 5 / 6, u.dtype) - xp.astype(u < 1 / 6, u.dtype))»",
        by=("statistics",)),
    bug("Xavier bound written in for one size",
        "bound = math.sqrt(6.0 / «(fan_in + fan_out) → 500»)", by=("statistics",)),
    # a student trial: 0.05-0.25 % below b, within the 0.98 b the largest entry was held to
    # a student trial: 1 of 1, the statistics read after the values were made float64
    bug("Xavier drawn in float32 whatever the backend computes in",
        "return «backend.rng(seed).uniform((fan_in, fan_out), low=-bound, high=bound) → "
        "backend.xp.astype(backend.rng(seed).uniform((fan_in, fan_out), low=-bound, "
        "high=bound), backend.xp.float32)»", by=("statistics",), says="float32"),
    bug("Xavier bound from fan_in + fan_out + 1",
        "bound = math.sqrt(6.0 / (fan_in + fan_out« → + 1»))", by=("statistics",)),
    bug("weight gradient transposed", "xp.matrix_transpose(«x), grad_output → grad_output), x»"),
    bug("bias gradient averaged over the batch",
        "«xp.sum(grad_output, axis=0)  # (D_out, → xp.mean(grad_output, axis=0»)"),
    bug("Linear forward row by row in a Python loop", "self.xp.« → stack([self.xp.»matmul(x« → "
        "[i]», self.weight.data« → )\n                           for i in range(x.shape[0])]»)"),
    bug("dropout not rescaled", "mask = self.keep_mask(tuple(x.shape))« / (1.0 - self.p) → »",
        by=("scaling",)),
    bug("dropout's rate written in, not its constructor's",
        "mask = self.keep_mask(tuple(x.shape)) / «(1.0 - self.p) → 0.6»"),
    bug("dropout still active in eval mode", "if «not self.training or  → »self.p == 0.0:"),
    bug("embedding rows of repeated words overwritten",
        "«self.backend.scatter_add(self.weight.grad, flat, xp.reshape(grad_output, (-1, d))) → "
        "self.weight.grad[flat] = self.weight.grad[flat] + xp.reshape(grad_output, (-1, d))»",
        says="fancy indexing"),
    bug("embedding gradient overwritten, not accumulated", "« → self.weight.grad = "
        "xp.zeros_like(self.weight.data)\n        »self.backend.scatter_add(self.weight.grad"),
    # right values on NumPy, 0 on torch (torch's index_select takes a vector): the strict
    # pass refuses what torch refuses
    bug("rows taken with the (B, T) ids as they are, which torch refuses",
        "«rows = xp.take(self.weight.data, flat, axis=0)  # (M, D)\n"
        "        out = xp.reshape(rows, (*ids.shape, self.weight.data.shape[1])) → out = "
        "xp.take(self.weight.data, ids, axis=0)»", says="torch refuses this"),
    # a student trial: 2 of 2 while every case's ids were (B, T)
    bug("Embedding's output reshaped as (B, T, D) whatever the ids' shape",
        "out = xp.reshape(rows, «(*ids.shape, self.weight.data.shape[1]) → (ids.shape[0], "
        "ids.shape[1], self.weight.data.shape[1])»)", by=("values_flat",)),
]
