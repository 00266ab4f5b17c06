"""Topic ``word_vectors``: word2vec from scratch (CS224n lecture 1-2)."""
