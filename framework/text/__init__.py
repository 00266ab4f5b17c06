"""Text pipeline: tokenization, vocabularies, numericalization, sampling tables and batching."""
