"""Do the evaluation's intervals hold their level? A seeded simulation of many studies.

Each simulated study has per-(seed, target) metric values ``μ + a_t + b_s + e_st`` (target effects
a_t ~ N(0, 0.1²), seed effects shared by all targets b_s ~ N(0, 0.05²), noise e_st ~ N(0, 0.1²)), like a
top-1 or regret value per (seed, target). The seed-level intervals (``t``, ``bootstrap``) estimate the
expectation over new seeds for the same targets, ``μ + mean_t a_t``; the ``hierarchical`` bootstrap the
expectation over new targets and seeds, ``μ``. Coverage = how often the nominal 95% interval contains its
estimand. ``python tests/evaluation/test_interval_coverage.py`` prints the table quoted in docs/method.md.

The claims' interval over targets (:func:`jtask2vec.evaluation.claims.target_interval`: Student t over the
per-target means, each averaged over the seeds) estimates the expectation over new targets and new seeds,
``μ``; :func:`target_coverage` measures it in the same model.
"""

from __future__ import annotations

import numpy as np

from jtask2vec.config import EvaluationConfig
from jtask2vec.evaluation import mean_ci
from jtask2vec.evaluation.claims import target_interval

SD_TARGET, SD_SEED, SD_NOISE = 0.1, 0.05, 0.1


def coverage(method: str, n_seeds: int, n_targets: int, studies: int = 300, seed: int = 0) -> float:
    rng = np.random.default_rng([seed, n_seeds, n_targets])
    hits = 0
    for i in range(studies):
        a = rng.normal(0, SD_TARGET, size=n_targets)
        b = rng.normal(0, SD_SEED, size=n_seeds)
        values = 0.5 + a[None, :] + b[:, None] + rng.normal(0, SD_NOISE, size=(n_seeds, n_targets))
        truth = 0.5 if method == "hierarchical" else 0.5 + a.mean()
        _, low, high = mean_ci(values, method, bootstrap_samples=500, seed=i)
        hits += bool(low <= truth <= high)
    return hits / studies


def target_coverage(
    n_seeds: int, n_targets: int, studies: int = 300, seed: int = 0, same_seeds: bool = False
) -> float:
    """Coverage by the Student t interval over the per-target means (the claims' interval) of μ (new
    targets and new seeds), or with ``same_seeds`` of ``μ + mean_s b_s`` (new targets, these seeds)."""
    rng = np.random.default_rng([seed, n_seeds, n_targets, 1])
    hits = 0
    for _ in range(studies):
        a = rng.normal(0, SD_TARGET, size=n_targets)
        b = rng.normal(0, SD_SEED, size=n_seeds)
        values = 0.5 + a[None, :] + b[:, None] + rng.normal(0, SD_NOISE, size=(n_seeds, n_targets))
        low, high = target_interval(values.mean(axis=0), 0.95)
        truth = 0.5 + (b.mean() if same_seeds else 0.0)
        hits += bool(low <= truth <= high)
    return hits / studies


def test_student_t_over_targets_covers_new_targets_for_these_seeds():
    """Near nominal for new targets with the run's seeds; seed effects shared by every target do not average
    out over targets, so for new seeds too it runs a few points narrow (table in docs/method.md)."""
    assert 0.92 <= target_coverage(3, 11, same_seeds=True) <= 0.98
    assert 0.85 <= target_coverage(3, 11) < target_coverage(3, 11, same_seeds=True)


def test_student_t_over_seeds_holds_its_level_and_is_the_default():
    assert 0.90 <= coverage("t", 3, 10) <= 0.99
    assert EvaluationConfig().ci_method == "t"


def test_percentile_bootstrap_over_three_seeds_is_far_too_narrow():
    assert coverage("bootstrap", 3, 10) < 0.85


def test_hierarchical_bootstrap_with_few_seeds_undercovers():
    assert coverage("hierarchical", 3, 10) < 0.93


if __name__ == "__main__":  # the table of docs/method.md
    print("method        seeds targets coverage")
    for method in ("t", "bootstrap", "hierarchical"):
        for n_seeds in (2, 3, 5, 10):
            for n_targets in (5, 15):
                value = coverage(method, n_seeds, n_targets, 400)
                print(f"{method:<13} {n_seeds:>5} {n_targets:>7} {value:8.3f}", flush=True)
    for n_seeds in (1, 3, 5):
        for n_targets in (5, 11, 15):
            same = target_coverage(n_seeds, n_targets, 400, same_seeds=True)
            value = target_coverage(n_seeds, n_targets, 400)
            print(f"{'over targets':<13} {n_seeds:>5} {n_targets:>7} {same:8.3f} {value:8.3f}", flush=True)
