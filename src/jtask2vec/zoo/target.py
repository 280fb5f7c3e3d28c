"""The target of ``rank --zoo``: a user's CSV/TSV/JSON-lines file (generic loaders) or a registered task."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jtask2vec.config import TaskSpec
from jtask2vec.errors import ConfigError

FILE_LOADERS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class TargetOptions:
    """Columns and label mapping of a target file (names follow the CSV loaders; jsonl maps them to fields).

    ``positive`` / ``negative`` / ``drop``: label values (see :mod:`jtask2vec.tasks.generic`).
    ``options``: any further loader options, passed as they are.
    """

    text_column: str = "text"
    label_column: str = "label"
    text_pair_column: str | None = None
    split_column: str | None = None
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


def target_spec(
    target: str | Path | TaskSpec, options: TargetOptions | None = None, *, name: str | None = None
) -> TaskSpec:
    """A :class:`TaskSpec` for ``target``: a file path (loader from its suffix), else a registered loader id.

    A path that does not exist but has a data-file suffix is an error, not a loader name.
    """
    if isinstance(target, TaskSpec):
        return target
    opts = options or TargetOptions()
    path = Path(target)
    loader = FILE_LOADERS.get(path.suffix.lower())
    if loader is None and not path.is_file():
        return TaskSpec(name=name or str(target), loader=str(target), options=dict(opts.options))
    if loader is None:
        raise ConfigError(f"{path}: unknown target file type {path.suffix!r}; use .csv, .tsv or .jsonl")
    if not path.is_file():
        raise ConfigError(f"{path}: target file not found")
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
        if getattr(opts, key):
            values[key] = list(getattr(opts, key))
    values.update(opts.options)
    split = {"use_corpus_split": True} if opts.split_column else {}
    return TaskSpec(name=name or path.stem, loader=loader, options=values, split=split)
