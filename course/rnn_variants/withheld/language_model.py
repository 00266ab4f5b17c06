"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.language_model`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

from ..language_model import MODULE

BUGS = [
    bug("output dropout left out of backward", MODULE,
        "grad_hs = self.dropout_out.backward(\n"
        "            xp.reshape(grad_hs, (b, t_steps, self.hidden_size)), c_drop)",
        "grad_hs = xp.reshape(grad_hs, (b, t_steps, self.hidden_size))", "lstm_lm"),
    bug("gradient clipped after the optimizer's step", MODULE,
        "            if clip is not None:\n"
        "                clip_gradients(model.parameters(), clip)  # one norm over every "
        "parameter\n            opt.step()",
        "            opt.step()\n            if clip is not None:\n"
        "                clip_gradients(model.parameters(), clip)", "lstm_lm"),
    bug("only h carried across windows, the cell state reset", MODULE,
        "state = model.final_state(cache)  # carried",
        "state = (model.final_state(cache)[0], 0.0 * model.final_state(cache)[1])  # carried",
        "lstm_lm"),
    bug("a new optimizer every window (Adam's state lost)", MODULE,
        "            opt.zero_grad()\n            scores, cache = model(x, state)",
        "            opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)\n"
        "            opt.zero_grad()\n            scores, cache = model(x, state)", "lstm_lm",
        says="exactly those of a new optimizer made for every window"),
    bug("dropout left on in eval mode", MODULE,
        "        vectors, c_in = self.dropout_in(vectors)  # (B, T, D)\n",
        "        self.dropout_in.train(True)\n"
        "        vectors, c_in = self.dropout_in(vectors)  # (B, T, D)\n", "lstm_lm"),
    bug("the dropout rate written in, not the constructor's", MODULE,
        "        vectors, c_in = self.dropout_in(vectors)  # (B, T, D)\n",
        "        self.dropout_in.p = 0.25\n"
        "        vectors, c_in = self.dropout_in(vectors)  # (B, T, D)\n", "lstm_lm"),
    bug("the clip written in, not the argument", MODULE,
        "clip_gradients(model.parameters(), clip)  # one norm over every parameter",
        "clip_gradients(model.parameters(), 0.1)  # one norm over every parameter",
        "lstm_lm"),
    bug("clipped though clip is None", MODULE,
        "            if clip is not None:\n"
        "                clip_gradients(model.parameters(), clip)  # one norm over every "
        "parameter",
        "            if True:\n"
        "                clip_gradients(model.parameters(), clip or 0.25)  # one norm over "
        "every parameter", "lstm_lm"),
    bug("an LSTM's state (h, c) the only one handled (a GRU's h refused)",
        MODULE, "        b, t_steps = ids.shape\n        vectors, c_emb = self.embedding(ids)",
        "        if not (isinstance(state0, tuple) and len(state0) == 2):\n"
        "            raise ValueError('only an LSTM state (h, c) is handled')\n"
        "        b, t_steps = ids.shape\n        vectors, c_emb = self.embedding(ids)",
        "lstm_lm", by=("values_gru",)),
    bug("input dropout left out of backward", MODULE,
        "self.embedding.backward(self.dropout_in.backward(grad_vectors, c_in), c_emb)",
        "self.embedding.backward(grad_vectors, c_emb)", "lstm_lm"),
    bug("final_state returns h alone for an LSTM: the next window starts from h, not (h, c)",
        MODULE, "return self.rnn.final_state(cache[2])",
        "return self.rnn.final_state(cache[2])[0]", "lstm_lm", by=("final_state",),
        says="start each window from model.final_state(cache)"),
]
