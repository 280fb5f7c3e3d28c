"""Rank a zoo's source tasks for a new target: every TASK2VEC distance (and LogME with checkpoints).

The target is fine-tuned from the zoo's probe with the zoo's training config and embedded with the zoo's
Fisher config (both cached in the run's store), then compared with every entry by every distance of
:mod:`jtask2vec.distances`, vectorised over the entries (:func:`~jtask2vec.distances.distances_to_target`;
the asymmetric distance uses each entry's own ``t0``). Values are averaged over the zoo's seeds.

The consensus order is the mean rank over the TASK2VEC distances (ties by name); its first source is the
recommendation. Agreement: how many distances put each source first, and Kendall's τ between every two
selectors' scores (``-distance``, LogME).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jtask2vec.config import TaskSpec
from jtask2vec.distances import DISTANCES, distances_to_target
from jtask2vec.errors import DataError
from jtask2vec.evaluation import rank_correlations
from jtask2vec.store import ArtifactStore
from jtask2vec.tasks import Task
from jtask2vec.zoo import compute
from jtask2vec.zoo.manifest import Zoo
from jtask2vec.zoo.target import TargetOptions, target_spec

TASK2VEC = "task2vec:"
LOGME = "logme"
RANK_FORMAT = "jtask2vec-rank/1"


def selector_names(with_logme: bool) -> list[str]:
    return [f"{TASK2VEC}{d}" for d in DISTANCES] + ([LOGME] if with_logme else [])


def higher_is_better(selector: str) -> bool:
    return not selector.startswith(TASK2VEC)


@dataclass
class TargetRanking:
    """The ranking of a zoo's entries for one target.

    ``values``: long table (selector, seed, source, value, flag): distances (lower = closer) and LogME
    (higher = better) per seed; ``flag`` is a score's caveat (``""`` when none; ``"failed: <reason>"`` with a
    NaN value when the selector could not score the source: the others are ranked all the same).
    ``table``: one row per source, seed-averaged values, per-selector ranks (1 = best, missing when the
    value is), ``mean_rank`` over the TASK2VEC distances; rows in consensus order.
    """

    target: dict[str, Any]
    zoo: str
    seeds: list[int]
    values: pd.DataFrame
    table: pd.DataFrame
    selectors: list[str]
    excluded: list[str] = field(default_factory=list)
    verify: Any = None  # a jtask2vec.zoo.verify.Verification when --verify ran

    @property
    def recommended(self) -> str:
        return str(self.table["source"].iloc[0])

    @property
    def distance_selectors(self) -> list[str]:
        return [s for s in self.selectors if s.startswith(TASK2VEC)]

    def first_by(self) -> dict[str, str]:
        """Selector -> the source it ranks first (ties by name)."""
        out = {}
        for s in self.selectors:
            ordered = self.table.sort_values([f"rank:{s}", "source"], kind="stable")
            out[s] = str(ordered["source"].iloc[0])
        return out

    def flag_lines(self) -> list[str]:
        """One line per flagged value: ``selector: source (seed s) flagged '<flag>'``."""
        flagged = self.values[self.values["flag"] != ""]
        return [
            f"{r.selector}: {r.source} (seed {r.seed}) flagged '{r.flag}'"
            for r in flagged.itertuples(index=False)
        ]

    def kendall(self) -> dict[str, float]:
        """Kendall τ-b between the seed-averaged scores of every two selectors (NaN when undefined)."""
        scores = {s: self._scores(s) for s in self.selectors}
        out = {}
        for a, b in combinations(self.selectors, 2):
            both = ~(np.isnan(scores[a]) | np.isnan(scores[b]))  # over the sources both could score
            out[f"{a} | {b}"] = rank_correlations(scores[a][both], scores[b][both])[1]
        return out

    def _scores(self, selector: str) -> np.ndarray:
        values = self.table[selector].to_numpy(dtype=np.float64)
        return values if higher_is_better(selector) else -values

    def agreement(self) -> dict[str, Any]:
        first = self.first_by()
        distances = self.distance_selectors
        votes = sum(first[s] == self.recommended for s in distances)
        taus = [v for k, v in self.kendall().items() if LOGME not in k.split(" | ") and not math.isnan(v)]
        return {
            "first_by": first,
            "distances_putting_recommended_first": votes,
            "distances": len(distances),
            "kendall_tau": self.kendall(),
            "mean_kendall_tau_between_distances": float(np.mean(taus)) if taus else math.nan,
        }

    def recommendation_line(self) -> str:
        agreement = self.agreement()
        best = self.recommended
        row = self.table.iloc[0]
        votes = agreement["distances_putting_recommended_first"]
        line = (
            f"Recommendation: start from {best!r} — first by {votes}"
            f" of {agreement['distances']} TASK2VEC distances (mean rank {row['mean_rank']:.1f} of "
            f"{len(self.table)})"
        )
        if LOGME in self.selectors:
            logme_first = agreement["first_by"][LOGME]
            line += "; LogME agrees" if logme_first == best else f"; LogME prefers {logme_first!r}"
        return line + "."

    def to_frame(self) -> pd.DataFrame:
        frame = self.table.copy()
        frame.attrs = {
            "target": self.target,
            "zoo": self.zoo,
            "seeds": self.seeds,
            "recommended": self.recommended,
            "recommendation": self.recommendation_line(),
            "agreement": self.agreement(),
            "excluded": self.excluded,
        }
        return frame

    def to_json(self) -> dict[str, Any]:
        sources = []
        for row in self.table.to_dict("records"):
            sources.append(
                {
                    "source": row["source"],
                    "kind": row["kind"],
                    "size": int(row["size"]),
                    "scores": {s: _num(row[s]) for s in self.selectors},
                    "ranks": {s: _rank(row[f"rank:{s}"]) for s in self.selectors},
                    "mean_rank": _num(row["mean_rank"]),
                }
            )
        agreement = self.agreement()
        agreement["kendall_tau"] = {k: _num(v) for k, v in agreement["kendall_tau"].items()}
        agreement["mean_kendall_tau_between_distances"] = _num(
            agreement["mean_kendall_tau_between_distances"]
        )
        return {
            "format": RANK_FORMAT,
            "target": self.target,
            "zoo": self.zoo,
            "seeds": self.seeds,
            "selectors": self.selectors,
            "sources": sources,
            "agreement": agreement,
            "recommendation": {"source": self.recommended, "line": self.recommendation_line()},
            "excluded": self.excluded,
            "flags": [
                {"selector": r.selector, "seed": int(r.seed), "source": r.source, "flag": r.flag}
                for r in self.values[self.values["flag"] != ""].itertuples(index=False)
            ],
            "verify": None if self.verify is None else self.verify.to_json(),
        }


def _num(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _rank(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def summarise(values: pd.DataFrame, entries: pd.DataFrame, selectors: list[str]) -> pd.DataFrame:
    """Seed-averaged values per (source, selector), ranks and the consensus order (see module docstring)."""
    wide = values.pivot_table(
        index="source", columns="selector", values="value", aggfunc="mean", dropna=False
    )
    table = entries.set_index("source").join(wide[selectors]).reset_index()
    for s in selectors:  # a missing value (a selector that could not score the source) has no rank
        ranks = table[s].rank(method="min", ascending=not higher_is_better(s))
        table[f"rank:{s}"] = ranks.astype("Int64")
    distance_ranks = [f"rank:{s}" for s in selectors if s.startswith(TASK2VEC)]
    table["mean_rank"] = table[distance_ranks].mean(axis=1)
    return table.sort_values(["mean_rank", "source"], kind="stable").reset_index(drop=True)


def rank_zoo_target(
    zoo: Zoo | str | Path,
    target: str | Path | TaskSpec,
    *,
    options: TargetOptions | None = None,
    runs_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    logme: bool | None = None,
    verify: int = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> TargetRanking:
    """Rank ``zoo``'s entries for ``target`` (a csv/tsv/jsonl path, a registered loader id or a TaskSpec).

    ``logme``: also score LogME on each entry's checkpoint (default: when the zoo has checkpoints).
    ``verify``: run the transfers from the top-``verify`` sources and the no-transfer baseline
    (:mod:`jtask2vec.zoo.verify`).
    """
    zoo = zoo if isinstance(zoo, Zoo) else Zoo.load(zoo)
    recipe = zoo.recipe
    task = compute.load_target(target_spec(target, options), data_dir)
    with_logme = zoo.has_checkpoints if logme is None else logme
    if with_logme and not zoo.has_checkpoints:
        raise DataError("LogME needs the sources' checkpoints: build the zoo with --with-checkpoints")
    candidates = [e for e in zoo.entries if e.data_hash != task.data_hash]
    excluded = [e.name for e in zoo.entries if e.data_hash == task.data_hash]
    if not candidates:
        raise DataError(f"the zoo holds no source other than the target {task.name!r} itself", path=zoo.root)
    probe = compute.load_zoo_probe(recipe.probe.config, recipe.probe.fingerprint)
    store = ArtifactStore(Path(runs_dir) / "store")
    rows = []
    for seed in recipe.seeds:
        target_vector = compute.embed_target(
            task, probe, recipe.training, recipe.fisher, seed, store, progress=progress
        )
        sources = np.stack([zoo.vector(e, seed) for e in candidates])
        trivial = np.stack([zoo.trivial_vector(e.trivial, seed) for e in candidates])
        for distance in DISTANCES:
            values = distances_to_target(
                sources, target_vector, distance, trivial=trivial, alpha=recipe.asymmetric_alpha
            )
            rows += [
                (f"{TASK2VEC}{distance}", seed, e.name, float(v), "")
                for e, v in zip(candidates, values, strict=True)
            ]
        if with_logme:
            for e in candidates:
                value = compute.logme_on_checkpoint(
                    zoo.checkpoint_folder(e, seed), e.seeds[seed].checkpoint_key, task, probe, store,
                    recipe.training.eval_batch_size,
                )  # fmt: skip
                rows.append((LOGME, seed, e.name, value.score, value.flag))
    values = pd.DataFrame(rows, columns=["selector", "seed", "source", "value", "flag"])
    entries = pd.DataFrame([{"source": e.name, "kind": e.kind or "", "size": e.size} for e in candidates])
    selectors = selector_names(with_logme)
    ranking = TargetRanking(
        target=_target_facts(task),
        zoo=str(zoo.root),
        seeds=list(recipe.seeds),
        values=values,
        table=summarise(values, entries, selectors),
        selectors=selectors,
        excluded=excluded,
    )
    if verify:
        from jtask2vec.zoo.verify import verify_ranking

        ranking.verify = verify_ranking(
            zoo, task, probe, store, ranking, k=verify, confidence=confidence, progress=progress
        )
    return ranking


def _target_facts(task: Task) -> dict[str, Any]:
    return {
        "name": task.name,
        "size": len(task),
        "split_sizes": task.split_sizes(),
        "label_names": list(task.label_names),
        "data_hash": task.data_hash,
    }


def rank_target(zoo: Zoo | str | Path, target: str | Path | TaskSpec, **kwargs: Any) -> pd.DataFrame:
    """The zoo's sources for ``target``, best first, as a DataFrame (Python API of ``rank --zoo``).

    One row per source: ``source, kind, size``, the seed-averaged value of every selector
    (``task2vec:<distance>``: lower = closer; ``logme``: higher = better), ``rank:<selector>`` and
    ``mean_rank``. ``frame.attrs`` holds the recommendation, the agreement and the target's facts.
    Keyword arguments: those of :func:`rank_zoo_target` (``options=TargetOptions(...)``, ``runs_dir``,
    ``data_dir``, ``logme``, ``verify``...).
    """
    ranking = rank_zoo_target(zoo, target, **kwargs)
    frame = ranking.to_frame()
    if ranking.verify is not None:
        frame.attrs["verify"] = ranking.verify.to_json()
    return frame
