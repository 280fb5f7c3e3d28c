"""Distances between task embeddings. Every matrix has rows ``a``, columns ``b``; **lower = closer**.

With ``a, b`` task vectors (non-negative Fisher reductions):

- ``cosine``:            ``d = 1 − cos(a, b)`` (the study's; :func:`cosine_similarity_matrix` gives ``cos``).
- ``normalized-cosine``: TASK2VEC's pair-normalised cosine ``d = 1 − cos(a/(a+b), b/(a+b))``, element-wise
                         division by the pair's sum (dimensions where ``a+b = 0`` are dropped). It makes
                         the comparison insensitive to the parameters' very different Fisher scales.
- ``rms-cosine``:        ``d = 1 − cos(a/r, b/r)`` with ``r_j = sqrt(mean_t e_tj²)`` the per-dimension RMS
                         over all the tasks of the set (dimensions with ``r_j = 0`` dropped).
- ``asymmetric``:        TASK2VEC's ``d(a→b) = d_sym(a, b) − α · d_sym(a, t0)`` with ``d_sym`` the
                         normalized cosine, ``a`` the source (row) and ``b`` the target (column), ``t0``
                         the trivial embedding (:func:`jtask2vec.fisher.embedding.trivial_embedding`: the
                         Fisher of
                         the *pretrained* probe with a fresh head, i.e. before any task is learned) and
                         ``α = 0.15`` (TASK2VEC; ``EvaluationConfig.asymmetric_alpha``). Subtracting the
                         source's distance from the trivial task favours complex sources, which transfer
                         better. Not symmetric; the diagonal is ``−α d_sym(a, t0)``, not 0.
- ``symmetric-kl``:      each embedding as a Laplace posterior ``N(0, diag(F + λ)⁻¹)`` (precision = the
                         damped Fisher), and ``d = ½ (KL(a‖b) + KL(b‖a)) / D = (1/4D) Σ_j (r_j + 1/r_j − 2)``
                         with ``r_j = (b_j + λ)/(a_j + λ)``, averaged over the ``D`` dimensions. The damping
                         ``λ = damping · mean of all entries of the set`` (``damping = 1e-3``) keeps it
                         finite and scale-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from jtask2vec.errors import ConfigError, DataError

Vectors = Mapping[str, object]


def _vector(value: object) -> np.ndarray:
    vector = getattr(value, "vector", value)
    return np.asarray(vector, dtype=np.float64).reshape(-1)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))  # rounding can step past ±1


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``1 − cos(a, b)``."""
    return 1.0 - _cos(a, b)


def normalized_cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """TASK2VEC's ``1 − cos(a/(a+b), b/(a+b))`` (dimensions with ``a+b = 0`` dropped)."""
    total = a + b
    keep = total != 0
    return 1.0 - _cos(a[keep] / total[keep], b[keep] / total[keep])


def symmetric_kl_divergence(a: np.ndarray, b: np.ndarray, damping: float) -> float:
    """``(1/4D) Σ_j (r_j + 1/r_j − 2)``, ``r_j = (b_j + λ)/(a_j + λ)``, ``λ = damping`` (absolute)."""
    r = (b + damping) / (a + damping)
    return float(np.mean(r + 1.0 / r - 2.0) / 4.0)


def _stack(embeddings: Vectors) -> tuple[list[str], np.ndarray]:
    names = list(embeddings)
    if not names:
        raise DataError("no task embeddings to compare")
    vectors = [_vector(embeddings[n]) for n in names]
    sizes = {len(v) for v in vectors}
    if len(sizes) != 1:
        raise DataError(f"task embeddings have different dimensions: {sorted(sizes)}")
    matrix = np.stack(vectors)
    if not np.isfinite(matrix).all():
        bad = names[int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])]
        raise DataError(f"the embedding of task {bad!r} is not finite")
    return names, matrix


def _pairwise(matrix: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], float]) -> np.ndarray:
    n = len(matrix)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = fn(matrix[i], matrix[j])
    return out


def cosine_matrix(matrix: np.ndarray, **_: object) -> np.ndarray:
    return _pairwise(matrix, cosine_distance)


def normalized_cosine_matrix(matrix: np.ndarray, **_: object) -> np.ndarray:
    return _pairwise(matrix, normalized_cosine_distance)


def rms_cosine_matrix(matrix: np.ndarray, **_: object) -> np.ndarray:
    rms = np.sqrt(np.mean(matrix**2, axis=0))
    keep = rms > 0
    return _pairwise(matrix[:, keep] / rms[keep], cosine_distance)


def asymmetric_matrix(
    matrix: np.ndarray, *, trivial: np.ndarray | None = None, alpha: float = 0.15, **_: object
) -> np.ndarray:
    if trivial is None:
        raise ConfigError("the asymmetric distance needs the trivial embedding t0 (see trivial_embedding)")
    t0 = _vector(trivial)
    if len(t0) != matrix.shape[1]:
        raise DataError(f"the trivial embedding has dimension {len(t0)}, the tasks {matrix.shape[1]}")
    to_trivial = np.array([normalized_cosine_distance(row, t0) for row in matrix])
    return normalized_cosine_matrix(matrix) - alpha * to_trivial[:, None]


def symmetric_kl_matrix(matrix: np.ndarray, *, damping: float = 1e-3, **_: object) -> np.ndarray:
    if (matrix < 0).any():
        raise DataError("the symmetric KL needs non-negative (Fisher) embeddings")
    scale = float(matrix.mean()) or 1.0
    return _pairwise(matrix, lambda a, b: symmetric_kl_divergence(a, b, damping * scale))


DISTANCES: dict[str, Callable[..., np.ndarray]] = {
    "cosine": cosine_matrix,
    "normalized-cosine": normalized_cosine_matrix,
    "rms-cosine": rms_cosine_matrix,
    "asymmetric": asymmetric_matrix,
    "symmetric-kl": symmetric_kl_matrix,
}


def distance_matrix(
    embeddings: Vectors, name: str, *, trivial: object | None = None, alpha: float = 0.15
) -> pd.DataFrame:
    """Square DataFrame of distance ``name`` (a key of :data:`DISTANCES`): rows ``a``, columns ``b``,
    lower = closer. ``embeddings`` maps task names to :class:`~jtask2vec.fisher.embedding.TaskEmbedding` or
    vectors; ``trivial`` (``t0``) and ``alpha`` serve the asymmetric distance."""
    if name not in DISTANCES:
        raise ConfigError(f"unknown distance {name!r}; choose one of {', '.join(DISTANCES)}")
    names, matrix = _stack(embeddings)
    values = DISTANCES[name](matrix, trivial=trivial, alpha=alpha)
    frame = pd.DataFrame(values, index=pd.Index(names, name="a"), columns=pd.Index(names, name="b"))
    return frame


def cosine_similarity_matrix(embeddings: Vectors) -> pd.DataFrame:
    """The study's raw cosine *similarity* (higher = closer): ``1 − cosine distance``."""
    return 1.0 - distance_matrix(embeddings, "cosine")


def trivial_embedding_for_probe(probe, tasks, config, *, seed: int, progress: bool = False):
    """``t0`` for the asymmetric distance, from the pretrained ``probe`` (a
    :class:`jtask2vec.model.probes.Probe`) and a seeded sample of the texts of ``tasks`` (their
    ``config.split``, at most ``config.max_examples`` in all, drawn evenly across tasks).

    The choice (see :func:`jtask2vec.fisher.embedding.trivial_embedding`): the Fisher of the *pretrained*
    probe
    with a fresh head, before any task is learned, on the suite's own text distribution: TASK2VEC's
    "trivial embedding" of the probe. ``α = 0.15`` as in TASK2VEC.
    """
    from jtask2vec.fisher.embedding import trivial_embedding

    rng = np.random.default_rng(seed)
    pools = [t.inputs_of(config.split) for t in tasks]
    budget = config.max_examples or sum(len(p) for p in pools)
    per_task = max(1, budget // max(1, len(pools)))
    texts: list = []  # texts and, from sentence-pair tasks, (text, text_pair) inputs
    for pool in pools:
        if pool:
            take = rng.choice(len(pool), size=min(per_task, len(pool)), replace=False)
            texts.extend(pool[i] for i in sorted(take))
    if not texts:
        raise DataError(f"no {config.split!r} texts to compute the trivial embedding on")
    return trivial_embedding(
        probe.encoder, probe.pooling, probe.tokenizer, texts, config, probe.max_length,
        seed=seed, probe_name=probe.fingerprint, progress=progress,
    )  # fmt: skip


# ---- one target against many sources (vectorised; equals distance_matrix's column of the target) -------
def _row_cosine(rows: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``cos(rows_i, other_i)`` per row (``other`` broadcast); 0 where a norm is 0, clipped to ±1."""
    dots = np.sum(rows * other, axis=1)
    norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(np.broadcast_to(other, rows.shape), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
    return np.clip(cos, -1.0, 1.0)


def _row_normalized_cosine(rows: np.ndarray, other: np.ndarray) -> np.ndarray:
    total = rows + other
    keep = total != 0
    safe = np.where(keep, total, 1.0)
    a = np.where(keep, rows / safe, 0.0)  # dropped dimensions add nothing to dots and norms
    b = np.where(keep, np.broadcast_to(other, rows.shape) / safe, 0.0)
    return 1.0 - _row_cosine(a, b)


def distances_to_target(
    sources: np.ndarray,
    target: np.ndarray,
    name: str,
    *,
    trivial: np.ndarray | None = None,
    alpha: float = 0.15,
    damping: float = 1e-3,
) -> np.ndarray:
    """``d(source_i → target)`` for every row of ``sources`` (n, D), vectorised over the sources.

    Equals column ``target`` of :func:`distance_matrix` over the set ``sources ∪ {target}`` (the set
    statistics of ``rms-cosine`` and ``symmetric-kl`` are taken over that set). ``trivial``: ``t0`` for
    the asymmetric distance, shape (D,) or one row per source (n, D) (sources from zoos built on other
    texts keep their own ``t0``).
    """
    if name not in DISTANCES:
        raise ConfigError(f"unknown distance {name!r}; choose one of {', '.join(DISTANCES)}")
    s = np.asarray(sources, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64).reshape(-1)
    if s.ndim != 2 or s.shape[1] != len(t):
        raise DataError(f"source embeddings {s.shape} and the target ({len(t)},) differ in dimension")
    if not (np.isfinite(s).all() and np.isfinite(t).all()):
        raise DataError("a task embedding is not finite")
    if name == "cosine":
        return 1.0 - _row_cosine(s, t)
    if name == "normalized-cosine":
        return _row_normalized_cosine(s, t)
    if name == "rms-cosine":
        rms = np.sqrt((np.sum(s**2, axis=0) + t**2) / (len(s) + 1))
        keep = rms > 0
        return 1.0 - _row_cosine(s[:, keep] / rms[keep], t[keep] / rms[keep])
    if name == "asymmetric":
        if trivial is None:
            raise ConfigError("the asymmetric distance needs the trivial embedding t0")
        t0 = np.asarray(trivial, dtype=np.float64)
        if t0.shape[-1] != len(t):
            raise DataError(f"the trivial embedding has dimension {t0.shape[-1]}, the tasks {len(t)}")
        return _row_normalized_cosine(s, t) - alpha * _row_normalized_cosine(s, t0)
    if (s < 0).any() or (t < 0).any():
        raise DataError("the symmetric KL needs non-negative (Fisher) embeddings")
    scale = float((s.sum() + t.sum()) / (s.size + t.size)) or 1.0
    lam = damping * scale
    r = (t + lam) / (s + lam)
    return np.mean(r + 1.0 / r - 2.0, axis=1) / 4.0
