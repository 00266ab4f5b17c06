"""The reference LSTM language model of topic ``rnn_variants`` against PyTorch, float64, on
every device (CUDA skipped cleanly where there is none): ``GatedLM`` against ``nn.Embedding`` →
``nn.LSTM`` → ``nn.Linear`` with the same weights (scores, final state, every gradient), its
dropout off in eval mode, its ``cell="rnn"`` against ``language_models``' ``RNNLM``, and
``train_gated_lm`` against the grader's torch oracle of clipped
truncated BPTT (the oracle that names a loop's mistake must tell each mistake apart)."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_autograder.authoring import CheckFailure, Context
from nlpdojo_autograder.training import (
    OPTIMIZER_STATE_MISTAKES,
    loop_draws,
    name_the_loop_mistake,
    truncated_bptt_losses,
)
from nlpdojo_autograder.training.loop_runs import LOOP, SIZES, STREAM
from nlpdojo_course.rnn_variants import language_model as q
from nlpdojo_solutions.rnn_variants import lm_training
from nlpdojo_solutions.rnn_variants.lstm_lm import GatedLM, train_gated_lm

torch = pytest.importorskip("torch")

V, D, H, B, T = 11, 3, 4, 2, 5



def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _close(actual, expected) -> None:
    if hasattr(expected, "detach"):
        expected = expected.detach().cpu().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def _torch_twin(lm: GatedLM, backend):
    """``nn.Embedding``, ``nn.LSTM`` (batch first) and ``nn.Linear`` with ``lm``'s weights."""
    p = {name: np.asarray(value) for name, value in lm.state_dict().items()}  # host arrays
    emb, lstm, out = torch.nn.Embedding(V, D).double(), torch.nn.LSTM(
        D, H, batch_first=True).double(), torch.nn.Linear(H, V).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(p["embedding.weight"]))
        lstm.weight_ih_l0.copy_(torch.tensor(p["rnn.cell.weight_x"].T))
        lstm.weight_hh_l0.copy_(torch.tensor(p["rnn.cell.weight_h"].T))
        lstm.bias_ih_l0.copy_(torch.tensor(p["rnn.cell.bias"]))
        lstm.bias_hh_l0.zero_()
        out.weight.copy_(torch.tensor(p["output.weight"].T))
        out.bias.copy_(torch.tensor(p["output.bias"]))
    return emb, lstm, out


def test_a_gated_lm_matches_embedding_lstm_linear_in_torch(backend):
    rng = np.random.default_rng(0)
    lm = GatedLM(backend, V, D, H, seed=3)
    emb, lstm, out = _torch_twin(lm, backend)
    ids = rng.integers(0, V, (B, T))
    h0, c0 = np.tanh(rng.standard_normal((B, H))), rng.standard_normal((B, H))
    grad_scores = rng.standard_normal((B, T, V))

    scores, cache = lm(backend.asarray(ids, dtype=backend.xp.int64),
                       (backend.asarray(h0), backend.asarray(c0)))
    _, (grad_h0, grad_c0) = lm.backward(backend.asarray(grad_scores), cache)
    h_final, c_final = lm.final_state(cache)

    th0 = torch.tensor(h0[None], requires_grad=True)  # (1, B, H): one layer
    tc0 = torch.tensor(c0[None], requires_grad=True)
    hs, (th, tc) = lstm(emb(torch.as_tensor(ids)), (th0, tc0))  # (B, T, H)
    t_scores = out(hs)  # (B, T, V)
    (t_scores * torch.tensor(grad_scores)).sum().backward()

    _close(_np(backend, scores), t_scores)
    _close(_np(backend, h_final), th[0])
    _close(_np(backend, c_final), tc[0])
    _close(_np(backend, grad_h0), th0.grad[0])
    _close(_np(backend, grad_c0), tc0.grad[0])
    grads = {name: _np(backend, p.grad) for name, p in lm.named_parameters()}
    _close(grads["embedding.weight"], emb.weight.grad)
    _close(grads["rnn.cell.weight_x"], lstm.weight_ih_l0.grad.T)
    _close(grads["rnn.cell.weight_h"], lstm.weight_hh_l0.grad.T)
    _close(grads["rnn.cell.bias"], lstm.bias_ih_l0.grad)
    _close(grads["output.weight"], out.weight.grad.T)
    _close(grads["output.bias"], out.bias.grad)


def test_dropout_is_on_in_training_and_off_in_eval(backend):
    rng = np.random.default_rng(1)
    ids = backend.asarray(rng.integers(0, V, (B, T)), dtype=backend.xp.int64)
    plain, dropped = GatedLM(backend, V, D, H, seed=5), GatedLM(backend, V, D, H, dropout=0.5,
                                                                seed=5)
    state = plain.initial_state(B)
    reference = _np(backend, plain(ids, state)[0])
    assert not np.allclose(_np(backend, dropped(ids, state)[0]), reference)
    dropped.eval()
    _close(_np(backend, dropped(ids, state)[0]), reference)


def test_a_gru_lm_carries_one_array_and_unknown_choices_are_refused():
    backend = load_backend("numpy", "cpu", "float64")
    lm = GatedLM(backend, V, D, H, cell="gru")
    state = lm.initial_state(B)
    scores, cache = lm(backend.asarray(np.zeros((B, T), dtype=np.int64)), state)
    assert scores.shape == (B, T, V) and lm.final_state(cache).shape == (B, H)
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        GatedLM(backend, V, D, H, cell="transformer")
    with pytest.raises(ValueError, match="unknown optimizer"):
        train_gated_lm(backend, lm, np.arange(100) % V, optimizer="lbfgs")


def test_a_two_layer_lm_carries_a_state_per_layer_as_torchs_lstm(backend):
    """``GatedLM(num_layers=2)``: the library's ``Stacked`` LSTM layers, each starting from its
    own (h, c) and giving its own back through ``final_state``, as ``torch.nn.LSTM(
    num_layers=2)``'s ``h0[k]`` and ``h_n[k]``; a connection needs two layers or more."""
    rng = np.random.default_rng(8)
    lm = GatedLM(backend, V, D, H, num_layers=2, seed=3)
    p = {name: np.asarray(value) for name, value in lm.state_dict().items()}  # host arrays
    lstm = torch.nn.LSTM(D, H, num_layers=2, batch_first=True).double()
    with torch.no_grad():
        for k in range(2):
            cell = f"rnn.layers.{k}.cell"
            getattr(lstm, f"weight_ih_l{k}").copy_(torch.tensor(p[f"{cell}.weight_x"].T))
            getattr(lstm, f"weight_hh_l{k}").copy_(torch.tensor(p[f"{cell}.weight_h"].T))
            getattr(lstm, f"bias_ih_l{k}").copy_(torch.tensor(p[f"{cell}.bias"]))
            getattr(lstm, f"bias_hh_l{k}").zero_()
    assert isinstance(lm.initial_state(B), list) and len(lm.initial_state(B)) == 2
    ids = rng.integers(0, V, (B, T))
    h0, c0 = np.tanh(rng.standard_normal((2, B, H))), rng.standard_normal((2, B, H))
    state0 = [(backend.asarray(h0[k]), backend.asarray(c0[k])) for k in range(2)]
    scores, cache = lm(backend.asarray(ids, dtype=backend.xp.int64), state0)
    _, grad_state0 = lm.backward(backend.asarray(rng.standard_normal((B, T, V))), cache)
    vectors = torch.tensor(p["embedding.weight"])[torch.as_tensor(ids)]  # (B, T, D)
    hs, (h_n, c_n) = lstm(vectors, (torch.tensor(h0), torch.tensor(c0)))
    t_scores = hs @ torch.tensor(p["output.weight"]) + torch.tensor(p["output.bias"])
    _close(_np(backend, scores), t_scores)
    for k, (h, c) in enumerate(lm.final_state(cache)):
        _close(_np(backend, h), h_n[k])
        _close(_np(backend, c), c_n[k])
    assert isinstance(grad_state0, list) and len(grad_state0) == 2
    for connection in ("residual", "highway"):
        deep = GatedLM(backend, V, D, H, num_layers=2, connection=connection)
        assert len(deep(backend.asarray(ids, dtype=backend.xp.int64),
                        deep.initial_state(B))[0].shape) == 3
    with pytest.raises(ValueError, match="num_layers of 2 or more"):
        GatedLM(backend, V, D, H, connection="highway")


def _oracle(train, init, **settings):
    """The training kit's torch oracle at the clipped-windows check's loop, SGD at the nominal
    learning rate unless ``settings`` say otherwise."""
    return truncated_bptt_losses(train, init, cell="lstm",
                                 **{**LOOP, "lr": q.NOMINAL["lr"], **settings})


def _run(clip):
    """The reference loop and the torch oracle on the grader's check's sizes."""
    backend = load_backend("numpy", "cpu", "float64")
    train, _, init = loop_draws(np.random.default_rng(7), "lstm")
    trained = lm_training.train_lm(
        backend, train, vocab_size=SIZES["vocab"], init=init, dim=SIZES["dim"],
        hidden=SIZES["hidden"], **LOOP, optimizer="sgd", lr=q.NOMINAL["lr"], clip=clip)
    return trained["losses"], train, init


@pytest.mark.parametrize("clip", [q.NOMINAL["clip"], None], ids=["clipped", "not-clipped"])
def test_the_training_loop_matches_torchs_clipped_truncated_bptt(clip):
    losses, train, init = _run(clip)
    assert len(losses) == LOOP["epochs"] * ((STREAM - 1) // LOOP["bptt"])
    np.testing.assert_allclose(losses, _oracle(train, init, clip=clip),
                               rtol=1e-10, atol=1e-12)


def test_each_named_mistake_gives_other_losses_than_the_right_loop_at_every_seed():
    """The check draws its stream and weights per grading. Where a mistake trains exactly like
    the right loop, it goes unseen (a planted bug passes) and, before the check skipped such a
    mistake, the right loop was told it made it: with a clip of 0.3, 2 % of draws never
    clipped, and the reference failed at input seed 52 (bench/reference_seeds.py). Every
    mistake, with SGD and with Adam, must differ from the right loop in every draw."""
    losses, train, init = _run(q.NOMINAL["clip"])
    np.testing.assert_allclose(losses, _oracle(train, init, clip=q.NOMINAL["clip"]),
                               rtol=1e-10, atol=1e-12)
    # the settings at the ends of the ranges a grading draws them from (the check's LoopRuns)
    drawn = [{"lr": 0.35, "clip": 0.24, "adam_lr": 0.03},
             {"lr": 0.7, "clip": 0.12, "adam_lr": 0.07}]
    # 16, 65, 68, 77: draws that never clipped at 0.3 (the largest norm of their runs below it)
    for seed in (*range(12), 16, 65, 68, 77):
        train, _, init = loop_draws(np.random.default_rng(seed), "lstm")
        setting = drawn[seed % 2]
        runs = [({"lr": setting["lr"], "clip": setting["clip"]}, q.MISTAKES),
                ({"optimizer": "adam", "lr": setting["adam_lr"], "clip": None},
                 OPTIMIZER_STATE_MISTAKES)]
        for settings, mistakes in runs:
            right = _oracle(train, init, **settings)
            for what, mistake in mistakes.items():
                wrong = _oracle(train, init, **{**settings, **mistake})
                assert not np.allclose(right, wrong, rtol=1e-6, atol=1e-9), (seed, what)


def test_the_rnn_choice_is_language_models_rnn_lm(backend):
    """``GatedLM(cell="rnn")`` without dropout computes what ``RNNLM`` of ``language_models``
    computes with the same weights (scores, final state, every gradient)."""
    from nlpdojo_solutions.language_models.rnn_lm import RNNLM

    rng = np.random.default_rng(2)
    ours, theirs = GatedLM(backend, V, D, H, cell="rnn", seed=4), RNNLM(backend, V, D, H)
    theirs.load_state_dict(ours.state_dict())
    ids = backend.asarray(rng.integers(0, V, (B, T)), dtype=backend.xp.int64)
    h0, grad = backend.asarray(np.tanh(rng.standard_normal((B, H)))), backend.asarray(
        rng.standard_normal((B, T, V)))
    (scores, cache), (their_scores, their_cache) = ours(ids, h0), theirs(ids, h0)
    _close(_np(backend, scores), _np(backend, their_scores))
    _close(_np(backend, ours.final_state(cache)), _np(backend, theirs.final_state(their_cache)))
    _close(_np(backend, ours.backward(grad, cache)[1]),
           _np(backend, theirs.backward(grad, their_cache)[1]))
    mine, reference = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert mine.keys() == reference.keys()
    for name, param in mine.items():
        _close(_np(backend, param.grad), _np(backend, reference[name].grad))


def test_a_mistake_invisible_in_a_draw_is_not_named():
    """At a clip of 0.3, draw 16 never clips: the unclipped loop trains exactly like the right
    one there, and the right losses must not be told they are the unclipped loop's."""
    train, _, init = loop_draws(np.random.default_rng(16), "lstm")
    right = _oracle(train, init, clip=0.3)
    np.testing.assert_allclose(right, _oracle(train, init, clip=None))
    ctx = Context(subject=None, backend=None, seed=0, workdir=None)  # nothing known: computed

    def named(losses):
        return name_the_loop_mistake(ctx, "sgd", losses, _oracle, train, init,
                                     q.MISTAKES, cell="lstm", what="losses", clip=0.3)

    named(right)  # raises where it names one
    with pytest.raises(CheckFailure, match="cell state not carried"):
        named(_oracle(train, init, clip=0.3, carry_cell=False))
