"""`jtask2vec run | evaluate | rank | report | suites`: the whole pipeline and its verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
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


@app.command("rank")
def rank_command(
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="Target task (a task of the suite).")
    ] = None,
    suite: SuiteOption = "demo",
    distance: Annotated[str, typer.Option("--distance", "-d", help="Distance between task vectors.")] = (
        "normalized-cosine"
    ),
    zoo: Annotated[
        Path | None, typer.Option("--zoo", help="Rank this zoo's sources for a new target (zoo build).")
    ] = None,
    target_file: Annotated[
        Path | None, typer.Option("--target-file", help="With --zoo: your data (.csv, .tsv or .jsonl).")
    ] = None,
    target_task: Annotated[
        str | None, typer.Option("--target-task", help="With --zoo: a registered task loader as target.")
    ] = None,
    text_column: Annotated[str, typer.Option(help="Text column (jsonl: field).")] = "text",
    text_pair_column: Annotated[
        str | None, typer.Option(help="Second text of sentence pairs (column / field).")
    ] = None,
    label_column: Annotated[str, typer.Option(help="Label column (jsonl: field).")] = "label",
    split_column: Annotated[
        str | None, typer.Option(help="Column with train/dev/test (default: a stratified split).")
    ] = None,
    positive: Annotated[
        list[str] | None, typer.Option("--positive", help="Label value(s) of class 1 (repeatable).")
    ] = None,
    negative: Annotated[
        list[str] | None, typer.Option("--negative", help="Label value(s) of class 0 (repeatable).")
    ] = None,
    verify: Annotated[
        int,
        typer.Option(
            "--verify", help="Also run the transfers from the top K sources (zoo with checkpoints)."
        ),
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the ranking table as CSV.")] = False,
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Rank candidate sources for a target from task embeddings alone (no transfer runs).

    Either a task of a suite (--suite, --target), or a new target against a zoo (--zoo with --target-file
    or --target-task): every TASK2VEC distance, LogME when the zoo has checkpoints, and --verify K.
    """
    from jtask2vec.cli.zoo import check_rank_options, print_zoo_ranking
    from jtask2vec.pipeline import rank_sources_for_target
    from jtask2vec.zoo import TargetOptions

    zoo_target = check_rank_options(target, zoo, target_file, target_task)
    if as_json and as_csv:
        raise ConfigError("choose one of --json and --csv")
    if zoo is not None:
        options = TargetOptions(
            text_column=text_column,
            label_column=label_column,
            text_pair_column=text_pair_column,
            split_column=split_column,
            positive=tuple(positive or ()),
            negative=tuple(negative or ()),
        )
        output = "json" if as_json else "csv" if as_csv else "table"
        print_zoo_ranking(
            zoo, zoo_target, options=options, runs_dir=runs_dir, data_dir=data_dir, verify=verify,
            output=output, progress=not no_progress and output == "table",
        )  # fmt: skip
        return
    assert target is not None
    cfg = suite_from_options(suite, set_, workers, executor, address)
    ranking = rank_sources_for_target(cfg, target, distance, runs_dir, data_dir, progress=not no_progress)
    table = Table(title=f"Sources for {target} by {distance} (seed-averaged; closest first)")
    table.add_column("rank", justify="right")
    table.add_column("source")
    table.add_column("distance", justify="right")
    for position, (source, value) in enumerate(ranking.items(), start=1):
        table.add_row(str(position), source, f"{value:.6g}")
    console.print(table)


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
