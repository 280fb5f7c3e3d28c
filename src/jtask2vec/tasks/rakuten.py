"""Rakuten Travel (楽天トラベル) reviews, as distributed by the Rakuten Institute of Technology via NII IDR.

No real files ship with this project: the expected layout is documented in ``docs/tasks.md``. Files are
TSV (``*.tsv``, tab) or CSV (``*.csv``, comma) with a header row naming a review-text column and an
overall-rating column (1-5). Column names are options; by default the first header name found among the
aliases below is used. The rating is turned into a label by a configurable rule (default: >= 4 positive,
<= 2 negative, 3 dropped). A rating of 0 or an empty rating means "not rated" and the row is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import cell, check_text, column_index, iter_rows

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
) -> LoadedData:
    """Reviews from the files matching the ``files`` glob patterns under ``data_dir/folder`` (sorted).

    ``files`` selects a release, e.g. ``files=2019/*.tsv`` for ``rakuten.1`` and ``files=2020/*.tsv`` for
    ``rakuten.2``. ``years`` keeps rows whose date column starts with one of the years (e.g. ``2015,2016``).
    Label 1 if rating >= ``positive_min``, 0 if rating <= ``negative_max``, otherwise dropped. Without a
    header row, the column options are 0-based numbers.
    """
    if positive_min <= negative_max:
        raise ConfigError(
            f"loader 'rakuten-travel': positive_min ({positive_min}) must be > negative_max ({negative_max})"
        )
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
    texts: list[str] = []
    labels: list[int] = []
    origins: list[tuple[str, int | None]] = []
    dropped_mid = dropped_unrated = dropped_year = 0
    used_columns: tuple[str, str] | None = None
    for path in paths:
        delimiter = "," if path.suffix.lower() == ".csv" else "\t"
        head, rows = iter_rows(path, delimiter=delimiter, header=header, encoding=encoding)
        ti = _pick(head, text_column, TEXT_ALIASES, path, "text")
        ri = _pick(head, rating_column, RATING_ALIASES, path, "rating")
        text_name = head[ti] if head else str(ti)
        rating_name = head[ri] if head else str(ri)
        used_columns = (text_name, rating_name)
        di = None
        if years:
            di = _pick(head, date_column, DATE_ALIASES, path, "date")
        for line, row in rows:
            if di is not None:
                date = cell(row, di, path, line, head[di] if head else str(di)).strip()
                m = _YEAR.search(date)
                if m is None:
                    raise DataError(
                        f"no year in date {date!r}", path=path, line=line, field=head[di] if head else str(di)
                    )
                if m.group(0) not in years:
                    dropped_year += 1
                    continue
            raw = cell(row, ri, path, line, rating_name).strip()
            try:
                rating = float(raw) if raw else 0.0
            except ValueError:
                raise DataError(
                    f"rating {raw!r} is not a number", path=path, line=line, field=rating_name
                ) from None
            if rating == 0:
                dropped_unrated += 1
                continue
            if not 1 <= rating <= 5:
                raise DataError(f"rating {raw} is outside 1-5", path=path, line=line, field=rating_name)
            text = check_text(cell(row, ti, path, line, text_name), path, line, text_name)
            if rating >= positive_min:
                label = 1
            elif rating <= negative_max:
                label = 0
            else:
                dropped_mid += 1
                continue
            texts.append(text.replace("\r", ""))
            labels.append(label)
            origins.append((str(path), line))
    rel = [str(p.relative_to(data_dir)) if p.is_relative_to(data_dir) else str(p) for p in paths]
    notes = [
        f"{dropped_mid} reviews with a rating between {negative_max:g} and {positive_min:g} dropped",
        f"{dropped_unrated} unrated reviews (rating 0 or empty) dropped",
    ]
    if years:
        notes.append(f"years {', '.join(years)} kept; {dropped_year} reviews of other years dropped")
    text_name, rating_name = used_columns or ("?", "?")
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("negative", "positive"),
        source="Rakuten Travel review data (楽天トラベル), Rakuten Data Release via NII IDR",
        licence="Rakuten Data Release terms (research use after application; no redistribution)",
        derivation=f"text = column {text_name!r}; rating = column {rating_name!r}; "
        f"rating >= {positive_min:g} -> positive (1), <= {negative_max:g} -> negative (0), else dropped",
        files=tuple(rel),
        main_file=str(root),
        notes=notes,
        origins=origins,
    )
