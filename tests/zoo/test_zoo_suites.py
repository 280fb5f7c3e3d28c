"""The zoo suites: kinds, regimes, pair tasks; on the real data every task loads in both roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from jtask2vec.config import load_suite
from jtask2vec.tasks import load_task

ZOO = ("ja-zoo", "equal-size", "ja-zoo-demo")


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_task_has_a_kind(name: str) -> None:
    suite = load_suite(name)
    assert all(spec.kind for spec in suite.tasks)


def test_ja_zoo_design() -> None:
    suite = load_suite("ja-zoo")
    assert len(suite.tasks) >= 11 and len({s.kind for s in suite.tasks}) >= 5
    assert suite.source_regime.train_size == 4000 and suite.target_regime.train_size == 500
    assert suite.seeds == [0, 1, 2] and suite.sources is None and suite.targets is None
    livedoor = [set(s.options["categories"]) for s in suite.tasks if s.loader == "livedoor"]
    assert len(livedoor) == 3 and len(set().union(*livedoor)) == 6  # disjoint categories: no shared article
    equal = load_suite("equal-size")
    assert not equal.has_target_regime and equal.source_regime.train_size == 800


@pytest.mark.realdata
@pytest.mark.parametrize("name", ZOO)
def test_zoo_tasks_load_in_both_roles(shared_data_dir: Path, name: str) -> None:
    suite = load_suite(name)
    pairs = 0
    for task_name in suite.task_names:
        source = load_task(suite.role_spec(task_name, "source"), shared_data_dir)
        target = load_task(suite.role_spec(task_name, "target"), shared_data_dir)
        pairs += source.is_pair_task
        cap = suite.source_regime.train_size
        assert cap is None or source.split_sizes()["train"] <= cap
        limit = suite.target_regime.train_size
        assert limit is None or target.split_sizes()["train"] == min(limit, source.split_sizes()["train"])
        assert target.split_sizes()["test"] == source.split_sizes()["test"]
    assert pairs >= 1 if name != "equal-size" else pairs == 0  # equal-size: single-sentence tasks only


def test_paper_offline_limited_is_paper_offline_with_small_targets() -> None:
    """Only the target regime differs, so its sources' fine-tunes and embeddings are paper-offline's."""
    full, limited = load_suite("paper-offline"), load_suite("paper-offline-limited")
    assert limited.target_regime.train_size == 500 and limited.source_regime == full.source_regime
    assert limited.compare_with == ["paper-offline"]
    assert load_suite("equal-size").compare_with == ["paper-offline"]
    same = {"tasks", "probe", "training", "transfer_training", "fisher", "evaluation", "seeds", "sources"}
    assert {f: getattr(limited, f) for f in same} == {f: getattr(full, f) for f in same}
