"""The target of ``rank --zoo``: a user's CSV/TSV/JSON-lines file (generic loaders) or a registered task.

A file target is always a file: a path that is a folder, that does not exist or that has another suffix
is an error saying which (a registered task is named with :func:`registered_target`, the CLI's
``--target-task``). Label values given as several values or comma lists (``--positive 1,2 --positive 3``)
follow the loaders' rule for option strings: split at commas, stripped, empty parts ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jtask2vec.config import TaskSpec
from jtask2vec.errors import ConfigError

FILE_LOADERS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FILE_LOADER_IDS = frozenset(FILE_LOADERS.values())
TAB_NAMES = {"\t", "\\t", "tab", "TAB"}


@dataclass
class TargetOptions:
    """Columns, label mapping and reading options of a target file (names follow the CSV loaders; jsonl maps
    them to fields).

    ``positive`` / ``negative`` / ``drop``: label values (comma lists allowed, see the module docstring).
    ``encoding`` (default: detected, see :mod:`jtask2vec.tasks.readers`), ``delimiter`` (a .tsv or .csv
    file read with another one; ``tab`` or ``\\t`` for a tab), ``multiline`` (line breaks inside quoted
    fields). ``options``: any further loader options, passed as they are.
    """

    text_column: str = "text"
    label_column: str = "label"
    text_pair_column: str | None = None
    split_column: str | None = None
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    multiline: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def label_values(values: Iterable[str]) -> tuple[str, ...]:
    """Several values and/or comma lists -> one tuple (the rule of comma-separated option strings)."""
    return tuple(part.strip() for value in values for part in str(value).split(",") if part.strip())


def registered_target(name: str, options: dict[str, Any] | None = None) -> TaskSpec:
    """A registered task loader (``--target-task NAME``) as the target."""
    return TaskSpec(name=name, loader=name, options=dict(options or {}))


def check_target_file(path: Path) -> str:
    """The generic loader for ``path``, or a ConfigError saying what the path is instead."""
    where = "--target-file"
    if path.is_dir():
        raise ConfigError(f"{where} {path}: is a folder, not a data file (give a .csv, .tsv or .jsonl file)")
    loader = FILE_LOADERS.get(path.suffix.lower())
    if not path.exists():
        hint = "" if path.suffix else "; name a registered task with --target-task (see `jtask2vec tasks`)"
        raise ConfigError(f"{where} {path}: no such file{hint}")
    if not path.is_file():
        raise ConfigError(f"{where} {path}: not a regular file")
    if loader is None:
        raise ConfigError(
            f"{where} {path}: unknown file type {path.suffix or '(no suffix)'!r}; use .csv, .tsv or .jsonl "
            "(export a spreadsheet as CSV)"
        )
    return loader


def target_spec(
    target: str | Path | TaskSpec, options: TargetOptions | None = None, *, name: str | None = None
) -> TaskSpec:
    """A :class:`TaskSpec` for ``target``: a TaskSpec as it is, else a data file (loader from its suffix)."""
    if isinstance(target, TaskSpec):
        return target
    opts = options or TargetOptions()
    path = Path(target)
    loader = check_target_file(path)
    extra = dict(opts.options)
    if opts.delimiter is not None:
        if loader == "jsonl":
            raise ConfigError("--delimiter applies to .csv and .tsv files, not to JSON lines")
        delimiter = "\t" if opts.delimiter in TAB_NAMES else opts.delimiter
        loader = "tsv" if delimiter == "\t" else "csv"
        if loader == "csv":
            extra.setdefault("delimiter", delimiter)
    prefix = "field" if loader == "jsonl" else "column"
    values: dict[str, Any] = {
        "path": str(path),
        f"text_{prefix}": opts.text_column,
        f"label_{prefix}": opts.label_column,
    }
    if opts.text_pair_column:
        values[f"text_pair_{prefix}"] = opts.text_pair_column
    if opts.split_column:
        values[f"split_{prefix}"] = opts.split_column
    for key in ("positive", "negative", "drop"):
        given = label_values(getattr(opts, key))
        if given:
            values[key] = list(given)
    if opts.encoding:
        values["encoding"] = opts.encoding
    if opts.multiline:
        if loader == "jsonl":
            raise ConfigError("--multiline applies to .csv and .tsv files, not to JSON lines")
        values["multiline"] = True
    values.update(extra)
    split = {"use_corpus_split": True} if opts.split_column else {}
    return TaskSpec(name=name or path.stem, loader=loader, options=values, split=split)
