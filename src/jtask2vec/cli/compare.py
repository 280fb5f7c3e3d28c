"""`jtask2vec compare RUN_DIR_A RUN_DIR_B`: two finished runs' verdicts side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jtask2vec.cli.app import app, console


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="Folder of a finished run (holds results.json).")],
    run_b: Annotated[Path, typer.Argument(help="Folder of the run to compare it with.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where comparison.md/.html go (default: RUN_DIR_B/compare-<A>)."),
    ] = None,
    label_a: Annotated[str | None, typer.Option("--label-a", help="Name of run A (default: suite).")] = None,
    label_b: Annotated[str | None, typer.Option("--label-b", help="Name of run B (default: suite).")] = None,
) -> None:
    """Compare two runs: each selector's metrics with the difference and its interval, and whether the
    study's conclusions (best distance, TASK2VEC vs random, gains from transfer, kinds) change."""
    from jtask2vec.report.compare import write_comparison

    folder = out if out is not None else run_b / f"compare-{run_a.name}"
    paths = write_comparison(run_a, run_b, folder, label_a, label_b)
    console.print(f"[bold green]Comparison:[/] {paths.html}  (also {paths.markdown})")
