"""jtask2vec: TASK2VEC task embeddings for choosing a transfer source in Japanese text classification."""

__version__ = "0.1.0"
