"""Test perplexity of the neural language models of topics ``language_models`` (the
fixed-window LM and the RNN LM) and ``rnn_variants`` (the gated LMs): reference solutions,
float32, on the NumPy backend or (``--backend torch --device cuda``) on a GPU, trained in full
on the LM corpora under the count models' conventions, for the n-gram vs neural table of
docs/results.md (CS224n lectures 6-7; Mikolov 2012, table 4.1).

The same sentences, vocabulary and predicted tokens as :mod:`bench.lm_results`: words seen
twice or more in the training split (the rest ``<UNK>``), one ``</s>`` after every sentence,
every word and ``</s>`` predicted. The neural models read the text as one stream (the RNN's
state runs on across sentence borders, as in Mikolov's set-up; the window LM sees the words
before the sentence too), so their perplexities are per predicted token on exactly the
tokens the count models predict.

Training: the topic's own loops (``train_rnn_lm``: truncated BPTT, here with Adam after
gradient-norm clipping, ``adam-clip``: the topic's README explains why Adam without clipping
drives this tanh RNN chaotic, and SGD with clipping learned four times slower per token;
dropout on the RNN LM's non-recurrent connections; ``train_window_lm``: minibatch Adam), and
the gated LMs of topic ``rnn_variants`` with their own loop (``train_gated_lm``: the global
gradient norm clipped, then Adam) at the RNN LM's sizes and dropout; one epoch at a time
(each model's optimizer, with Adam's moments, kept from one epoch to the next). After each
epoch the valid split is scored, and the learning rate is halved when valid perplexity
improved by less than 1 % or the epoch diverged (the weights then go back to the best
epoch's), Mikolov's schedule. The test split is scored once, with the best epoch's weights.
Results go to ``bench/results/lm_neural.json``;
``bench/lm_results.py --write-docs`` puts them in the table. After every epoch the best
weights and the history are kept in ``--checkpoints`` (outside the repository), so that a
stopped run goes on with ``--resume`` from where it was.

    python bench/lm_neural_results.py                       # both corpora, both models
    python bench/lm_neural_results.py --corpora sotu --models rnn --max-minutes 60 --resume
    python bench/lm_neural_results.py --models rnn --set hidden=512 --set dropout=0.5
    python bench/lm_neural_results.py --corpora sotu --models lstm,gru --resume
    python bench/lm_neural_results.py --corpora brown --models lstm --backend torch \
        --device cuda --results /tmp/brown-lstm.json     # one model a process, side by side
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from array_api_compat import array_namespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results" / "lm_neural.json"
CORPORA = ("sotu", "pang-lee-reviews", "brown")
#: the table's labels (bench/lm_results.py PENDING) by model
LABELS = {"window": "fixed-window neural LM", "rnn": "RNN LM", "lstm": "LSTM LM",
          "gru": "GRU LM", "lstm-2layer": "2-layer LSTM LM",
          "lstm-residual": "2-layer LSTM LM, residual",
          "lstm-highway": "2-layer LSTM LM, highway"}
#: the gated LMs of topic rnn_variants (``GatedLM``, ``train_gated_lm``, which clips itself):
#: name -> (cell, layers, connection between the layers); the deep ones are the library's
#: ``Stacked`` layers, each carrying its own state, dropout between them too
GATED = {"lstm": ("lstm", 1, "none"), "gru": ("gru", 1, "none"),
         "lstm-2layer": ("lstm", 2, "none"), "lstm-residual": ("lstm", 2, "residual"),
         "lstm-highway": ("lstm", 2, "highway")}
SETTINGS = {
    # Adam after clipping the global gradient norm to 1, dropout 0.25 on the embeddings and on
    # the RNN's outputs (not on the recurrent connection: Zaremba et al. 2014). Measured on
    # SOTU, the first 0.8M training tokens, 6 min each, valid perplexity on its first 60k
    # tokens: sgd-clip lr 5 (clip 0.25): 210.8; adam-clip lr 0.002 (clip 1): 147.1.
    "rnn": {"dim": 128, "hidden": 256, "batch_size": 20, "bptt": 35, "optimizer": "adam-clip",
            "clip": 1.0, "lr": 0.002, "dropout": 0.25},
    "window": {"dim": 64, "hidden": 256, "context": 4, "batch_size": 256,
               "optimizer": "adam", "lr": 0.001},
    # the gated LMs at the RNN LM's sizes, clipping, dropout and learning rate (topic
    # rnn_variants: its own loop clips the global norm before Adam's step)
    **{cell: {"dim": 128, "hidden": 256, "batch_size": 20, "bptt": 35, "optimizer": "adam",
              "clip": 1.0, "lr": 0.002, "dropout": 0.25} for cell in GATED},
}


def clipped(base: type, max_norm: float) -> type:
    """The library's optimizer ``base`` after rescaling the gradients to a global norm of at
    most ``max_norm`` (gradient clipping, Pascanu et al. 2013; CS224n lecture 7): registered
    as the RNN LM's optimizer ``<name>-clip`` for this benchmark (students meet clipping in
    the next topic)."""

    class Clipped(base):
        def step(self) -> None:
            xp = array_namespace(self.params[0].grad)  # the backend's arrays, any device
            norm = math.sqrt(sum(float(xp.sum(p.grad * p.grad)) for p in self.params))
            if norm > max_norm:
                for p in self.params:
                    p.grad = p.grad * (max_norm / norm)
            super().step()

    Clipped.__name__ = f"Clipped{base.__name__}"
    return Clipped


def dropout_rnn_lm(backend, vocab_size: int, dim: int, hidden: int, p: float, seed: int):
    """The reference :class:`RNNLM` with the library's ``Dropout`` on its non-recurrent
    connections, the embeddings going in and the hidden states going out (Zaremba et al.
    2014, "Recurrent neural network regularization"); the identity in eval mode."""
    from nlpdojo_solutions.language_models.rnn_lm import RNNLM
    from nlpdojo_solutions.library.layers import Dropout

    class DropoutRNNLM(RNNLM):
        def __init__(self) -> None:
            super().__init__(backend, vocab_size, dim, hidden, seed=seed)
            self.drop_in = Dropout(backend, p, seed=seed + 5)
            self.drop_out = Dropout(backend, p, seed=seed + 6)

        def forward(self, ids, h0):
            xp = self.xp
            b, t_steps = ids.shape
            vectors, c_emb = self.embedding(ids)  # (B, T, D)
            vectors, c_in = self.drop_in(vectors)
            hs, c_rnn = self.rnn(vectors, h0)  # (B, T, H)
            dropped, c_drop = self.drop_out(hs)
            scores, c_out = self.output(xp.reshape(dropped, (b * t_steps, self.hidden_size)))
            scores = xp.reshape(scores, (b, t_steps, scores.shape[-1]))  # (B, T, V)
            return scores, (c_emb, c_in, c_rnn, c_drop, c_out, hs[:, -1, :])

        def backward(self, grad_output, cache):
            xp = self.xp
            c_emb, c_in, c_rnn, c_drop, c_out, _ = cache
            b, t_steps, v = grad_output.shape
            grad = self.output.backward(xp.reshape(grad_output, (b * t_steps, v)), c_out)
            grad = self.drop_out.backward(xp.reshape(grad, (b, t_steps, self.hidden_size)),
                                          c_drop)  # (B, T, H)
            grad_vectors, grad_h0 = self.rnn.backward(grad, c_rnn)
            self.embedding.backward(self.drop_in.backward(grad_vectors, c_in), c_emb)
            return None, grad_h0

    return DropoutRNNLM()


def streams(corpus: str) -> tuple[dict[str, np.ndarray], int]:
    """Id streams of the train, valid and test splits (unigram vocabulary: no ``<s>``)."""
    from nlpdojo.text import ngram_corpus as given
    from nlpdojo_course.language_models.data import lm_sentences

    splits = {s: lm_sentences(corpus, s) for s in ("train", "valid", "test")}
    vocab = given.Vocabulary.build(splits["train"], 1, min_count=2)
    return {s: np.asarray(vocab.stream(v, 1), dtype=np.int64) for s, v in splits.items()}, \
        len(vocab)


def perplexity(log_probs: np.ndarray) -> float:
    return float(np.exp(-np.mean(log_probs))) if np.all(np.isfinite(log_probs)) else math.inf


class Trainer:
    """One model on one corpus: ``epoch(lr)`` trains one pass, ``score(split)`` a perplexity."""

    def __init__(self, backend, name: str, ids: dict[str, np.ndarray], vocab_size: int,
                 settings: dict, seed: int = 0) -> None:
        from nlpdojo_solutions.language_models import lm_training, rnn_lm, window_lm
        from nlpdojo_solutions.rnn_variants import lstm_lm

        self.backend, self.name, self.ids, self.settings = backend, name, ids, settings
        self.lm_training, self.lstm_lm = lm_training, lstm_lm
        s = settings
        # the loops look their optimizer up by name: this model's, kept from epoch to epoch
        # (Adam's moments go on), goes in under a name of its own
        make = rnn_lm.OPTIMIZERS[s["optimizer"].removesuffix("-clip")]  # the library's class
        if s["optimizer"].endswith("-clip"):
            make = clipped(make, s["clip"])
        self.optimizer, self.optimizer_name = None, f"{s['optimizer']} (kept, {name})"
        (lstm_lm if name in GATED else rnn_lm).OPTIMIZERS[self.optimizer_name] = self.kept(make)
        if name in GATED:
            cell, layers, connection = GATED[name]
            self.model = lstm_lm.GatedLM(backend, vocab_size, s["dim"], s["hidden"], cell=cell,
                                         dropout=s.get("dropout", 0.0), num_layers=layers,
                                         connection=connection, seed=seed)
        elif name == "rnn":
            if s.get("dropout", 0.0) > 0.0:
                self.model = dropout_rnn_lm(backend, vocab_size, s["dim"], s["hidden"],
                                            s["dropout"], seed)
            else:
                self.model = rnn_lm.RNNLM(backend, vocab_size, s["dim"], s["hidden"],
                                          seed=seed)
        else:
            # the stream has no <s>: the first words of the text see </s> as padding
            self.pad = int(ids["train"][-1])
            self.model = window_lm.WindowLM(backend, vocab_size, s["context"], s["dim"],
                                            s["hidden"], seed=seed)
        self.seed = seed

    def kept(self, make: type):
        """A factory for the topic's loops that makes the optimizer once and hands the same one
        back at every later epoch with the new learning rate: ``train_rnn_lm`` and
        ``train_window_lm`` make their optimizer per call, and this benchmark calls them once
        per epoch, so that otherwise Adam's moments (and its bias correction) would start
        again at every epoch."""

        def optimizer(params, lr: float):
            if self.optimizer is None:
                self.optimizer = make(params, lr=lr)
            self.optimizer.lr = lr
            return self.optimizer

        return optimizer

    def restore(self, state: dict) -> None:
        """Back to ``state``'s weights; the optimizer's moments, made for others, start again."""
        self.model.load_state_dict(state)
        self.optimizer = None

    def epoch(self, lr: float, index: int, on_step) -> list[float]:
        s = self.settings
        if self.name in GATED:
            return self.lstm_lm.train_gated_lm(
                self.backend, self.model, self.ids["train"], batch_size=s["batch_size"],
                bptt=s["bptt"], optimizer=self.optimizer_name, lr=lr, clip=s["clip"], epochs=1,
                on_step=on_step)
        if self.name == "rnn":
            return self.lm_training.train_rnn_lm(
                self.backend, self.model, self.ids["train"], batch_size=s["batch_size"],
                bptt=s["bptt"], optimizer=self.optimizer_name, lr=lr, epochs=1,
                on_step=on_step)
        return self.lm_training.train_window_lm(
            self.backend, self.model, self.ids["train"], pad=self.pad,
            optimizer=self.optimizer_name, lr=lr, epochs=1, batch_size=s["batch_size"],
            seed=self.seed + index, on_step=on_step)

    def score(self, split: str, streams: int = 1) -> float:
        if self.name in ("rnn", *GATED):
            # one stream (batch 1), led by </s> and padded to whole windows, so that every
            # token of the split is predicted once, as by the count models; or the split cut
            # into ``streams`` pieces scored side by side (a GPU's batch), each led by the
            # token before it, its state starting at zero (a little context lost per piece)
            ids, eos, bptt = self.ids[split], int(self.ids["train"][-1]), 50
            piece = -(-len(ids) // streams)  # tokens a stream predicts, S
            piece += (-piece) % bptt  # whole windows
            flat = np.concatenate([ids, np.zeros(piece * streams - len(ids), np.int64)])
            before = np.concatenate([[eos], flat])[np.arange(streams) * piece]  # (B,)
            rows = np.concatenate([before[:, None], flat.reshape(streams, piece)], axis=1)
            log_probs = self.lm_training.rnn_log_probs(  # (K·B·T,), K·T = S
                self.backend, self.model, rows.reshape(-1), batch_size=streams, bptt=bptt)
            in_order = log_probs.reshape(-1, streams, bptt).transpose(1, 0, 2).reshape(-1)
            return perplexity(in_order[:len(ids)])
        return perplexity(self.lm_training.window_log_probs(self.backend, self.model,
                                                            self.ids[split], pad=self.pad))


def parse_setting(text: str) -> tuple[str, object]:
    """``key=value`` of ``--set``: the value as a number where it reads as one."""
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set wants key=value, got {text!r}")
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


def train(corpus: str, name: str, *, max_epochs: int, max_minutes: float,
          overrides: dict | None = None, checkpoints: Path | None = None,
          resume: bool = False, backend_name: str = "numpy", device: str = "cpu",
          smoke: int | None = None, valid_streams: int = 1) -> dict:
    from nlpdojo.selection import load_backend

    ids, vocab_size = streams(corpus)
    if smoke:  # a quick try of the script: the first tokens of each split only
        ids = {split: stream[:smoke] for split, stream in ids.items()}
    backend = load_backend(backend_name, device, "float32")
    settings = dict(SETTINGS[name]) | dict(overrides or {})
    trainer = Trainer(backend, name, ids, vocab_size, settings)
    lr, best, best_state, history = settings["lr"], math.inf, None, []
    saved = (checkpoints / f"{corpus}-{name}.json") if checkpoints else None
    if resume and saved is not None and saved.exists():
        kept = json.loads(saved.read_text())
        if kept["settings"] != settings:
            raise SystemExit(f"{saved} was trained with {kept['settings']}, not {settings}: "
                             "drop --resume or remove it")
        with np.load(saved.with_suffix(".npz")) as weights:
            best_state = dict(weights)
        trainer.model.load_state_dict(best_state)
        lr, best, history = kept["lr"], kept["best"], kept["history"]
        print(f"{corpus} {name}: resumed after epoch {len(history)} (valid {best:.2f}, "
              f"lr {lr:g})", flush=True)
    started = time.perf_counter()
    tokens = len(ids["train"])
    for epoch in range(len(history) + 1, max_epochs + 1):
        t0 = time.perf_counter()
        last = [0.0]

        def on_step(step: int, loss: float, t0=t0, last=last, epoch=epoch) -> None:
            if time.perf_counter() - last[0] > 30:
                last[0] = time.perf_counter()
                print(f"  {corpus} {name} epoch {epoch} step {step} loss {loss:.3f} "
                      f"({time.perf_counter() - t0:.0f}s)", flush=True)

        fresh = trainer.optimizer is None  # a new run, a resumed one, or after a restore
        losses = trainer.epoch(lr, epoch, on_step)
        seconds = time.perf_counter() - t0
        valid = trainer.score("valid", valid_streams) if np.all(np.isfinite(losses)) else math.inf
        history.append({"epoch": epoch, "lr": lr, "valid": valid, "seconds": round(seconds, 1),
                        "train_loss": float(np.mean(losses[-100:])),
                        "optimizer": "new" if fresh else "kept"})
        print(f"{corpus} {name} epoch {epoch}: lr {lr:g}, valid ppl {valid:.2f}, "
              f"{tokens / seconds:,.0f} tokens/s", flush=True)
        if valid < best:
            improved = (best - valid) / best if math.isfinite(best) else 1.0
            best, best_state = valid, trainer.model.state_dict()
            if improved < 0.01:
                lr /= 2
        else:  # diverged or got worse: back to the best weights, smaller steps
            if best_state is not None:
                trainer.restore(best_state)
            lr /= 2
        if saved is not None and best_state is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.savez(saved.with_suffix(".npz"), **best_state)
            saved.write_text(json.dumps({"settings": settings, "lr": lr, "best": best,
                                         "history": history}, indent=1))
        if (time.perf_counter() - started) / 60 > max_minutes:
            print(f"{corpus} {name}: stopped after {epoch} epochs (--max-minutes)")
            break
    if best_state is not None:
        trainer.model.load_state_dict(best_state)
    test = trainer.score("test")
    print(f"{corpus} {name}: test ppl {test:.2f} (valid {best:.2f})", flush=True)
    return {"label": LABELS[name], "test": test, "valid": best, "settings": settings,
            "epochs": len(history), "history": history, "vocab": vocab_size,
            "train_tokens": tokens, "backend": f"{backend_name}:{device}",
            "valid_streams": valid_streams,
            "minutes": round(sum(h["seconds"] for h in history) / 60, 1)}


def main() -> None:
    from _machine import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--models", default="window,rnn")
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--max-minutes", type=float, default=120.0,
                        help="per model and corpus: no new epoch starts after this")
    parser.add_argument("--set", type=parse_setting, action="append", default=[],
                        metavar="KEY=VALUE", help="change one of the model's SETTINGS")
    parser.add_argument("--checkpoints", type=Path,
                        default=Path.home() / ".cache" / "nlpdojo" / "lm-neural-results",
                        help="where the best weights and the history go after every epoch")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the checkpoint of the same corpus, model and settings")
    parser.add_argument("--backend", default="numpy",
                        help="the backend the reference trains on (numpy; torch for a GPU)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda with --backend torch")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="the JSON the results are merged into")
    parser.add_argument("--smoke", type=int, metavar="TOKENS",
                        help="a try of the script: only the first TOKENS of each split")
    parser.add_argument("--valid-streams", type=int, default=1, metavar="B",
                        help="score the valid split as B streams side by side (a GPU's batch; "
                             "the test split is always one stream)")
    args = parser.parse_args()
    results = args.results
    for corpus in args.corpora.split(","):
        for name in args.models.split(","):
            result = train(corpus, name, max_epochs=args.max_epochs,
                           max_minutes=args.max_minutes, overrides=dict(args.set),
                           checkpoints=args.checkpoints, resume=args.resume,
                           backend_name=args.backend, device=args.device,
                           smoke=args.smoke, valid_streams=args.valid_streams)
            result["machine"] = machine()
            if args.device.startswith("cuda"):
                import torch

                result["machine"] += f", GPU {torch.cuda.get_device_name(args.device)}"
            result["date"] = time.strftime("%Y-%m-%d")
            # read again just before writing: runs of other corpora may share the file
            found = json.loads(results.read_text()) if results.exists() else {}
            found.setdefault(corpus, {})[name] = result
            results.parent.mkdir(parents=True, exist_ok=True)
            results.write_text(json.dumps(found, indent=1) + "\n")  # after every model
    print(f"wrote {results}; `python bench/lm_results.py --write-docs` puts it in the table")


if __name__ == "__main__":
    main()
