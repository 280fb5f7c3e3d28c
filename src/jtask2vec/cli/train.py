"""`jtask2vec finetune | transfer`: fine-tune every task of a suite, and run its transfer grid.

Both are resumable: every fine-tune is cached in ``<runs-dir>/store``; tables are written atomically to
``<runs-dir>/<suite>/finetune.csv`` and ``transfer.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from rich.table import Table

from jtask2vec.cli.app import (
    AddressOption,
    DataDirOption,
    ExecutorOption,
    NoProgressOption,
    RunsDirOption,
    SetOption,
    SuiteOption,
    WorkersOption,
    app,
    console,
    suite_from_options,
)
from jtask2vec.store.artifacts import atomic_write_text


def mean_std(values: pd.Series) -> str:
    """``mean ± sample std`` over seeds (just the mean for one seed)."""
    values = values.dropna()
    if len(values) == 0:
        return "—"
    if len(values) == 1:
        return f"{values.iloc[0]:.3f}"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


@app.command("finetune")
def finetune_command(
    suite: SuiteOption = "demo",
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Fine-tune the probe on each task of the suite, per seed: test accuracy, macro-F1, balanced accuracy."""
    from jtask2vec.pipeline import pipeline_session

    cfg = suite_from_options(suite, set_, workers, executor, address)
    with pipeline_session(cfg, runs_dir, data_dir, progress=not no_progress) as pipe:
        frame = pipe.finetune()
    atomic_write_text(Path(runs_dir) / cfg.name / "finetune.csv", frame.to_csv(index=False))

    table = Table(
        title=f"{cfg.name}: fine-tuned {cfg.probe.name}, test split",
        caption="s<N>: accuracy of seed N; acc, F1 (macro), bal (balanced accuracy): mean ± std over seeds",
    )
    table.add_column("task")
    table.add_column("train/dev/test")
    for column in (*(f"s{s}" for s in cfg.seeds), "acc", "F1", "bal", "ex/s"):
        table.add_column(column, justify="right")
    for name, block in frame.groupby("task", sort=False):
        first = block.iloc[0]
        table.add_row(
            str(name),
            f"{first.n_train}/{first.n_dev}/{first.n_test}",
            *(f"{a:.3f}" for a in block["accuracy"]),
            mean_std(block["accuracy"]),
            mean_std(block["macro_f1"]),
            mean_std(block["balanced_accuracy"]),
            f"{block['examples_per_second'].mean():.0f}",
        )
    console.print(table)


def _matrix_table(title: str, matrix: pd.DataFrame, signed: bool) -> Table:
    table = Table(title=title)
    table.add_column("target \\ source")
    for column in matrix.columns:
        table.add_column(str(column), justify="right")
    for target, row in matrix.iterrows():
        cells = ["—" if math.isnan(v) else (f"{v:+.3f}" if signed else f"{v:.3f}") for v in row]
        table.add_row(str(target), *cells)
    return table


@app.command("transfer")
def transfer_command(
    suite: SuiteOption = "demo",
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Run the transfer grid: each source's fine-tuned encoder, a fresh head, fine-tuned on each target."""
    from jtask2vec.jobs.transfer import PRETRAINED, grid_matrix
    from jtask2vec.pipeline import pipeline_session

    cfg = suite_from_options(suite, set_, workers, executor, address)
    console.print(f"{cfg.name}: transfer grid over {len(cfg.seeds)} seed(s); cached fine-tunes are reused")
    with pipeline_session(cfg, runs_dir, data_dir, progress=not no_progress) as pipe:
        grid = pipe.transfer()
    atomic_write_text(Path(runs_dir) / cfg.name / "transfer.csv", grid.to_csv(index=False))
    seeds = f"mean over {len(cfg.seeds)} seed(s)"
    console.print(_matrix_table(f"Test accuracy ({seeds})", grid_matrix(grid, "accuracy"), signed=False))
    gains = grid_matrix(grid, "gain", include_baseline=False)
    console.print(_matrix_table(f"Gain over {PRETRAINED} ({seeds})", gains, signed=True))
