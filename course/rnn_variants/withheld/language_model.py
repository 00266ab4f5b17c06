"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.language_model`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("output dropout left out of backward", "grad_hs = «self.dropout_out.backward(\n"
        "             → »xp.reshape(grad_hs, (b, t_steps, self.hidden_size))«, c_drop) → »"),
    bug("gradient clipped after the optimizer's step",
        "« →             opt.step()\n»            if clip is not None:\n"
        "                clip_gradients(model.parameters(), clip)«  # one norm over every "
        "parameter\n            opt.step() → »"),
    bug("only h carried across windows, the cell state reset", "state "
        "=« →  (model.final_state(cache)[0], 0.0 *» model.final_state(cache)« → [1])»  # carried"),
    bug("a new optimizer every window (Adam's state lost)",
        "            « → opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)\n"
        "            »opt.zero_grad()\n            scores, cache = model(x, state)",
        says="exactly those of a new optimizer made for every window"),
    bug("dropout left on in eval mode", "        « → self.dropout_in.train(True)\n"
        "        »vectors, c_in = self.dropout_in(vectors)"),
    bug("the dropout rate written in, not the constructor's",
        "        « → self.dropout_in.p = 0.25\n        »vectors, c_in = self.dropout_in(vectors)"),
    bug("the clip written in, not the argument",
        "clip_gradients(model.parameters(), «clip → 0.1»)  # one norm over every parameter"),
    bug("clipped though clip is None", "            if «clip is not None → True»:\n"
        "                clip_gradients(model.parameters(), clip« →  or 0.25»)"),
    bug("an LSTM's state (h, c) the only one handled (a GRU's h refused)",
        "        « → if not (isinstance(state0, tuple) and len(state0) == 2):\n"
        "            raise ValueError('only an LSTM state (h, c) is handled')\n"
        "        »b, t_steps = ids.shape\n        vectors", by=("values_gru",)),
    bug("input dropout left out of backward",
        "self.embedding.backward(«self.dropout_in.backward(grad_vectors, c_in) → grad_vectors»"),
    bug("final_state returns h alone for an LSTM: the next window starts from h, not (h, c)",
        "return self.rnn.final_state(cache[2])« → [0]»", by=("final_state",),
        says="start each window from model.final_state(cache)"),
]
