"""Rank a zoo's source tasks for a new target: every TASK2VEC distance (and LogME with checkpoints).

The target is loaded in the zoo's target regime, fine-tuned from the zoo's probe as a suite run fine-tunes
a target (:attr:`~jtask2vec.zoo.manifest.ZooRecipe.target_embedding_training`) with several seeds and
embedded with the zoo's Fisher config (all cached in the run's store). Each target vector is compared with
each zoo seed's entries by every distance of :mod:`jtask2vec.fisher.distances`, vectorised over the entries
(:func:`~jtask2vec.fisher.distances.distances_to_target`; the asymmetric distance uses each entry's own
``t0``).

Entries holding at least half of the target's texts are left out (:mod:`jtask2vec.zoo.overlap`). The
table orders the sources by how often each is the top pick over the (seed × zoo-seed) pairs, then by mean
rank (:mod:`jtask2vec.zoo.stability`, which also gives the verdict); ``rank:<selector>`` are the ranks of
the pair-averaged values, and ``mean_rank`` their mean over the TASK2VEC distances. Agreement: the source
each selector puts first, and Kendall's τ between every two selectors' averaged scores.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jtask2vec.config import TaskSpec
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.evaluation import rank_correlations
from jtask2vec.fisher.distances import DISTANCES, distances_to_target
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks import Task
from jtask2vec.tasks.lengths import token_length_stats
from jtask2vec.zoo import compute
from jtask2vec.zoo.describe import describe_target
from jtask2vec.zoo.manifest import Zoo
from jtask2vec.zoo.overlap import EXCLUDE_SHARE, shared_share, text_hashes
from jtask2vec.zoo.stability import Verdict, order, source_stability, verdict
from jtask2vec.zoo.target import TargetOptions, target_spec

TASK2VEC = "task2vec:"
LOGME = "logme"
RANK_FORMAT = "jtask2vec-rank/2"
DEFAULT_TARGET_SEEDS = 3


def selector_names(with_logme: bool) -> list[str]:
    return [f"{TASK2VEC}{d}" for d in DISTANCES] + ([LOGME] if with_logme else [])


def higher_is_better(selector: str) -> bool:
    return not selector.startswith(TASK2VEC)


@dataclass
class TargetRanking:
    """The ranking of a zoo's entries for one target.

    ``values``: long table (selector, seed, zoo_seed, source, value, flag): distances (lower = closer) per
    (target seed, zoo seed) pair and LogME (higher = better) per zoo seed; ``flag`` is a score's caveat
    (``""`` when none; ``"failed: <reason>"`` with a NaN value when the selector could not score the source:
    the others are ranked all the same, and that selector's rank of the source is missing). ``table``: one
    row per source, pair-averaged values with their range (``<selector>:low/high``), per-selector ranks
    (1 = best), ``mean_rank``, and the stability columns of :func:`~jtask2vec.zoo.stability.source_stability`.
    """

    target: dict[str, Any]
    zoo: str
    seeds: list[int]
    zoo_seeds: list[int]
    values: pd.DataFrame
    table: pd.DataFrame
    selectors: list[str]
    excluded: list[str] = field(default_factory=list)
    overlap: list[dict[str, Any]] = field(default_factory=list)
    cost: dict[str, Any] = field(default_factory=dict)
    verify: Any = None  # a jtask2vec.zoo.verify.Verification when --verify ran

    @property
    def verdict(self) -> Verdict:
        return verdict(self.table, learned=bool(self.target.get("fine_tune", {}).get("learned", True)))

    @property
    def recommended(self) -> str:
        """The source most often top (the table's first); whether it is a clear pick: :attr:`verdict`."""
        return str(self.table["source"].iloc[0])

    @property
    def distance_selectors(self) -> list[str]:
        return [s for s in self.selectors if s.startswith(TASK2VEC)]

    def first_by(self) -> dict[str, str]:
        """Selector -> the source it ranks first on the averaged values (ties by name)."""
        out = {}
        for s in self.selectors:
            ordered = self.table.sort_values([f"rank:{s}", "source"], kind="stable")
            out[s] = str(ordered["source"].iloc[0])
        return out

    def flag_records(self) -> list[dict[str, Any]]:
        """Every flagged value: selector, zoo seed, source, flag (a caveat, or ``failed: <reason>``)."""
        return [
            {"selector": r.selector, "zoo_seed": int(r.zoo_seed), "source": r.source, "flag": r.flag}
            for r in self.values[self.values["flag"] != ""].itertuples(index=False)
        ]

    def flag_lines(self) -> list[str]:
        """One line per flagged value: ``selector: source (zoo seed s) flagged '<flag>'``."""
        flagged = self.values[self.values["flag"] != ""]
        return [
            f"{r.selector}: {r.source} (zoo seed {r.zoo_seed}) flagged '{r.flag}'"
            for r in flagged.itertuples(index=False)
        ]

    def kendall(self) -> dict[str, float]:
        """Kendall τ-b between the averaged scores of every two selectors, over the sources both could
        score (NaN when undefined)."""
        scores = {s: self._scores(s) for s in self.selectors}
        out = {}
        for a, b in combinations(self.selectors, 2):
            both = ~(np.isnan(scores[a]) | np.isnan(scores[b]))
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
        line = self.verdict.line()
        if self.verdict.clear:
            votes = agreement["distances_putting_recommended_first"]
            line += f"; first by {votes} of {agreement['distances']} distances on average"
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
            "zoo_seeds": self.zoo_seeds,
            "recommended": self.recommended,
            "verdict": self.verdict.to_json(),
            "recommendation": self.recommendation_line(),
            "agreement": self.agreement(),
            "excluded": self.excluded,
            "flags": self.flag_records(),
            "overlap": self.overlap,
            "cost": self.cost,
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
                    "score_ranges": {
                        s: [_num(row[f"{s}:low"]), _num(row[f"{s}:high"])] for s in self.distance_selectors
                    },
                    "ranks": {s: _rank(row[f"rank:{s}"]) for s in self.selectors},
                    "mean_rank": _num(row["mean_rank"]),
                    "pair_rank": _num(row["pair_rank"]),
                    "pair_rank_range": [_num(row["pair_rank_low"]), _num(row["pair_rank_high"])],
                    "top": int(row["top"]),
                    "pairs": int(row["pairs"]),
                }
            )
        agreement = self.agreement()
        agreement["kendall_tau"] = {k: _num(v) for k, v in agreement["kendall_tau"].items()}
        agreement["mean_kendall_tau_between_distances"] = _num(
            agreement["mean_kendall_tau_between_distances"]
        )
        return {
            "format": RANK_FORMAT,
            "target": _json_safe(self.target),
            "zoo": self.zoo,
            "seeds": self.seeds,
            "zoo_seeds": self.zoo_seeds,
            "selectors": self.selectors,
            "sources": sources,
            "agreement": agreement,
            "verdict": self.verdict.to_json(),
            "recommendation": {
                "source": self.recommended if self.verdict.clear else None,
                "line": self.recommendation_line(),
            },
            "excluded": self.excluded,
            "flags": self.flag_records(),
            "overlap": self.overlap,
            "cost": self.cost,
            "verify": None if self.verify is None else self.verify.to_json(),
        }


def _num(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _rank(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return _num(value)
    return value


def summarise(values: pd.DataFrame, entries: pd.DataFrame, selectors: list[str]) -> pd.DataFrame:
    """Pair-averaged values per (source, selector), their ranks, the stability columns, in the order of
    :func:`jtask2vec.zoo.stability.order` (see the module docstring)."""
    wide = values.pivot_table(  # dropna=False: a selector that scored no source keeps its column
        index="source", columns="selector", values="value", aggfunc="mean", dropna=False
    )
    table = entries.set_index("source").join(wide[selectors]).reset_index()
    for s in selectors:
        # a missing value (a selector that could not score the source) has no rank
        table[f"rank:{s}"] = table[s].rank(method="min", ascending=not higher_is_better(s)).astype("Int64")
    distances = [s for s in selectors if s.startswith(TASK2VEC)]
    table["mean_rank"] = table[[f"rank:{s}" for s in distances]].mean(axis=1)
    table = table.merge(source_stability(values, distances), on="source", how="left")
    return order(table)


def rank_zoo_target(
    zoo: Zoo | str | Path,
    target: str | Path | TaskSpec,
    *,
    options: TargetOptions | None = None,
    seeds: list[int] | None = None,
    runs_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    logme: bool | None = None,
    verify: int = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> TargetRanking:
    """Rank ``zoo``'s entries for ``target`` (a .csv/.tsv/.jsonl path, or a TaskSpec such as
    :func:`~jtask2vec.zoo.target.registered_target`).

    ``seeds``: the target's fine-tuning seeds (default ``0 .. DEFAULT_TARGET_SEEDS-1``); every target
    vector is compared with every zoo seed's entries (:mod:`jtask2vec.zoo.stability`).
    ``logme``: also score LogME on each entry's checkpoint (default: when the zoo has checkpoints).
    ``verify``: run the transfers from the top-``verify`` sources and the no-transfer baseline
    (:mod:`jtask2vec.zoo.verify`).
    """
    started = time.monotonic()
    zoo = zoo if isinstance(zoo, Zoo) else Zoo.load(zoo)
    recipe = zoo.recipe
    seeds = list(range(DEFAULT_TARGET_SEEDS)) if seeds is None else list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds: give one or more distinct seeds, not {seeds}")
    spec = target_spec(target, options)
    full = compute.load_target(spec, data_dir)
    task = compute.load_target(regime_spec(spec, recipe.target_regime.train_size), data_dir)
    with_logme = zoo.has_checkpoints if logme is None else logme
    if with_logme and not zoo.has_checkpoints:
        raise DataError("LogME needs the sources' checkpoints: build the zoo with --with-checkpoints")
    shares = text_overlap(zoo, full)
    excluded = [
        e.name for e in zoo.entries if shares[e.name] >= EXCLUDE_SHARE or e.data_hash == task.data_hash
    ]
    candidates = [e for e in zoo.entries if e.name not in excluded]
    if not candidates:
        raise DataError(
            f"every zoo entry shares at least {EXCLUDE_SHARE:.0%} of the target's texts: nothing to rank",
            path=zoo.root,
        )
    probe = compute.load_zoo_probe(recipe.probe.config, recipe.probe.fingerprint)
    store = ArtifactStore(Path(runs_dir) / "store")
    training = recipe.target_embedding_training
    rows, results = [], []
    embedded = compute.embed_target_seeds(
        task, probe, recipe.probe.config, training, recipe.fisher, seeds, store
    )
    for seed, (result, target_vector) in zip(seeds, embedded, strict=True):
        results.append(result)
        for zoo_seed in recipe.seeds:
            sources = np.stack([zoo.vector(e, zoo_seed) for e in candidates])
            trivial = np.stack([zoo.trivial_vector(e.trivial, zoo_seed) for e in candidates])
            for distance in DISTANCES:
                values = distances_to_target(
                    sources, target_vector, distance, trivial=trivial, alpha=recipe.asymmetric_alpha
                )
                rows += [
                    (f"{TASK2VEC}{distance}", seed, zoo_seed, e.name, float(v), "")
                    for e, v in zip(candidates, values, strict=True)
                ]
    if with_logme:  # LogME reads the target's labels through a source checkpoint: no target seed
        for zoo_seed in recipe.seeds:
            for e in candidates:
                value = compute.logme_on_checkpoint(
                    zoo.checkpoint_folder(e, zoo_seed), e.seeds[zoo_seed].checkpoint_key, task, probe, store,
                    recipe.training.eval_batch_size,
                )  # fmt: skip
                rows.append((LOGME, math.nan, zoo_seed, e.name, value.score, value.flag))
    values = pd.DataFrame(rows, columns=["selector", "seed", "zoo_seed", "source", "value", "flag"])
    entries = pd.DataFrame([{"source": e.name, "kind": e.kind or "", "size": e.size} for e in candidates])
    selectors = selector_names(with_logme)
    facts = describe_target(
        task, spec, full_size=len(full), results=results,
        lengths=token_length_stats(task, probe.tokenizer, probe.max_length),
    )  # fmt: skip
    ranking = TargetRanking(
        target=facts,
        zoo=str(zoo.root),
        seeds=seeds,
        zoo_seeds=list(recipe.seeds),
        values=values,
        table=summarise(values, entries, selectors),
        selectors=selectors,
        excluded=excluded,
        overlap=[
            {"source": e.name, "share": shares[e.name], "excluded": e.name in excluded}
            for e in zoo.entries
            if shares[e.name] > 0 or e.name in excluded
        ],
        cost={"target_finetunes": len(seeds), "target_embeddings": len(seeds)},
    )
    if verify:
        from jtask2vec.zoo.verify import verify_ranking

        ranking.verify = verify_ranking(
            zoo, task, probe, store, ranking, k=verify, seeds=seeds, confidence=confidence, progress=progress
        )
        ranking.cost["verify_finetunes"] = len(ranking.verify.runs)
    ranking.cost["seconds"] = round(time.monotonic() - started, 1)
    return ranking


def regime_spec(spec: TaskSpec, train_size: int | None) -> TaskSpec:
    """``spec`` in the zoo's target regime (a spec's own ``train_size`` wins, as in a suite)."""
    if train_size is None or spec.train_size is not None:
        return spec
    return spec.model_copy(update={"train_size": train_size})


def text_overlap(zoo: Zoo, task: Task) -> dict[str, float]:
    """Entry name -> the share of the target's distinct texts it holds (:mod:`jtask2vec.zoo.overlap`)."""
    target = text_hashes(task.inputs)
    return {e.name: shared_share(target, zoo.texts(e)) for e in zoo.entries}


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
