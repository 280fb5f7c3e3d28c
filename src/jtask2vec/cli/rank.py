"""`jtask2vec rank`: candidate sources for a target, from a suite run or against a zoo, and their printing.

Against a zoo the output fits 80 columns: the target first (labels, counts, splits, truncation, its own
fine-tuned accuracy against the majority class), what was left out, how stable the ranking is over the
(seed × zoo-seed) pairs, the ranks and values per selector (one number format per column), and the
recommendation with its support. Loader errors name the options of this command (``--encoding``...).
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
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
from jtask2vec.cli.summary import selector_legend, short_selector
from jtask2vec.errors import ConfigError, DataError

# Loader hints (written for suite files and `-o KEY=VALUE`) as this command's options.
_HINTS_AS_FLAGS = (
    (r"\bthe positive/negative options\b", "--positive/--negative"),
    (r"\blist it in positive, negative or drop\b", "list it in --positive, --negative or --drop"),
    (r"\bwith negative='\*' \(or positive='\*'\)", "with --negative '*' (or --positive '*')"),
    (r"\blist extra ones in drop\b", "list extra ones in --drop"),
    (r"\bpass the right encoding option\b", "pass --encoding (e.g. --encoding cp932)"),
    (r"\bmultiline=true\b", "--multiline"),
    (r"\bquoting=none\b", "-o quoting=none"),
    (r"\bbad_rows=skip\b", "-o bad_rows=skip"),
)


def as_rank_error(exc: DataError) -> DataError:
    """``exc`` with its hint naming the options of `rank` instead of the loaders' option names."""
    hint = exc.hint
    if not hint:
        return exc
    for pattern, flag in _HINTS_AS_FLAGS:
        hint = re.sub(pattern, flag, hint)
    return DataError(exc.reason, path=exc.path, line=exc.line, field=exc.field, hint=hint)


def parse_seeds(value: str) -> list[int]:
    """``--seeds``: a count N (seeds 0..N-1) or a comma list of seeds (``0,1,2``)."""
    try:
        parts = [int(p) for p in value.split(",") if p.strip()]
    except ValueError:
        raise ConfigError(f"--seeds {value!r}: give a count (3) or a comma list of seeds (0,1,2)") from None
    if "," not in value:
        if len(parts) != 1 or parts[0] < 1:
            raise ConfigError(f"--seeds {value!r}: give a count of at least 1, or a comma list of seeds")
        return list(range(parts[0]))
    return parts


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
        list[str] | None,
        typer.Option("--positive", help="Label value(s) of class 1 (repeatable; comma lists: 1,2)."),
    ] = None,
    negative: Annotated[
        list[str] | None,
        typer.Option("--negative", help="Label value(s) of class 0 (repeatable; comma lists; '*': others)."),
    ] = None,
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="Label value(s) whose rows are left out (repeatable).")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="File encoding (default: UTF-8, with or without BOM, or CP932).",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter", help="Field delimiter of a .csv/.tsv file ('tab' for a tab).", show_default=False
        ),
    ] = None,
    multiline: Annotated[
        bool, typer.Option("--multiline", help="Allow line breaks inside quoted fields.")
    ] = False,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Further loader option KEY=VALUE (repeatable), as `tasks show`."),
    ] = None,
    seeds: Annotated[
        str,
        typer.Option(
            "--seeds",
            help="Target seeds: a count (3) or a comma list (0,1,2); each is compared with every zoo seed.",
        ),
    ] = "3",
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
    or --target-task): every TASK2VEC distance over several target seeds, LogME when the zoo has
    checkpoints, and --verify K.
    """
    from jtask2vec.cli.tasks import parse_options
    from jtask2vec.pipeline import rank_sources_for_target
    from jtask2vec.zoo import TargetOptions
    from jtask2vec.zoo.target import registered_target

    check_rank_options(target, zoo, target_file, target_task)
    if as_json and as_csv:
        raise ConfigError("choose one of --json and --csv")
    if zoo is not None:
        extra = parse_options(option)
        if target_task is not None:
            goal = registered_target(target_task, extra)
        else:
            assert target_file is not None
            goal = target_file
        options = TargetOptions(
            text_column=text_column,
            label_column=label_column,
            text_pair_column=text_pair_column,
            split_column=split_column,
            positive=tuple(positive or ()),
            negative=tuple(negative or ()),
            drop=tuple(drop or ()),
            encoding=encoding,
            delimiter=delimiter,
            multiline=multiline,
            options=extra,
        )
        output = "json" if as_json else "csv" if as_csv else "table"
        try:
            print_zoo_ranking(
                zoo, goal, options=options, seeds=parse_seeds(seeds), runs_dir=runs_dir, data_dir=data_dir,
                verify=verify, output=output, progress=not no_progress and output == "table",
            )  # fmt: skip
        except DataError as exc:
            raise as_rank_error(exc) from None
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


def check_rank_options(target: str | None, zoo: Path | None, target_file: Path | None, target_task) -> None:
    if zoo is None:
        if target is None:
            raise ConfigError("rank needs --target (a task of the suite), or --zoo with --target-file")
        if target_file is not None or target_task is not None:
            raise ConfigError("--target-file / --target-task need --zoo")
        return
    if (target_file is None) == (target_task is None):
        raise ConfigError("rank --zoo needs exactly one of --target-file FILE or --target-task NAME")


def column_format(values) -> str:
    """One fixed-point format for a column: three significant digits for its largest magnitude."""
    finite = [abs(float(v)) for v in values if v is not None and not math.isnan(float(v))]
    top = max(finite, default=0.0)
    decimals = 3 if top == 0 else min(6, max(0, 2 - math.floor(math.log10(top))))
    return f"{{:.{decimals}f}}"


def _cell(value, fmt: str) -> str:
    return "–" if value is None or math.isnan(float(value)) else fmt.format(float(value))


def _rank(value) -> str:
    """A selector's rank of a source; "–" where it could not score the source."""
    return "–" if pd.isna(value) else str(int(value))


def _seeds(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def print_target(facts: dict) -> None:
    """The target's description (``rank --json``'s ``target`` in words)."""
    where = f" ({facts['file']})" if facts.get("file") else f" (loader {facts['loader']})"
    _say(f"Target {facts['name']}{where}")
    _say(f"  labels: {facts['label_rule']}")
    counts = ", ".join(f"{k} {v:,}" for k, v in facts["class_counts"].items())
    splits = ", ".join(f"{k} {v:,}" for k, v in facts["split_sizes"].items())
    size = f"{facts['size']:,} examples"
    if facts["size_before_regime"] != facts["size"]:
        size += f" (of {facts['size_before_regime']:,}: the zoo's target regime)"
    _say(f"  {size}: {counts}; splits {splits}")
    if facts.get("truncated"):
        t = facts["truncated"]
        _say(f"  truncated at {t['max_length']} tokens: {t['count']:,} texts ({t['share']:.1%})")
    ft = facts["fine_tune"]
    if ft["accuracy"] is not None:
        lo, hi = ft["accuracy_range"]
        m = ft["majority_class"]
        _say(
            f"  own fine-tune, {_seeds(len(ft['seeds']))}, test {ft['test_size']}: accuracy "
            f"{ft['accuracy']:.3f} ({lo:.3f}–{hi:.3f}), macro-F1 {ft['macro_f1']:.3f}; majority class "
            f"{m['label']!r}: {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}"
        )
    for note in facts.get("notes", []):
        if note.startswith("encoding"):
            _say(f"  {note}")
    if facts.get("warning"):
        console.print(f"[bold yellow]warning:[/] {facts['warning']}", highlight=False)


def print_zoo_ranking(
    zoo: Path,
    target,
    *,
    options,
    seeds: list[int],
    runs_dir: Path,
    data_dir: Path | None,
    verify: int,
    output: str,
    progress: bool,
) -> None:
    """Rank a zoo's sources for a target and print it (table, ``json`` or ``csv``)."""
    from jtask2vec.zoo import rank_zoo_target

    ranking = rank_zoo_target(
        zoo, target, options=options, seeds=seeds, runs_dir=runs_dir, data_dir=data_dir, verify=verify,
        progress=progress,
    )  # fmt: skip
    if output == "json":
        typer.echo(json.dumps(ranking.to_json(), ensure_ascii=False, indent=2))
        return
    if output == "csv":
        ranking.table.to_csv(sys.stdout, index=False, float_format="%.6g")
        return
    print_target(ranking.target)
    pairs = len(ranking.seeds) * len(ranking.zoo_seeds)
    _say(
        f"Zoo {ranking.zoo}: {len(ranking.table)} candidate sources; target seeds "
        f"{', '.join(map(str, ranking.seeds))} × zoo seeds {', '.join(map(str, ranking.zoo_seeds))} = "
        f"{pairs} pairs"
    )
    for item in ranking.overlap:
        what = "left out" if item["excluded"] else "kept"
        _say(
            f"  {item['source']}: holds {item['share']:.0%} of the target's texts ({what}; ≥ 50% is left out)"
        )
    _print_tables(ranking)
    for line in ranking.flag_lines():  # a selector's caveat or failure, its value shown as "–"
        _say(f"note: {line}")
    _say(ranking.recommendation_line())
    cost = ranking.cost
    _say(
        f"Cost: {cost['target_finetunes']} target fine-tunes and embeddings"
        + (f", {cost['verify_finetunes']} verification fine-tunes" if "verify_finetunes" in cost else "")
        + f"; {cost['seconds']:.0f} s (cached steps are not redone)"
    )
    if ranking.verify is not None:
        _print_verification(ranking.verify)


def _table(title: str) -> Table:
    return Table(
        title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, title_justify="left"
    )


def _print_tables(ranking) -> None:
    rows = ranking.table.to_dict("records")
    distances = ranking.distance_selectors
    stab = _table(f"How often each source is the top pick, and its rank over the {rows[0]['pairs']} pairs")
    for col, justify in (("#", "right"), ("source", "left"), ("top", "right"), ("rank", "right"),
                         ("range", "right"), ("t2v:ncos", "right"), ("min–max", "right")):  # fmt: skip
        stab.add_column(col, justify=justify, overflow="fold" if col == "source" else "ellipsis")
    ncos = "task2vec:normalized-cosine" if "task2vec:normalized-cosine" in distances else distances[0]
    fmt = column_format([r[ncos] for r in rows] + [r[f"{ncos}:high"] for r in rows])
    for i, r in enumerate(rows, start=1):
        stab.add_row(
            str(i), str(r["source"]), f"{r['top']}/{r['pairs']}", f"{r['pair_rank']:.1f}",
            f"{r['pair_rank_low']:.1f}–{r['pair_rank_high']:.1f}", _cell(r[ncos], fmt),
            f"{_cell(r[f'{ncos}:low'], fmt)}–{_cell(r[f'{ncos}:high'], fmt)}",
        )  # fmt: skip
    console.print(stab)
    ranks = _table("Rank by selector, on the pair-averaged values (1 = best)")
    values = _table("Values, mean over pairs (distances: lower = closer; logme: higher = better)")
    for table in (ranks, values):
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("source", overflow="fold", min_width=8)
        for s in ranking.selectors:  # short names, never cut (a legend follows)
            table.add_column(short_selector(s), justify="right", no_wrap=True)
    ranks.add_column("mean", justify="right", no_wrap=True)
    formats = {s: column_format([r[s] for r in rows]) for s in ranking.selectors}
    for i, row in enumerate(rows, start=1):
        head = [str(i), str(row["source"])]
        ranks.add_row(*head, *(_rank(row[f"rank:{s}"]) for s in ranking.selectors), f"{row['mean_rank']:.1f}")
        values.add_row(*head, *(_cell(row[s], formats[s]) for s in ranking.selectors))
    console.print(ranks)
    console.print(values)
    _say(selector_legend(ranking.selectors))
    agreement = ranking.agreement()
    tau = agreement["mean_kendall_tau_between_distances"]
    firsts = ", ".join(f"{short_selector(s)} {src}" for s, src in agreement["first_by"].items())
    _say(
        f"First by: {firsts}. Mean Kendall τ between distance rankings: "
        + ("n/a" if math.isnan(tau) else f"{tau:.2f}")
    )


def _print_verification(verification) -> None:
    summary = verification.summary()
    _say(verification.basis())
    table = _table("Target test accuracy by starting point (mean over seeds)")
    for col in ("start from", "accuracy", "macro-F1", "gain", "interval"):
        table.add_column(col, justify="left" if col == "start from" else "right", overflow="fold")
    for r in summary.to_dict("records"):
        interval = "–" if math.isnan(r["gain_low"]) else f"[{r['gain_low']:+.3f}, {r['gain_high']:+.3f}]"
        table.add_row(str(r["source"]), f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}", f"{r['gain']:+.3f}",
                      interval)  # fmt: skip
    console.print(table)
    for line in verification.lines():
        _say(line)
