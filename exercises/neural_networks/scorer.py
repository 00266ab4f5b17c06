"""Given code: a window scorer trained with the max-margin objective (CS224n notes part III,
"Maximum margin objective function"; Collobert et al. 2011, section 4's language model).

The notes' network s = Uᵀ f(Wx + b) gives one score to a window of words: your
:class:`~.window.WindowClassifier` with a single output (``n_classes=1``). A true window
("museums in Paris are amazing") should score at least 1 above a corrupted one whose center
word is replaced by a random word ("museums in gentle are amazing"): J = max(0, 1 − s + s_c),
your :class:`~..library.losses.MaxMargin` with the true window in column 0 and the corrupted
one in column 1. Nothing here is a question: the grader trains this loop under a small fixed
budget and asks how often a held-out window outscores its corrupted versions.
"""

from __future__ import annotations

import numpy as np

from nlpdojo.backend import Backend

from ..library import MaxMargin
from .tagger import OPTIMIZERS
from .window import WindowClassifier


def corrupt(windows: np.ndarray, words: np.ndarray) -> np.ndarray:
    """``windows`` (N, W) with the center word of row i replaced by ``words[i]``."""
    out = windows.copy()  # (N, W)
    out[:, windows.shape[1] // 2] = words
    return out


def train_scorer(backend: Backend, windows: np.ndarray, noise: np.ndarray, *,
                 vocab_size: int, dim: int = 50, hidden: int = 100, optimizer: str = "adam",
                 lr: float = 0.01, epochs: int = 1, batch_size: int = 64, seed: int = 0,
                 init: dict | None = None) -> tuple[WindowClassifier, list[float]]:
    """Train a one-output window scorer on true ``windows`` (N, W) against corrupted copies
    whose center words are drawn, afresh every batch, from the distribution ``noise`` (V,)
    over the vocabulary, from ``init``'s parameters where given. Returns the model and the
    loss of every step."""
    model = WindowClassifier(backend, vocab_size, windows.shape[1], dim, hidden, 1, seed=seed)
    if init is not None:
        model.load_state_dict(init)
    loss_fn = MaxMargin(backend)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    xp = backend.xp
    losses: list[float] = []
    for _ in range(epochs):
        order = rng.permutation(len(windows))  # (N,)
        for start in range(0, len(order), batch_size):
            true = windows[order[start:start + batch_size]]  # (B, W)
            b = len(true)
            fake = corrupt(true, rng.choice(len(noise), size=b, p=noise))  # (B, W)
            opt.zero_grad()
            s, cache = model(backend.asarray(np.concatenate([true, fake])))  # (2B, 1)
            pair = xp.concat([s[:b], s[b:]], axis=1)  # (B, 2): [s, s_c]
            target = backend.asarray(np.zeros(b, dtype=np.int64))  # (B,) the true column
            loss, loss_cache = loss_fn(pair, target)
            grad_pair = loss_fn.backward(1.0, loss_cache)  # (B, 2)
            model.backward(xp.concat([grad_pair[:, :1], grad_pair[:, 1:]], axis=0), cache)
            opt.step()
            losses.append(float(loss))
    return model, losses


def score(backend: Backend, model: WindowClassifier, windows: np.ndarray,
          batch_size: int = 4096) -> np.ndarray:
    """The score of every window (N, W) -> (N,) float64 on the host, in eval mode."""
    model.eval()
    out = [backend.to_numpy(model(backend.asarray(windows[i:i + batch_size]))[0])[:, 0]
           for i in range(0, len(windows), batch_size)]
    model.train()
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def train_and_score(backend: Backend, train_windows: np.ndarray, noise: np.ndarray,
                    test_windows: np.ndarray, corrupted: np.ndarray, **settings,
                    ) -> dict[str, np.ndarray]:
    """Train on ``train_windows``; score the held-out windows (M, W) and their corrupted
    versions (M, K, W): ``{"true": (M,), "corrupted": (M, K), "losses": (steps,)}``."""
    model, losses = train_scorer(backend, train_windows, noise, **settings)
    m, k, w = corrupted.shape
    return {"true": score(backend, model, test_windows),
            "corrupted": score(backend, model, corrupted.reshape(m * k, w)).reshape(m, k),
            "losses": np.asarray(losses, dtype=np.float64)}


def train_scorer_parameters(backend: Backend, windows: np.ndarray, noise: np.ndarray,
                            **settings) -> dict:
    """:func:`train_scorer`: ``{"parameters": {name: host array}, "losses": (steps,)}``
    (given: the grader's training run; it scores held-out windows itself)."""
    model, losses = train_scorer(backend, windows, noise, **settings)
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}
