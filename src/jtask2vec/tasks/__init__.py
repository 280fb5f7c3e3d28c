"""Tasks: the `Task` type, one loader per corpus, and the splitting/subsampling utilities."""

from jtask2vec.tasks.base import SPLITS, Provenance, SplitName, Task

__all__ = ["SPLITS", "Provenance", "SplitName", "Task"]
