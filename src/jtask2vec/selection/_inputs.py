"""Input checks shared by the transferability estimators: one clear error per bad input."""

from __future__ import annotations

import numpy as np

from jtask2vec.errors import DataError


def check_features(name: str, features: np.ndarray) -> np.ndarray:
    """``features`` as a finite float64 (N, D) array."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise DataError(f"{name}: features must be 2-D (N, D), got shape {f.shape}")
    if not np.isfinite(f).all():
        raise DataError(f"{name}: features contain NaN or infinite values")
    return f


def check_labels(name: str, labels: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """``(codes, n_classes)``: labels (N,) mapped to 0..C−1 in sorted order; at least two classes."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{name}: labels must be 1-D with N={n} entries, got shape {y.shape}")
    classes, codes = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise DataError(f"{name}: labels need at least 2 classes, got {classes.tolist()}")
    return codes.astype(np.int64), int(classes.shape[0])


def check_probabilities(name: str, probabilities: np.ndarray) -> np.ndarray:
    """``probabilities`` as a float64 (N, Z) array of rows on the simplex (each row sums to 1)."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise DataError(f"{name}: source probabilities must be 2-D (N, Z), got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise DataError(f"{name}: source probabilities must be finite and non-negative")
    sums = p.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: source probabilities of example {i} sum to {sums[i]:.6g}, not 1")
    return p
