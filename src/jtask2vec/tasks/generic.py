"""Generic loaders: any CSV, TSV or JSON-lines file with a text and a label column.

The encoding is detected unless given (``encoding=auto``, :func:`jtask2vec.tasks.readers.resolve_encoding`:
UTF-8 with or without BOM, else CP932), and named in the notes when it is not plain UTF-8.
Label values are mapped to 0/1 (:mod:`jtask2vec.tasks.labels`) by the ``positive``/``negative`` options, or
automatically when the file holds exactly two distinct values (sorted; numerically when both are numbers,
so ``0/1``, ``-1/1``, ``1/2`` and ``neg/pos`` all map the smaller to 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.labels import label_options, map_labels
from jtask2vec.tasks.loading import LoadedData, register_loader
from jtask2vec.tasks.readers import (
    BAD_ROWS,
    BadRows,
    cell,
    check_text,
    column_index,
    iter_lines,
    iter_rows,
    resolve_encoding,
)

SPLIT_VALUES = ("train", "dev", "test")


def resolve_input(path: str, data_dir: Path | None) -> Path:
    """``path`` as given if absolute or found from the current directory, else relative to ``data_dir``."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists() or data_dir is None:
        return p
    q = data_dir / p
    return q if q.exists() else p


def _finish(
    path: Path,
    texts: list[str],
    raw_labels: list[str],
    origins: list[tuple[str, int | None]],
    splits: list[str] | None,
    options: dict[str, tuple[str, ...]],
    label_field: str,
    derivation: str,
    skipped: BadRows,
    pairs: list[str] | None = None,
    encoding_note: str | None = None,
) -> LoadedData:
    if not texts:
        raise DataError("no data rows", path=path)
    mapped, names = map_labels(raw_labels, origins, field=label_field, **options)  # type: ignore[arg-type]
    keep = [i for i, y in enumerate(mapped) if y is not None]
    n_dropped = len(mapped) - len(keep)
    notes = [f"{n_dropped} rows dropped by the drop option"] if n_dropped else []
    if encoding_note:
        notes.insert(0, encoding_note)
    if skipped.note():
        notes.append(skipped.note())  # type: ignore[arg-type]
    return LoadedData(
        texts=[texts[i] for i in keep],
        labels=np.asarray([mapped[i] for i in keep], dtype=np.int64),
        label_names=names,
        source=f"user file {path}",
        licence="as given by the file's owner",
        derivation=derivation + f"; labels: {names[0]} -> 0, {names[1]} -> 1",
        files=(str(path),),
        main_file=str(path),
        notes=notes,
        corpus_splits=None if splits is None else [splits[i] for i in keep],
        origins=[origins[i] for i in keep],
        text_pairs=None if pairs is None else [pairs[i] for i in keep],
    )


def _label(value: str, path: Path, line: int, field: str) -> str:
    """A label value with surrounding white space removed (in every format); empty is an error."""
    label = value.strip()
    if not label:
        raise DataError("empty label", path=path, line=line, field=field)
    return label


def _split(value: str, path: Path, line: int, field: str) -> str:
    split = value.strip()
    if split not in SPLIT_VALUES:
        raise DataError(
            f"split {split!r} is not one of {', '.join(SPLIT_VALUES)}", path=path, line=line, field=field
        )
    return split


def _read_delimited(
    data_dir: Path | None,
    path: str,
    delimiter: str,
    columns: tuple[str, str, str, str],
    header: bool,
    encoding: str,
    quoting: str,
    multiline: bool,
    bad_rows: str,
    options: dict[str, tuple[str, ...]],
) -> LoadedData:
    text_column, label_column, split_column, text_pair_column = columns
    file = resolve_input(path, data_dir)
    encoding, encoding_note = resolve_encoding(file, encoding)
    skipped = BadRows()
    head, rows = iter_rows(
        file,
        delimiter=delimiter,
        quoting=quoting,
        header=header,
        encoding=encoding,
        multiline=multiline,
        bad_rows=bad_rows,
        skipped=skipped,
    )
    ti = column_index(head, text_column, file)
    li = column_index(head, label_column, file)
    si = column_index(head, split_column, file) if split_column else None
    pi = column_index(head, text_pair_column, file) if text_pair_column else None
    pairs: list[str] | None = [] if pi is not None else None
    texts: list[str] = []
    raw: list[str] = []
    splits: list[str] | None = [] if si is not None else None
    origins: list[tuple[str, int | None]] = []
    for line, row in rows:
        texts.append(check_text(cell(row, ti, file, line, text_column), file, line, text_column))
        if pairs is not None and pi is not None:
            pair = cell(row, pi, file, line, text_pair_column)
            pairs.append(check_text(pair, file, line, text_pair_column))
        raw.append(_label(cell(row, li, file, line, label_column), file, line, label_column))
        if splits is not None and si is not None:
            splits.append(_split(cell(row, si, file, line, split_column), file, line, split_column))
        origins.append((str(file), line))
    derivation = f"text = column {text_column!r}, label = column {label_column!r}"
    if text_pair_column:
        derivation += f", text pair = column {text_pair_column!r}"
    return _finish(
        file, texts, raw, origins, splits, options, label_column, derivation, skipped, pairs, encoding_note
    )


@register_loader(
    "csv",
    source="any CSV file (comma-separated, header row)",
    derives="text column + binary label column (values mapped to 0/1)",
    official="your own file: pass option path=FILE",
    has_corpus_split=True,
    needs_data_dir=False,
)
def load_csv(
    data_dir: Path | None,
    path: str = "",
    text_column: str = "text",
    label_column: str = "label",
    split_column: str = "",
    positive: tuple[str, ...] = (),
    negative: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    label_names: tuple[str, ...] = (),
    header: bool = True,
    delimiter: str = ",",
    encoding: str = "auto",
    quoting: str = "minimal",
    multiline: bool = False,
    bad_rows: str = "error",
    text_pair_column: str = "",
) -> LoadedData:
    """A delimited file; without a header row, columns are 0-based numbers (``text_column=0``).
    ``text_pair_column``: the second text of a sentence-pair task (premise/hypothesis...).

    ``quoting=minimal``: CSV double quotes (strict); ``multiline=true`` allows line breaks inside quoted
    fields. ``bad_rows=skip`` skips (and counts) rows with the wrong number of fields instead of failing.
    """
    if not path:
        raise ConfigError("loader 'csv' needs option path=FILE")
    return _read_delimited(
        data_dir,
        path,
        delimiter,
        (text_column, label_column, split_column, text_pair_column),
        header,
        encoding,
        quoting,
        multiline,
        bad_rows,
        label_options(positive, negative, drop, label_names),
    )


@register_loader(
    "tsv",
    source="any TSV file (tab-separated, header row)",
    derives="text column + binary label column (values mapped to 0/1)",
    official="your own file: pass option path=FILE",
    has_corpus_split=True,
    needs_data_dir=False,
)
def load_tsv(
    data_dir: Path | None,
    path: str = "",
    text_column: str = "text",
    label_column: str = "label",
    split_column: str = "",
    positive: tuple[str, ...] = (),
    negative: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    label_names: tuple[str, ...] = (),
    header: bool = True,
    encoding: str = "auto",
    quoting: str = "none",
    multiline: bool = False,
    bad_rows: str = "error",
    text_pair_column: str = "",
) -> LoadedData:
    """As ``csv`` with a tab delimiter; quotes are ordinary characters unless ``quoting=minimal``."""
    if not path:
        raise ConfigError("loader 'tsv' needs option path=FILE")
    return _read_delimited(
        data_dir,
        path,
        "\t",
        (text_column, label_column, split_column, text_pair_column),
        header,
        encoding,
        quoting,
        multiline,
        bad_rows,
        label_options(positive, negative, drop, label_names),
    )


def _json_label(value: object) -> str:
    """JSON label values compared as strings: ``true``/``false``/``null`` as in JSON, numbers as written."""
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


@register_loader(
    "jsonl",
    source="any JSON-lines file (one object per line)",
    derives="text field + binary label field (values mapped to 0/1)",
    official="your own file: pass option path=FILE",
    has_corpus_split=True,
    needs_data_dir=False,
)
def load_jsonl(
    data_dir: Path | None,
    path: str = "",
    text_field: str = "text",
    label_field: str = "label",
    split_field: str = "",
    positive: tuple[str, ...] = (),
    negative: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    label_names: tuple[str, ...] = (),
    encoding: str = "auto",
    bad_rows: str = "error",
    text_pair_field: str = "",
) -> LoadedData:
    """One JSON object per line; label values are compared as strings (``1``, ``true``, ``"pos"``).
    ``text_pair_field``: the second text of a sentence-pair task.

    ``bad_rows=skip`` skips (and counts) lines that are not a JSON object instead of failing.
    """
    if not path:
        raise ConfigError("loader 'jsonl' needs option path=FILE")
    if bad_rows not in BAD_ROWS:
        raise ConfigError(f"option 'bad_rows' must be 'error' or 'skip', not {bad_rows!r}")
    file = resolve_input(path, data_dir)
    encoding, encoding_note = resolve_encoding(file, encoding)
    skipped = BadRows()
    texts: list[str] = []
    raw: list[str] = []
    splits: list[str] | None = [] if split_field else None
    pairs: list[str] | None = [] if text_pair_field else None
    origins: list[tuple[str, int | None]] = []
    for line, src in iter_lines(file, encoding):
        if not src.strip():
            continue
        try:
            obj = json.loads(src)
        except json.JSONDecodeError as exc:
            reason = f"not valid JSON: {exc.msg}"
            obj = None
        else:
            reason = "" if isinstance(obj, dict) else "a line must hold a JSON object"
        if reason:
            if bad_rows == "skip":
                skipped.rows.append((str(file), line, reason))
                continue
            raise DataError(reason, path=file, line=line, hint="fix the line, or skip it with bad_rows=skip")
        assert isinstance(obj, dict)
        optional = tuple(f for f in (split_field, text_pair_field) if f)
        for name in (text_field, label_field, *optional):
            if name not in obj:
                raise DataError(
                    f"missing field; the object has: {', '.join(obj)}", path=file, line=line, field=name
                )
        text = obj[text_field]
        if not isinstance(text, str):
            raise DataError("text must be a string", path=file, line=line, field=text_field)
        texts.append(check_text(text, file, line, text_field))
        if pairs is not None:
            pair = obj[text_pair_field]
            if not isinstance(pair, str):
                raise DataError("text pair must be a string", path=file, line=line, field=text_pair_field)
            pairs.append(check_text(pair, file, line, text_pair_field))
        raw.append(
            _label(
                _json_label(obj[label_field]) if obj[label_field] is not None else "", file, line, label_field
            )
        )
        if splits is not None:
            splits.append(_split(str(obj[split_field]), file, line, split_field))
        origins.append((str(file), line))
    derivation = f"text = field {text_field!r}, label = field {label_field!r}"
    if text_pair_field:
        derivation += f", text pair = field {text_pair_field!r}"
    options = label_options(positive, negative, drop, label_names)
    return _finish(
        file, texts, raw, origins, splits, options, label_field, derivation, skipped, pairs, encoding_note
    )
