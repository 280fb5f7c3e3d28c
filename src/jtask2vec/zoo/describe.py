"""What ``rank`` says about the target before ranking: labels, counts, splits, truncation, and whether the
probe learned it at all (a target the probe cannot learn gives a Fisher embedding with no meaning).

The target is *learned* when its fine-tuned test accuracy (mean over the target seeds) beats the
majority-class accuracy on its test split by more than :data:`LEARNED_MARGIN`; otherwise the description
carries a warning. The majority class's macro-F1 (always predicting it) is ``p / (1 + p)`` for its test
share ``p`` (its F1 is ``2p / (1 + p)``, the other class's 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jtask2vec.config import TaskSpec
from jtask2vec.model.training import FinetuneResult
from jtask2vec.tasks import Task
from jtask2vec.tasks.lengths import TokenLengthStats
from jtask2vec.zoo.target import FILE_LOADER_IDS

LEARNED_MARGIN = 0.02


def label_rule(spec: TaskSpec, task: Task) -> str:
    """Which value became class 1, and how that was chosen."""
    negative, positive = task.label_names
    opts = spec.options
    if spec.loader in FILE_LOADER_IDS:
        if opts.get("positive") or opts.get("negative"):
            return f"class 1 = {positive!r}, class 0 = {negative!r}: set by --positive/--negative"
        return (
            f"class 1 = {positive!r}, class 0 = {negative!r}: the file has two label values and the larger "
            "is class 1 (numeric order when both are numbers); choose with --positive/--negative"
        )
    return f"class 1 = {positive!r}, class 0 = {negative!r}: set by the loader {spec.loader!r}"


def majority(task: Task) -> dict[str, Any]:
    """The majority class of the test split, and the accuracy and macro-F1 of always predicting it."""
    counts = task.class_counts("test")
    label = max(counts, key=lambda k: (counts[k], k))
    n = sum(counts.values())
    share = counts[label] / n if n else float("nan")
    return {"label": label, "accuracy": share, "macro_f1": share / (1 + share) if n else float("nan")}


def describe_target(
    task: Task,
    spec: TaskSpec,
    *,
    full_size: int,
    results: Sequence[FinetuneResult],
    lengths: TokenLengthStats | None,
) -> dict[str, Any]:
    """The target's facts as JSON values (``rank --json``'s ``target``; the text output prints them)."""
    accuracy = np.array([r.accuracy for r in results], dtype=np.float64)
    macro_f1 = np.array([r.macro_f1 for r in results], dtype=np.float64)
    base = majority(task)
    learned = bool(accuracy.size) and float(accuracy.mean()) > base["accuracy"] + LEARNED_MARGIN
    facts: dict[str, Any] = {
        "name": task.name,
        "loader": spec.loader,
        "file": spec.options.get("path"),
        "size": len(task),
        "size_before_regime": full_size,
        "split_sizes": task.split_sizes(),
        "label_names": list(task.label_names),
        "class_1": task.label_names[1],
        "label_rule": label_rule(spec, task),
        "class_counts": task.class_counts(),
        "class_counts_by_split": {s: task.class_counts(s) for s in ("train", "dev", "test")},
        "notes": list(task.provenance.notes),
        "data_hash": task.data_hash,
        "truncated": None
        if lengths is None
        else {"count": lengths.truncated, "share": lengths.truncated_share, "max_length": lengths.max_length},
        "fine_tune": {
            "seeds": [r.seed for r in results],
            "test_size": results[0].n_test if results else 0,
            "accuracy": float(accuracy.mean()) if accuracy.size else None,
            "accuracy_range": [float(accuracy.min()), float(accuracy.max())] if accuracy.size else None,
            "macro_f1": float(macro_f1.mean()) if macro_f1.size else None,
            "macro_f1_range": [float(macro_f1.min()), float(macro_f1.max())] if macro_f1.size else None,
            "majority_class": base,
            "learned": learned,
        },
        "warning": None
        if learned
        else (
            "the probe did not learn the target beyond the majority class (test accuracy "
            f"{accuracy.mean():.3f} vs {base['accuracy']:.3f}): its embedding is not meaningful and the "
            "ranking below says little"
        ),
    }
    return facts
