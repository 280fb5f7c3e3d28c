"""`jtask2vec tasks`: list the registered task loaders, show one task, download a corpus."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.table import Table

from jtask2vec.cli.app import DataDirOption, app, console
from jtask2vec.config import PartitionConfig, ProbeConfig, SplitConfig
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks import SPLITS, Task, list_loaders, load_task, task_spec
from jtask2vec.tasks.download import SOURCES, download
from jtask2vec.tasks.lengths import TokenLengthStats, token_length_stats

if TYPE_CHECKING:
    from jtask2vec.tasks.text_inputs import TextInput

tasks_app = typer.Typer(
    help="Task loaders: list them, show a task's statistics and provenance, download a corpus.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(tasks_app, name="tasks")


def _loader_table() -> Table:
    table = Table(title="Registered task loaders", show_lines=True)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("split", no_wrap=True)
    table.add_column("download", no_wrap=True)
    table.add_column("source: the binary task it derives", ratio=1)
    for info in list_loaders():
        table.add_row(
            info.name,
            "corpus" if info.has_corpus_split else "-",
            info.download or "-",
            f"{info.source}: {info.derives}",
        )
    return table


@tasks_app.callback()
def tasks_main(ctx: typer.Context) -> None:
    """List the registered task loaders (with no sub-command)."""
    if ctx.invoked_subcommand is None:
        console.print(_loader_table())


@tasks_app.command("list")
def list_cmd() -> None:
    """List the registered task loaders: name, source, what binary task it derives."""
    console.print(_loader_table())


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` -> dict (values stay strings; loaders coerce them)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option {pair!r}: expected key=value")
        out[key.strip()] = value
    return out


def length_stats(texts: Sequence[TextInput]) -> tuple[int, float, float, int]:
    """(min, median, mean, max) of the inputs' lengths in characters (a pair: both texts together)."""
    lengths = np.fromiter(
        (len(t) if isinstance(t, str) else sum(map(len, t)) for t in texts), dtype=np.int64, count=len(texts)
    )
    if lengths.size == 0:
        return 0, 0.0, 0.0, 0
    return int(lengths.min()), float(np.median(lengths)), float(lengths.mean()), int(lengths.max())


def render_token_lengths(stats: TokenLengthStats, probe: str) -> None:
    """The token-length percentiles and the share of texts the probe truncates."""
    table = Table(title=f"Text length in tokens of the probe {probe!r} (max_length {stats.max_length})")
    for col in ("p50", "p90", "p99", "max", "truncated"):
        table.add_column(col, justify="right")
    table.add_row(
        str(stats.p50),
        str(stats.p90),
        str(stats.p99),
        str(stats.max),
        f"{stats.truncated:,} of {stats.n:,} ({stats.truncated_share:.1%})",
    )
    console.print(table)


def render_task(task: Task, tokens: tuple[TokenLengthStats, str] | None = None) -> None:
    """Counts, label balance, text lengths, split sizes and provenance of ``task`` as rich tables."""
    n = len(task)
    counts = task.class_counts()
    head = (
        f"[bold]{task.name}[/]: {n:,} examples (" + " / ".join(f"{k} {v:,}" for k, v in counts.items()) + ")"
    )
    if task.stand_in_for:
        head += f"  [yellow]stand-in for {task.stand_in_for}[/]"
    console.print(head)

    what = "pair length (characters, both texts)" if task.is_pair_task else "text length (characters)"
    table = Table(title=f"Splits, label balance and {what}")
    table.add_column("split", no_wrap=True)
    for col in ("n", "class 0", "class 1", "% class 1", "min", "median", "mean", "max"):
        table.add_column(col, justify="right", no_wrap=True)
    for split in (*SPLITS, None):
        texts = task.inputs if split is None else task.inputs_of(split)
        c = task.class_counts(split)
        size = len(texts)
        lo, med, mean, hi = length_stats(texts)
        share = f"{c[task.label_names[1]] / size:.1%}" if size else "-"
        table.add_row(
            split or "[bold]all[/]",
            f"{size:,}",
            *(f"{c[k]:,}" for k in task.label_names),
            share,
            f"{lo:,}",
            f"{med:,.1f}",
            f"{mean:,.1f}",
            f"{hi:,}",
        )
    console.print(table)
    console.print(
        f"class 0 = {task.label_names[0]}, class 1 = {task.label_names[1]}", highlight=False, markup=False
    )
    if tokens is not None:
        render_token_lengths(*tokens)

    prov = Table(title="Provenance", show_header=False)
    prov.add_column("field", style="bold")
    prov.add_column("value", overflow="fold")
    p = task.provenance
    prov.add_row("source", p.source)
    prov.add_row("licence", p.licence)
    prov.add_row("derivation", p.derivation)
    prov.add_row("files", "\n".join(p.files) or "-")
    prov.add_row("notes", "\n".join(f"- {note}" for note in p.notes) or "-")
    console.print(prov)
    console.print(f"data hash: {task.data_hash}", highlight=False, markup=False, soft_wrap=True)


@tasks_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="Registered loader name, e.g. jrte-pn, chabsa, livedoor, csv.")],
    data_dir: DataDirOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the stratified split and subsample.")] = 0,
    max_examples: Annotated[
        int | None, typer.Option("--max-examples", help="Stratified subsample to this many examples.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Loader option key=value (repeatable), e.g. -o categories=a,b."),
    ] = None,
    corpus_split: Annotated[
        bool, typer.Option("--corpus-split", help="Use the corpus's own train/dev/test split (jrte, files).")
    ] = False,
    dev_fraction: Annotated[float, typer.Option("--dev-fraction")] = 0.1,
    test_fraction: Annotated[float, typer.Option("--test-fraction")] = 0.2,
    parts: Annotated[int | None, typer.Option("--parts", help="Cut into this many disjoint parts...")] = None,
    part: Annotated[int, typer.Option("--part", help="...and keep this one (0-based).")] = 0,
    probe: Annotated[
        str,
        typer.Option("--probe", help="Probe whose tokenizer measures text lengths in tokens ('none': skip)."),
    ] = ProbeConfig().name,
    max_length: Annotated[
        int, typer.Option("--max-length", help="Token limit of the probe (texts beyond it are truncated).")
    ] = ProbeConfig().max_length,
) -> None:
    """Load one task and print its counts, label balance, text lengths, split sizes and provenance."""
    try:
        split = SplitConfig(
            dev_fraction=dev_fraction, test_fraction=test_fraction, seed=seed, use_corpus_split=corpus_split
        )
        partition = PartitionConfig(parts=parts, index=part, seed=seed) if parts is not None else None
        spec = task_spec(
            name, split=split, partition=partition, max_examples=max_examples, **parse_options(option)
        )
        probe_config = ProbeConfig(name=probe, max_length=max_length) if probe != "none" else None
    except ValueError as exc:  # pydantic validation
        raise ConfigError(f"invalid task settings: {str(exc).splitlines()[-1].strip()}") from None
    task = load_task(spec, data_dir)
    tokens = None
    if probe_config is not None:
        from jtask2vec.model.probes import load_probe

        loaded = load_probe(probe_config)
        tokens = (token_length_stats(task, loaded.tokenizer, loaded.max_length), probe)
    render_task(task, tokens)


def _progress_printer():
    last: dict[str, int] = {}

    def report(url: str, done: int, total: int | None) -> None:
        step = done >> 22  # print every 4 MiB
        if last.get(url) != step:
            last[url] = step
            of = f" of {total / 1e6:.1f} MB" if total else ""
            console.print(f"  {url}: {done / 1e6:.1f} MB{of}", highlight=False)

    return report


@tasks_app.command("download")
def download_cmd(
    name: Annotated[str, typer.Argument(help=f"Corpus to fetch: {', '.join(sorted(SOURCES))}.")],
    data_dir: DataDirOption = None,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url", help="Fetch these URLs instead of the official ones (repeatable; file:// works)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the corpus folder if it exists.")] = False,
) -> None:
    """Download a corpus from its official source into the data directory (explicit, never automatic)."""
    if data_dir is None:
        raise DataError("tasks download needs --data-dir (or JTASK2VEC_DATA): the folder to write into")
    data_dir = Path(data_dir)
    if name in SOURCES:
        console.print(f"Downloading {name} ({SOURCES[name].licence}) into {data_dir}", highlight=False)
    final = download(name, data_dir, urls=url, force=force, progress=_progress_printer())
    console.print(f"[green]done:[/] {final}", highlight=False)
