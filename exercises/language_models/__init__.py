"""Topic ``language_models`` (CS224n lecture 6): count-based n-gram language models, their
smoothing, and perplexity."""
