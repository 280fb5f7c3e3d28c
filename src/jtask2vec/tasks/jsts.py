"""JSTS (JGLUE semantic textual similarity; Kurihara et al., 2022): similar vs dissimilar caption pairs.

Files ``jglue/jsts-v1.3/{train,valid}-v1.3.json``: JSON lines with ``sentence_pair_id``, ``yjcaptions_id``,
``sentence1``, ``sentence2`` and ``label`` (similarity 0.0-5.0, the annotators' mean).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import check_text, read_text

FILES = (("train-v1.3.json", "trainval"), ("valid-v1.3.json", "test"))


@register_loader(
    "jsts",
    source="JGLUE JSTS v1.3 (YJ Captions sentence pairs)",
    derives="sentence pair: similar (label >= 3.0) vs dissimilar (<= 2.0); pairs in between dropped",
    official="https://github.com/yahoojapan/JGLUE (datasets/jsts-v1.3/)",
    has_corpus_split=True,
)
def load_jsts(
    data_dir: Path | None,
    folder: str = "jglue/jsts-v1.3",
    similar_min: float = 3.0,
    dissimilar_max: float = 2.0,
) -> LoadedData:
    """Texts = ``sentence1``, ``sentence2``; ``label >= similar_min`` -> similar (1), ``label <=
    dissimilar_max`` -> dissimilar (0), strictly in between dropped.

    Corpus split: the valid file is the test set (JGLUE's test set is not public); the train file is
    train, from which ``load_task`` draws a stratified dev set.
    """
    if not dissimilar_max < similar_min:
        raise ConfigError(
            f"loader 'jsts': dissimilar_max ({dissimilar_max}) must be below similar_min ({similar_min})"
        )
    assert data_dir is not None
    root = data_dir / folder
    texts: list[str] = []
    pairs: list[str] = []
    labels: list[int] = []
    splits: list[str] = []
    origins: list[tuple[str, int | None]] = []
    dropped = 0
    for name, usage in FILES:
        path = root / name
        if not path.is_file():
            raise missing_data_error(LOADERS["jsts"], path, name)
        for line, src in enumerate(read_text(path).splitlines(), start=1):
            if not src.strip():
                continue
            try:
                obj = json.loads(src)
            except json.JSONDecodeError as exc:
                raise DataError(f"not valid JSON: {exc.msg}", path=path, line=line) from None
            if not isinstance(obj, dict):
                raise DataError("a line must hold a JSON object", path=path, line=line)
            for key in ("sentence1", "sentence2", "label"):
                if key not in obj:
                    raise DataError(
                        f"missing field; the object has: {', '.join(obj)}", path=path, line=line, field=key
                    )
            score = obj["label"]
            if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
                raise DataError(f"label {score!r} is not a number", path=path, line=line, field="label")
            if not 0.0 <= score <= 5.0:
                raise DataError(f"label {score} is outside 0-5", path=path, line=line, field="label")
            if dissimilar_max < score < similar_min:
                dropped += 1
                continue
            for key in ("sentence1", "sentence2"):
                if not isinstance(obj[key], str):
                    raise DataError("text must be a string", path=path, line=line, field=key)
            texts.append(check_text(obj["sentence1"], path, line, "sentence1"))
            pairs.append(check_text(obj["sentence2"], path, line, "sentence2"))
            labels.append(int(score >= similar_min))
            splits.append(usage)
            origins.append((str(path), line))
    return LoadedData(
        texts=texts,
        text_pairs=pairs,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("dissimilar", "similar"),
        source="JGLUE JSTS v1.3, https://github.com/yahoojapan/JGLUE",
        licence="CC BY-SA 4.0 (attribution: JGLUE, Yahoo Japan Corporation / Waseda University)",
        derivation=f"sentence pair (sentence1, sentence2); similarity label >= {similar_min:g} -> "
        f"similar (1), <= {dissimilar_max:g} -> dissimilar (0), in between dropped",
        files=tuple(f"{folder}/{name}" for name, _ in FILES),
        main_file=str(root / FILES[0][0]),
        notes=[f"{dropped} pairs with {dissimilar_max:g} < label < {similar_min:g} dropped"],
        corpus_splits=splits,
        origins=origins,
    )
