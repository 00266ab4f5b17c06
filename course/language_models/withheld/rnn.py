"""The planted bugs of :mod:`nlpdojo_course.language_models.rnn`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("RNN cell backward without the tanh derivative", "grad_output« * (1.0 - h * h) → »"),
    bug("W_h gradient overwritten: only one step's share survives BPTT",
        "self.weight_h.grad «+ → »= xp.matmul("),
    bug("RNN cell's tanh as (e^2z − 1) / (e^2z + 1): NaN past z = 355", "h = «xp.tanh(z → "
        "(xp.exp(2.0 * z) - 1.0) / (xp.exp(2.0 * z) + 1.0»)", says="your tanh returns NaN"),
    bug("no backpropagation through time: dL/dh not passed back to the previous step",
        "self.cell.backward(grad_output[:, t, :] + « → 0.0 * »grad_h,"),
    bug("RNN LM's final state taken from the first step", "return scores, (c_emb, c_rnn, c_out, "
        "hs[:, «-1 → 0»", says="exactly those of the state carried from the window's first step",
        by=("final_state",)),
    # right windows, a Python loop over them: require_vectorized fails it
    bug("BPTT windows cut in a Python loop over the tokens",
        "    inputs = streams[:, :k * bptt].reshape(batch_size, k, bptt)  # (B, K, T)\n",
        "    inputs = np.array([[[streams[b, j * bptt + i] for i in range(bptt)]\n"
        "                        for j in range(k)] for b in range(batch_size)],\n"
        "                      np.int64).reshape(batch_size, k, bptt)  # (B, K, T)\n",
        says="a Python loop over the tokens"),
    bug("targets not shifted by one", "targets = streams[:, «1:k * bptt + 1 → :k * bptt»]",
        says="exactly those of targets not shifted by one"),
    bug("hidden state not carried across windows", "model.«final_state(cache → initial_state(b»)  "
        "# (B, H) carried", says="exactly those of the hidden state not carried across windows"),
    bug("gradients never zeroed between windows",
        "            «opt.zero_grad()\n             → »scores, cache = model(x, h)",
        says="exactly those of gradients never zeroed"),
    bug("a new optimizer every window (Adam's state lost)",
        "            « → opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)\n"
        "            »opt.zero_grad()\n            scores, cache = model(x, h)"),
]
