"""The plugin module named by the entry point: pluggy registers its @hookimpl functions.

Importing it must stay cheap and side-effect free: nlpdojo imports every allowed plugin when
the registry is first used.
"""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl
from nlpdojo_lion.layer_norm import LayerNorm
from nlpdojo_lion.optimizer import Lion


@hookimpl
def register_optimizers(register):
    # Written against the array namespace: no backend= argument, so it runs on every backend.
    register("lion", Lion)


@hookimpl
def register_modules(register):
    # A layer follows the module contract (forward -> (output, cache), backward(grad, cache));
    # what it registers is found with registry.get("module", "layer_norm").
    register("layer_norm", LayerNorm, paper="arXiv:1607.06450")
