"""How often does each claim of the report fire, under the null and under stated effects? (`jtask2vec power`)

A **design** (sources per target, targets, seeds, distances) and **noise levels** (spread of the true
transfer accuracies across sources, seed noise of one fine-tune, seed noise of a distance's scores) define
simulated transfer grids:

- true accuracy ``μ_ts = base + u_t + v_ts`` (``v_ts ~ N(0, sd_source²)``), observed per seed
  ``μ_ts + e_kts`` (``e ~ N(0, sd_seed²)``);
- each TASK2VEC distance j scores source s for target t with ``ρ·z_ts + √(1 − ρ²)·w_jts`` plus seed noise
  (``z``: the standardised true accuracies within the target; ``w``: shared by the distances with
  correlation ``distance_correlation``, since the distances of one run agree with each other far more than
  with transfer); ``ρ = 0`` is the **null** (scores independent of accuracy, but stable over seeds — the
  case the old seed-interval rule called significant); one further selector (``baseline``) is always null.

The per-target metrics (top-1, regret@1, Spearman, NDCG) of every grid come from a vectorised copy of
:mod:`jtask2vec.evaluation.metrics` (tested equal to it), and each claim is then decided by **the same
functions of** :mod:`jtask2vec.evaluation.claims` **the report calls** (:func:`claims.headline_claims`,
:func:`claims.runs_difference`). Run-vs-run claims compare two independent grids, on the same targets
(paired) or on different targets (unpaired); under the alternative run B's distances have the effect and
run A's do not.

``false_claim_rate``: share of null grids where the claim fires in either direction. ``power``: share of
grids with the effect where it fires in the right direction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from jtask2vec.evaluation import claims
from jtask2vec.evaluation.metrics import BEST_ATOL

HEADLINE = ("top1_hit", "regret@1", "spearman", "ndcg")
BASELINE = "baseline"


@dataclass(frozen=True)
class Design:
    """What is simulated; the noise levels are accuracy units (``sd_score_seed`` score units)."""

    n_sources: int = 10
    n_targets: int = 11
    n_seeds: int = 3
    n_distances: int = 5
    n_others: int = 1
    sd_source: float = 0.02
    sd_seed: float = 0.01
    sd_target: float = 0.05
    sd_score_seed: float = 0.1
    distance_correlation: float = 0.7
    base_accuracy: float = 0.8


def design_from_transfer(transfer: pd.DataFrame, n_distances: int = 5, n_others: int = 1) -> Design:
    """The design and noise levels of a finished run's transfer grid (no-transfer rows and self-transfer left
    out): seed sd = root mean within-(source, target) variance over seeds; source sd = the mean over targets
    of the sd of the sources' seed-mean accuracies, less the seed noise's share."""
    t = transfer[(transfer["source"] != transfer["target"]) & (transfer["source"] != "(none)")]
    t = t.dropna(subset=["accuracy"])
    seeds = t["seed"].nunique()
    per_cell = t.groupby(["target", "source"])["accuracy"]
    sd_seed = float(np.sqrt(np.nanmean(per_cell.var(ddof=1)))) if seeds > 1 else Design.sd_seed
    means = per_cell.mean().unstack("source")
    spread = float(np.nanmean(means.var(axis=1, ddof=1)))
    sd_source = float(np.sqrt(max(spread - sd_seed**2 / max(seeds, 1), 1e-8)))
    return Design(
        n_sources=int(t.groupby("target")["source"].nunique().median()),
        n_targets=int(t["target"].nunique()),
        n_seeds=int(seeds),
        n_distances=n_distances,
        n_others=n_others,
        sd_source=sd_source,
        sd_seed=sd_seed,
        sd_target=float(np.nanstd(means.mean(axis=1))) if len(means) > 1 else Design.sd_target,
        base_accuracy=float(t["accuracy"].mean()),
    )


def simulate(design: Design, rho: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(accuracy (K, T, S), scores (J + O, K, T, S))``: J distances, then O null other selectors."""
    d = design
    k, t, s, j, o = d.n_seeds, d.n_targets, d.n_sources, d.n_distances, d.n_others
    true = d.base_accuracy + rng.normal(0, d.sd_target, (t, 1)) + rng.normal(0, d.sd_source, (t, s))
    acc = true[None] + rng.normal(0, d.sd_seed, (k, t, s))
    z = (true - true.mean(axis=1, keepdims=True)) / true.std(axis=1, keepdims=True)
    c = d.distance_correlation
    shared = rng.normal(size=(1, t, s))
    w = np.sqrt(c) * shared + np.sqrt(1 - c) * rng.normal(size=(j, t, s))
    dist = rho * z[None] + np.sqrt(1 - rho**2) * w
    others = rng.normal(size=(o, t, s))
    stable = np.concatenate([dist, others])  # (J + O, T, S)
    scores = stable[:, None] + rng.normal(0, d.sd_score_seed, (j + o, k, t, s))
    return acc, scores


def grid_metrics(acc: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Headline metrics of every (selector, seed, target), shape (J, K, T): the definitions of
    :mod:`jtask2vec.evaluation.metrics` for scores without ties (continuous scores)."""
    n = acc.shape[-1]
    top = scores.argmax(axis=-1)  # (J, K, T)
    picked = np.take_along_axis(np.broadcast_to(acc, scores.shape), top[..., None], axis=-1)[..., 0]
    best = acc.max(axis=-1)[None]
    out = {"top1_hit": (picked >= best - BEST_ATOL).astype(float), "regret@1": best - picked}
    rank_s = scores.argsort(axis=-1).argsort(axis=-1).astype(float)
    rank_a = np.broadcast_to(acc.argsort(axis=-1).argsort(axis=-1).astype(float), scores.shape)
    rs, ra = rank_s - rank_s.mean(-1, keepdims=True), rank_a - rank_a.mean(-1, keepdims=True)
    out["spearman"] = (rs * ra).sum(-1) / np.sqrt((rs**2).sum(-1) * (ra**2).sum(-1))
    lo, hi = acc.min(-1, keepdims=True), acc.max(-1, keepdims=True)
    gains = np.broadcast_to((acc - lo) / (hi - lo), scores.shape)
    disc = 1.0 / np.log2(np.arange(n) + 2.0)
    order = (-scores).argsort(axis=-1)
    dcg = (np.take_along_axis(gains, order, axis=-1) * disc).sum(-1)
    ideal = (np.sort(gains, axis=-1)[..., ::-1] * disc).sum(-1)
    out["ndcg"] = dcg / ideal
    return out


def expected_metrics(acc: np.ndarray) -> dict[str, np.ndarray]:
    """``random:expected`` of every (seed, target), shape (K, T): exact expectations, random ranking."""
    n = acc.shape[-1]
    best = acc.max(axis=-1)
    is_best = acc >= best[..., None] - BEST_ATOL
    lo, hi = acc.min(-1, keepdims=True), acc.max(-1, keepdims=True)
    gains = (acc - lo) / (hi - lo)
    disc = 1.0 / np.log2(np.arange(n) + 2.0)
    ideal = (np.sort(gains, axis=-1)[..., ::-1] * disc).sum(-1)
    return {
        "top1_hit": is_best.mean(-1),
        "regret@1": best - acc.mean(-1),
        "spearman": np.zeros(best.shape),
        "ndcg": gains.mean(-1) * disc.sum() / ideal,
    }


def selector_names(design: Design) -> list[str]:
    names = [f"{claims.TASK2VEC_PREFIX}d{i}" for i in range(design.n_distances)]
    return names + [f"{BASELINE}{i}" for i in range(design.n_others)]


def grid_tables(
    acc: np.ndarray, scores: np.ndarray, names: list[str], prefix: str = "t"
) -> dict[str, pd.DataFrame]:
    """One simulated grid's :func:`claims.metric_tables`: per metric, targets × selectors, each value the
    mean over seeds (``random:expected`` included)."""
    values = grid_metrics(acc, scores)
    expected = expected_metrics(acc)
    index = pd.Index([f"{prefix}{i}" for i in range(acc.shape[1])], name="target")
    columns = pd.Index([*names, claims.RANDOM_EXPECTED], name="selector")
    out = {}
    for m in HEADLINE:
        wide = np.concatenate([values[m].mean(axis=1), expected[m].mean(axis=0)[None]]).T  # (T, J + 1)
        out[m] = pd.DataFrame(wide, index=index, columns=columns)
    return out


def per_target_table(acc: np.ndarray, scores: np.ndarray, names: list[str]) -> pd.DataFrame:
    """The long ``per_target`` table (selector, seed, target, metric, value) of one simulated grid: what a
    run saves, for checking :func:`grid_tables` against :func:`claims.metric_tables`."""
    j, k, t = scores.shape[0], scores.shape[1], scores.shape[2]
    values = grid_metrics(acc, scores)
    expected = expected_metrics(acc)
    sel = np.repeat(np.array([*names, claims.RANDOM_EXPECTED]), k * t)
    seed = np.tile(np.repeat(np.arange(k), t), j + 1)
    target = np.tile(np.array([f"t{i}" for i in range(t)]), (j + 1) * k)
    parts = [
        pd.DataFrame(
            {
                "selector": sel,
                "seed": seed,
                "target": target,
                "metric": m,
                "value": np.concatenate([values[m].reshape(-1), expected[m].reshape(-1)]),
            }
        )
        for m in HEADLINE
    ]
    return pd.concat(parts, ignore_index=True)


def _claims_of(
    tables: dict[str, pd.DataFrame], confidence: float, metrics: tuple[str, ...] = HEADLINE
) -> dict[str, tuple[bool, bool]]:
    """Each claim of the report on one grid: (fires in any direction, fires as 'better')."""
    found = claims.headline_claims(tables, metrics, confidence=confidence)
    out = {}
    for metric in metrics:
        c = found.chance.get(metric)
        out[f"best distance vs chance on {metric}"] = (
            bool(c and c.called),
            bool(c and c.verdict == "better"),
        )
        if metric in found.selector_metrics:
            vs = [c for c in found.selectors if c.metric == metric and c.other.startswith(BASELINE)]
            out[f"best distance vs another selector on {metric}"] = (
                any(c.called for c in vs),
                any(c.verdict == "better" for c in vs),
            )
        fr = found.friedman.get(metric)
        differs = bool(fr and fr.differences)
        wins = bool(fr and any(a.startswith(claims.TASK2VEC_PREFIX) for a, _ in fr.differences))
        out[f"Friedman + Nemenyi difference on {metric}"] = (differs, wins)
    return out


def _runs_of(
    a: dict[str, pd.DataFrame],
    b: dict[str, pd.DataFrame],
    paired: bool,
    confidence: float,
    metrics: tuple[str, ...] = HEADLINE,
) -> dict[str, tuple[bool, bool]]:
    out = {}
    kind = "paired" if paired else "unpaired"
    for metric in metrics:
        distances = claims.distances_in(a[metric].columns)
        found = claims.runs_difference(a[metric], b[metric], metric, distances, confidence=confidence)
        out[f"run B vs run A ({kind}) on {metric}"] = (
            any(c.called for c in found),
            any(c.verdict == "better" for c in found),
        )
    return out


def power_table(
    design: Design,
    *,
    sims: int = 400,
    effect: float = 0.8,
    confidence: float = 0.95,
    seed: int = 0,
    power_sims: int | None = None,
    metrics: tuple[str, ...] = HEADLINE,
) -> list[dict[str, object]]:
    """``[{"claim", "false_claim_rate", "power", "effect", "sims"}]`` for every claim type (see the module
    docstring); ``effect`` is ρ, the correlation of the distances' stable scores with true accuracy.
    ``sims`` grids under the null; ``power_sims`` (default ``sims``) under the effect; ``metrics``: a subset
    of the headline metrics (all by default)."""
    power_sims = sims if power_sims is None else power_sims
    rng = np.random.default_rng(seed)
    fires: dict[str, int] = {}
    wins: dict[str, int] = {}
    names = selector_names(design)
    for i in range(max(sims, power_sims)):
        null_a = grid_tables(*simulate(design, 0.0, rng), names)
        if i < sims:
            null_b = grid_tables(*simulate(design, 0.0, rng), names)
            null_u = grid_tables(*simulate(design, 0.0, rng), names, prefix="u")
            for key, (any_, _) in _claims_of(null_a, confidence, metrics).items():
                fires[key] = fires.get(key, 0) + any_
            for paired, nb in ((True, null_b), (False, null_u)):
                for key, (any_, _) in _runs_of(null_a, nb, paired, confidence, metrics).items():
                    fires[key] = fires.get(key, 0) + any_
        if i < power_sims:
            alt = grid_tables(*simulate(design, effect, rng), names)
            alt_u = grid_tables(*simulate(design, effect, rng), names, prefix="u")
            for key, (_, better) in _claims_of(alt, confidence, metrics).items():
                wins[key] = wins.get(key, 0) + better
            for paired, ab in ((True, alt), (False, alt_u)):
                for key, (_, better) in _runs_of(null_a, ab, paired, confidence, metrics).items():
                    wins[key] = wins.get(key, 0) + better
    keys = list(dict.fromkeys([*fires, *wins]))
    return [
        {"claim": key, "false_claim_rate": fires.get(key, 0) / sims if sims else None,
         "power": wins.get(key, 0) / power_sims if power_sims else None, "effect": effect, "sims": sims,
         "power_sims": power_sims}
        for key in keys
    ]  # fmt: skip


def design_dict(design: Design) -> dict[str, object]:
    return asdict(design)


def design_from_counts(
    n_sources: int, n_targets: int, n_seeds: int, n_distances: int, n_others: int, **noise: float
) -> Design:
    """A design from a suite's counts, with the stated default noise levels (or those given)."""
    return Design(
        n_sources=n_sources,
        n_targets=n_targets,
        n_seeds=n_seeds,
        n_distances=n_distances,
        n_others=n_others,
        **noise,
    )
