"""Source selectors other than TASK2VEC: each ranks candidate sources for one target (higher = better).

- ``random``   seeded uniform scores (:func:`random_scores`); the evaluation adds the exact expected value
               of every metric under a uniformly random ranking as ``random:expected``.
- ``datasize`` number of training examples of the source (:func:`datasize_scores`).
- ``textemb``  cosine between mean-pooled pretrained-probe text vectors (:func:`textemb_scores`,
               vectors from :func:`text_embedding`), Vu et al. 2020.
- feature-based (:mod:`jtask2vec.selection.feature_based`): ``logme`` (You et al. 2021), ``hscore`` (Bao et
  al. 2019), ``hscore-shrinkage`` (Ibrahim et al. 2022), ``nleep`` (Li et al. 2021), ``gbc`` (Pándy et al.
  2022), ``transrate`` (Huang et al. 2022), ``knn`` (leave-one-out kNN accuracy) on pooled features of the
  target's training texts through the source-fine-tuned encoder, and ``leep`` (Nguyen et al. 2020), ``nce``
  (Tran et al. 2019) on the source head's predicted probabilities for those texts — one forward pass per
  (source, target, seed) serves them all (:func:`feature_selector_scores`).

No I/O here: the pipeline computes the inputs and caches the results. :func:`scores_table` turns one
target's scores into rows of the ``scores`` table (see :mod:`jtask2vec.results`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from jtask2vec.results import FLAG_COLUMN, TABLE_COLUMNS
from jtask2vec.selection.baselines import (
    candidate_sources,
    cosine,
    datasize_scores,
    random_scores,
    textemb_scores,
)
from jtask2vec.selection.feature_based import (
    FEATURE_SELECTORS,
    SelectorScore,
    feature_selector_scores,
    score_features,
)
from jtask2vec.selection.features import TargetFeatures, extract_target_features
from jtask2vec.selection.logme import NOT_CONVERGED, EvidenceFit, LogMEScore, logme, logme_fits, logme_score
from jtask2vec.selection.ranking import Ranking, rank_sources
from jtask2vec.selection.textemb import extract_features, text_embedding

SELECTORS: tuple[str, ...] = ("random", "datasize", "textemb", *FEATURE_SELECTORS)


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
    "FEATURE_SELECTORS",
    "NOT_CONVERGED",
    "SELECTORS",
    "EvidenceFit",
    "LogMEScore",
    "Ranking",
    "SelectorScore",
    "TargetFeatures",
    "candidate_sources",
    "cosine",
    "datasize_scores",
    "extract_features",
    "extract_target_features",
    "feature_selector_scores",
    "logme",
    "logme_fits",
    "logme_score",
    "random_scores",
    "rank_sources",
    "score_features",
    "scores_table",
    "text_embedding",
    "textemb_scores",
]
