"""The planted bugs of :mod:`nlpdojo_course.neural_networks.optimizers`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("SGD ascends", "p.data = p.data «- → +» self.lr * p.grad\n"),
    bug("SGD's learning rate written in, not its constructor's",
        "p.data = p.data - «self.lr → 0.1» * p.grad\n"),
    bug("momentum keeps no velocity", 'state["velocity"] = «v → p.grad»',
        says="exactly that of momentum that keeps the gradient instead of the velocity"),
    bug("momentum's velocity not kept between steps: plain SGD",
        'v = p.grad« if "velocity" not in state else self.momentum * state["velocity"] + p.grad → '
        "»", says="exactly that of momentum whose velocity is not kept between steps"),
    bug("momentum's velocity as an average, v = mu v + (1 - mu) g", 'state["velocity"] + « → (1.0 '
        "- self.momentum) * »", says="exactly that of momentum with the velocity as an average"),
    bug("momentum's coefficient written in, not its constructor's",
        '«self.momentum → 0.9» * state["velocity"] + p.grad'),
    bug("Adagrad forgets past gradients", 'total = «state.get("sum", 0.0) +  → »p.grad * p.grad',
        says="exactly that of Adagrad that forgets past gradients"),
    bug("Adagrad with eps inside the square root", "p.grad / «(xp.sqrt(total) + self.eps) → "
        "xp.sqrt(total + self.eps)»", says="exactly that of Adagrad with ε inside the square root"),
    bug("Adagrad without the square root", "/ («xp.sqrt(total) → total» + self.eps)",
        says="exactly that of Adagrad without the square root"),
    bug("Adagrad's learning rate and eps written in, not its constructor's",
        "p.data = p.data - «self.lr → 0.1» * p.grad / (xp.sqrt(total) + «self.eps → 1e-10»)"),
    bug("RMSProp average not leaky", "+ «(1.0 - self.alpha) *  → »p.grad * p.grad",
        says="exactly that of RMSProp whose average is not leaky"),
    bug("RMSProp's average not kept between steps",
        '«state["square_avg"] = square_avg → pass  # the average is not kept»',
        says="exactly that of RMSProp whose average is not kept between steps"),
    bug("RMSProp with alpha and 1 - alpha swapped", "«self.alpha → (1.0 - self.alpha)» * "
        'state.get("square_avg", 0.0) \\\n                + «(1.0 - self.alpha) → self.alpha»',
        says="exactly that of RMSProp with α and 1 − α swapped"),
    bug("RMSProp's learning rate and eps written in, not its constructor's",
        "p.data = p.data - «self.lr → 0.01» * p.grad / (xp.sqrt(square_avg) + «self.eps → 1e-8»)"),
    bug("RMSProp's decay written in, not its constructor's", "«self.alpha → 0.9» * "
        'state.get("square_avg", 0.0) \\\n                + «(1.0 - self.alpha) → 0.1» * p.grad'),
    bug("Adam without bias correction", "step = m / «(1.0 - self.beta1 ** t) → 1.0»  # m̂, then α "
        "m̂ / (√v̂ + ε), in place\n            step *= self.lr\n"
        "            denominator = xp.sqrt(v / «(1.0 - self.beta2 ** t) → 1.0»)",
        says="exactly that of Adam without bias correction"),
    bug("Adam's step count from 0: the bias correction divides by 1 - beta^0 = 0",
        "t = self.steps« + 1 → »", says="divide by 0 when t = 0"),
    bug("Adam's bias correction one step ahead, 1 - beta^(t+1)", "step = m / (1.0 - self.beta1 ** "
        "«t → (t + 1)»)  # m̂, then α m̂ / (√v̂ + ε), in place\n            step *= self.lr\n"
        "            denominator = xp.sqrt(v / (1.0 - self.beta2 ** «t → (t + 1)»))",
        says="exactly that of Adam with the bias correction one step ahead"),
    bug("Adam's moments not kept between steps", "if «not state → True»:  # both moments start at "
        "0", says="exactly that of Adam whose moments are not kept between steps"),
    bug("Adam's beta1 written in, not its constructor's",
        "m *= «self.beta1 → 0.8»\n            m += «(1.0 - self.beta1) → 0.2» * p.grad"),
    bug("Adam's learning rate and eps written in, not its constructor's", "step *= «self.lr → "
        "0.01»\n            denominator = xp.sqrt(v / (1.0 - self.beta2 ** t))  # √v̂\n"
        "            denominator += «self.eps → 1e-8»"),
    bug("1/t schedule from step 1", "return lr0 * tau / max(t, «tau → 1»)"),
    bug("1/t schedule's tau written in, not the argument", "lr0 * «tau → 10» / max(t, «tau → 10»)"),
    bug("step decay a step early: (t + 1) // every", "lr0 * drop ** («t → (t + 1)» // every)"),
    bug("step decay a step late: drops after step every, not at it",
        "return lr0 * drop ** («t → max(t - 1, 0)» // every)"),
    bug("step decay's period written in, not the argument", "lr0 * drop ** (t // «every → 10»)"),
]
