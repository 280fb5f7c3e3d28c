"""Task kinds (sentiment, topic, NLI, ...) and whether a TASK2VEC distance puts same-kind tasks together.

For a distance matrix ``D`` (mean over seeds, rows ``from``, columns ``to``) and the kind of each task, the
statistic is ``across − within``: the mean of ``D`` over ordered pairs of distinct tasks of different kinds
minus its mean over ordered pairs of distinct tasks of the same kind. Positive: same-kind tasks are closer.

Its p-value is a one-sided permutation test (H0: kinds are exchangeable between tasks): the kind labels are
permuted among the tasks, keeping the number of tasks of each kind. With few enough distinct relabellings
all are enumerated (exact p = share of relabellings with a statistic at least the observed one); otherwise
``n_permutations`` random ones are drawn and ``p = (1 + #{≥ observed}) / (1 + n_permutations)``.
Tasks without a kind and missing distances are left out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jtask2vec.results import RunResults

N_PERMUTATIONS = 10_000
TIE_TOLERANCE = 1e-12


def task_kinds(results: RunResults) -> dict[str, str]:
    """``task -> kind`` from the tasks table's ``kind`` column (else the suite's task specs, where they have
    a ``kind``); tasks without one are absent. Results saved before kinds existed give ``{}``."""
    out = {
        spec.name: str(kind).strip()
        for spec in results.suite.tasks
        if isinstance(kind := getattr(spec, "kind", None), str) and kind.strip()
    }
    if "kind" in results.tasks.columns:
        for task, kind in zip(results.tasks["task"], results.tasks["kind"], strict=True):
            if isinstance(kind, str) and kind.strip():
                out[str(task)] = kind.strip()
    return out


@dataclass(frozen=True)
class KindSeparation:
    """Within-kind vs across-kind distance of one distance matrix."""

    within_mean: float
    across_mean: float
    n_within: int  # ordered pairs
    n_across: int
    p_value: float
    n_permutations: int  # relabellings compared (all of them when exact)
    exact: bool

    @property
    def difference(self) -> float:
        return self.across_mean - self.within_mean


def _statistic(d: np.ndarray, valid: np.ndarray, same: np.ndarray) -> np.ndarray:
    """``across − within`` for a stack of same-kind masks ``same`` (..., n, n); NaN where a side is empty."""
    within = same & valid
    across = ~same & valid
    n_w, n_a = within.sum(axis=(-2, -1)), across.sum(axis=(-2, -1))
    d0 = np.where(valid, d, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = (d0 * within).sum(axis=(-2, -1)) / n_w
        a = (d0 * across).sum(axis=(-2, -1)) / n_a
    return np.where((n_w > 0) & (n_a > 0), a - w, np.nan)


def n_relabellings(labels: list[str]) -> int:
    """How many distinct arrangements of these labels exist (a multinomial coefficient)."""
    total = math.factorial(len(labels))
    for count in Counter(labels).values():
        total //= math.factorial(count)
    return total


def distinct_relabellings(labels: list[str]) -> Iterator[tuple[str, ...]]:
    """Every distinct arrangement of ``labels`` (a multiset), each once."""
    counts = Counter(labels)
    kinds = sorted(counts)
    current: list[str] = []

    def extend() -> Iterator[tuple[str, ...]]:
        if len(current) == len(labels):
            yield tuple(current)
            return
        for kind in kinds:
            if counts[kind]:
                counts[kind] -= 1
                current.append(kind)
                yield from extend()
                current.pop()
                counts[kind] += 1

    yield from extend()


def kind_separation(
    distance: pd.DataFrame,
    kinds: dict[str, str],
    *,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> KindSeparation | None:
    """Within- vs across-kind distance and its permutation p-value; ``None`` when there are not two kinds,
    or no same-kind or no cross-kind pair with a distance."""
    tasks = [str(t) for t in distance.index if str(t) in kinds and str(t) in map(str, distance.columns)]
    if len(set(kinds[t] for t in tasks)) < 2:
        return None
    d = distance.loc[tasks, tasks].to_numpy(dtype=np.float64)
    valid = np.isfinite(d) & ~np.eye(len(tasks), dtype=bool)
    labels = [kinds[t] for t in tasks]
    codes = np.array([sorted(set(labels)).index(k) for k in labels])
    same = codes[:, None] == codes[None, :]
    observed = float(_statistic(d, valid, same))
    if np.isnan(observed):
        return None
    within, across = same & valid, ~same & valid
    total = n_relabellings(labels)
    if total <= n_permutations:
        stacked = np.array([[sorted(set(labels)).index(k) for k in p] for p in distinct_relabellings(labels)])
        exact = True
    else:
        rng = np.random.default_rng(seed)
        stacked = np.stack([rng.permutation(codes) for _ in range(n_permutations)])
        exact = False
    stats = _statistic(d, valid, stacked[:, :, None] == stacked[:, None, :])
    hits = int(np.sum(stats >= observed - TIE_TOLERANCE))  # NaN statistics never count
    p_value = hits / len(stacked) if exact else (1 + hits) / (1 + len(stacked))
    return KindSeparation(
        within_mean=float(d[within].mean()),
        across_mean=float(d[across].mean()),
        n_within=int(within.sum()),
        n_across=int(across.sum()),
        p_value=float(p_value),
        n_permutations=len(stacked),
        exact=exact,
    )


def per_kind_distances(distance: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Per kind: ``n_tasks``, ``within`` (mean distance between its distinct tasks, ordered pairs) and
    ``to_others`` (mean distance from its tasks to tasks of other kinds, both directions); kinds in order of
    first appearance in the matrix."""
    tasks = [str(t) for t in distance.index if str(t) in kinds]
    rows = []
    for kind in dict.fromkeys(kinds[t] for t in tasks):
        mine = [t for t in tasks if kinds[t] == kind]
        others = [t for t in tasks if kinds[t] != kind]
        inner = [distance.at[a, b] for a in mine for b in mine if a != b]
        outer = [distance.at[a, b] for a in mine for b in others] + [
            distance.at[b, a] for a in mine for b in others
        ]
        rows.append(
            {
                "kind": kind,
                "n_tasks": len(mine),
                "within": float(np.nanmean(inner)) if np.isfinite(inner).any() else np.nan,
                "to_others": float(np.nanmean(outer)) if np.isfinite(outer).any() else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["kind", "n_tasks", "within", "to_others"])
