"""Registers the reference layers, losses and optimizers for every backend."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl
from nlpdojo_nn.layers import Linear
from nlpdojo_nn.losses import SoftmaxCrossEntropy
from nlpdojo_nn.optimizers import SGD


@hookimpl
def register_modules(register):
    register("linear", Linear)


@hookimpl
def register_losses(register):
    register("softmax_cross_entropy", SoftmaxCrossEntropy)


@hookimpl
def register_optimizers(register):
    register("sgd", SGD)
