"""Data regimes: a task's limited train split, and a suite's source/target regimes through the pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jtask2vec.config import Suite
from jtask2vec.pipeline import Pipeline, run_suite
from jtask2vec.results import BASELINE_SOURCE
from jtask2vec.tasks.registry import load_task, task_spec


def test_train_size_subsamples_train_only_stratified_and_seeded():
    full = load_task(task_spec("synthetic", n=400, seed=1, style="hotel"))
    small = load_task(task_spec("synthetic", n=400, seed=1, style="hotel", train_size=50))
    assert small.split_sizes()["train"] == 50
    for split in ("dev", "test"):
        assert small.texts_of(split) == full.texts_of(split)
    share = full.class_counts("train")[full.label_names[1]] / full.split_sizes()["train"]
    assert abs(small.class_counts("train")[full.label_names[1]] - 50 * share) <= 1
    assert set(small.texts_of("train")) <= set(full.texts_of("train"))
    again = load_task(task_spec("synthetic", n=400, seed=1, style="hotel", train_size=50))
    assert again.data_hash == small.data_hash != full.data_hash
    other = load_task(task_spec("synthetic", n=400, seed=1, style="hotel", train_size=50, split={"seed": 5}))
    assert set(other.texts_of("train")) != set(small.texts_of("train"))
    assert any("limited regime" in n for n in small.provenance.notes)
    big = load_task(task_spec("synthetic", n=400, seed=1, style="hotel", train_size=10_000))
    assert big.data_hash == full.data_hash


def _suite(**extra) -> Suite:
    return Suite.model_validate(
        {
            "name": "regimes",
            "tasks": [
                {"name": "a", "loader": "synthetic", "options": {"n": 200, "seed": 1, "style": "hotel"}},
                {"name": "b", "loader": "synthetic", "options": {"n": 200, "seed": 2}, "train_size": 40},
                {"name": "c", "loader": "synthetic", "options": {"n": 200, "seed": 3, "style": "news"}},
            ],
            "probe": {"name": "tiny-random-bert", "max_length": 24},
            "training": {"epochs": 1, "batch_size": 16},
            "fisher": {"max_examples": 12, "batch_size": 6},
            "evaluation": {"bootstrap_samples": 100, "baselines": ["random", "datasize", "textemb", "logme"]},
            **extra,
        }
    )


def test_role_specs_follow_the_regimes_and_a_task_setting_wins():
    suite = _suite(source_regime={"train_size": 100}, target_regime={"train_size": 30})
    assert suite.has_target_regime
    assert (
        suite.role_spec("a", "source").train_size == 100 and suite.role_spec("a", "target").train_size == 30
    )
    assert suite.role_spec("b", "source").train_size == suite.role_spec("b", "target").train_size == 40
    assert not _suite().has_target_regime and _suite().role_spec("a", "target").train_size is None


@pytest.mark.slow
def test_pipeline_trains_sources_and_targets_in_their_regimes(tmp_path):
    suite = _suite(source_regime={"train_size": 100}, target_regime={"train_size": 30}, targets=["a", "c"])
    results = run_suite(suite, tmp_path, progress=False)
    pipe = Pipeline(suite, tmp_path)
    assert {n: len(t.indices("train")) for n, t in pipe.tasks.items()} == {"a": 100, "b": 40, "c": 100}
    assert {n: len(t.indices("train")) for n, t in pipe.target_tasks.items()} == {"a": 30, "c": 30}
    ft = results.finetune.set_index("task")["n_train"]
    assert ft.to_dict() == {"a": 100, "b": 40, "c": 100}  # sources: their own fine-tunes
    grid = results.transfer
    assert set(grid["n_train"]) == {30}  # every target fine-tune (baselines and transfers) sees 30
    assert (grid["source"] == BASELINE_SOURCE).sum() == 2
    # the target's own embedding is of its limited version: its column differs from the sources' version
    dist = results.distances[(results.distances["distance"] == "cosine") & (results.distances["seed"] == 0)]
    d = {(r.a, r.b): r.value for r in dist.itertuples()}
    assert d[("a", "c")] != pytest.approx(d[("c", "a")])
    rows = [json.loads(p.read_text()) for p in (tmp_path / "store" / "embedding").rglob("meta.json")]
    embedded = {(m["task"], m["num_examples"]) for m in rows}
    assert ("a", 12) in embedded and len(rows) == 3 + 2  # 3 sources + 2 targets, one seed
    scores = results.scores
    assert set(scores["selector"]) >= {"textemb", "logme"}
    np.testing.assert_array_equal(sorted(scores[scores["target"] == "a"]["source"].unique()), ["b", "c"])
