"""Generic loaders: any CSV, TSV or JSON-lines file with a text and a label column.

Sentence pairs: with ``text_pair_column`` (jsonl: ``text_pair_field``) each example is the pair
``(text, text_pair)``, which the tokenizers encode as one pair input (``[CLS] a [SEP] b [SEP]``).

Label values are mapped to 0/1 by the ``positive``/``negative`` options (comma-separated values), or
automatically when the file holds exactly two distinct values (sorted; numerically when both are numbers,
so ``0/1``, ``-1/1``, ``1/2`` and ``neg/pos`` all map the smaller to 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LoadedData, register_loader
from jtask2vec.tasks.readers import cell, check_text, column_index, iter_rows, read_text

SPLIT_VALUES = ("train", "dev", "test")


def resolve_input(path: str, data_dir: Path | None) -> Path:
    """``path`` as given if absolute or found from the current directory, else relative to ``data_dir``."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists() or data_dir is None:
        return p
    q = data_dir / p
    return q if q.exists() else p


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def map_labels(
    raw: list[str],
    lines: list[tuple[str, int | None]],
    *,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    drop: tuple[str, ...],
    label_names: tuple[str, ...],
    field: str,
) -> tuple[list[int | None], tuple[str, str]]:
    """Map raw label values to 1 / 0 / ``None`` (dropped), with the rules in the module docstring.

    ``positive`` alone: every other (non-dropped) value is 0. A value in neither set (when both are given),
    or a third distinct value in auto mode, is a DataError at its line.
    """
    pos, neg, dropped = set(positive), set(negative), set(drop)
    if pos & neg:
        raise ConfigError(f"label value(s) {', '.join(sorted(pos & neg))} are both positive and negative")
    out: list[int | None] = []
    if pos or neg:
        for value, (file, line) in zip(raw, lines, strict=True):
            if value in dropped:
                out.append(None)
            elif value in pos:
                out.append(1)
            elif value in neg or (pos and not neg):
                out.append(0)
            else:
                raise DataError(
                    f"label {value!r} is outside the binary set (positive: {', '.join(sorted(pos)) or '-'}; "
                    f"negative: {', '.join(sorted(neg)) or '-'})",
                    path=file,
                    line=line,
                    field=field,
                    hint="map it with the positive/negative options or list it in drop",
                )
        names = (
            "|".join(sorted(neg, key=_sort_key)) if neg else "other",
            "|".join(sorted(pos, key=_sort_key)) if pos else "other",
        )
    else:
        seen: list[str] = []
        for value, (file, line) in zip(raw, lines, strict=True):
            if value in dropped or value in seen:
                continue
            if len(seen) == 2:
                raise DataError(
                    f"label {value!r} is a third distinct value (after {seen[0]!r}, {seen[1]!r}); "
                    "a task is binary",
                    path=file,
                    line=line,
                    field=field,
                    hint="map values with the positive/negative options or list extra ones in drop",
                )
            seen.append(value)
        if len(seen) == 1:
            file, _ = lines[0]
            raise DataError(
                f"only one label value ({seen[0]!r}) in the file; a task needs two classes",
                path=file,
                field=field,
            )
        order = sorted(seen, key=_sort_key)
        index = {v: i for i, v in enumerate(order)}
        out = [None if v in dropped else index[v] for v in raw]
        names = (order[0] if order else "0", order[1] if len(order) > 1 else "1")
    if label_names:
        if len(label_names) != 2:
            raise ConfigError("option 'label_names' needs exactly two names (negative,positive)")
        names = (label_names[0], label_names[1])
    return out, names


def _finish(
    loader: str,
    path: Path,
    texts: list,
    raw_labels: list[str],
    origins: list[tuple[str, int | None]],
    splits: list[str] | None,
    options: dict[str, tuple[str, ...]],
    label_field: str,
    derivation: str,
) -> LoadedData:
    mapped, names = map_labels(raw_labels, origins, field=label_field, **options)  # type: ignore[arg-type]
    keep = [i for i, y in enumerate(mapped) if y is not None]
    n_dropped = len(mapped) - len(keep)
    return LoadedData(
        texts=[texts[i] for i in keep],
        labels=np.asarray([mapped[i] for i in keep], dtype=np.int64),
        label_names=names,
        source=f"user file {path}",
        licence="as given by the file's owner",
        derivation=derivation + f"; labels: {names[0]} -> 0, {names[1]} -> 1",
        files=(str(path),),
        main_file=str(path),
        notes=[f"{n_dropped} rows dropped by the drop option"] if n_dropped else [],
        corpus_splits=None if splits is None else [splits[i] for i in keep],
        origins=[origins[i] for i in keep],
    )


def _read_delimited(
    loader: str,
    data_dir: Path | None,
    path: str,
    delimiter: str,
    text_column: str,
    label_column: str,
    split_column: str,
    header: bool,
    text_pair_column: str,
    encoding: str,
    quoting: str,
    options: dict[str, tuple[str, ...]],
) -> LoadedData:
    if quoting not in ("minimal", "none"):
        raise ConfigError(f"loader {loader!r}, option 'quoting' must be 'minimal' or 'none', not {quoting!r}")
    file = resolve_input(path, data_dir)
    head, rows = iter_rows(file, delimiter=delimiter, quoting=quoting, header=header, encoding=encoding)
    ti = column_index(head, text_column, file)
    li = column_index(head, label_column, file)
    si = column_index(head, split_column, file) if split_column else None
    pi = column_index(head, text_pair_column, file) if text_pair_column else None
    texts: list = []
    raw: list[str] = []
    splits: list[str] | None = [] if si is not None else None
    origins: list[tuple[str, int | None]] = []
    for line, row in rows:
        text = check_text(cell(row, ti, file, line, text_column), file, line, text_column)
        if pi is not None:
            pair = check_text(cell(row, pi, file, line, text_pair_column), file, line, text_pair_column)
            texts.append((text, pair))
        else:
            texts.append(text)
        label = cell(row, li, file, line, label_column).strip()
        if not label:
            raise DataError("empty label", path=file, line=line, field=label_column)
        raw.append(label)
        if splits is not None and si is not None:
            s = cell(row, si, file, line, split_column).strip()
            if s not in SPLIT_VALUES:
                raise DataError(
                    f"split {s!r} is not one of {', '.join(SPLIT_VALUES)}",
                    path=file,
                    line=line,
                    field=split_column,
                )
            splits.append(s)
        origins.append((str(file), line))
    if not texts:
        raise DataError("no data rows", path=file)
    derivation = f"text = column {text_column!r}, label = column {label_column!r}"
    if text_pair_column:
        derivation += f", text pair = column {text_pair_column!r}"
    return _finish(loader, file, texts, raw, origins, splits, options, label_column, derivation)


def _label_options(
    positive: tuple[str, ...], negative: tuple[str, ...], drop: tuple[str, ...], label_names: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    def strings(values: tuple[str, ...] | str | int) -> tuple[str, ...]:
        # YAML may give a scalar or numbers (positive: [4, 5]); labels are compared as strings.
        if isinstance(values, (str, int, float)):
            values = (values,)  # type: ignore[assignment]
        return tuple(str(v) for v in values)  # type: ignore[union-attr]

    return {
        "positive": strings(positive),
        "negative": strings(negative),
        "drop": strings(drop),
        "label_names": strings(label_names),
    }


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
    encoding: str = "utf-8",
    quoting: str = "minimal",
    text_pair_column: str = "",
) -> LoadedData:
    """A delimited file; without a header row, columns are 0-based numbers (``text_column=0``)."""
    if not path:
        raise ConfigError("loader 'csv' needs option path=FILE")
    return _read_delimited(
        "csv",
        data_dir,
        path,
        delimiter,
        text_column,
        label_column,
        split_column,
        header,
        text_pair_column,
        encoding,
        quoting,
        _label_options(positive, negative, drop, label_names),
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
    encoding: str = "utf-8",
    quoting: str = "minimal",
    text_pair_column: str = "",
) -> LoadedData:
    """As ``csv`` with a tab delimiter (``quoting=none`` when quotes are ordinary characters)."""
    if not path:
        raise ConfigError("loader 'tsv' needs option path=FILE")
    return _read_delimited(
        "tsv",
        data_dir,
        path,
        "\t",
        text_column,
        label_column,
        split_column,
        header,
        text_pair_column,
        encoding,
        quoting,
        _label_options(positive, negative, drop, label_names),
    )


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
    encoding: str = "utf-8",
    text_pair_field: str = "",
) -> LoadedData:
    """One JSON object per line; label values are compared as strings (``1``, ``true``, ``"pos"``)."""
    if not path:
        raise ConfigError("loader 'jsonl' needs option path=FILE")
    file = resolve_input(path, data_dir)
    content = read_text(file, encoding)
    texts: list[str] = []
    raw: list[str] = []
    splits: list[str] | None = [] if split_field else None
    origins: list[tuple[str, int | None]] = []
    for line, src in enumerate(content.splitlines(), start=1):
        if not src.strip():
            continue
        try:
            obj = json.loads(src)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", path=file, line=line) from None
        if not isinstance(obj, dict):
            raise DataError("a line must hold a JSON object", path=file, line=line)
        wanted = (text_field, label_field, *(f for f in (split_field, text_pair_field) if f))
        for name in wanted:
            if name not in obj:
                raise DataError(
                    f"missing field; the object has: {', '.join(obj)}", path=file, line=line, field=name
                )
        text = obj[text_field]
        if not isinstance(text, str):
            raise DataError("text must be a string", path=file, line=line, field=text_field)
        text = check_text(text, file, line, text_field)
        if text_pair_field:
            pair = obj[text_pair_field]
            if not isinstance(pair, str):
                raise DataError("text pair must be a string", path=file, line=line, field=text_pair_field)
            texts.append((text, check_text(pair, file, line, text_pair_field)))
        else:
            texts.append(text)
        value = obj[label_field]
        label = json.dumps(value) if isinstance(value, bool) or value is None else str(value)
        if not label.strip() or value is None:
            raise DataError("empty label", path=file, line=line, field=label_field)
        raw.append(label)
        if splits is not None:
            s = str(obj[split_field])
            if s not in SPLIT_VALUES:
                raise DataError(
                    f"split {s!r} is not one of {', '.join(SPLIT_VALUES)}",
                    path=file,
                    line=line,
                    field=split_field,
                )
            splits.append(s)
        origins.append((str(file), line))
    if not texts:
        raise DataError("no data lines", path=file)
    derivation = f"text = field {text_field!r}, label = field {label_field!r}"
    if text_pair_field:
        derivation += f", text pair = field {text_pair_field!r}"
    return _finish(
        "jsonl",
        file,
        texts,
        raw,
        origins,
        splits,
        _label_options(positive, negative, drop, label_names),
        label_field,
        derivation,
    )
