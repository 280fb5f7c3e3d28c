"""`jtask2vec run | evaluate | report | suites`: the whole pipeline and its verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from jtask2vec.config import builtin_suites, dump_suite, load_suite
from jtask2vec.errors import ConfigError


@app.command("suites")
def suites_command(
    show: Annotated[
        str | None, typer.Argument(help="Print this suite (built-in name or YAML file) as it will run.")
    ] = None,
) -> None:
    """List the built-in suites, or print one in full."""
    if show:
        # Raw text, never wrapped at the terminal width: the output pastes back into a suite file.
        from jtask2vec.suite_check import check_suite

        cfg = load_suite(show)
        check_suite(cfg, show)  # as deep as `run` checks, without reading data
        typer.echo(dump_suite(cfg), nl=False)
        return
    suites = {name: load_suite(name) for name in builtin_suites()}
    width = max(map(len, suites))
    lines = [f"{'suite':<{width}}  tasks  seeds  what"]
    for name, s in suites.items():
        line = f"{name:<{width}}  {len(s.tasks):>5}  {len(s.seeds):>5}  {s.summary or s.description}"
        lines.append(line if len(line) <= console.width else line[: console.width - 1] + "…")
    lines.append("`jtask2vec suites NAME` prints one in full; `suites FILE` checks your own.")
    console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)


@app.command("run")
def run_command(
    suite: SuiteOption = "demo",
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Run a suite end to end: finetune, embed, similarity, transfer, evaluate, report (resumable)."""
    from jtask2vec.cli.summary import print_summary
    from jtask2vec.pipeline import RunPaths, run_suite

    cfg = suite_from_options(suite, set_, workers, executor, address)
    results = run_suite(cfg, runs_dir, data_dir, progress=not no_progress)
    print_summary(results, console)
    folder = RunPaths(runs_dir).run_dir(cfg)
    console.print(f"\n[bold green]Report:[/] {folder / 'report.html'}  (also {folder / 'report.md'})")


@app.command("evaluate")
def evaluate_command(
    suite: SuiteOption = "demo",
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Print the evaluation table: how well each selector ranks the sources (runs what is missing)."""
    from jtask2vec.cli.summary import print_evaluation
    from jtask2vec.pipeline import run_suite

    cfg = suite_from_options(suite, set_, workers, executor, address)
    results = run_suite(cfg, runs_dir, data_dir, progress=not no_progress, report=False)
    print_evaluation(results, console)


@app.command("report")
def report_command(
    suite: SuiteOption = "demo",
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
) -> None:
    """Re-render the report of a finished run from its saved tables."""
    from jtask2vec.pipeline import RunPaths
    from jtask2vec.report import write_report
    from jtask2vec.report.compare import finished_runs
    from jtask2vec.results import RunResults

    cfg = suite_from_options(suite, set_)
    folder = RunPaths(runs_dir).run_dir(cfg)
    if not (folder / "results.json").is_file():
        raise ConfigError(
            f"{folder}: no finished run of suite {cfg.name!r}; run `jtask2vec run --suite {suite}`"
        )
    write_report(RunResults.load(folder), folder, finished_runs(cfg.compare_with, runs_dir))
    console.print(f"[bold green]Report:[/] {folder / 'report.html'}")
