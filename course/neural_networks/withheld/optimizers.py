"""The planted bugs of :mod:`nlpdojo_course.neural_networks.optimizers`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug
from nlpdojo_course.neural_networks.common import LIB

from ..optimizers import OPTIM

BUGS = [
    bug("SGD ascends", OPTIM, "p.data = p.data - self.lr * p.grad\n",
        "p.data = p.data + self.lr * p.grad\n", "sgd"),
    bug("SGD's learning rate written in, not its constructor's", OPTIM,
        "p.data = p.data - self.lr * p.grad\n", "p.data = p.data - 0.1 * p.grad\n", "sgd"),
    bug("momentum keeps no velocity", OPTIM,
        'state["velocity"] = v', 'state["velocity"] = p.grad', "momentum",
        says="exactly that of momentum that keeps the gradient instead of the velocity"),
    bug("momentum's velocity not kept between steps: plain SGD", OPTIM,
        'v = p.grad if "velocity" not in state else self.momentum * state["velocity"] '
        '+ p.grad', "v = p.grad", "momentum",
        says="exactly that of momentum whose velocity is not kept between steps"),
    bug("momentum's velocity as an average, v = mu v + (1 - mu) g", OPTIM,
        'self.momentum * state["velocity"] + p.grad',
        'self.momentum * state["velocity"] + (1.0 - self.momentum) * p.grad', "momentum",
        says="exactly that of momentum with the velocity as an average"),
    bug("momentum's coefficient written in, not its constructor's", OPTIM,
        'self.momentum * state["velocity"] + p.grad', '0.9 * state["velocity"] + p.grad',
        "momentum"),
    bug("Adagrad forgets past gradients", OPTIM,
        'total = state.get("sum", 0.0) + p.grad * p.grad', "total = p.grad * p.grad",
        "adagrad", says="exactly that of Adagrad that forgets past gradients"),
    bug("Adagrad with eps inside the square root", OPTIM,
        "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
        "p.data = p.data - self.lr * p.grad / xp.sqrt(total + self.eps)", "adagrad",
        says="exactly that of Adagrad with ε inside the square root"),
    bug("Adagrad without the square root", OPTIM,
        "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
        "p.data = p.data - self.lr * p.grad / (total + self.eps)", "adagrad",
        says="exactly that of Adagrad without the square root"),
    bug("Adagrad's learning rate and eps written in, not its constructor's", OPTIM,
        "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
        "p.data = p.data - 0.1 * p.grad / (xp.sqrt(total) + 1e-10)", "adagrad"),
    bug("RMSProp average not leaky", OPTIM,
        "+ (1.0 - self.alpha) * p.grad * p.grad", "+ p.grad * p.grad", "rmsprop",
        says="exactly that of RMSProp whose average is not leaky"),
    bug("RMSProp's average not kept between steps", OPTIM,
        'state["square_avg"] = square_avg', "pass  # the average is not kept", "rmsprop",
        says="exactly that of RMSProp whose average is not kept between steps"),
    bug("RMSProp with alpha and 1 - alpha swapped", OPTIM,
        'self.alpha * state.get("square_avg", 0.0) \\\n'
        "                + (1.0 - self.alpha) * p.grad * p.grad",
        '(1.0 - self.alpha) * state.get("square_avg", 0.0) \\\n'
        "                + self.alpha * p.grad * p.grad", "rmsprop",
        says="exactly that of RMSProp with α and 1 − α swapped"),
    bug("RMSProp's learning rate and eps written in, not its constructor's", OPTIM,
        "p.data = p.data - self.lr * p.grad / (xp.sqrt(square_avg) + self.eps)",
        "p.data = p.data - 0.01 * p.grad / (xp.sqrt(square_avg) + 1e-8)", "rmsprop"),
    bug("RMSProp's decay written in, not its constructor's", OPTIM,
        'self.alpha * state.get("square_avg", 0.0) \\\n'
        "                + (1.0 - self.alpha) * p.grad * p.grad",
        '0.9 * state.get("square_avg", 0.0) \\\n'
        "                + 0.1 * p.grad * p.grad", "rmsprop"),
    bug("Adam without bias correction", OPTIM,
        "m_hat = m / (1.0 - self.beta1 ** t)  # (same shape as p)\n"
        "            v_hat = v / (1.0 - self.beta2 ** t)",
        "m_hat = m\n            v_hat = v", "adam",
        says="exactly that of Adam without bias correction"),
    bug("Adam's step count from 0: the bias correction divides by 1 - beta^0 = 0", OPTIM,
        "t = self.steps + 1", "t = self.steps", "adam",
        says="divide by 0 when t = 0"),
    bug("Adam's bias correction one step ahead, 1 - beta^(t+1)", OPTIM,
        "m_hat = m / (1.0 - self.beta1 ** t)  # (same shape as p)\n"
        "            v_hat = v / (1.0 - self.beta2 ** t)",
        "m_hat = m / (1.0 - self.beta1 ** (t + 1))  # (same shape as p)\n"
        "            v_hat = v / (1.0 - self.beta2 ** (t + 1))", "adam",
        says="exactly that of Adam with the bias correction one step ahead"),
    bug("Adam's moments not kept between steps", OPTIM,
        'state["m"], state["v"] = m, v', "pass  # the moments are not kept", "adam",
        says="exactly that of Adam whose moments are not kept between steps"),
    bug("Adam's beta1 written in, not its constructor's", OPTIM,
        'm = self.beta1 * state.get("m", 0.0) + (1.0 - self.beta1) * p.grad',
        'm = 0.8 * state.get("m", 0.0) + 0.2 * p.grad', "adam"),
    bug("Adam's learning rate and eps written in, not its constructor's", OPTIM,
        "p.data = p.data - self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)",
        "p.data = p.data - 0.01 * m_hat / (xp.sqrt(v_hat) + 1e-8)", "adam"),
    bug("1/t schedule from step 1", f"{LIB}.schedules", "return lr0 * tau / max(t, tau)",
        "return lr0 * tau / max(t, 1)", "schedules"),
    bug("1/t schedule's tau written in, not the argument", f"{LIB}.schedules",
        "return lr0 * tau / max(t, tau)", "return lr0 * 10 / max(t, 10)", "schedules"),
    bug("step decay a step early: (t + 1) // every", f"{LIB}.schedules",
        "return lr0 * drop ** (t // every)", "return lr0 * drop ** ((t + 1) // every)",
        "schedules"),
    bug("step decay a step late: drops after step every, not at it", f"{LIB}.schedules",
        "return lr0 * drop ** (t // every)",
        "return lr0 * drop ** (max(t - 1, 0) // every)", "schedules"),
    bug("step decay's period written in, not the argument", f"{LIB}.schedules",
        "return lr0 * drop ** (t // every)", "return lr0 * drop ** (t // 10)", "schedules"),
]
