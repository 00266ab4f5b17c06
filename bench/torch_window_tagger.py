"""The peer of the window tagger in plain torch (no nlpdojo): the same architecture as
``nlpdojo_solutions.neural_networks.window.WindowClassifier`` (Collobert et al. 2011, the
window approach) — embedding (std 0.1 normal) → concatenation → Linear (Xavier uniform, zero
bias) → tanh → dropout → Linear — trained with ``F.cross_entropy`` and a ``torch.optim``
optimizer named and set as the course library's. Used by ``bench/window_tagger_step.py``
(speed) and ``bench/tagger_results.py`` (accuracy)."""

from __future__ import annotations

import numpy as np


def torch_optimizer(name: str, params, lr: float):
    """The torch.optim counterpart of the library's optimizer ``name``, torch's defaults
    otherwise (the library's defaults are torch's)."""
    import torch

    return {"sgd": lambda: torch.optim.SGD(params, lr=lr),
            "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
            "adagrad": lambda: torch.optim.Adagrad(params, lr=lr, eps=1e-10),
            "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8),
            "adam": lambda: torch.optim.Adam(params, lr=lr)}[name]()


def make_model(vocab: int, window: int, dim: int, hidden: int, n_tags: int, *,
               dropout: float = 0.0, seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Embedding(vocab, dim), nn.Flatten(),  # (B, W) -> (B, W·D)
                          nn.Linear(window * dim, hidden), nn.Tanh(), nn.Dropout(dropout),
                          nn.Linear(hidden, n_tags))
    with torch.no_grad():
        nn.init.normal_(model[0].weight, std=0.1)
        for layer in (model[2], model[5]):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def step(model, opt, x, y) -> float:
    """One training step on a batch: forward, cross-entropy, backward, update."""
    import torch.nn.functional as F

    opt.zero_grad(set_to_none=False)
    loss = F.cross_entropy(model(x), y)  # ()
    loss.backward()
    opt.step()
    return loss.item()


def train_and_predict(train_windows: np.ndarray, train_tags: np.ndarray,
                      test_windows: np.ndarray, *, vocab_size: int, n_tags: int, dim: int,
                      hidden: int, dropout: float, optimizer: str, lr: float, epochs: int,
                      batch_size: int, seed: int) -> tuple[np.ndarray, list[float]]:
    """The tagger's training loop (the given ``tagger.train_epochs``: epoch e shuffled from
    ``(seed, e)``), in torch: the predicted test tags and the loss of every step."""
    import torch

    model = make_model(vocab_size, train_windows.shape[1], dim, hidden, n_tags,
                       dropout=dropout, seed=seed)
    opt = torch_optimizer(optimizer, model.parameters(), lr)
    xs, ys = torch.as_tensor(train_windows), torch.as_tensor(train_tags)
    losses = []
    model.train()
    for epoch in range(epochs):
        order = torch.as_tensor(np.random.default_rng([seed, epoch]).permutation(len(xs)))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            losses.append(step(model, opt, xs[batch], ys[batch]))
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(torch.as_tensor(test_windows[i:i + 4096])).argmax(1)
                               for i in range(0, len(test_windows), 4096)])
    return predicted.numpy(), losses
