"""The transfer grid: planning, starting encoders, resumability, executors, and the CLI commands."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import TrainingConfig
from jtask2vec.errors import ConfigError
from jtask2vec.jobs.executors import ProcessExecutor
from jtask2vec.jobs.keys import finetune_key
from jtask2vec.jobs.scheduler import JobsFailed
from jtask2vec.jobs.stages import load_finetuned
from jtask2vec.jobs.transfer import PRETRAINED, Cell, grid_matrix, plan_grid, run_grid
from jtask2vec.model import training as training_module
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.synthetic import make_synthetic_task

QUICK = TrainingConfig(epochs=2, learning_rate=3e-3, batch_size=16)


@pytest.fixture(scope="module")
def tasks():
    made = [
        make_synthetic_task("hotel-a", n=160, seed=1, style="hotel"),
        make_synthetic_task("hotel-b", n=160, seed=2, style="hotel"),
        make_synthetic_task("food", n=160, seed=3, style="food"),
    ]
    return {t.name: t for t in made}


def test_plan_grid_has_all_ordered_pairs_and_baselines():
    cells = plan_grid(["a", "b", "c"], ["a", "b"], [0, 1])
    assert len(cells) == 2 * (2 + 4)
    assert Cell(None, "a", 1) in cells and Cell("c", "b", 0) in cells
    assert all(c.source != c.target for c in cells)
    assert len(set(cells)) == len(cells)
    with pytest.raises(ConfigError, match="duplicates"):
        plan_grid(["a", "a"], ["b"], [0])


class _Spy:
    """Wraps ``train_classifier``: records each call's starting weights, can fail on a chosen call."""

    def __init__(self, fail_on: int | None = None):
        self.real = training_module.train_classifier
        self.calls: list[dict[str, torch.Tensor]] = []
        self.fail_on = fail_on

    def __call__(self, model, *args, **kwargs):
        self.calls.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise RuntimeError("simulated interruption")
        return self.real(model, *args, **kwargs)


def test_transfer_starts_from_source_encoder_with_fresh_head(tiny_probe, tasks, tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path / "store")
    spy = _Spy()
    monkeypatch.setattr(training_module, "train_classifier", spy)
    cells = [Cell(None, "hotel-b", 0), Cell("hotel-a", "hotel-b", 0)]
    grid = run_grid(cells, tasks, tiny_probe, QUICK, QUICK, store)
    # calls: baseline hotel-b, source hotel-a, transfer hotel-a -> hotel-b
    assert len(spy.calls) == 3
    baseline_start, _, transfer_start = spy.calls
    source_key = finetune_key(tasks["hotel-a"], tiny_probe, QUICK, 0)
    source, _, _ = load_finetuned(store, source_key)
    pretrained = tiny_probe.encoder.state_dict()
    for name, value in source.encoder.state_dict().items():
        assert torch.equal(transfer_start[f"encoder.{name}"], value), name
    changed = [n for n, v in pretrained.items() if not torch.equal(transfer_start[f"encoder.{n}"], v)]
    assert len(changed) > len(pretrained) // 2  # the source fine-tune moved the encoder
    # the head is drawn fresh (as for a from-pretrained run with the same seed), not the source's head
    for part in ("head.weight", "head.bias"):
        assert torch.equal(transfer_start[part], baseline_start[part])
    assert not torch.equal(transfer_start["head.weight"], source.head.weight)

    row = grid.set_index("source").loc["hotel-a"]
    base = grid.set_index("source").loc[PRETRAINED]
    assert row["source_checkpoint_key"] == source_key
    assert row["gain"] == pytest.approx(row["accuracy"] - base["accuracy"])
    assert base["gain"] == 0.0 and base["target"] == "hotel-b"


def test_interrupted_grid_resumes_without_recomputing(tiny_probe, tasks, tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path / "store")
    cells = plan_grid(["hotel-a", "food"], ["hotel-a", "food"], [0])
    failing = _Spy(fail_on=2)  # the second fine-tune (food from the pretrained probe) fails
    monkeypatch.setattr(training_module, "train_classifier", failing)
    with pytest.raises(JobsFailed) as caught:
        run_grid(cells, tasks, tiny_probe, QUICK, QUICK, store)
    # one line names the job (task, seed) and the worker's error; its dependent is skipped, not failed
    lines = [line.strip() for line in str(caught.value).splitlines()]
    assert "fine-tune food (seed 0): RuntimeError: simulated interruption" in lines
    assert [j.label for j in caught.value.skipped] == ["transfer food -> hotel-a (seed 0)"]
    # the independent jobs finished: hotel-a, and the transfer from it to food
    assert len(failing.calls) == 3
    assert len(store.keys("finetune")) == 2
    # no staging folder or claim is left behind: only the finished artifacts
    assert sorted(p.name for p in (tmp_path / "store" / "finetune").iterdir()) == store.keys("finetune")

    counting = _Spy()
    monkeypatch.setattr(training_module, "train_classifier", counting)
    done: list[Cell] = []
    grid = run_grid(cells, tasks, tiny_probe, QUICK, QUICK, store, on_cell_done=done.append)
    # with training == target_training a source's fine-tune IS its baseline: 2 from-pretrained + 2 transfers
    jobs = 4
    assert len(counting.calls) == jobs - 2
    assert sorted(done, key=repr) == sorted(cells, key=repr)
    assert len(store.keys("finetune")) == jobs

    again = _Spy()
    monkeypatch.setattr(training_module, "train_classifier", again)
    regrid = run_grid(cells, tasks, tiny_probe, QUICK, QUICK, store)
    assert again.calls == []
    pd.testing.assert_frame_equal(grid, regrid)


def test_target_training_separates_baselines_from_sources(tiny_probe, tasks, tmp_path):
    store = ArtifactStore(tmp_path / "store")
    target_cfg = QUICK.model_copy(update={"epochs": 1})
    cells = plan_grid(["hotel-a"], ["hotel-b"], [0])
    grid = run_grid(cells, tasks, tiny_probe, QUICK, target_cfg, store)
    # source with QUICK, baseline and transfer with target_cfg: three distinct fine-tunes
    assert len(store.keys("finetune")) == 3
    assert set(grid["best_epoch"]) == {1}


@pytest.mark.slow
def test_process_pool_gives_the_local_table(tiny_probe, tasks, tmp_path):
    """Two spawned worker processes (the probe and tasks pickled to them) give the in-process grid."""
    cells = plan_grid(["hotel-a", "food"], ["food", "hotel-b"], [0])
    local = run_grid(cells, tasks, tiny_probe, QUICK, QUICK, ArtifactStore(tmp_path / "a"))
    done: list[Cell] = []
    pooled = run_grid(
        cells,
        tasks,
        tiny_probe,
        QUICK,
        QUICK,
        ArtifactStore(tmp_path / "b"),
        lambda work, inputs: ProcessExecutor(work, inputs, workers=2),
        on_cell_done=done.append,
    )
    assert sorted(done, key=repr) == sorted(cells, key=repr)
    timing = ["train_seconds"]
    pd.testing.assert_frame_equal(local.drop(columns=timing), pooled.drop(columns=timing))


def test_grid_matrix_targets_by_sources():
    grid = pd.DataFrame(
        [
            {"source": PRETRAINED, "target": "a", "seed": 0, "accuracy": 0.5},
            {"source": PRETRAINED, "target": "a", "seed": 1, "accuracy": 0.7},
            {"source": "b", "target": "a", "seed": 0, "accuracy": 0.8},
            {"source": "a", "target": "b", "seed": 0, "accuracy": 0.9},
            {"source": PRETRAINED, "target": "b", "seed": 0, "accuracy": 0.6},
        ]
    )
    matrix = grid_matrix(grid)
    assert list(matrix.columns) == [PRETRAINED, "a", "b"]
    assert matrix.loc["a", PRETRAINED] == pytest.approx(0.6)
    assert matrix.loc["a", "b"] == pytest.approx(0.8)
    assert math.isnan(matrix.loc["a", "a"]) and math.isnan(matrix.loc["b", "b"])


def test_unknown_task_in_grid_is_a_config_error(tiny_probe, tasks, tmp_path):
    with pytest.raises(ConfigError, match="nope"):
        run_grid([Cell("nope", "food", 0)], tasks, tiny_probe, QUICK, QUICK, ArtifactStore(tmp_path))


# ---- CLI ------------------------------------------------------------------------------------------------
@pytest.fixture
def suite_file(tasks, tmp_path):
    """A suite of two csv tasks (written from synthetic tasks) with the tiny random BERT."""
    lines = []
    for name in ("hotel-a", "food"):
        path = tmp_path / f"{name}.csv"
        task = tasks[name]
        rows = ["text,label"] + [
            f"{t},{task.label_names[y]}" for t, y in zip(task.texts, task.labels, strict=True)
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        lines += [f"  - name: {name}", "    loader: csv", f"    options: {{path: '{path}'}}"]
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "\n".join(
            [
                "name: cli-test",
                "tasks:",
                *lines,
                "probe: {name: tiny-random-bert, max_length: 64}",
                "training: {epochs: 1, learning_rate: 0.003, batch_size: 16}",
                "seeds: [0]",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return suite


def test_cli_finetune_and_transfer(suite_file, tmp_path):
    runner = CliRunner()
    runs = tmp_path / "runs"
    args = ["--suite", str(suite_file), "--runs-dir", str(runs), "--no-progress"]
    result = runner.invoke(app, ["finetune", *args, "--set", "seeds=[0, 1]"])
    assert result.exit_code == 0, result.output
    assert "hotel-a" in result.output and "±" in result.output and "s1" in result.output
    assert len(ArtifactStore(runs / "store").keys("finetune")) == 4

    result = runner.invoke(app, ["transfer", *args])
    assert result.exit_code == 0, result.output
    assert PRETRAINED in result.output and "gain" in result.output.lower()
    table = pd.read_csv(runs / "cli-test" / "transfer.csv")
    assert len(table) == 4 and set(table["source"]) == {PRETRAINED, "hotel-a", "food"}

    bad = runner.invoke(app, ["finetune", *args, "--set", "training.epochs=0"])
    assert bad.exit_code == 2 and "epochs" in bad.output, bad.output
