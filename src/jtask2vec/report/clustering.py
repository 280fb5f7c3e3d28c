"""Hierarchical clustering of the tasks on a distance matrix (scipy.cluster.hierarchy), shared by the
dendrogram and the clustered heatmaps so that both show the tasks in the same order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

LINKAGE_METHOD = "average"


def can_cluster(distance: pd.DataFrame) -> bool:
    """Clustering needs at least two tasks and at least one finite off-diagonal distance."""
    if len(distance) < 2:
        return False
    d = distance.to_numpy(dtype=float)
    return bool(np.isfinite(d[~np.eye(len(d), dtype=bool)]).any())


def condensed(distance: pd.DataFrame) -> np.ndarray:
    """The condensed form scipy wants: ``(D + D^T) / 2``, diagonal 0, a missing distance set to the largest
    one (the pair is placed as far apart as anything), negatives clipped to 0."""
    d = distance.to_numpy(dtype=float)
    d = (d + d.T) / 2.0
    np.fill_diagonal(d, 0.0)
    largest = float(np.nanmax(d)) if np.isfinite(d).any() else 0.0
    d = np.clip(np.nan_to_num(d, nan=largest), 0.0, None)
    return squareform(d, checks=False)


def task_linkage(distance: pd.DataFrame, method: str = LINKAGE_METHOD) -> np.ndarray:
    """The linkage matrix of the tasks (rows/columns of ``distance``, a square distance matrix)."""
    return linkage(condensed(distance), method=method)


def cluster_order(distance: pd.DataFrame, method: str = LINKAGE_METHOD) -> list[str]:
    """The tasks in the dendrogram's leaf order (``scipy.cluster.hierarchy.leaves_list``); the matrix's own
    order when it cannot be clustered."""
    names = [str(t) for t in distance.index]
    if not can_cluster(distance):
        return names
    return [names[i] for i in leaves_list(task_linkage(distance, method))]


def reorder(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """``frame`` with its rows and columns arranged in ``order``; labels not in ``order`` (e.g. the
    no-transfer column) come first, in their own order."""

    def arranged(labels: pd.Index) -> list:
        names = [str(x) for x in labels]
        tasks = [t for t in order if t in names]
        head = [x for x in labels if str(x) not in order]
        return head + [labels[names.index(t)] for t in tasks]

    return frame.loc[arranged(frame.index), arranged(frame.columns)]
