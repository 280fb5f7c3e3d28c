"""Benchmark: rank N synthetic source embeddings of dimension D for one target with every TASK2VEC distance.

Times :func:`jtask2vec.fisher.distances.distances_to_target` (vectorised over the sources, the path
``rank --zoo`` uses) for all five distances, one t0 per source as in a merged zoo, best of ``--repeat``
runs, and checks a few sources against the per-pair reference
:func:`jtask2vec.fisher.distances.distance_matrix`.
The last line is ``rank_seconds=<t>`` (goal: < 1 s for 1,000 sources of dimension 768).

    python bench/rank.py
    python bench/rank.py --sources 10000 --dim 768
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from jtask2vec.fisher.distances import DISTANCES, distance_matrix, distances_to_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    sources = rng.gamma(0.5, 1e-4, size=(args.sources, args.dim))  # Fisher-like: non-negative, skewed
    target = rng.gamma(0.5, 1e-4, size=args.dim)
    trivial = rng.gamma(0.5, 1e-4, size=(args.sources, args.dim))
    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        values = {d: distances_to_target(sources, target, d, trivial=trivial, alpha=0.15) for d in DISTANCES}
        orders = {d: np.argsort(v, kind="stable") for d, v in values.items()}
        best = min(best, time.perf_counter() - started)
    # spot check against the per-pair reference (rms-cosine and symmetric-kl use set statistics: the
    # reference gets the whole set, so only the cheap distances are checked on a subset)
    few = {f"s{i}": sources[i] for i in range(5)} | {"target": target}
    for d in ("cosine", "normalized-cosine"):
        want = distance_matrix(few, d)["target"].to_numpy()[:-1]
        np.testing.assert_allclose(values[d][:5], want, rtol=1e-12)
    firsts = {d: int(o[0]) for d, o in orders.items()}
    print(f"sources={args.sources} dim={args.dim} distances={len(DISTANCES)} first={firsts}")
    print(f"rank_seconds={best:.4f}")


if __name__ == "__main__":
    main()
