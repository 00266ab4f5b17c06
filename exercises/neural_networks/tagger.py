"""Given code: part-of-speech tagging with the window classifier (Collobert et al. 2011, "the
window approach"; CS224n notes part III).

Every token is classified from the window of 2m + 1 word ids around it
(:func:`nlpdojo.text.windows.context_windows`: padded at sentence borders, never crossing
them) by your :class:`~.window.WindowClassifier`, trained with your softmax cross-entropy and
your optimizers from the course library. Nothing here is a question: the grader trains this
loop under a small fixed budget and measures the tags it predicts on held-out text, and
``dojo train tagger`` runs it with a progress bar and saves checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo import training
from nlpdojo.backend import Backend
from nlpdojo.optim import Optimizer

from ..library import SGD, Adagrad, Adam, Momentum, RMSProp, SoftmaxCrossEntropy
from .window import WindowClassifier

#: the library's optimizers by name (``dojo train tagger --optimizer``)
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "rmsprop": RMSProp,
              "adam": Adam}


def build_tagger(backend: Backend, *, vocab_size: int, n_tags: int, window: int = 5,
                 dim: int = 50, hidden: int = 100, dropout: float = 0.0,
                 optimizer: str = "adam", lr: float = 0.01, seed: int = 0,
                 ) -> tuple[WindowClassifier, Optimizer]:
    """A fresh window tagger and its optimizer (one of :data:`OPTIMIZERS`, learning rate
    ``lr``, the rest of its settings torch's defaults)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
    model = WindowClassifier(backend, vocab_size, window, dim, hidden, n_tags, seed=seed,
                             dropout=dropout)
    return model, OPTIMIZERS[optimizer](model.parameters(), lr=lr)


def train_epochs(backend: Backend, model: WindowClassifier, opt: Optimizer,
                 windows: np.ndarray, tags: np.ndarray, *, epochs: int, batch_size: int = 64,
                 seed: int = 0, start_epoch: int = 0, progress: bool = False,
                 on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Epochs ``start_epoch`` .. ``epochs - 1`` of minibatch training on ``windows`` (N, W)
    word ids and ``tags`` (N,) with your softmax cross-entropy
    (:func:`nlpdojo.training.train_on_examples`): epoch e visits the examples in the order
    drawn from ``(seed, e)``, so a run resumed from a checkpoint at epoch e continues exactly
    as the uninterrupted run. Returns the training loss of every step (host floats: one
    device sync per step, fine at this size)."""
    steps_per_epoch = -(-len(windows) // batch_size)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps_per_epoch * max(epochs - start_epoch, 0), unit="step",
                   desc="tagger", smoothing=0.1)

    def stepped(step: int, loss: float) -> None:
        if on_step is not None:
            on_step(step, loss)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(epoch=start_epoch + 1 + (step - 1) // steps_per_epoch,
                            loss=f"{loss:.3f}", refresh=False)

    losses = training.train_on_examples(
        backend, model, windows, tags, loss_fn=SoftmaxCrossEntropy(backend), optimizer=opt,
        batch_size=batch_size, epochs=epochs, seed=seed, start_epoch=start_epoch,
        on_step=stepped)
    if bar is not None:
        bar.close()
    return losses


def train_tagger(backend: Backend, windows: np.ndarray, tags: np.ndarray, *, vocab_size: int,
                 n_tags: int, dim: int = 50, hidden: int = 100, dropout: float = 0.0,
                 optimizer: str = "adam", lr: float = 0.01, epochs: int = 1,
                 batch_size: int = 64, seed: int = 0, progress: bool = False,
                 on_step: Callable[[int, float], None] | None = None
                 ) -> tuple[WindowClassifier, list[float]]:
    """A window tagger trained from scratch (:func:`build_tagger`, :func:`train_epochs`).
    Returns the model and the training loss of every step."""
    model, opt = build_tagger(backend, vocab_size=vocab_size, n_tags=n_tags,
                              window=windows.shape[1], dim=dim, hidden=hidden,
                              dropout=dropout, optimizer=optimizer, lr=lr, seed=seed)
    losses = train_epochs(backend, model, opt, windows, tags, epochs=epochs,
                          batch_size=batch_size, seed=seed, progress=progress, on_step=on_step)
    return model, losses


def window_scores_of(backend: Backend, model: WindowClassifier, windows: np.ndarray,
                     batch_size: int = 4096) -> np.ndarray:
    """The scores (N, C) of every window, float64 on the host, in eval mode (dropout off)."""
    return training.example_scores(backend, model, windows,
                                   classes=model.output.weight.shape[1], batch_size=batch_size)


def predict(backend: Backend, model: WindowClassifier, windows: np.ndarray,
            batch_size: int = 4096) -> np.ndarray:
    """The tag id with the highest score for every window, (N,) int64 on the host. The model
    is put in eval mode (dropout off) while it predicts."""
    scores = window_scores_of(backend, model, windows, batch_size)  # (N, C)
    return np.argmax(scores, axis=1).astype(np.int64)


def train_and_predict(backend: Backend, train_windows: np.ndarray, train_tags: np.ndarray,
                      test_windows: np.ndarray, **settings) -> dict[str, np.ndarray]:
    """Train on the training windows, tag the test windows: ``{"predicted": (M,) tag ids,
    "losses": (steps,) training losses}`` (what the grader measures)."""
    model, losses = train_tagger(backend, train_windows, train_tags, **settings)
    return {"predicted": predict(backend, model, test_windows),
            "losses": np.asarray(losses, dtype=np.float64)}


def train_tagger_parameters(backend: Backend, windows: np.ndarray, tags: np.ndarray, *,
                            init: dict | None = None, **settings) -> dict:
    """:func:`train_tagger` from ``init``'s parameters where given: ``{"parameters": {name:
    host array}, "losses": (steps,)}`` (given: the grader's training run; it scores held-out
    windows itself, with :func:`window_scores`)."""
    model, opt = build_tagger(backend, window=windows.shape[1], **{
        k: settings[k] for k in ("vocab_size", "n_tags", "dim", "hidden", "dropout",
                                 "optimizer", "lr", "seed") if k in settings})
    if init is not None:
        model.load_state_dict(init)
    losses = train_epochs(backend, model, opt, windows, tags, epochs=settings.get("epochs", 1),
                          batch_size=settings.get("batch_size", 64),
                          seed=settings.get("seed", 0))
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}


def window_scores(backend: Backend, parameters: dict, windows: np.ndarray, *, vocab_size: int,
                  n_classes: int, dim: int = 50, hidden: int = 100,
                  batch_size: int = 4096) -> np.ndarray:
    """The scores (N, C) of ``windows`` (N, W) under a window classifier with ``parameters``,
    in eval mode (given)."""
    model = WindowClassifier(backend, vocab_size, windows.shape[1], dim, hidden, n_classes)
    model.load_state_dict(parameters)
    return window_scores_of(backend, model, windows, batch_size)
