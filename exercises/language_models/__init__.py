"""Topic ``language_models`` (CS224n lecture 6): count-based n-gram language models, their
smoothing (add-δ, backoff, Kneser-Ney), perplexity, and sampling text."""
