"""JCoLA (Japanese Corpus of Linguistic Acceptability; Someya, Sugimoto and Oseki): acceptable vs not.

Files (``jcola/``, as published in ``data/jcola-v1.0/`` of the corpus repository): TSV with a header
``uid, source, label, diacritic, sentence, original``; ``label`` 1 = acceptable, 0 = unacceptable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import cell, check_text, column_index, iter_rows

JCOLA_OFFICIAL = "https://github.com/osekilab/JCoLA (data/jcola-v1.0/)"
TRAIN_FILE = "in_domain_train-v1.0.tsv"
IN_DOMAIN_VALID = "in_domain_valid-v1.0.tsv"
OUT_OF_DOMAIN_VALID = "out_of_domain_valid-v1.0.tsv"
TEST_SETS = ("in_domain", "out_of_domain")


def _read(path: Path) -> tuple[list[str], list[int], list[tuple[str, int | None]]]:
    if not path.is_file():
        raise missing_data_error(LOADERS["jcola"], path, path.name)
    header, rows = iter_rows(path, delimiter="\t", quoting="none", header=True)
    si = column_index(header, "sentence", path)
    li = column_index(header, "label", path)
    texts: list[str] = []
    labels: list[int] = []
    origins: list[tuple[str, int | None]] = []
    for line, row in rows:
        raw = cell(row, li, path, line, "label").strip()
        if raw not in ("0", "1"):
            raise DataError(f"label {raw!r} is not 0 or 1", path=path, line=line, field="label")
        texts.append(check_text(cell(row, si, path, line, "sentence"), path, line, "sentence"))
        labels.append(int(raw))
        origins.append((str(path), line))
    return texts, labels, origins


@register_loader(
    "jcola",
    source="JCoLA v1.0 (sentences from Japanese linguistics textbooks and papers)",
    derives="acceptability: acceptable (1) vs unacceptable (0); every row kept",
    official=JCOLA_OFFICIAL,
    has_corpus_split=True,
)
def load_jcola(data_dir: Path | None, folder: str = "jcola", test_set: str = "in_domain") -> LoadedData:
    """Text = ``sentence``, label = ``label`` (1 acceptable, 0 unacceptable); no row dropped.

    The corpus has no public test labels, so a valid file serves as the test set. Corpus split
    (``split.use_corpus_split``):

    - ``test_set="in_domain"`` (default): train = the in-domain train file, from which ``load_task`` draws a
      stratified dev set (``split.dev_fraction`` of train+dev); test = the in-domain valid file. The
      out-of-domain file is not read.
    - ``test_set="out_of_domain"``: train = the in-domain train file, dev = the in-domain valid file,
      test = the out-of-domain valid file (sentences from other sources: a harder, shifted test).

    Without the corpus split, the files read are pooled and split afresh.
    """
    if test_set not in TEST_SETS:
        raise ConfigError(
            f"loader 'jcola', option 'test_set' must be one of {', '.join(TEST_SETS)}, not {test_set!r}"
        )
    assert data_dir is not None
    root = data_dir / folder
    files = [TRAIN_FILE, IN_DOMAIN_VALID] + ([OUT_OF_DOMAIN_VALID] if test_set == "out_of_domain" else [])
    usage = {
        TRAIN_FILE: "trainval" if test_set == "in_domain" else "train",
        IN_DOMAIN_VALID: "test" if test_set == "in_domain" else "dev",
        OUT_OF_DOMAIN_VALID: "test",
    }
    texts: list[str] = []
    labels: list[int] = []
    origins: list[tuple[str, int | None]] = []
    splits: list[str] = []
    for name in files:
        t, y, o = _read(root / name)
        texts += t
        labels += y
        origins += o
        splits += [usage[name]] * len(t)
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("unacceptable", "acceptable"),
        source="JCoLA v1.0, https://github.com/osekilab/JCoLA",
        licence="CC BY-SA 4.0 (attribution: JCoLA, Someya, Sugimoto and Oseki)",
        derivation="text = column 'sentence' verbatim; label = column 'label' (1 acceptable -> 1, "
        "0 unacceptable -> 0); no row dropped",
        files=tuple(f"{folder}/{name}" for name in files),
        main_file=str(root / TRAIN_FILE),
        notes=[
            f"corpus split (test_set={test_set}): "
            + (
                "train = in-domain train (a dev set is drawn from it), test = in-domain valid"
                if test_set == "in_domain"
                else "train = in-domain train, dev = in-domain valid, test = out-of-domain valid"
            )
            + "; the corpus has no public test labels"
        ],
        corpus_splits=splits,
        origins=origins,
    )
