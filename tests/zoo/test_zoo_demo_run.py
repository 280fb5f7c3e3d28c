"""The `ja-zoo-demo` suite end to end on the real corpora: a sentence-pair task, task kinds and both data
regimes through every stage, down to the report (on the tiny random BERT, to keep it fast; the offline probe's
pair template has its own tests in test_pairs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jtask2vec.config import load_suite
from jtask2vec.pipeline import run_suite
from jtask2vec.results import BASELINE_SOURCE


@pytest.mark.slow
@pytest.mark.realdata
def test_ja_zoo_demo_runs_end_to_end(shared_data_dir: Path, tmp_path: Path) -> None:
    suite = load_suite("ja-zoo-demo", {"executor.workers": 1, "probe.name": "tiny-random-bert"})
    results = run_suite(suite, tmp_path, shared_data_dir, progress=False)
    tasks = results.tasks.set_index("task")
    assert list(tasks.index) == ["hotel-sentiment", "news-kaden-sports", "jsts"]
    assert list(tasks["kind"]) == ["sentiment", "topic", "sts"]
    assert list(tasks["train"]) == [200, 200, 200] and list(tasks["train_as_target"]) == [100, 100, 100]
    transfer = results.transfer
    assert len(transfer) == 3 * 3  # each target: two sources and no transfer, one seed
    baselines = transfer[transfer["source"] == BASELINE_SOURCE]
    assert set(baselines["n_train"]) == {100}  # targets trained in the target regime
    assert set(results.finetune["n_train"]) == {200}  # sources in the source regime
    jsts = transfer[(transfer["target"] == "jsts") & (transfer["source"] != BASELINE_SOURCE)]
    assert len(jsts) == 2 and jsts["accuracy"].between(0, 1).all()  # the pair task as a target
    pairs = results.scores[(results.scores["source"] == "jsts") & (results.scores["selector"] == "logme")]
    assert len(pairs) == 2  # the pair task as a source, scored by a feature-based selector
    assert {"top1_hit", "spearman"} <= set(results.evaluation["metric"])
    report = (tmp_path / "ja-zoo-demo" / "report.md").read_text(encoding="utf-8")
    assert "## Findings" in report and "sts" in report
