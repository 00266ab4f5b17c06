"""L2 regularisation (CS224n notes part III, "Regularization").

J_R = J + λ Σ_W ‖W‖²_F over the weight matrices: it keeps weights small, which limits how
sharply the model can fit the training data (overfitting). Biases are not regularised: they
shift a unit's input but do not scale it, so shrinking them buys nothing and can underfit.
Here a weight is any parameter of two or more dimensions (weight matrices, the embedding);
biases have one.
"""

from __future__ import annotations

from array_api_compat import array_namespace, device

from nlpdojo.backend import Array

__all__ = ["l2_penalty"]


def l2_penalty(params: dict[str, Array], lam: float) -> tuple[Array, dict[str, Array]]:
    """``(penalty, grads)``: λ Σ ‖W‖²_F over the entries of ``params`` (name -> array, as
    ``{n: p.data for n, p in model.named_parameters()}``) with two or more dimensions, as a
    0-d array, and the gradient of the penalty for *every* entry (2λW for a weight, zeros for
    a bias), to be added into each parameter's grad."""
    xp = array_namespace(*params.values())
    first = next(iter(params.values()))
    raise NotImplementedError("neural_networks.l2: not implemented yet — replace this line with your code")
