"""``rank --verify K``: run the transfers the ranking recommends, and say whether the recommendation holds.

For each target seed (``rank --seeds``): the no-transfer baseline (the target, in the zoo's target regime,
fine-tuned from the probe with the zoo's transfer-training config) and, for each of the top-``K`` sources,
the target fine-tuned from that source's checkpoint (imported from the zoo into the run's store under its
original key, so it is exactly the ``init_from`` of a suite run). Target seed number ``i`` starts from the
checkpoint of zoo seed ``i mod (number of zoo seeds)``. All runs are cached.

Verdicts use test accuracy and Student-t intervals over seeds (:func:`jtask2vec.evaluation.t_mean_ci`):
the recommended source's gain over no transfer, and its paired difference with every other verified
source. An interval above 0 = "beats", below 0 = "loses to", else "no clear difference". With one seed
(no interval) or a test split under :data:`MIN_TEST_SIZE` examples (one example moves accuracy by more
than 1/50), every verdict is "not enough to judge".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from jtask2vec.config import ExecutorConfig
from jtask2vec.errors import DataError
from jtask2vec.evaluation import t_mean_ci
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks import Task
from jtask2vec.zoo import compute
from jtask2vec.zoo.manifest import Zoo

NO_TRANSFER = "(no transfer)"
MIN_TEST_SIZE = 50


@dataclass
class Comparison:
    """``mean`` and interval of ``a − b`` (accuracy, paired by seed)."""

    a: str
    b: str
    mean: float
    low: float
    high: float
    judgeable: bool = True  # False: one seed or a small test split

    @property
    def verdict(self) -> str:
        if not self.judgeable or math.isnan(self.low):
            return "not enough to judge"
        if self.low > 0:
            return "beats"
        if self.high < 0:
            return "loses to"
        return "no clear difference with"

    def line(self, confidence: float) -> str:
        if math.isnan(self.low):
            interval = "no interval"
        else:
            interval = (
                f"[{self.low:+.3f}, {self.high:+.3f}] ({round(100 * confidence)}% t-interval over seeds)"
            )
        if self.verdict == "not enough to judge":
            return f"{self.a} vs {self.b}: not enough to judge (accuracy {self.mean:+.3f}, {interval})"
        return f"{self.a} {self.verdict} {self.b}: accuracy {self.mean:+.3f} {interval}"


@dataclass
class Verification:
    runs: pd.DataFrame  # source, seed, accuracy, macro_f1 (NO_TRANSFER = the baseline)
    recommended: str
    comparisons: list[Comparison]
    confidence: float
    test_size: int = 0

    @property
    def seeds(self) -> int:
        return int(self.runs["seed"].nunique())

    @property
    def judgeable(self) -> bool:
        return self.seeds >= 2 and self.test_size >= MIN_TEST_SIZE

    def basis(self) -> str:
        """One line: the test size, the number of seeds, the interval, and whether that is enough."""
        seeds = "1 seed" if self.seeds == 1 else f"{self.seeds} seeds"
        line = f"Verification: test split of {self.test_size} examples, {seeds}, " + (
            f"{round(100 * self.confidence)}% t-intervals over seeds" if self.seeds >= 2 else "no interval"
        )
        if not self.judgeable:
            why = "one seed" if self.seeds < 2 else f"a test split under {MIN_TEST_SIZE} examples"
            line += f": not enough to judge ({why})"
        return line

    def summary(self) -> pd.DataFrame:
        """Per source: mean accuracy and macro-F1 over seeds, and the gain over no transfer with interval."""
        base = self.runs[self.runs["source"] == NO_TRANSFER].set_index("seed")["accuracy"]
        rows = []
        for source, block in self.runs.groupby("source", sort=False):
            gains = block.set_index("seed")["accuracy"] - base
            mean, low, high = t_mean_ci(gains.to_numpy()[:, None], confidence=self.confidence)
            rows.append(
                {
                    "source": source,
                    "accuracy": float(block["accuracy"].mean()),
                    "macro_f1": float(block["macro_f1"].mean()),
                    "gain": mean,
                    "gain_low": low,
                    "gain_high": high,
                }
            )
        return pd.DataFrame(rows)

    def lines(self) -> list[str]:
        return [c.line(self.confidence) for c in self.comparisons]

    def to_json(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return None if math.isnan(float(v)) else float(v)

        return {
            "recommended": self.recommended,
            "confidence": self.confidence,
            "test_size": self.test_size,
            "seeds": self.seeds,
            "judgeable": self.judgeable,
            "basis": self.basis(),
            "runs": self.runs.to_dict("records"),
            "summary": [
                {k: v if k == "source" else num(v) for k, v in r.items()}
                for r in self.summary().to_dict("records")
            ],
            "comparisons": [
                {"a": c.a, "b": c.b, "mean": num(c.mean), "low": num(c.low), "high": num(c.high),
                 "verdict": c.verdict}
                for c in self.comparisons
            ],
        }  # fmt: skip


def verify_ranking(
    zoo: Zoo, task: Task, probe, store: ArtifactStore, ranking, *, k: int, confidence: float = 0.95,
    seeds: list[int] | None = None, progress: bool = False, executor: ExecutorConfig | None = None,
) -> Verification:  # fmt: skip
    """Fine-tune the target from the top-``k`` sources of ``ranking`` and from the probe; compare.

    The ``k + 1`` fine-tunes per seed are jobs of the scheduler on ``executor`` (default: the local
    worker processes of ``workers: auto``); each is cached in ``store`` like a suite run's."""
    from jtask2vec.jobs.executors import make_executor
    from jtask2vec.jobs.graph import FinetuneJob, from_pretrained
    from jtask2vec.jobs.keys import finetune_key
    from jtask2vec.jobs.scheduler import run_jobs
    from jtask2vec.jobs.stages import WorkInputs, run_job
    from jtask2vec.jobs.transfer import stored_result

    if k < 1:
        raise DataError(f"--verify needs K >= 1, got {k}")
    if not zoo.has_checkpoints:
        raise DataError(
            "--verify needs the sources' checkpoints: build the zoo with --with-checkpoints", path=zoo.root
        )
    chosen = list(ranking.table["source"])[:k]
    training = zoo.recipe.transfer_training
    plan: dict[tuple[str, int], FinetuneJob] = {}
    zoo_seeds = list(zoo.recipe.seeds)
    for i, seed in enumerate(zoo_seeds if seeds is None else seeds):
        zoo_seed = zoo_seeds[i % len(zoo_seeds)]
        plan[(NO_TRANSFER, seed)] = from_pretrained(task, seed, training, probe)
        for name in chosen:
            entry = zoo.entry(name)
            origin = compute.import_checkpoint(
                store, entry.seeds[zoo_seed].checkpoint_key, zoo.checkpoint_folder(entry, zoo_seed)
            )
            key = finetune_key(task, probe, training, seed, origin)
            plan[(name, seed)] = FinetuneJob(task.name, seed, training, key, init_from=origin, source=name)
    executor = executor or ExecutorConfig()
    device = "auto"
    inputs = WorkInputs({task.name: task}, zoo.recipe.probe.config, str(store.root), device)
    run_jobs(
        list(plan.values()), store, lambda n: make_executor(executor, run_job, inputs, device, at_most=n)
    )
    rows = []
    for (name, seed), job in plan.items():
        result = stored_result(store, job.key)
        rows.append((name, seed, result.accuracy, result.macro_f1))
    runs = pd.DataFrame(rows, columns=["source", "seed", "accuracy", "macro_f1"])
    test_size = int(task.split_sizes()["test"])
    judgeable = runs["seed"].nunique() >= 2 and test_size >= MIN_TEST_SIZE
    comparisons = compare(runs, chosen[0], [NO_TRANSFER, *chosen[1:]], confidence=confidence)
    for c in comparisons:
        c.judgeable = judgeable
    return Verification(
        runs=runs, recommended=chosen[0], comparisons=comparisons, confidence=confidence, test_size=test_size
    )


def compare(runs: pd.DataFrame, best: str, others: list[str], *, confidence: float) -> list[Comparison]:
    """Accuracy of ``best`` minus each of ``others``, paired by seed, with a t-interval over seeds."""
    accuracy = runs.pivot(index="seed", columns="source", values="accuracy")
    out = []
    for other in others:
        diff = (accuracy[best] - accuracy[other]).to_numpy(dtype=np.float64)
        mean, low, high = t_mean_ci(diff[:, None], confidence=confidence)
        out.append(Comparison(best, other, mean, low, high))
    return out
