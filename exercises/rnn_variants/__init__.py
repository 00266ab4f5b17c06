"""Topic ``rnn_variants`` (CS224n lecture 7): vanishing gradients, gradient clipping, LSTM and
GRU cells, bidirectional and stacked RNNs. The cells are the course library's
(``library/gated.py``)."""
