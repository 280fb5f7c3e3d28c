"""`jtask2vec zoo build | add | show` (`rank --zoo` is in :mod:`jtask2vec.cli.rank`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
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
        f"Zoo {folder}: format {m.format_version}, jtask2vec {m.jtask2vec_version}, created {m.created}\n"
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
