"""`jtask2vec zoo build | add | show` and the printing of `jtask2vec rank --zoo`."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from jtask2vec.cli.app import (
    DataDirOption,
    NoProgressOption,
    RunsDirOption,
    SetOption,
    SuiteOption,
    app,
    console,
    suite_from_options,
)
from jtask2vec.cli.summary import selector_legend, short_selector
from jtask2vec.errors import ConfigError

zoo_app = typer.Typer(help="Build, merge and list zoos of source-task embeddings.", no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")

ZooDir = Annotated[Path, typer.Argument(help="A zoo folder (holds zoo.json).")]


@zoo_app.command("build")
def build_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="The zoo folder to create.")],
    suite: SuiteOption = "demo",
    with_checkpoints: Annotated[
        bool, typer.Option("--with-checkpoints", help="Also ship the fine-tuned source classifiers.")
    ] = False,
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
) -> None:
    """Fine-tune and embed a suite's sources (cached) and write them as a self-contained zoo folder."""
    from jtask2vec.zoo import build_zoo

    cfg = suite_from_options(suite, set_)
    zoo = build_zoo(
        cfg, out, runs_dir=runs_dir, data_dir=data_dir, with_checkpoints=with_checkpoints,
        progress=not no_progress,
    )  # fmt: skip
    console.print(f"[bold green]Zoo:[/] {zoo.root} ({len(zoo.entries)} sources)", soft_wrap=True)


@zoo_app.command("add")
def add_command(into: ZooDir, other: Annotated[Path, typer.Argument(help="The zoo to merge in.")]) -> None:
    """Merge zoo OTHER into zoo DIR (same probe and recipe only)."""
    from jtask2vec.zoo import add_zoo

    zoo = add_zoo(into, other)
    console.print(f"[bold green]Zoo:[/] {zoo.root} ({len(zoo.entries)} sources)", soft_wrap=True)


@zoo_app.command("show")
def show_command(folder: ZooDir) -> None:
    """List a zoo's recipe and entries (verifies every file's checksum)."""
    from jtask2vec.zoo import Zoo

    zoo = Zoo.load(folder)
    r = zoo.recipe
    m = zoo.manifest
    console.print(
        f"zoo {folder}: format {m.format_version}, jtask2vec {m.jtask2vec_version}, created {m.created}\n"
        f"probe {r.probe.config.name} (weights {r.probe.fingerprint}, pooling {r.probe.pooling}, "
        f"max_length {r.probe.max_length}); Fisher {r.fisher.estimator}/{r.fisher.scope}/"
        f"{r.fisher.reduction}; seeds {r.seeds}; checkpoints: {'yes' if zoo.has_checkpoints else 'no'}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    table = Table(title=f"{len(zoo.entries)} sources")
    for col in ("task", "kind", "lang", "size", "labels", "licence", "data hash"):
        table.add_column(col, overflow="fold")
    for e in zoo.entries:
        table.add_row(
            e.name, e.kind or "", e.language, str(e.size), " / ".join(e.label_names), e.licence,
            e.data_hash[:12],
        )  # fmt: skip
    console.print(table)


def print_zoo_ranking(
    zoo: Path,
    target: str,
    *,
    options,
    runs_dir: Path,
    data_dir: Path | None,
    verify: int,
    output: str,
    progress: bool,
) -> None:
    """Rank a zoo's sources for a target and print it (table, ``json`` or ``csv``)."""
    from jtask2vec.zoo import rank_zoo_target

    ranking = rank_zoo_target(
        zoo, target, options=options, runs_dir=runs_dir, data_dir=data_dir, verify=verify,
        progress=progress,
    )  # fmt: skip
    if output == "json":
        typer.echo(json.dumps(ranking.to_json(), ensure_ascii=False, indent=2))
        return
    if output == "csv":
        ranking.table.to_csv(sys.stdout, index=False, float_format="%.6g")
        return
    title = f"Sources for {ranking.target['name']}: rank by selector (1 = best; {len(ranking.seeds)} seed(s))"
    ranks = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    values = Table(
        title="Values (mean over seeds; distances: lower = closer; logme: higher = better)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for table, width in ((ranks, 0), (values, 8)):
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("source", overflow="fold", min_width=8)
        for s in ranking.selectors:  # short names, never cut (a legend follows)
            table.add_column(short_selector(s), justify="right", no_wrap=True, min_width=width)
    ranks.add_column("mean rank", justify="right", no_wrap=True)
    for i, row in enumerate(ranking.table.to_dict("records"), start=1):
        head = [str(i), str(row["source"])]
        ranks.add_row(*head, *(_rank(row[f"rank:{s}"]) for s in ranking.selectors), f"{row['mean_rank']:.1f}")
        values.add_row(*head, *(_value(row[s]) for s in ranking.selectors))
    console.print(ranks)
    console.print(values)
    legend = selector_legend(ranking.selectors)
    console.print(legend, soft_wrap=True, highlight=False, markup=False)
    agreement = ranking.agreement()
    tau = agreement["mean_kendall_tau_between_distances"]
    firsts = ", ".join(f"{short_selector(s)}: {src}" for s, src in agreement["first_by"].items())
    console.print(
        f"Agreement: first by {firsts}; mean Kendall τ between distance rankings "
        + ("n/a" if math.isnan(tau) else f"{tau:.2f}"),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    if ranking.excluded:
        console.print(f"Left out (same data as the target): {', '.join(ranking.excluded)}", markup=False)
    for line in ranking.flag_lines():  # a selector's caveat or failure, its value shown as "–"
        console.print(f"note: {line}", soft_wrap=True, markup=False, highlight=False)
    console.print(ranking.recommendation_line(), soft_wrap=True, markup=False, highlight=False)
    if ranking.verify is not None:
        _print_verification(ranking.verify)


def _value(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3g}"


def _rank(value) -> str:
    import pandas as pd

    return "–" if pd.isna(value) else str(int(value))


def _print_verification(verification) -> None:
    summary = verification.summary()
    table = Table(title="Verification: target test accuracy by starting point (mean over seeds)")
    for col in ("start from", "accuracy", "macro-F1", "gain vs no transfer"):
        table.add_column(col, justify="left" if col == "start from" else "right", overflow="fold")
    for r in summary.to_dict("records"):
        gain = f"{r['gain']:+.4f}"
        if not math.isnan(r["gain_low"]):
            gain += f" [{r['gain_low']:+.4f}, {r['gain_high']:+.4f}]"
        table.add_row(str(r["source"]), f"{r['accuracy']:.4f}", f"{r['macro_f1']:.4f}", gain)
    console.print(table)
    for line in verification.lines():
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def check_rank_options(target: str | None, zoo: Path | None, target_file: Path | None, target_task):
    if zoo is None:
        if target is None:
            raise ConfigError("rank needs --target (a task of the suite), or --zoo with --target-file")
        if target_file is not None or target_task is not None:
            raise ConfigError("--target-file / --target-task need --zoo")
        return None
    if (target_file is None) == (target_task is None):
        raise ConfigError("rank --zoo needs exactly one of --target-file FILE or --target-task NAME")
    return str(target_file if target_file is not None else target_task)
