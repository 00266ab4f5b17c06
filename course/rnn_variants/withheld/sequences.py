"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.sequences`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug
from nlpdojo_course.rnn_variants.sequences import DENSE, STACKED

#: the given lines between the end of Recurrent.forward's block and backward's unpacking
_FORWARD_TO_BACKWARD = (
    "        ### END SOLUTION\n\n"
    "    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, State]:\n"
    "        # grad_output: (B, T, H); returns dL/dxs (B, T, D) and dL/dstate0 (the state's "
    "structure)\n"
    "        xp = self.xp\n"
    "        ### BEGIN SOLUTION rnn_variants.recurrent\n")

BUGS = [
    # the same arrays in a tuple: a stacked LM then takes the stack's state for one LSTM's
    # (h, c) (a student trial: 2 of 2)
    bug("Stacked.final_state a tuple of the layers' states, not a list",
        "        return «[layer.final_state(c[0]) for layer, c in zip(self.layers, caches, "
        "strict=True)] → tuple(layer.final_state(c[0]) for layer, c in zip(self.layers, caches, "
        "strict=True))»\n        ### END SOLUTION\n\n\nclass DenselyConnected",
        says="other containers", module="..library.deep_rnn"),
    # right values, a Python loop over the positions: the time rule fails it
    bug("highway's gate computed a position at a time",
        "a = «xp.matmul(u, self.weight.data) → xp.stack(\n"
        "            [xp.matmul(u[:, i, :], self.weight.data) for i in range(u.shape[1])], axis=1)»"
        " + self.bias.data", says="a Python loop over the positions"),
    bug("BPTT: the state's gradient from the next step dropped",
        "with_first(«grad_state → zeros_like_state(xp, final)», grad_output[:, t, :])"),
    bug("the whole state output at each step (only an array state works)",
        "outputs.append(«first(state) → state»)"),
    bug("the forward's cache laid out (state, caches): the given final_state reads cache[1]",
        "(«caches, state → state, caches»)  # (B, T, H)\n" + _FORWARD_TO_BACKWARD
        + "        «caches, final → final, caches» = cache",
        says="returns cache[1] of the cache your forward returns"),
    bug("right-to-left outputs not flipped back into the sentence's order",
        "xp.concat([left, «xp.flip(right, axis=1) → right»], axis=-1)"),
    bug("right-to-left layer run on the inputs in their own order",
        "self.backward_rnn(«xp.flip(xs, axis=1) → xs», state0)"),
    # right values on NumPy, 0 on torch: the strict pass refuses what torch refuses
    bug("inputs reversed by a slice with a negative step, which torch refuses",
        "self.backward_rnn(«xp.flip(xs, axis=1) → xs[:, ::-1, :]»", says="torch refuses this"),
    bug("dropout between the layers left on in eval mode",
        "                « → self.dropouts[k].train(True)\n"
        "                »outputs, dropout_cache = self.dropouts[k](outputs)"),
    bug("two layers written in, not the constructor's num_layers",
        "        super().__init__(backend)\n        « → num_layers = 2\n"
        "        »if num_layers < 1:", question=STACKED),
    bug("dropout after the top layer too",
        "«if k < len(self.dropouts):  # between layers only: not after the top one\n"
        "                 → »outputs, dropout_cache = self.dropouts[«k → min(k, "
        "len(self.dropouts) - 1)»](outputs)"),
    bug("dropout on the recurrent path (the state each layer starts from)", "layer(inputs, "
        "states[k«])  # (B, T, H) → ] if k == 0 else (tuple(self.dropouts[k - 1](s)[0] for s in "
        "states[k]) if isinstance(states[k], tuple) else self.dropouts[k - 1](states[k])[0]))»"),
    bug("the initial state's gradient from the lower layers dropped",
        "grad_state = add_states(« → 0 * »grad_state, grad_state_k)"),
    bug("every layer starts from the bottom layer's state (a list of states)",
        "outputs, layer_cache = layer(inputs, states[«k → 0»])  # (B, T, H)"),
    bug("final_state gives the top layer's state only",
        "return «[layer.final_state(c[0]) for layer, c in zip(self.layers, caches, strict=True)] "
        "→ self.layers[-1].final_state(caches[-1][0])»"),
    bug("the gradient around a connection dropped (only through the layer)",
        "grad = grad + « → 0.0 * »around"),
    bug("the residual connection written in, not the constructor's", "connection_cache =« →  (\n"
        "                    inputs + outputs,» self.connections[k](inputs, outputs)« → [1])»"),
    bug("highway gate on the wrong side (t weighs the input)", "t * «y → u» + (1.0 - t) * «u → y»"),
    bug("highway: the gate's path dropped from dL/du", "grad_output * (1.0 - t) + « → 0.0 * »"),
    bug("highway: the gate's sigmoid as e^a / (1 + e^a): NaN past a = 709", "t = "
        "«0.5 * (1.0 + xp.tanh(0.5 * a))  # (..., H) σ(a), no overflow in exp → xp.exp(a) / (1.0 "
        "+ xp.exp(a))  # (..., H)»", says="your sigmoid returns NaN for pre-activations above 709"),
    bug("residual: no gradient through the skip", "return « → 0.0 * »grad_output, grad_output"),
    bug("dense: the inputs' gradient from the first layer only (overwritten, not summed)",
        "grad_xs = grad_in[..., :d]« if grad_xs is None else grad_xs + grad_in[..., :d] → »"),
    bug("dense: a layer's gradient from the last layer above it only",
        "grads[j] = share« if grads[j] is None else grads[j] + share → »"),
    bug("dense: each share cut without the inputs' D columns first",
        "share = grad_in[..., «d + j * h:d +  → j * h:»(j + 1) * h]  # (B, T, H)"),
    bug("dense: every layer starts from the bottom layer's state (a list of states)",
        "outputs, layer_cache = layer(xp.concat(features, axis=-1), states[«k → 0»])  # (B, T, H)"),
    bug("dense: one state for all, its gradient from the top layer only",
        "grad_state = «add_states(grad_state, grad_of_layer) → grad_of_layer»"),
    bug("dense: final_state gives the top layer's state only",
        "return [«layer.final_state(c) for layer, c in zip(self.layers, caches, strict=True) → "
        "self.layers[-1].final_state(caches[-1])»]"),
    bug("dense: two layers written in, not the constructor's num_layers",
        "self.layers = [layer(backend, input_size + k * hidden_size, hidden_size,\n"
        "                             seed=seed + 2 * k) for k in range(«num_layers → 2»)]",
        question=DENSE),
]
