"""Japanese toxicity dataset, public subset (Inspection Inc.): toxic vs not toxic, by the annotators' votes.

File ``toxic/subset.csv``: CSV with a header ``id, text``, vote counts per level (``Not Toxic``,
``Hard to Say``, ``Toxic``, ``Very Toxic``), seven ``category_*`` flags and ``annotation_num``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jtask2vec.errors import DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import cell, check_text, column_index, iter_rows

VOTE_COLUMNS = ("Not Toxic", "Hard to Say", "Toxic", "Very Toxic")


@register_loader(
    "toxic",
    source="Japanese toxicity dataset, public subset (Inspection Inc.)",
    derives="toxic (Toxic + Very Toxic votes > Not Toxic votes) vs not toxic (fewer); ties dropped",
    official="https://github.com/inspection-ai/japanese-toxic-dataset (data/subset.csv)",
)
def load_toxic(data_dir: Path | None, file: str = "toxic/subset.csv") -> LoadedData:
    """votes_toxic = ``Toxic`` + ``Very Toxic``: toxic (1) if votes_toxic > ``Not Toxic``, not toxic (0)
    if ``Not Toxic`` > votes_toxic, ties dropped; ``Hard to Say`` votes are ignored. Text = ``text``."""
    assert data_dir is not None
    path = data_dir / file
    if not path.is_file():
        raise missing_data_error(LOADERS["toxic"], path, Path(file).name)
    header, rows = iter_rows(path, delimiter=",", header=True)
    ti = column_index(header, "text", path)
    vi = {name: column_index(header, name, path) for name in VOTE_COLUMNS}
    texts: list[str] = []
    labels: list[int] = []
    origins: list[tuple[str, int | None]] = []
    ties = 0
    for line, row in rows:
        votes: dict[str, int] = {}
        for name, idx in vi.items():
            raw = cell(row, idx, path, line, name).strip()
            if not raw.isdigit():
                raise DataError(
                    f"vote count {raw!r} is not a non-negative integer", path=path, line=line, field=name
                )
            votes[name] = int(raw)
        toxic = votes["Toxic"] + votes["Very Toxic"]
        text = check_text(cell(row, ti, path, line, "text"), path, line, "text")
        if toxic == votes["Not Toxic"]:
            ties += 1
            continue
        texts.append(text)
        labels.append(int(toxic > votes["Not Toxic"]))
        origins.append((str(path), line))
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("not-toxic", "toxic"),
        source="Japanese toxicity dataset (public subset), https://github.com/inspection-ai/japanese-toxic-dataset",
        licence="Apache License 2.0",
        derivation="votes_toxic = Toxic + Very Toxic; toxic (1) if votes_toxic > Not Toxic, not-toxic (0) if "
        "Not Toxic > votes_toxic; Hard to Say ignored; text = column 'text' verbatim",
        files=(file,),
        main_file=str(path),
        notes=[
            f"{ties} texts with a tie (votes_toxic = Not Toxic) dropped",
            "tiny and imbalanced (about 12% toxic): read macro-F1 / balanced accuracy, not accuracy alone",
        ],
        origins=origins,
    )
