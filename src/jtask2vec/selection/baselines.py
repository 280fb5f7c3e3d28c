"""Seed-, size- and vector-based source selectors. Each returns ``{source: score}``, higher = better.

A task is never its own candidate source: ``target`` is dropped from ``sources`` by every selector.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

import numpy as np

from jtask2vec.errors import DataError


def candidate_sources(target: str, sources: Iterable[str]) -> list[str]:
    """``sources`` without ``target`` and without repeats, order kept."""
    return [s for s in dict.fromkeys(sources) if s != target]


def _stable_int(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def random_scores(target: str, sources: Iterable[str], seed: int) -> dict[str, float]:
    """Uniform(0, 1) scores, reproducible: each one depends only on (seed, target, source).

    One draw is one random ranking; for the *expected* value of each metric under a uniformly random
    ranking, :func:`jtask2vec.evaluation.evaluate_selectors` adds the exact reference ``random:expected``.
    """
    return {
        s: float(np.random.default_rng([seed, _stable_int(target), _stable_int(s)]).random())
        for s in candidate_sources(target, sources)
    }


def datasize_scores(sizes: Mapping[str, int], target: str, sources: Iterable[str]) -> dict[str, float]:
    """Score = number of training examples of the source (bigger sources transfer better, the folk rule)."""
    out = {}
    for s in candidate_sources(target, sources):
        if s not in sizes:
            raise DataError(f"datasize: no training-set size for source {s!r}")
        out[s] = float(sizes[s])
    return out


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """``a·b / (‖a‖ ‖b‖)`` in float64; NaN when either vector is zero."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise DataError(f"cosine: vectors of different sizes {a.shape[0]} and {b.shape[0]}")
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 0 else float("nan")


def textemb_scores(
    vectors: Mapping[str, np.ndarray], target: str, sources: Iterable[str]
) -> dict[str, float]:
    """TextEmb (Vu et al. 2020): score = cosine(source task vector, target task vector).

    ``vectors[task]`` is :func:`jtask2vec.selection.textemb.text_embedding` of the task's training texts.
    """
    if target not in vectors:
        raise DataError(f"textemb: no text embedding for target {target!r}")
    out = {}
    for s in candidate_sources(target, sources):
        if s not in vectors:
            raise DataError(f"textemb: no text embedding for source {s!r}")
        out[s] = cosine(vectors[s], vectors[target])
    return out
