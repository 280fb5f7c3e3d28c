"""chABSA (TIS / chakki-works): sentence polarity from the per-opinion annotations of securities reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import read_text

POLARITIES = ("positive", "negative", "neutral")


@register_loader(
    "chabsa",
    source="chABSA-dataset (securities reports, TIS / chakki-works)",
    derives="sentence polarity: #positive - #negative opinions > 0 vs < 0; score 0 dropped",
    official="https://github.com/chakki-works/chABSA-dataset (chABSA-dataset.zip linked from its README)",
    download="chabsa",
)
def load_chabsa(data_dir: Path | None, folder: str = "chabsa", rule: str = "score") -> LoadedData:
    """Every sentence of every ``*_ann.json`` file under ``folder`` (searched recursively, sorted by path).

    ``rule="score"`` (the study's, 2,813 sentences): score = #positive − #negative opinions (neutral counts
    0); drop score 0; label positive if score > 0 else negative. ``rule="unanimous"``: keep only sentences
    whose non-neutral opinions all agree. Text = ``sentence`` with every newline removed.
    """
    if rule not in ("score", "unanimous"):
        raise ConfigError(f"loader 'chabsa', option 'rule' must be 'score' or 'unanimous', not {rule!r}")
    assert data_dir is not None
    root = data_dir / folder
    files = sorted(root.rglob("*_ann.json")) if root.is_dir() else []
    if not files:
        raise missing_data_error(LOADERS["chabsa"], root, "chABSA annotation files (*_ann.json)")
    texts: list[str] = []
    labels: list[int] = []
    origins: list[tuple[str, int | None]] = []
    n_sentences = 0
    for path in files:
        try:
            doc = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
        sentences = doc.get("sentences") if isinstance(doc, dict) else None
        if not isinstance(sentences, list):
            raise DataError("missing list 'sentences'", path=path, field="sentences")
        for i, sent in enumerate(sentences):
            n_sentences += 1
            where = f"sentences[{i}]"
            if not isinstance(sent, dict) or not isinstance(sent.get("sentence"), str):
                raise DataError("missing text", path=path, field=f"{where}.sentence")
            opinions = sent.get("opinions") or []
            pos = neg = 0
            for j, op in enumerate(opinions):
                polarity = op.get("polarity") if isinstance(op, dict) else None
                if polarity not in POLARITIES:
                    raise DataError(
                        f"polarity {polarity!r} is not one of {', '.join(POLARITIES)}",
                        path=path,
                        field=f"{where}.opinions[{j}].polarity",
                    )
                pos += polarity == "positive"
                neg += polarity == "negative"
            if rule == "score":
                score = pos - neg
                if score == 0:
                    continue
                label = int(score > 0)
            else:
                if (pos == 0) == (neg == 0):  # no opinion, or mixed
                    continue
                label = int(pos > 0)
            text = sent["sentence"].replace("\r", "").replace("\n", "")
            if not text.strip():
                raise DataError("empty text", path=path, field=f"{where}.sentence")
            texts.append(text)
            labels.append(label)
            origins.append((str(path), None))
    rel = str(root.relative_to(data_dir)) if root.is_relative_to(data_dir) else str(root)
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=("negative", "positive"),
        source="chABSA-dataset, https://github.com/chakki-works/chABSA-dataset",
        licence="CC BY 4.0 (attribution: chABSA-dataset, TIS Inc. / chakki-works)",
        derivation=(
            "per sentence, score = #positive - #negative opinions (neutral 0); score 0 dropped; "
            "label positive if score > 0 else negative; text = sentence with newlines removed"
            if rule == "score"
            else "sentences whose non-neutral opinions all agree (mixed and opinion-less dropped); "
            "text = sentence with newlines removed"
        ),
        files=(f"{rel}/*_ann.json ({len(files)} files)",),
        main_file=str(root),
        notes=[f"{n_sentences} sentences read, {n_sentences - len(texts)} dropped by the rule ({rule})"],
        origins=origins,
    )
