"""Topic ``language_models`` (CS224n lecture 6): count-based n-gram language models, their
smoothing (add-δ, backoff, Kneser-Ney), perplexity and sampling text; a fixed-window neural LM,
an RNN LM trained by backpropagation through time, and RNN sentence encoders and classifiers."""
