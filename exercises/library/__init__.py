"""The course library: layers, losses, optimizers, initialisers and schedules that every topic
after word vectors builds on (CMU's needle, minitorch: one library that grows topic by topic).

Each piece follows the module contract of :mod:`nlpdojo.module`: ``forward(*inputs) ->
(output, cache)`` with the cache plain data, ``backward(grad_output, cache) -> grad_input``
adding into each parameter's ``grad``. Topics import every piece from here, whichever file
holds it: ``from ..library import Linear, RNNCell, Adam``. The package re-exports what each
module lists in its ``__all__``, each name imported from its own module when first used
(:mod:`nlpdojo.exports`), so a file that does not import breaks only its own names, and a new
file (``library/mgu.py`` with ``__all__ = ["MGUCell"]``) needs no edit here.
"""

from nlpdojo.exports import reexport

__getattr__, __dir__ = reexport(__name__)
