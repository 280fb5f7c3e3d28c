"""One selector's failure never loses the others' answer (issue 16): a selector that cannot score a pair
gives a missing score flagged ``failed: <reason>``, kept in the store artifact, the scores table, the
report and the console, while every other selector is scored and evaluated."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_logme_flag import SUITE as LOGME_FLAG_SUITE
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import load_suite
from jtask2vec.errors import DataError
from jtask2vec.pipeline import Pipeline, run_suite
from jtask2vec.results import FLAG_COLUMN
from jtask2vec.selection.feature_based import (
    SelectorScore,
    score_features_flagged,
    scores_from_json,
    scores_to_json,
)
from jtask2vec.selection.features import TargetFeatures

PLANTED = "gbc: planted failure"


def _features(n: int = 40, d: int = 6) -> tuple[TargetFeatures, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=n)
    f = rng.normal(size=(n, d)) + y[:, None]
    return TargetFeatures(f, np.full((n, 2), 0.5), "last"), y


def _plant(monkeypatch: pytest.MonkeyPatch, selector: str = "gbc") -> None:
    feature_based = importlib.import_module("jtask2vec.selection.feature_based")

    def broken(t, y, s):
        raise DataError(f"{selector}: planted\nfailure")  # a two-line reason comes out on one line

    monkeypatch.setitem(feature_based._SCORERS, selector, (broken, True))


def test_a_failing_selector_is_a_flagged_nan_and_the_others_are_scored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    features, y = _features()
    _plant(monkeypatch)
    got = score_features_flagged(["logme", "gbc", "hscore", "knn"], features, y)
    assert math.isnan(got["gbc"].score) and got["gbc"].flag == f"failed: {PLANTED}" and got["gbc"].missing
    assert all(np.isfinite(got[s].score) and not got[s].missing for s in ("logme", "hscore", "knn"))


def test_an_unexpected_error_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a selector's own failures (bad input, numerical breakdown) become flags; a bug still raises."""
    feature_based = importlib.import_module("jtask2vec.selection.feature_based")
    monkeypatch.setitem(feature_based._SCORERS, "gbc", (lambda t, y, s: {}["missing"], True))
    features, y = _features()
    with pytest.raises(KeyError):
        score_features_flagged(["gbc"], features, y)


def test_a_missing_score_round_trips_through_the_artifact_as_null() -> None:
    values = {"gbc": SelectorScore(float("nan"), f"failed: {PLANTED}"), "logme": SelectorScore(-0.5, "")}
    text = json.dumps(scores_to_json(values), allow_nan=False)  # standard JSON: null, not NaN
    back = scores_from_json(json.loads(text))
    assert math.isnan(back["gbc"].score) and back["gbc"].flag == values["gbc"].flag
    assert back["logme"] == values["logme"]


# test_logme_flag's three-task suite, in this process (the planted failure must reach the selector)
SUITE = {
    **LOGME_FLAG_SUITE,
    "name": "selector-failure",
    "evaluation": {
        "distances": ["cosine"],
        "baselines": ["logme", "gbc", "hscore"],
        "bootstrap_samples": 100,
    },
}


@pytest.mark.slow
def test_run_and_evaluate_keep_every_other_selector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    suite = load_suite(suite_file)
    runs = tmp_path / "runs"
    _plant(monkeypatch)
    results = run_suite(suite, runs, progress=False, report=True)
    gbc = results.scores[results.scores["selector"] == "gbc"]
    assert len(gbc) == 6 and gbc["score"].isna().all() and (gbc[FLAG_COLUMN] == f"failed: {PLANTED}").all()
    others = results.scores[results.scores["selector"].isin(["logme", "hscore"])]
    assert len(others) == 12 and others["score"].notna().all()
    assert set(results.evaluation["selector"]) >= {"logme", "hscore", "task2vec:cosine"}
    assert "gbc" not in set(results.evaluation["selector"])  # no candidate has a score: nothing to judge

    # the store records the failure with the pair (what a worker process would have written)
    pipeline = Pipeline(suite, runs)
    job = pipeline.graph.scores[("hotel", "food", 0)]
    stored = json.loads((pipeline.store.path(job.kind, job.key) / "result.json").read_text(encoding="utf-8"))
    assert stored["gbc"] == {"score": None, "flag": f"failed: {PLANTED}"}
    assert stored["logme"]["score"] is not None

    md = (runs / suite.name / "report.md").read_text(encoding="utf-8")
    assert f"gbc: 6 of 6 scores are flagged 'failed: {PLANTED}'" in md
    result = CliRunner().invoke(
        app, ["evaluate", "--suite", str(suite_file), "--runs-dir", str(runs), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert f"gbc: 6 of 6 scores flagged 'failed: {PLANTED}'" in " ".join(result.output.split())
