"""Given code: training the regressor with the library's loss and optimizer (no question)."""

from __future__ import annotations

from ..library.losses import MSE
from ..library.optim import Momentum
from .regressor import Regressor


def fit(backend, x, y, *, hidden: int = 8, steps: int = 150, lr: float = 0.05,
        seed: int = 0) -> float:
    """Full-batch training of a Regressor on (x, y); the final training loss."""
    model = Regressor(backend, x.shape[1], hidden, seed=seed)
    loss_fn = MSE(backend)
    optimizer = Momentum(model.parameters(), lr=lr, momentum=0.9)
    inputs, targets = backend.asarray(x), backend.asarray(y)
    loss = None
    for _ in range(steps):
        optimizer.zero_grad()
        prediction, cache = model(inputs)
        loss, loss_cache = loss_fn(prediction, targets)
        model.backward(loss_fn.backward(1.0, loss_cache), cache)
        optimizer.step()
    return float(loss)
