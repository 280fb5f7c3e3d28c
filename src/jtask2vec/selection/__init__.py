"""Source selectors other than TASK2VEC: each ranks candidate sources for one target (higher = better).

- ``random``   seeded uniform scores (:func:`random_scores`); the evaluation adds the exact expected value
               of every metric under a uniformly random ranking as ``random:expected``.
- ``datasize`` number of training examples of the source (:func:`datasize_scores`).
- ``textemb``  cosine between mean-pooled pretrained-probe text vectors (:func:`textemb_scores`,
               vectors from :func:`text_embedding`), Vu et al. 2020.
- ``logme``    LogME of the target's training labels on features of the target's training texts through
               the source-fine-tuned encoder (:func:`logme_scores`, features from :func:`extract_features`),
               You et al. 2021.

No I/O here: the pipeline computes the inputs and caches the results. :func:`scores_table` turns one
target's scores into rows of the ``scores`` table (see :mod:`jtask2vec.results`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from jtask2vec.errors import DataError
from jtask2vec.results import FLAG_COLUMN, TABLE_COLUMNS
from jtask2vec.selection.baselines import (
    candidate_sources,
    cosine,
    datasize_scores,
    random_scores,
    textemb_scores,
)
from jtask2vec.selection.logme import NOT_CONVERGED, EvidenceFit, LogMEScore, logme, logme_fits, logme_score
from jtask2vec.selection.ranking import Ranking, rank_sources
from jtask2vec.selection.textemb import extract_features, text_embedding

SELECTORS: tuple[str, ...] = ("random", "datasize", "textemb", "logme")


def logme_scores(
    features: Mapping[str, np.ndarray], labels: np.ndarray, target: str, sources: Iterable[str]
) -> dict[str, float]:
    """Score = LogME(features[source], labels).

    ``features[source]``: (N, D) pooled features of the *target's* N training texts through the encoder
    fine-tuned on ``source`` (:func:`extract_features`); ``labels``: (N,) the target's training labels.
    """
    out = {}
    for s in candidate_sources(target, sources):
        if s not in features:
            raise DataError(f"logme: no features of target {target!r} through source {s!r}")
        out[s] = logme(features[s], labels)
    return out


def scores_table(
    selector: str,
    seed: int,
    target: str,
    scores: Mapping[str, float],
    flags: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rows ``selector, seed, target, source, score`` of the ``scores`` table, one per source; with
    ``flags`` (source -> ``""`` or a caveat such as ``"not converged"``) also a ``flag`` column."""
    rows = [(selector, int(seed), target, s, float(v)) for s, v in scores.items()]
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS["scores"])
    if flags is not None:
        table[FLAG_COLUMN] = [flags[s] for s in scores]
    return table


__all__ = [
    "NOT_CONVERGED",
    "SELECTORS",
    "EvidenceFit",
    "LogMEScore",
    "Ranking",
    "candidate_sources",
    "cosine",
    "datasize_scores",
    "extract_features",
    "logme",
    "logme_fits",
    "logme_score",
    "logme_scores",
    "random_scores",
    "rank_sources",
    "scores_table",
    "text_embedding",
    "textemb_scores",
]
