"""jtask2vec: TASK2VEC task embeddings for choosing a transfer source in Japanese text classification."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "rank_target"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `import jtask2vec` stays light (no torch import).
    if name == "rank_target":
        from jtask2vec.zoo.rank import rank_target

        return rank_target
    raise AttributeError(f"module 'jtask2vec' has no attribute {name!r}")
