"""Topic ``neural_networks``: neurons, backpropagation and the training toolbox (CS224n
lectures 3-4, notes part III), built on the course library (``../library``)."""
