"""jrte (Japanese Realistic Textual Entailment corpus): `pn.tsv` sentiment and `rhr.tsv` reputation.

Both files: UTF-8, tab-separated, no header, 5 columns ``id, label, text, judges (JSON), usage``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import cell, check_text, iter_rows

JRTE_SOURCE = (
    "Japanese Realistic Textual Entailment Corpus (jrte), https://github.com/megagonlabs/jrte-corpus"
)
JRTE_LICENCE = "CC BY-NC-SA 4.0 (non-commercial research use; see the corpus README)"
JRTE_OFFICIAL = "https://github.com/megagonlabs/jrte-corpus (data/pn.tsv, data/rhr.tsv)"
COLUMNS = ("id", "label", "text", "judges", "usage")
USAGES = ("train", "dev", "test")


def open_jrte(loader: str, data_dir: Path | None, file: str, corpus_dev: str) -> tuple[Path, Iterator]:
    """Check ``corpus_dev`` and open a jrte TSV (no quote processing, no header): ``(path, rows)``, the rows
    as ``(line, fields)``."""
    if corpus_dev not in ("dev", "trainval"):
        raise ConfigError(
            f"loader {loader!r}, option 'corpus_dev' must be 'dev' or 'trainval', not {corpus_dev!r}"
        )
    assert data_dir is not None
    path = data_dir / file
    if not path.is_file():
        raise missing_data_error(LOADERS[loader], path, Path(file).name)
    _, rows = iter_rows(path, delimiter="\t", quoting="none", header=False)
    return path, rows


def jrte_usage(row: list[str], column: int, path: Path, line: int, corpus_dev: str) -> str:
    """The row's split from its ``usage`` column; train and dev become ``trainval`` with
    ``corpus_dev="trainval"`` (``load_task`` then draws a fresh stratified dev set)."""
    usage = cell(row, column, path, line, "usage").strip()
    if usage not in USAGES:
        raise DataError(
            f"usage {usage!r} is not one of {', '.join(USAGES)}", path=path, line=line, field="usage"
        )
    return "trainval" if corpus_dev == "trainval" and usage in ("train", "dev") else usage


def _read_jrte(
    loader: str,
    data_dir: Path | None,
    file: str,
    label_map: dict[str, int | None],
    unanimous: bool,
    corpus_dev: str,
) -> tuple[list[str], list[int], list[str], list[tuple[str, int | None]], Path, int]:
    path, rows = open_jrte(loader, data_dir, file, corpus_dev)
    texts: list[str] = []
    labels: list[int] = []
    usages: list[str] = []
    origins: list[tuple[str, int | None]] = []
    dropped_disagree = 0
    for line, row in rows:
        raw_label = cell(row, 1, path, line, "label").strip()
        if raw_label not in label_map:
            raise DataError(
                f"label {raw_label!r} is not one of {', '.join(label_map)}",
                path=path,
                line=line,
                field="label",
            )
        text = check_text(cell(row, 2, path, line, "text"), path, line, "text")
        usage = jrte_usage(row, 4, path, line, corpus_dev)
        mapped = label_map[raw_label]
        if mapped is None:
            continue
        if unanimous:
            try:
                judges = {k: int(v) for k, v in json.loads(cell(row, 3, path, line, "judges")).items()}
            except (ValueError, AttributeError):
                raise DataError(
                    "judges is not a JSON object of counts", path=path, line=line, field="judges"
                ) from None
            if sum(1 for v in judges.values() if v > 0) != 1:
                dropped_disagree += 1
                continue
        texts.append(text)
        labels.append(mapped)
        usages.append(usage)
        origins.append((str(path), line))
    return texts, labels, usages, origins, path, dropped_disagree


_OVERLAP_NOTE = (
    "pn.tsv and rhr.tsv hold the same 5,553 sentences; their corpus test sets coincide, their train/dev "
    "assignments differ (883 rhr-dev are pn-train, 873 rhr-train are pn-dev). With the corpus split for both "
    "tasks, train+dev for training (option corpus_dev=trainval) keeps both leak-free"
)


@register_loader(
    "jrte-pn",
    source="jrte pn.tsv (Jalan hotel review sentences)",
    derives="sentiment: positive (1) vs negative (-1); neutral (0) dropped",
    official=JRTE_OFFICIAL,
    download="jrte",
    has_corpus_split=True,
)
def load_jrte_pn(
    data_dir: Path | None,
    file: str = "jrte/pn.tsv",
    unanimous: bool = False,
    corpus_dev: str = "dev",
) -> LoadedData:
    """pn.tsv: label 1 -> positive, -1 -> negative, 0 (neutral) dropped. Text = column 2 (already NFKC).

    ``unanimous``: keep only rows where all judges agree (3,437 rows instead of 4,224).
    ``corpus_dev``: with the corpus split, ``"dev"`` keeps the corpus dev set; ``"trainval"`` merges train and
    dev and lets ``load_task`` draw a fresh stratified dev set from them (test stays the corpus test).
    """
    texts, labels, usages, origins, path, dropped = _read_jrte(
        "jrte-pn", data_dir, file, {"1": 1, "-1": 0, "0": None}, unanimous, corpus_dev
    )
    notes = [
        "the study reports 3,293 jrte examples; no rule on this release reproduces it (see the corpus "
        "SOURCE.md); all 4,224 non-neutral rows are used",
        _OVERLAP_NOTE,
    ]
    if unanimous:
        notes.append(f"unanimous=True: {dropped} rows where the judges disagree were dropped")
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("negative", "positive"),
        source=JRTE_SOURCE + " data/pn.tsv",
        licence=JRTE_LICENCE,
        derivation="pn.tsv rows with label 1 (positive -> 1) or -1 (negative -> 0); "
        "label 0 (neutral) dropped; "
        "text = column 3 verbatim",
        files=(file,),
        main_file=str(path),
        notes=notes,
        corpus_splits=usages,
        origins=origins,
    )


@register_loader(
    "jrte-rhr",
    source="jrte rhr.tsv (same sentences as pn.tsv)",
    derives="hotel reputation: says something about the hotel (1) vs not (0)",
    official=JRTE_OFFICIAL,
    download="jrte",
    has_corpus_split=True,
)
def load_jrte_rhr(
    data_dir: Path | None,
    file: str = "jrte/rhr.tsv",
    unanimous: bool = False,
    corpus_dev: str = "dev",
) -> LoadedData:
    """rhr.tsv: label 1 (hotel reputation) -> 1, 0 (not reputation) -> 0; every row kept.

    Options as for ``jrte-pn``.
    """
    texts, labels, usages, origins, path, dropped = _read_jrte(
        "jrte-rhr", data_dir, file, {"1": 1, "0": 0}, unanimous, corpus_dev
    )
    notes = [_OVERLAP_NOTE, "the label column is authoritative (393 rows differ from the judges' majority)"]
    if unanimous:
        notes.append(f"unanimous=True: {dropped} rows where the judges disagree were dropped")
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("not-reputation", "reputation"),
        source=JRTE_SOURCE + " data/rhr.tsv",
        licence=JRTE_LICENCE,
        derivation="rhr.tsv, every row: label 1 (hotel reputation) -> 1, 0 -> 0; text = column 3 verbatim",
        files=(file,),
        main_file=str(path),
        notes=notes,
        corpus_splits=usages,
        origins=origins,
    )
