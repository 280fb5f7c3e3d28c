"""jrte RTE part (``rte.nlp2020_base.tsv``): textual entailment on hotel-review sentences.

TSV, no header, 7 columns: ``id, label, premise, hypothesis, judges (JSON), reasoning (JSON or null),
usage`` (``train`` / ``dev`` / ``test``). Label 1 = entailment, 0 = not. Same domain as ``pn.tsv`` and
``rhr.tsv``, another task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jtask2vec.errors import DataError
from jtask2vec.tasks.jrte import JRTE_LICENCE, JRTE_SOURCE, jrte_usage, open_jrte
from jtask2vec.tasks.loading import LoadedData, register_loader
from jtask2vec.tasks.readers import cell, check_text


@register_loader(
    "jrte-rte",
    source="jrte rte.nlp2020_base.tsv (hotel-review premise/hypothesis pairs)",
    derives="sentence pair: entailment (1) vs not (0); every row kept",
    official="https://github.com/megagonlabs/jrte-corpus (data/rte.nlp2020_base.tsv)",
    has_corpus_split=True,
)
def load_jrte_rte(
    data_dir: Path | None, file: str = "jrte/rte.nlp2020_base.tsv", corpus_dev: str = "dev"
) -> LoadedData:
    """Premise = column 3, hypothesis = column 4, label = column 2 (1 entailment, 0 not); no row dropped.

    Corpus split = the ``usage`` column. ``corpus_dev`` as for ``jrte-pn``: ``"dev"`` keeps the corpus dev
    set, ``"trainval"`` merges train and dev and lets ``load_task`` draw a fresh stratified dev set.
    """
    path, rows = open_jrte("jrte-rte", data_dir, file, corpus_dev)
    texts: list[str] = []
    pairs: list[str] = []
    labels: list[int] = []
    usages: list[str] = []
    origins: list[tuple[str, int | None]] = []
    for line, row in rows:
        raw = cell(row, 1, path, line, "label").strip()
        if raw not in ("0", "1"):
            raise DataError(f"label {raw!r} is not 0 or 1", path=path, line=line, field="label")
        usage = jrte_usage(row, 6, path, line, corpus_dev)
        texts.append(check_text(cell(row, 2, path, line, "premise"), path, line, "premise"))
        pairs.append(check_text(cell(row, 3, path, line, "hypothesis"), path, line, "hypothesis"))
        labels.append(int(raw))
        usages.append(usage)
        origins.append((str(path), line))
    return LoadedData(
        texts=texts,
        text_pairs=pairs,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("not-entailment", "entailment"),
        source=JRTE_SOURCE + " data/rte.nlp2020_base.tsv",
        licence=JRTE_LICENCE,
        derivation="rte.nlp2020_base.tsv, every row: premise = column 3, hypothesis = column 4 (a sentence "
        "pair); label 1 (entailment) -> 1, 0 -> 0",
        files=(file,),
        main_file=str(path),
        notes=["premises are hotel-review sentences: the domain of jrte-pn / jrte-rhr, another task"],
        corpus_splits=usages,
        origins=origins,
    )
