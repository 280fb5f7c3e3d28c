"""`jtask2vec store verify | gc` and their Python API: every artifact checked, only unused ones removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.errors import ConfigError
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.store.maintenance import plan_gc, run_artifacts, verify_store, write_run_artifacts


def _age(folder: Path, seconds: float = 7200) -> None:
    os.utime(folder, (time.time() - seconds, time.time() - seconds))


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    store = ArtifactStore(tmp_path / "runs" / "store")
    for kind, key in (("finetune", "f1"), ("finetune", "f2"), ("logme", "l1"), ("logme", "l2")):
        store.write_json(kind, key, {"value": key})
        _age(store.path(kind, key))
    return tmp_path / "runs"


def test_verify_reports_each_corrupt_artifact_and_exits_1(runs: Path) -> None:
    store = ArtifactStore(runs / "store")
    result_file = store.path("logme", "l2") / "result.json"
    result_file.write_text(result_file.read_text().replace("l2", "XX"))  # same size, other bytes
    (store.path("finetune", "f1") / "result.json").unlink()
    checked, problems = verify_store(store)
    assert checked == 4
    assert {(p.kind, p.key) for p in problems} == {("logme", "l2"), ("finetune", "f1")}
    result = CliRunner().invoke(app, ["store", "verify", "--runs-dir", str(runs)])
    assert result.exit_code == 1, result.output
    assert "logme/l2" in result.output and "SHA-256" in result.output
    assert "finetune/f1" in result.output and "missing file result.json" in result.output
    assert "2 corrupt" in result.output
    assert store.keys("logme") == ["l1", "l2"]  # reported, not moved

    result = CliRunner().invoke(app, ["store", "verify", "--runs-dir", str(runs), "--quarantine"])
    assert result.exit_code == 1 and ".quarantine" in result.output
    assert store.keys("logme") == ["l1"] and store.keys("finetune") == ["f2"]
    result = CliRunner().invoke(app, ["store", "verify", "--runs-dir", str(runs)])
    assert result.exit_code == 0 and "2 artifacts checked" in result.output and "0 corrupt" in result.output


def _suite(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    suite = {
        "name": name,
        "tasks": [{"name": "a", "loader": "synthetic"}, {"name": "b", "loader": "synthetic"}],
        "probe": {"name": "tiny-random-bert"},
    }
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_gc_keeps_what_the_named_suites_used_and_is_a_dry_run_by_default(runs: Path, tmp_path: Path) -> None:
    store = ArtifactStore(runs / "store")
    write_run_artifacts(runs / "one", {("finetune", "f1"), ("logme", "l1")})
    write_run_artifacts(runs / "two", set())
    (runs / "two" / "transfer.csv").write_text("source,checkpoint_key,source_checkpoint_key\nx,f2,\n")
    store.write_json("logme", "fresh", {"value": 1})  # too young to collect: a run may be using it
    assert run_artifacts(runs / "two") == {("finetune", "f2")}
    args = ["store", "gc", "--runs-dir", str(runs), "--suite", str(_suite(tmp_path, "one"))]

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "would remove finetune/f2" in result.output and "would remove logme/l2" in result.output
    assert "logme/fresh" not in result.output and "dry run: 2 artifacts" in result.output
    assert store.keys("finetune") == ["f1", "f2"]  # nothing deleted

    result = CliRunner().invoke(app, [*args, "--suite", str(_suite(tmp_path, "two")), "--yes"])
    assert result.exit_code == 0, result.output
    assert "removed 1 artifacts" in result.output
    assert store.keys("finetune") == ["f1", "f2"] and store.keys("logme") == ["fresh", "l1"]
    assert [p.name for p in (runs / "store" / "logme").iterdir() if p.name.startswith(".")] == []
    assert plan_gc(store, set(), min_age_seconds=0)  # without references everything would go


def test_gc_of_a_suite_that_never_ran_is_a_one_line_error(runs: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no record of a finished run"):
        run_artifacts(runs / "never")
    result = CliRunner().invoke(
        app, ["store", "gc", "--runs-dir", str(runs), "--suite", str(_suite(tmp_path, "never"))]
    )
    assert result.exit_code == 2 and "no record of a finished run" in result.output
    assert len(ArtifactStore(runs / "store").keys("finetune")) == 2
