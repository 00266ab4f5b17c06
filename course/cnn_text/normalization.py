"""Batch normalisation (Ioffe and Szegedy 2015; CS224n lecture 11's toolkit for deep CNNs): the
course library's ``BatchNorm1d`` as a layer in training mode on sequences (B, T, C) whose
channels have means and scales far from 0 and 1, against ``torch.nn.functional.batch_norm``;
then its running statistics, judged by what eval mode computes after three training batches:
two eval calls on batches of another distribution, outputs and input gradients. The usual
mistakes with the running statistics (the biased variance kept, the momentum weighing the old
estimate, never updated, updated in eval too, the batch's statistics used in eval) are named
when that is what the outputs are. The reference equals ``torch.nn.BatchNorm1d``
(tests/cnn_text/test_batch_norm.py)."""

from __future__ import annotations

from functools import partial

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    Parity,
    Question,
    layer_checks,
    settings_rng,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_batch_norm
from nlpdojo_autograder.authoring.builders.train_eval import TrainEvalCase, train_eval_check
from nlpdojo_autograder.authoring.inputs import Draw, draw, normal, uniform

B, T, C = 3, 4, 3


def _settings(ctx: Context) -> tuple[float, float]:
    """``(momentum, eps)``, drawn per grading (never torch's defaults 0.1 and 1e-5): a layer
    that steps its running statistics, or normalises, with numbers written in fails."""
    rng = settings_rng(ctx)
    return (float(f"{rng.uniform(0.2, 0.6):.2f}"),
            float(f"{10 ** rng.uniform(-3.5, -2.5):.2g}"))


def _draws(r: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Channels with their own mean (−3..3) and scale (0.5..4), as features are."""
    return r.uniform(-3, 3, shape[-1]) + r.uniform(0.5, 4, shape[-1]) * r.standard_normal(shape)


#: the layer's momentum and eps, drawn per grading (:func:`_settings`)
MOMENTUM, EPS = (Draw(lambda ctx, rng, drawn, i=i: _settings(ctx)[i]) for i in (0, 1))


def _case_at(*shape: int):
    """Inputs of ``shape``: (B, T, C) sequences or (N, C) vectors, the channels last."""
    c = shape[-1]
    # sequences: vectorized over the positions too (statistics summed a position at a time
    # kept 2.5 of 2.5: a helper's trial)
    longer = None if len(shape) != 3 else (lambda factor: (draw(lambda r, drawn: _draws(
        r, (shape[0], shape[1] * factor, c))),))
    return layer_case(c, kwargs={"momentum": MOMENTUM, "eps": EPS}, torch_kwargs={"eps": EPS},
                      params={"weight": uniform(0.5, 2.0, c), "bias": normal(c)},
                      inputs=(draw(lambda r, drawn: _draws(r, shape)),), names=("x",),
                      over_time=longer)


#: (N, C) at scale, where the checks above take (B, T, C) (a backward summing over the axes
#: (0, 1) written in passes those only): 262,400 numbers to differentiate, 256 of them
#: parameters (builders' ``at_scale``: a backward that differentiates the forward
#: numerically, treating every number as a coordinate, cannot finish there)
AT_SCALE = (2048, 128)


def _torch_batch_norm(p, x, eps):
    """torch's batch norm in training mode on (N, C) vectors or (B, T, C) sequences
    (:func:`torch_batch_norm`)."""
    return torch_batch_norm(x, p["weight"], p["bias"], eps)


_torch_batch_norm.label = "torch.nn.functional.batch_norm"  # type: ignore[attr-defined]


def _normalised(p, x, eps, axes, unbiased):
    """γ ⊙ (x − mean) / √(var + eps) + β, the statistics over ``axes`` (the mistakes below)."""
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, unbiased=unbiased, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * p["weight"] + p["bias"]


#: the usual mistakes in training mode's forward, each written in torch (``forward_mistakes``)
FORWARD_MISTAKES = {
    "the batch normalised with the unbiased variance (divided by m − 1): the batch itself is "
    "normalised with the biased one, the mean of the squared deviations (only the running "
    "estimate takes the unbiased one)":
        lambda p, x, eps: _normalised(p, x, eps, tuple(range(x.dim() - 1)), True),
    "the statistics of each position over its channels (layer normalisation): batch "
    "normalisation takes each channel's over the batch and the positions":
        lambda p, x, eps: _normalised(p, x, eps, (-1,), False),
}


def _statistics_constant(mean_path: bool, var_path: bool):
    """Training mode's forward in torch with the right outputs whose backward leaves out the
    batch mean's path (``mean_path`` False), the variance's, or both, as a backward that takes
    them for constants does (``backward_mistakes``)."""
    def forward(p, x, eps):
        axes = tuple(range(x.dim() - 1))
        mean = x.mean(dim=axes, keepdim=True)
        mean = mean if mean_path else mean.detach()
        var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
        var = var if var_path else var.detach()
        return (x - mean) / (var + eps).sqrt() * p["weight"] + p["bias"]
    return forward


#: the usual mistakes in training mode's backward: the batch's statistics taken for constants
BACKWARD_MISTAKES = {
    "a backward that takes the batch's mean and variance for constants, dL/dx = γ/σ ⊙ dL/dy: "
    "both are functions of x, so dL/dx = γ/σ ⊙ (dL/dy − mean(dL/dy) − x̂ ⊙ mean(dL/dy ⊙ x̂)), "
    "the means over the batch (and positions)": _statistics_constant(False, False),
    "a backward that leaves out the path through the batch's mean: dL/dx = γ/σ ⊙ (dL/dy − "
    "mean(dL/dy) − x̂ ⊙ mean(dL/dy ⊙ x̂)), the mean(dL/dy) term is that path":
        _statistics_constant(False, True),
    "a backward that leaves out the path through the batch's variance: dL/dx = γ/σ ⊙ (dL/dy − "
    "mean(dL/dy) − x̂ ⊙ mean(dL/dy ⊙ x̂)), the x̂ ⊙ mean(dL/dy ⊙ x̂) term is that path":
        _statistics_constant(True, False),
}


# -- the running statistics, seen through eval mode --------------------------------------------
def _running(batches: list[np.ndarray], mistake: str, momentum: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """The running mean and variance after training on ``batches``, computed as ``mistake``
    does (a name of :data:`MISTAKES`; any other, torch's update, which the mistake "updated
    in eval" applies to the eval batches too)."""
    mean, var = np.zeros(C), np.ones(C)
    if mistake == "never updated":
        return mean, var
    new = 1 - momentum if mistake == "old weighted by momentum" else momentum
    for x in batches:
        flat = x.reshape(-1, C)
        batch_var = flat.var(axis=0, ddof=0 if mistake == "biased" else 1)
        mean = (1 - new) * mean + new * flat.mean(axis=0)
        var = (1 - new) * var + new * batch_var
    return mean, var


def _eval_outputs(case: TrainEvalCase, mistake: str) -> dict[str, np.ndarray]:
    """The eval calls' outputs and input gradients, and the parameters' gradients added up
    over them, that ``mistake`` (a name of :data:`MISTAKES`) gives on ``case``, the running
    statistics' case that the check's payload carries (:func:`train_eval_check`)."""
    gamma, beta = case.params["weight"], case.params["bias"]
    momentum, eps = case.kwargs["momentum"], case.kwargs["eps"]
    out = {"eval calls: dL/dγ": np.zeros(C), "eval calls: dL/dβ": np.zeros(C)}
    seen = list(case.train)
    for i, (x, g) in enumerate(zip(case.evals, case.grads, strict=True)):
        if mistake == "updated in eval":
            seen.append(x)
        mean, var = _running(seen, "exact" if mistake in ("updated in eval", "training backward")
                             else mistake, momentum)
        if mistake == "batch statistics":
            flat = x.reshape(-1, C)
            mean, var = flat.mean(axis=0), flat.var(axis=0)
        x_hat = (x - mean) / np.sqrt(var + eps)  # (2, T, C)
        out[f"eval call {i + 1}: y"] = gamma * x_hat + beta
        out[f"eval call {i + 1}: dL/dx"] = g * gamma / np.sqrt(var + eps)
        if mistake == "training backward":  # the paths through the batch's statistics kept
            out[f"eval call {i + 1}: dL/dx"] = gamma / np.sqrt(var + eps) * (
                g - g.mean(axis=(0, 1)) - x_hat * (g * x_hat).mean(axis=(0, 1)))
        # γ and β take gradients in eval mode too, added up over the calls (C,)
        out["eval calls: dL/dγ"] = out["eval calls: dL/dγ"] + (g * x_hat).sum(axis=(0, 1))
        out["eval calls: dL/dβ"] = out["eval calls: dL/dβ"] + g.sum(axis=(0, 1))
    return out


#: the usual mistakes, each by how :func:`_eval_outputs` computes it, and what to say
MISTAKES = {
    "biased": "the running variance fed with the biased batch variance (divided by m): the "
              "running estimate takes the unbiased one, m / (m − 1) σ², as torch does (the "
              "batch itself is still normalised with the biased σ²)",
    "old weighted by momentum": "the momentum weighing the old estimate, running ← momentum · "
                                "running + (1 − momentum) · batch (Keras's convention): here, "
                                "as in torch, momentum is the weight of the new batch",
    "never updated": "running statistics never updated in training: eval mode used the initial "
                     "mean 0 and variance 1",
    "updated in eval": "running statistics updated in eval mode too: only training batches "
                       "update them, eval mode reads them and changes nothing",
    "batch statistics": "the eval batch's own mean and variance used in eval mode: eval mode "
                        "normalises with the running estimates, so an example's output does not "
                        "depend on the rest of its batch",
    "training backward": "the training backward used in eval mode too: there μ and σ² are the "
                         "running estimates, constants, so dL/dx = γ · dL/dy / √(σ²_running "
                         "+ ε), without the paths through the batch's mean and variance",
}


def _running_case(ctx: Context) -> TrainEvalCase:
    """The running statistics' case: the layer at this grading's momentum and eps, three
    training batches, two eval batches of another distribution (1 + 2x) and their upstream
    gradients."""
    rng, (momentum, eps) = ctx.rng(), _settings(ctx)
    params = {"weight": rng.uniform(0.5, 2.0, C), "bias": rng.standard_normal(C)}
    # batches of other sizes (12, 10 and 5 values per channel; the last (N, C) vectors): one
    # m / (m − 1) written in for the cases' m = 12 kept full marks where all three had it
    train = [_draws(rng, shape) for shape in ((B, T, C), (2, 5, C), (5, C))]
    evals = [1.0 + 2.0 * _draws(rng, (2, T, C)) for _ in range(2)]
    # an eval-mode backward still gives γ and β their gradients (an attacker's left them out
    # and kept full marks where only outputs and dL/dx were compared): the check compares them
    return TrainEvalCase((C,), {"momentum": momentum, "eps": eps}, params, train, evals,
                         [rng.standard_normal(x.shape) for x in evals])


BATCH_NORM = Question(
    "batch_norm", "Batch normalisation: training, running statistics, eval",
    code="library/normalization", checks=[
        layer_checks("BatchNorm1d", _case_at(B, T, C),
                     title="BatchNorm1d in training on (B, T, C) sequences", points=1.25,
                     # eval mode is the running check's (a running-statistics mistake cost
                     # these checks' points too, under a title that says training: a trial)
                     eval_outputs=False,
                     torch=_torch_batch_norm, at_scale=_case_at(*AT_SCALE),
                     forward_mistakes=FORWARD_MISTAKES, backward_mistakes=BACKWARD_MISTAKES,
                     # the torch check's (N, C) vectors: the layer's other input shape in a
                     # case of its own, seen where a student grades too (a BatchNorm1d with
                     # the axes (0, 1) written in passed every check there, the case at
                     # scale, on (N, C), needing the reference)
                     parity=Parity(_case_at(8, C), "BatchNorm1d in training on (N, C) "
                                   "vectors, against torch.nn.functional.batch_norm", 0.25)),
        train_eval_check("running", "BatchNorm1d in eval mode after three training batches: "
                         "the running statistics", 1.0, "BatchNorm1d", _running_case,
                         symbols={"weight": "γ", "bias": "β"}, rtol=1e-8, atol=1e-10,
                         mistakes={what: partial(_eval_outputs, mistake=m)
                                   for m, what in MISTAKES.items()}),
    ])

QUESTIONS = [BATCH_NORM]
