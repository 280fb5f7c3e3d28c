"""Benchmark: seconds for each feature-based selector to score one (source, target) pair from cached
features: N examples × D dims (default 5,000 × 768, float64), binary labels, structured random features
(a low-rank signal along the labels plus anisotropic noise) and source-head probabilities.

Prints one line per selector: the median over ``--repeats`` runs of the wall time (``time.perf_counter``)
and of the process CPU time (``time.process_time``, all threads of this process; on a shared, loaded
machine it is the steadier figure). Then ``slowest_selector_seconds=<t>`` and ``slowest_over_logme=<ratio>``
(both from the wall times; ``slowest_selector_cpu_seconds`` is the CPU-time counterpart).

    python bench/selector_speed.py [--examples 5000] [--dims 768] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from jtask2vec.selection.feature_based import FEATURE_SELECTORS, score_features
from jtask2vec.selection.features import TargetFeatures


def structured_features(n: int, d: int, seed: int = 0) -> tuple[TargetFeatures, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    rank = 32
    basis = rng.normal(size=(rank, d)) / np.sqrt(d)
    latent = rng.normal(size=(n, rank)) * np.linspace(3.0, 0.3, rank)
    latent[:, 0] += 1.5 * (2 * labels - 1)
    features = latent @ basis * 4.0 + rng.normal(size=(n, d)) * rng.uniform(0.05, 0.5, size=d)
    logit = 1.2 * (2 * labels - 1) + rng.normal(size=n)
    p1 = 1 / (1 + np.exp(-logit))
    probabilities = np.stack([1 - p1, p1], axis=1)
    return TargetFeatures(features, probabilities, "last"), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--dims", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: leave as is)")
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    features, labels = structured_features(args.examples, args.dims)
    print(f"features {args.examples} x {args.dims}, {args.repeats} repeats (median)")
    timings, cpu_timings = {}, {}
    print(f"{'selector':<18} {'wall s':>8} {'cpu s':>8}   score")
    for name in FEATURE_SELECTORS:
        runs, cpu_runs = [], []
        for _ in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            value = score_features([name], features, labels)[name]
            runs.append(time.perf_counter() - start)
            cpu_runs.append(time.process_time() - cpu_start)
        timings[name] = statistics.median(runs)
        cpu_timings[name] = statistics.median(cpu_runs)
        print(f"{name:<18} {timings[name]:8.3f} {cpu_timings[name]:8.3f}   score {value:.10g}")
    slowest = max(timings, key=timings.get)
    print(f"slowest_selector={slowest}")
    print(f"slowest_selector_cpu_seconds={max(cpu_timings.values()):.3f}")
    print(f"slowest_selector_seconds={timings[slowest]:.3f}")
    print(f"slowest_over_logme={timings[slowest] / timings['logme']:.2f}")


if __name__ == "__main__":
    main()
