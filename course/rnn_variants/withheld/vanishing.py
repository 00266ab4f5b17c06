"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.vanishing`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the gradient not passed back: every step starts again from ∂J/∂h⁽ᵀ⁾", "_, «grad → _»"),
    bug("the walk back run forward in time (caches in the wrong order)",
        "for cache in «reversed(caches) → caches»:"),
    bug("the norm of the cell state's gradient, not h's",
        "        norms.append(xp.linalg.vector_norm(«first(grad) → grad[-1] if isinstance(grad, "
        "tuple) else grad»))"),
    bug("the sizes of one case written in (T = 6 steps, H = 5)",
        "grad = «with_first(zeros_like_state(xp, state), grad_last) → (grad_last, xp.zeros((3, "
        "5), dtype=xs.dtype)) if isinstance(state, tuple) else grad_last»"),
    bug("J seeded in the cell state too", "grad = «with_first(zeros_like_state(xp, state), "
        "grad_last) → (grad_last, grad_last) if isinstance(state, tuple) else grad_last»"),
    # right values, on the wrong device: on a GPU the norms come back on the CPU
    bug("the norms put back on the default device", "    return xp.«stack(norms)  # (T + 1,) → "
        "asarray([float(n) for n in norms])»", says="was returned on device"),
    # the same, judged by the property check too: its points need the norms as returned
    # (the strict pass's second device), not only their values (issue 62 item 4)
    bug("each norm made again on the default device", "    return xp.stack(«norms)  # (T + 1,) → "
        "[xp.asarray(float(n)) for n in norms])»", says="was returned on device", by=("bound",)),
    # the same values as Python floats: each copied to the host, on a GPU a wait each
    bug("the norms returned as a Python list of floats", "    return «xp.stack(norms)  # (T + 1,) "
        "→ [float(n) for n in norms]»", says="returned as a Python list of floats"),
    # the norms kept as arrays but never joined: a list where the contract says one array
    bug("the norms returned as a Python list of 0-d arrays", "    return «xp.stack(norms)  # (T + "
        "1,) → norms»", says="returned as a Python list of 0-d arrays"),
]
