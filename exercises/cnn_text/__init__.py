"""Topic ``cnn_text``: CNNs for text: convolutions, pooling over time, Kim's sentence CNN."""
