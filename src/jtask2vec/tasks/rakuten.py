"""Rakuten Travel (楽天トラベル) reviews, as distributed by the Rakuten Institute of Technology via NII IDR.

No real files ship with this project: the expected layout is documented in ``docs/tasks.md``. Files are
TSV (``*.tsv``, tab; quotes are ordinary characters) or CSV (``*.csv``, comma; strict double quotes),
streamed, with a header row naming a review-text column and an
overall-rating column (1-5). Column names are options; by default the first header name found among the
aliases below is used. The rating is turned into a label by a configurable rule (default: >= 4 positive,
<= 2 negative, 3 dropped). A rating of 0 or an empty rating means "not rated" and the row is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import QUOTING, BadRows, cell, check_text, column_index, iter_rows
from jtask2vec.tasks.splits import StreamingSample

TEXT_ALIASES = ("コメント", "レビュー本文", "投稿本文", "本文", "comment", "review", "text")
RATING_ALIASES = ("総合", "総合評価", "評価", "overall", "rating")
DATE_ALIASES = ("投稿日時", "投稿日", "date", "posted_at")
_YEAR = re.compile(r"(19|20)\d\d")


def _pick(header: list[str] | None, explicit: str, aliases: tuple[str, ...], path: Path, what: str) -> int:
    if explicit or header is None:
        return column_index(header, explicit or aliases[0], path)
    for name in aliases:
        if name in header:
            return header.index(name)
    raise DataError(
        f"missing {what} column: none of {', '.join(aliases)} in the header ({', '.join(header)})",
        path=path,
        line=1,
        field=aliases[0],
        hint=f"name the column with the {what}_column option",
    )


def _read_file(
    path: Path,
    options: dict[str, Any],
    counts: dict[str, int],
    skipped: BadRows,
) -> Iterator[tuple[str, int, int]]:
    """``(text, label, line)`` of the labelled reviews of one file, streamed; ``counts`` of drops updated."""
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    quoting = options["quoting"]
    if quoting == "auto":
        quoting = "minimal" if delimiter == "," else "none"
    head, rows = iter_rows(
        path,
        delimiter=delimiter,
        quoting=quoting,
        header=options["header"],
        encoding=options["encoding"],
        multiline=options["multiline"],
        bad_rows=options["bad_rows"],
        skipped=skipped,
    )
    ti = _pick(head, options["text_column"], TEXT_ALIASES, path, "text")
    ri = _pick(head, options["rating_column"], RATING_ALIASES, path, "rating")
    text_name = head[ti] if head else str(ti)
    rating_name = head[ri] if head else str(ri)
    counts["columns"] = (text_name, rating_name)  # type: ignore[assignment]
    years = options["years"]
    di = _pick(head, options["date_column"], DATE_ALIASES, path, "date") if years else None
    for line, row in rows:
        if di is not None:
            date_name = head[di] if head else str(di)
            date = cell(row, di, path, line, date_name).strip()
            m = _YEAR.search(date)
            if m is None:
                raise DataError(f"no year in date {date!r}", path=path, line=line, field=date_name)
            if m.group(0) not in years:
                counts["year"] += 1
                continue
        raw = cell(row, ri, path, line, rating_name).strip()
        try:
            rating = float(raw) if raw else 0.0
        except ValueError:
            raise DataError(
                f"rating {raw!r} is not a number", path=path, line=line, field=rating_name
            ) from None
        if rating == 0:
            counts["unrated"] += 1
            continue
        if not 1 <= rating <= 5:
            raise DataError(f"rating {raw} is outside 1-5", path=path, line=line, field=rating_name)
        text = check_text(cell(row, ti, path, line, text_name), path, line, text_name)
        if rating >= options["positive_min"]:
            label = 1
        elif rating <= options["negative_max"]:
            label = 0
        else:
            counts["mid"] += 1
            continue
        yield text.replace("\r", ""), label, line


@register_loader(
    "rakuten-travel",
    source="Rakuten Travel review data (楽天トラベル, Rakuten Institute of Technology / NII IDR)",
    derives="review sentiment from the overall rating: >= 4 positive, <= 2 negative, 3 dropped",
    official="https://rit.rakuten.com/data_release/ (Rakuten Data Release, via NII IDR; application needed)",
)
def load_rakuten_travel(
    data_dir: Path | None,
    folder: str = "rakuten-travel",
    files: tuple[str, ...] = ("**/*.tsv", "**/*.csv"),
    years: tuple[str, ...] = (),
    text_column: str = "",
    rating_column: str = "",
    date_column: str = "",
    positive_min: float = 4.0,
    negative_max: float = 2.0,
    header: bool = True,
    encoding: str = "utf-8",
    quoting: str = "auto",
    multiline: bool = False,
    bad_rows: str = "error",
    sample: int = 0,
    sample_seed: int = 0,
) -> LoadedData:
    """Reviews from the files matching the ``files`` glob patterns under ``data_dir/folder`` (sorted).

    ``files`` selects a release, e.g. ``files=2019/*.tsv`` for ``rakuten.1`` and ``files=2020/*.tsv`` for
    ``rakuten.2``. ``years`` keeps rows whose date column starts with one of the years (e.g. ``2015,2016``).
    Label 1 if rating >= ``positive_min``, 0 if rating <= ``negative_max``, otherwise dropped. Without a
    header row, the column options are 0-based numbers. Files are streamed: ``quoting=auto`` reads TSV
    without quote processing and CSV with strict double quotes; ``bad_rows=skip`` skips (and counts) rows
    with the wrong number of fields. ``sample=N`` keeps a seeded stratified sample of N reviews drawn in
    the same single pass (:class:`~jtask2vec.tasks.splits.StreamingSample`, seed ``sample_seed``), so
    memory stays bounded whatever the file size; ``load_task`` sets it from ``max_examples``.
    """
    if positive_min <= negative_max:
        raise ConfigError(
            f"loader 'rakuten-travel': positive_min ({positive_min}) must be > negative_max ({negative_max})"
        )
    if quoting not in ("auto", *QUOTING):
        raise ConfigError(f"loader 'rakuten-travel': quoting must be auto, minimal or none, not {quoting!r}")
    if sample < 0:
        raise ConfigError(f"loader 'rakuten-travel': sample must be >= 0, not {sample}")
    assert data_dir is not None
    years = tuple(str(y) for y in ((years,) if isinstance(years, (str, int)) else years))
    files = (files,) if isinstance(files, str) else tuple(files)
    root = data_dir / folder
    paths = (
        sorted({p for pattern in files for p in root.glob(pattern) if p.is_file()}) if root.is_dir() else []
    )
    if not paths:
        raise missing_data_error(
            LOADERS["rakuten-travel"], root, f"Rakuten Travel review files ({', '.join(files)})"
        )
    if not header and not (text_column and rating_column):
        raise ConfigError(
            "loader 'rakuten-travel': without a header, give text_column and rating_column numbers"
        )
    options = {
        "quoting": quoting,
        "header": header,
        "encoding": encoding,
        "multiline": multiline,
        "bad_rows": bad_rows,
        "text_column": text_column,
        "rating_column": rating_column,
        "date_column": date_column,
        "years": years,
        "positive_min": positive_min,
        "negative_max": negative_max,
    }
    counts: dict[str, Any] = {"mid": 0, "unrated": 0, "year": 0, "columns": ("?", "?")}
    skipped = BadRows()
    reviews = (
        (text, label, (str(path), line))
        for path in paths
        for text, label, line in _read_file(path, options, counts, skipped)
    )
    if sample:
        sampler = StreamingSample(sample, sample_seed)
        for text, label, origin in reviews:
            sampler.offer(label, (text, origin))
        kept = [(text, label, origin) for label, (text, origin) in sampler.result()]  # type: ignore[misc]
        total = sampler.seen
    else:
        kept = list(reviews)
        total = len(kept)
    rel = [str(p.relative_to(data_dir)) if p.is_relative_to(data_dir) else str(p) for p in paths]
    notes = [
        f"{counts['mid']} reviews with a rating between {negative_max:g} and {positive_min:g} dropped",
        f"{counts['unrated']} unrated reviews (rating 0 or empty) dropped",
    ]
    if years:
        notes.append(f"years {', '.join(years)} kept; {counts['year']} reviews of other years dropped")
    if skipped.note():
        notes.append(skipped.note())  # type: ignore[arg-type]
    if sample and total > sample:
        notes.append(
            f"stratified sample of {len(kept)} of {total} labelled reviews drawn while streaming "
            f"(seed {sample_seed})"
        )
    text_name, rating_name = counts["columns"]
    return LoadedData(
        texts=[t for t, _, _ in kept],
        labels=np.asarray([y for _, y, _ in kept], dtype=np.int64),
        label_names=("negative", "positive"),
        source="Rakuten Travel review data (楽天トラベル), Rakuten Data Release via NII IDR",
        licence="Rakuten Data Release terms (research use after application; no redistribution)",
        derivation=f"text = column {text_name!r}; rating = column {rating_name!r}; "
        f"rating >= {positive_min:g} -> positive (1), <= {negative_max:g} -> negative (0), else dropped",
        files=tuple(rel),
        main_file=str(root),
        notes=notes,
        origins=[o for _, _, o in kept],
    )
