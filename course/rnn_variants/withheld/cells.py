"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.cells`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("input and forget gates swapped (gate order not torch's i, f, g, o)",
        "i = _sigmoid(xp, a[:, «:H → H:2 * H»])  # (B, H) input gate\n"
        "        f = _sigmoid(xp, a[:, «H:2 * H → :H»])", says="in the order f, i, g, o"),
    bug("the cell state's own gradient dropped in backward (only the path through h)",
        "grad_c = « → 0.0 * »grad_c + grad_h * o", says="drops the dL/dc it is given"),
    bug("the path from h to c left out of backward (only c's own gradient)",
        "grad_c = grad_c + « → 0.0 * »grad_h * o * (1.0", says="leaves out the path from h to c"),
    bug("forget-gate bias initialised to zero", "[0.0 * ones, « → 0.0 * »ones, 0.0 * ones, 0.0"),
    bug("the LSTM's sigmoid as e^a / (1 + e^a): inf / inf = NaN past a = 709",
        "        def _sigmoid(xp, a):«  # σ(a) = (1 + tanh(a / 2)) / 2: no overflow in exp → »\n"
        "            return «0.5 * (1.0 + xp.tanh(0.5 * a)) → xp.exp(a) / (1.0 + xp.exp(a))»\n\n"
        "        a = (xp.matmul(x", says="your sigmoid returns NaN for pre-activations above 709"),
    bug("the LSTM cell at one size only: H = 5 written in",
        "        H = «self.hidden_size → 5»\n        ### BEGIN SOLUTION rnn_variants.lstm_cell"),
    bug("update gate the wrong way round (z weighs the candidate)", "h = «(1.0 - z) * n + z → z * "
        "n + (1.0 - z)» * h_prev", says="the update gate the wrong way round"),
    bug("reset gate applied before the recurrent matmul (the other GRU variant)",
        "n = xp.tanh(ax[:, 2 * H:] + «r * ah_n → xp.matmul(r * h_prev, self.weight_h.data[:, 2 * "
        "H:]) + self.bias_h.data[2 * H:]»)", says="Cho et al.'s variant"),
    bug("the direct path from h to h_prev left out of backward",
        "grad_h_prev = « → 0.0 * »grad_h * z", says="leaves out the direct path from h to h_prev"),
    bug("the GRU's sigmoid as e^a / (1 + e^a): inf / inf = NaN past a = 709",
        "        def _sigmoid(xp, a):«  # σ(a) = (1 + tanh(a / 2)) / 2: no overflow in exp → »\n"
        "            return «0.5 * (1.0 + xp.tanh(0.5 * a)) → xp.exp(a) / (1.0 + xp.exp(a))»\n\n"
        "        ax = xp.matmul(x", says="your sigmoid returns NaN for pre-activations above 709"),
    bug("the GRU's candidate tanh written with e^2a: NaN past a = 355",
        "n = «xp.tanh(ax[:, 2 * H:] + r * ah_n) → (xp.exp(2.0 * (ax[:, 2 * H:] + r * ah_n)) - "
        "1.0) / (\n            xp.exp(2.0 * (ax[:, 2 * H:] + r * ah_n)) + 1.0)»",
        says="your tanh returns NaN"),
    bug("the GRU cell at one size only: H = 5 written in",
        "        H = «self.hidden_size → 5»\n        ### BEGIN SOLUTION rnn_variants.gru_cell"),
    # the right arrays in a list: Recurrent then takes the state's gradient for a stack's (a
    # student trial: 4.5 of 4.5 on the cell, every other question full marks)
    bug("the LSTM cell's state gradient returned as a list, not the tuple (h, c)",
        "return grad_x, «(grad_h_prev, grad_c * f) → [grad_h_prev, grad_c * f]»",
        says="list(array, array)"),
]
