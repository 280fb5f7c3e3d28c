"""A suite run gives the same tables in process, in worker processes and on Ray; failures and resume."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from test_pipeline import TINY_SUITE
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import Suite
from jtask2vec.jobs.graph import build_suite_graph
from jtask2vec.model.probes import load_probe
from jtask2vec.pipeline import run_suite
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.registry import load_task

# the tiny suite (it learns: the tables are not degenerate) with one seed
SUITE = {**TINY_SUITE, "name": "tiny-parallel", "seeds": [0]}
EXACT_TABLES = ("evaluation.csv", "per_target.csv", "baseline_tests.csv", "distances.csv", "scores.csv")
TIMED_TABLES = ("transfer.csv", "finetune.csv")  # equal except their measured times
TIMING_COLUMNS = {"train_seconds", "examples_per_second"}


def suite_with(**executor) -> Suite:
    return Suite.model_validate({**SUITE, "executor": executor})


def without_timing(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, name in enumerate(rows[0]) if name not in TIMING_COLUMNS]
    return [[row[i] for i in keep] for row in rows]


def assert_same_tables(a: Path, b: Path) -> None:
    for name in EXACT_TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in TIMED_TABLES:
        left, right = ((f / name).read_text(encoding="utf-8") for f in (a, b))
        assert without_timing(left) == without_timing(right), name
        assert len(without_timing(left)[0]) < len(next(csv.reader(io.StringIO(left))))  # timing was there


@pytest.fixture(scope="module")
def sequential_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("workers1")
    run_suite(suite_with(workers=1), runs, progress=False)
    return runs / SUITE["name"]


def test_a_transfer_needs_only_its_sources_fine_tune() -> None:
    suite = Suite.model_validate({**SUITE, "seeds": [0, 1], "targets": ["hotel", "news"]})
    tasks = {spec.name: load_task(spec, None) for spec in suite.tasks}
    graph = build_suite_graph(suite, tasks, load_probe(suite.probe))
    # 3 fine-tunes + 2 targets x 2 sources transfers, per seed
    assert len(graph.graph.artifact_keys()["finetune"]) == 2 * (3 + 4)
    # a transfer needs only its source's fine-tune
    cell = graph.cells[("food", "news", 1)]
    assert cell.transfer is not None
    assert cell.transfer.needs == (("finetune", graph.finetunes[("food", 1)].key),)


@pytest.mark.slow
def test_two_workers_give_byte_identical_tables(sequential_run: Path, tmp_path: Path) -> None:
    run_suite(suite_with(workers=2), tmp_path, progress=False)
    assert_same_tables(sequential_run, tmp_path / SUITE["name"])


@pytest.fixture
def ray_runtime():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_gives_byte_identical_tables(sequential_run: Path, tmp_path: Path, ray_runtime) -> None:
    run_suite(suite_with(kind="ray", address="auto"), tmp_path, progress=False)
    assert ray_runtime.is_initialized()  # a runtime the run joined is left running
    assert_same_tables(sequential_run, tmp_path / SUITE["name"])


@pytest.mark.slow
def test_a_failing_job_is_one_line_the_rest_finishes_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = yaml.safe_load(yaml.safe_dump(SUITE))
    raw["tasks"][2]["split"] = {"dev_fraction": 0.0}  # news has no dev split...
    raw["fisher"]["split"] = "dev"  # ...so its embedding (only) fails
    raw["evaluation"]["baselines"] = ["random", "textemb", "logme"]
    suite_file = tmp_path / "broken.yaml"
    suite_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    runs = tmp_path / "runs"
    args = ["run", "--suite", str(suite_file), "--runs-dir", str(runs), "--no-progress", "--workers", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    failure = "embed news (seed 0): DataError: field 'fisher.split': task 'news' has no 'dev' examples"
    assert failure in " ".join(result.output.split())  # one line (the console may wrap it)
    store = runs / "store"
    assert len(ArtifactStore(store).keys("finetune")) == 3 + 6  # 3 fine-tunes, 6 transfers: all finished
    assert len(ArtifactStore(store).keys("embedding")) == 2  # hotel and food
    assert len([p for p in (store / "selector-score").iterdir() if not p.name.startswith(".")]) == 6
    assert "Traceback" in (runs / SUITE["name"] / "failures.log").read_text(encoding="utf-8")

    def no_training(*args, **kwargs):
        raise AssertionError("a stored fine-tune ran again")

    monkeypatch.setattr("jtask2vec.model.training.train_classifier", no_training)
    again = CliRunner().invoke(app, [*args[:-2], "--workers", "1"])
    assert again.exit_code == 2, again.output
    assert "1 job(s) failed" in again.output and "embed news (seed 0)" in again.output
    assert "fine-tune" not in again.output
