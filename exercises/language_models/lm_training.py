"""Given code: training and scoring the neural language models (CS224n lecture 6, "Evaluating
language models": perplexity = exp of the mean cross-entropy on held-out text).

Nothing here is a question. The RNN LM trains with your truncated-BPTT loop
(:func:`~.rnn_lm.train_rnn_lm`); the fixed-window LM with the minibatch loop below. Both are
scored on a held-out stream by :func:`rnn_log_probs` / :func:`window_log_probs`: the
log-probability each model gives every next token (what the grader turns into a perplexity).
The grader trains them under a small fixed budget and seeds; ``dojo train lm`` under yours.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo.backend import Array, Backend

from ..library import SoftmaxCrossEntropy
from .rnn_lm import OPTIMIZERS, RNNLM, train_rnn_lm
from .window_lm import WindowLM


def _target_log_probs(backend: Backend, scores: Array, targets: np.ndarray) -> np.ndarray:
    """log P(target) of each row of ``scores`` (M, V), on the host (M,) float64: the log
    softmax shifted by the row maximum (no overflow), its target picked by a one-hot product
    (no gather). Only the targets': a whole softmax is a question of the course."""
    xp = backend.xp
    shifted = scores - xp.max(scores, axis=-1, keepdims=True)  # (M, V)
    classes = xp.reshape(xp.arange(scores.shape[1], device=backend.device), (1, -1))  # (1, V)
    wanted = xp.reshape(backend.asarray(targets), (-1, 1)) == classes  # (M, V)
    picked = (xp.sum(shifted * xp.astype(wanted, scores.dtype), axis=1)
              - xp.log(xp.sum(xp.exp(shifted), axis=1)))  # (M,)
    return np.asarray(backend.to_numpy(picked), dtype=np.float64)


def scoring_windows(ids: np.ndarray, batch_size: int, bptt: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The held-out windows, cut here rather than by your :func:`~.rnn_lm.bptt_windows`
    (the same layout: B streams, K windows of T, targets the inputs shifted by one), so that
    a model is always scored on predicting the *next* token: (K, B, T) inputs and targets."""
    ids = np.asarray(ids, dtype=np.int64)
    length = len(ids) // batch_size
    streams = ids[:length * batch_size].reshape(batch_size, length)  # (B, L)
    k = (length - 1) // bptt
    inputs = streams[:, :k * bptt].reshape(batch_size, k, bptt)  # (B, K, T)
    targets = streams[:, 1:k * bptt + 1].reshape(batch_size, k, bptt)  # (B, K, T)
    return inputs.transpose(1, 0, 2), targets.transpose(1, 0, 2)  # (K, B, T) x2


def rnn_log_probs(backend: Backend, model: RNNLM, ids: np.ndarray, *, batch_size: int = 10,
                  bptt: int = 50) -> np.ndarray:
    """log P(next token) of every target of :func:`scoring_windows` over ``ids``, the hidden
    state carried along each stream, (K·B·T,) float64 on the host."""
    xp = backend.xp
    inputs, targets = scoring_windows(ids, batch_size, bptt)  # (K, B, T) x2
    model.eval()
    h, out = model.initial_state(batch_size), []
    for k in range(len(inputs)):
        scores, cache = model(backend.asarray(inputs[k]), h)  # (B, T, V)
        h = model.final_state(cache)
        flat = xp.reshape(scores, (-1, scores.shape[-1]))  # (B·T, V)
        out.append(_target_log_probs(backend, flat, targets[k].reshape(-1)))
    model.train()
    return np.concatenate(out) if out else np.zeros(0)


def window_contexts(ids: np.ndarray, context: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """``(contexts (N, context), targets (N,))``: every token of the stream ``ids`` with the
    ``context`` tokens before it (oldest first), ``pad`` before the stream starts."""
    ids = np.asarray(ids, dtype=np.int64)
    padded = np.concatenate([np.full(context, pad, dtype=np.int64), ids])  # (N + c,)
    windows = np.lib.stride_tricks.sliding_window_view(padded, context + 1)  # (N, c + 1)
    return np.array(windows[:, :-1]), np.array(windows[:, -1])  # copies: writable


def train_window_lm(backend: Backend, model: WindowLM, ids: np.ndarray, *, pad: int,
                    optimizer: str = "adam", lr: float = 0.003, epochs: int = 1,
                    batch_size: int = 128, seed: int = 0, max_steps: int | None = None,
                    on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Minibatch training of a window LM on every (context, next token) pair of ``ids``,
    shuffled once per epoch from ``seed``. Returns the loss of every step."""
    contexts, targets = window_contexts(ids, model.context, pad)
    loss_fn = SoftmaxCrossEntropy(backend)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    for _ in range(epochs):
        order = rng.permutation(len(targets))  # (N,)
        for start in range(0, len(order), batch_size):  # a loop over batches
            if max_steps is not None and len(losses) >= max_steps:
                return losses
            batch = order[start:start + batch_size]
            opt.zero_grad()
            scores, cache = model(backend.asarray(contexts[batch]))  # (B, V)
            loss, c_loss = loss_fn(scores, backend.asarray(targets[batch]))
            model.backward(loss_fn.backward(1.0, c_loss), cache)
            opt.step()
            losses.append(float(loss))
            if on_step is not None:
                on_step(len(losses), losses[-1])
    return losses


def window_log_probs(backend: Backend, model: WindowLM, ids: np.ndarray, *, pad: int,
                     batch_size: int = 2048) -> np.ndarray:
    """log P(next token) of every token of ``ids`` given its window, (N,) float64."""
    contexts, targets = window_contexts(ids, model.context, pad)
    model.eval()
    out = []
    for start in range(0, len(targets), batch_size):
        scores, _ = model(backend.asarray(contexts[start:start + batch_size]))  # (B, V)
        out.append(_target_log_probs(backend, scores, targets[start:start + batch_size]))
    model.train()
    return np.concatenate(out) if out else np.zeros(0)


def build_lm(backend: Backend, model: str, vocab_size: int, *, dim: int, hidden: int,
             context: int = 3, seed: int = 0) -> RNNLM | WindowLM:
    """A fresh ``model`` ("rnn" or "window") of the given sizes."""
    if model == "rnn":
        return RNNLM(backend, vocab_size, dim, hidden, seed=seed)
    if model == "window":
        return WindowLM(backend, vocab_size, context, dim, hidden, seed=seed)
    raise ValueError(f"unknown model {model!r}; choose rnn or window")


def _split(model: str, settings: dict) -> tuple[dict, dict]:
    """``settings`` as (the model's sizes, the training loop's options)."""
    sizes = {"dim": settings.pop("dim"), "hidden": settings.pop("hidden")}
    if model == "window":
        sizes["context"] = settings.pop("context")
    return sizes, settings


def train_lm(backend: Backend, train_ids: np.ndarray, *, model: str, vocab_size: int,
             seed: int = 0, init: dict | None = None, **settings) -> dict:
    """Train ``model`` on ``train_ids``: ``{"parameters": {name: host array}, "losses": (S,)}``.

    What the grader receives from a training run is the trained parameters as data (the
    grader scores held-out text with them itself) and the loss of every step. ``init``:
    starting parameters by name (host arrays) instead of the seeded initialisation.
    ``settings`` as :func:`train_and_score`'s, without ``eval_bptt``."""
    settings.pop("eval_bptt", None)
    sizes, options = _split(model, settings)
    lm = build_lm(backend, model, vocab_size, seed=seed, **sizes)
    if init is not None:
        lm.load_state_dict(init)
    if model == "rnn":
        losses = train_rnn_lm(backend, lm, train_ids, **options)
    else:
        losses = train_window_lm(backend, lm, train_ids, seed=seed, **options)
    return {"parameters": lm.state_dict(), "losses": np.asarray(losses, dtype=np.float64)}


def score_lm(backend: Backend, parameters: dict, ids: np.ndarray, *, model: str,
             vocab_size: int, **settings) -> np.ndarray:
    """log P(next token) of the tokens of ``ids`` under ``model`` with ``parameters``, (M,):
    the RNN over 10 streams in windows of ``eval_bptt``, the window LM over every token."""
    eval_bptt = settings.pop("eval_bptt", 50)
    pad = settings.get("pad", 0)
    sizes = {k: settings[k] for k in ("dim", "hidden", "context") if k in settings}
    lm = build_lm(backend, model, vocab_size, **sizes)
    lm.load_state_dict(parameters)
    if model == "rnn":
        return rnn_log_probs(backend, lm, ids, bptt=eval_bptt)
    return window_log_probs(backend, lm, ids, pad=pad)


def train_and_score(backend: Backend, train_ids: np.ndarray, test_ids: np.ndarray, *,
                    model: str, vocab_size: int, seed: int = 0, init: dict | None = None,
                    **settings) -> dict[str, np.ndarray]:
    """Train ``model`` ("rnn" or "window") on ``train_ids`` and score ``test_ids``:
    ``{"log_probs": (M,) held-out log-probabilities, "losses": (steps,) training losses}``.

    ``settings``: ``dim``, ``hidden``, ``optimizer``, ``lr``, ``epochs`` and, for the RNN,
    ``batch_size``, ``bptt``, ``max_windows``, ``eval_bptt`` (the held-out windows'
    length, 10 streams); for the window LM ``context``, ``pad``,
    ``batch_size``, ``max_steps``. ``init``: starting parameters by name (host arrays)
    instead of the seeded initialisation, which differs between backends."""
    scoring = {k: settings[k] for k in ("dim", "hidden", "context", "pad", "eval_bptt")
               if k in settings}
    trained = train_lm(backend, train_ids, model=model, vocab_size=vocab_size, seed=seed,
                       init=init, **settings)
    log_probs = score_lm(backend, trained["parameters"], test_ids, model=model,
                         vocab_size=vocab_size, **scoring)
    return {"log_probs": log_probs, "losses": trained["losses"]}
