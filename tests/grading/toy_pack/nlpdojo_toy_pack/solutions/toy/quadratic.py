"""Question ``quadratic``: L = 0.5 * ||scale(W, 2) x||^2 and dL/dW, built on ``scale``."""

from array_api_compat import array_namespace

from .scale import scale


def quadratic_loss_and_gradient(W, x):
    """``W`` (M, N), ``x`` (N,) -> (loss, dL/dW (M, N))."""
    xp = array_namespace(W)
    ### BEGIN SOLUTION quadratic
    y = xp.matmul(scale(W, 2.0), x)  # (M,)
    loss = 0.5 * float(xp.sum(y * y))
    grad = 2.0 * y[:, None] * x[None, :]  # (M, N)
    return loss, grad
    ### END SOLUTION
