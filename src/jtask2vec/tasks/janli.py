"""JaNLI (Japanese Adversarial NLI; Yanaka and Mineshima, 2021): entailment vs non-entailment pairs.

File ``janli/janli.tsv``: TSV with a header: (unnamed index), ``sentence_A_Ja``, ``sentence_B_Ja``,
``entailment_label_Ja`` (``entailment`` / ``non-entailment``), ``heuristics``, ``number_of_NPs``,
``semtag``, ``split`` (``train`` / ``test``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jtask2vec.errors import DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import cell, check_text, column_index, iter_rows

LABELS = {"entailment": 1, "non-entailment": 0}
SPLITS = {"train": "trainval", "test": "test"}


@register_loader(
    "janli",
    source="JaNLI (template-generated adversarial NLI pairs)",
    derives="sentence pair: entailment (1) vs non-entailment (0); every row kept",
    official="https://github.com/verypluming/JaNLI (janli.tsv)",
    has_corpus_split=True,
)
def load_janli(data_dir: Path | None, file: str = "janli/janli.tsv") -> LoadedData:
    """Premise = ``sentence_A_Ja``, hypothesis = ``sentence_B_Ja``, label = ``entailment_label_Ja``.

    Corpus split: the ``split`` column's test rows are the test set; its train rows are train, from which
    ``load_task`` draws a stratified dev set (``split.dev_fraction`` of them).
    """
    assert data_dir is not None
    path = data_dir / file
    if not path.is_file():
        raise missing_data_error(LOADERS["janli"], path, Path(file).name)
    header, rows = iter_rows(path, delimiter="\t", quoting="none", header=True)
    ai = column_index(header, "sentence_A_Ja", path)
    bi = column_index(header, "sentence_B_Ja", path)
    li = column_index(header, "entailment_label_Ja", path)
    si = column_index(header, "split", path)
    texts: list[str] = []
    pairs: list[str] = []
    labels: list[int] = []
    splits: list[str] = []
    origins: list[tuple[str, int | None]] = []
    for line, row in rows:
        raw = cell(row, li, path, line, "entailment_label_Ja").strip()
        if raw not in LABELS:
            raise DataError(
                f"label {raw!r} is not one of {', '.join(LABELS)}",
                path=path,
                line=line,
                field="entailment_label_Ja",
            )
        split = cell(row, si, path, line, "split").strip()
        if split not in SPLITS:
            raise DataError(
                f"split {split!r} is not one of {', '.join(SPLITS)}", path=path, line=line, field="split"
            )
        texts.append(check_text(cell(row, ai, path, line, "sentence_A_Ja"), path, line, "sentence_A_Ja"))
        pairs.append(check_text(cell(row, bi, path, line, "sentence_B_Ja"), path, line, "sentence_B_Ja"))
        labels.append(LABELS[raw])
        splits.append(SPLITS[split])
        origins.append((str(path), line))
    by_split: dict[str, set[tuple[str, str]]] = {"trainval": set(), "test": set()}
    for a, b, s in zip(texts, pairs, splits, strict=True):
        by_split[s].add((a, b))
    shared = len(by_split["trainval"] & by_split["test"])
    return LoadedData(
        texts=texts,
        text_pairs=pairs,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("non-entailment", "entailment"),
        source="JaNLI, https://github.com/verypluming/JaNLI",
        licence="CC BY-SA 4.0 (attribution: JaNLI, Hitomi Yanaka and Koji Mineshima)",
        derivation="premise = sentence_A_Ja, hypothesis = sentence_B_Ja (a sentence pair); label "
        "entailment -> 1, non-entailment -> 0; no row dropped",
        files=(file,),
        main_file=str(path),
        notes=[
            "pairs generated from templates (scrambling, subject-object swaps...): small vocabulary, "
            "word order is the signal; balanced by construction",
            f"{shared} distinct (premise, hypothesis) pairs occur in both the corpus train and test sets "
            "(with the corpus split, each is kept only in test: the cross-split rule of every loader)",
        ],
        corpus_splits=splits,
        origins=origins,
    )
