"""The course library: layers, losses, optimizers, initialisers and schedules that every topic
after word vectors builds on (CMU's needle, minitorch: one library that grows topic by topic).

Each piece follows the module contract of :mod:`nlpdojo.module`: ``forward(*inputs) ->
(output, cache)`` with the cache plain data, ``backward(grad_output, cache) -> grad_input``
adding into each parameter's ``grad``. Topic ``neural_networks`` (CS224n notes part III)
teaches what is here so far; its models import their pieces with ``from ..library.layers
import Linear``.
"""
