"""A zoo: a portable library of source-task embeddings (and optional checkpoints) for ranking new targets.

``build_zoo`` (``jtask2vec zoo build``), ``add_zoo`` (``zoo add``), ``Zoo.load`` (``zoo show``),
``rank_target`` / ``rank_zoo_target`` (``jtask2vec rank --zoo``). Format: docs/zoo.md.
"""

from __future__ import annotations

from jtask2vec.zoo.build import add_zoo, build_zoo
from jtask2vec.zoo.manifest import Zoo, ZooEntry
from jtask2vec.zoo.rank import TargetRanking, rank_target, rank_zoo_target
from jtask2vec.zoo.target import TargetOptions, registered_target

__all__ = [
    "TargetOptions",
    "TargetRanking",
    "Zoo",
    "ZooEntry",
    "add_zoo",
    "build_zoo",
    "rank_target",
    "rank_zoo_target",
    "registered_target",
]
