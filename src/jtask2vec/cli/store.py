"""`jtask2vec store verify | gc`: check the artifact store, and remove what no suite uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from jtask2vec.cli.app import RunsDirOption, app, console, suite_from_options

store_app = typer.Typer(help="Check and clean the artifact store (<runs-dir>/store).", no_args_is_help=True)
app.add_typer(store_app, name="store")


def _store(runs_dir: Path):
    from jtask2vec.pipeline import RunPaths
    from jtask2vec.store.artifacts import ArtifactStore

    return ArtifactStore(RunPaths(runs_dir).store)


@store_app.command("verify")
def verify_command(
    runs_dir: RunsDirOption = Path("runs"),
    quarantine: Annotated[
        bool, typer.Option("--quarantine", help="Move corrupt artifacts to <store>/.quarantine/.")
    ] = False,
) -> None:
    """Check every artifact against its manifest (sizes and SHA-256); exit 1 if any is corrupt."""
    from jtask2vec.store.maintenance import verify_store

    store = _store(runs_dir)
    checked, problems = verify_store(store, quarantine=quarantine)
    for p in problems:
        moved = f" -> moved to {p.quarantined}" if p.quarantined else ""
        console.print(
            f"[red]corrupt[/] {p.kind}/{p.key}: {escape(p.problem)}{escape(moved)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"{checked} artifacts checked in {store.root}, {len(problems)} corrupt",
        highlight=False,
        soft_wrap=True,
    )
    if problems:
        raise typer.Exit(1)


@store_app.command("gc")
def gc_command(
    suite: Annotated[
        list[str],
        typer.Option("--suite", "-s", help="A suite whose latest run's artifacts to keep (repeatable)."),
    ],
    runs_dir: RunsDirOption = Path("runs"),
    yes: Annotated[bool, typer.Option("--yes", help="Delete (without it: only list what would go).")] = False,
    min_age: Annotated[
        float, typer.Option("--min-age-minutes", help="Keep artifacts touched more recently than this.")
    ] = 60.0,
) -> None:
    """Remove artifacts that no given suite's latest run uses (dry run unless --yes)."""
    from jtask2vec.pipeline import RunPaths
    from jtask2vec.store.maintenance import collect_garbage, plan_gc, run_artifacts

    store = _store(runs_dir)
    referenced: set[tuple[str, str]] = set()
    for name in suite:
        referenced |= run_artifacts(RunPaths(runs_dir).run_dir(suite_from_options(name, None, writes=False)))
    garbage = plan_gc(store, referenced, min_age_seconds=min_age * 60)
    total = sum(g.size for g in garbage)
    for g in garbage:
        console.print(
            f"{'removing' if yes else 'would remove'} {g.kind}/{g.key} ({g.size:,} bytes)",
            highlight=False,
            soft_wrap=True,
        )
    if yes:
        freed = collect_garbage(store, garbage)
        console.print(
            f"removed {len(garbage)} artifacts, {freed:,} bytes freed", highlight=False, soft_wrap=True
        )
    else:
        console.print(
            f"dry run: {len(garbage)} artifacts ({total:,} bytes) unused by {', '.join(suite)}; "
            "run again with --yes to delete them",
            highlight=False,
            soft_wrap=True,
        )
