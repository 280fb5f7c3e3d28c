"""The task registry and `load_task`: loader -> dedup/grouping -> partition -> subsample -> split -> checks.

Order of the cuts (fixed, so stand-in tasks are disjoint and equal-sized):

1. the loader derives the binary examples (``spec.options``);
2. with ``use_corpus_split``, a text (or group) the corpus puts in several splits is kept only in its
   evaluation split (test, else dev, else train; copies counted in the notes); then identical texts (or
   the loader's group keys) are grouped so they never straddle two splits or parts; option
   ``dedupe=true`` instead keeps only the first occurrence of each text;
3. ``spec.partition``: the examples are cut into ``parts`` disjoint stratified parts (seeded by the
   partition's own seed, so every part index sees the same cut) and part ``index`` is kept;
4. ``spec.max_examples``: a stratified subsample of that many examples (seed ``spec.split.seed``); a
   loader with a ``sample`` option (rakuten-travel) draws it itself while streaming when there is no
   partition and no dedupe;
5. ``spec.split``: the corpus's own split (``use_corpus_split``) or a stratified, group-aware
   train/dev/test split from ``spec.split.seed``;
5b. ``spec.train_size`` (a limited data regime): a stratified subsample of the train split (seed
   ``spec.split.seed``); the other train examples are dropped, dev and test are unchanged;
6. validation: no text in two splits (any copy left is dropped by the rule of step 2 and counted); both
   classes overall and in every non-empty split; train and test non-empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jtask2vec.config import PartitionConfig, SplitConfig, TaskSpec
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks import chabsa as _chabsa  # noqa: F401  (registers its loader)
from jtask2vec.tasks import generic as _generic  # noqa: F401
from jtask2vec.tasks import janli as _janli  # noqa: F401
from jtask2vec.tasks import jcola as _jcola  # noqa: F401
from jtask2vec.tasks import jrte as _jrte  # noqa: F401
from jtask2vec.tasks import jrte_rte as _jrte_rte  # noqa: F401
from jtask2vec.tasks import jsts as _jsts  # noqa: F401
from jtask2vec.tasks import livedoor as _livedoor  # noqa: F401
from jtask2vec.tasks import rakuten as _rakuten  # noqa: F401
from jtask2vec.tasks import synthetic as _synthetic  # noqa: F401
from jtask2vec.tasks import toxic as _toxic  # noqa: F401
from jtask2vec.tasks.base import SPLITS, Provenance, SplitName, Task
from jtask2vec.tasks.data_dir import resolve_data_dir
from jtask2vec.tasks.loading import LOADERS, LoadedData, LoaderInfo, register_loader
from jtask2vec.tasks.splits import (
    cross_split_copies,
    leak_groups,
    stratified_partition,
    stratified_split,
    stratified_subsample,
)

# Options every loader accepts; load_task consumes them before calling the loader.
COMMON_OPTIONS: dict[str, Any] = {"dedupe": False}

__all__ = [
    "COMMON_OPTIONS",
    "LOADERS",
    "LoaderInfo",
    "get_loader",
    "list_loaders",
    "load_task",
    "register_loader",
    "task_spec",
]


def list_loaders() -> list[LoaderInfo]:
    """Registered loaders, in name order."""
    return [LOADERS[k] for k in sorted(LOADERS)]


def get_loader(name: str) -> LoaderInfo:
    try:
        return LOADERS[name]
    except KeyError:
        raise ConfigError(f"unknown task loader {name!r}; registered: {', '.join(sorted(LOADERS))}") from None


def task_spec(
    loader: str,
    name: str | None = None,
    *,
    split: SplitConfig | dict[str, Any] | None = None,
    partition: PartitionConfig | dict[str, Any] | None = None,
    max_examples: int | None = None,
    stand_in_for: str | None = None,
    train_size: int | None = None,
    **options: Any,
) -> TaskSpec:
    """A :class:`TaskSpec` for ``loader`` with loader ``options`` (name defaults to the loader id)."""
    get_loader(loader)
    fields: dict[str, Any] = {"name": name or loader, "loader": loader, "options": options}
    if split is not None:
        fields["split"] = split
    if partition is not None:
        fields["partition"] = partition
    if max_examples is not None:
        fields["max_examples"] = max_examples
    if stand_in_for is not None:
        fields["stand_in_for"] = stand_in_for
    if train_size is not None:
        fields["train_size"] = train_size
    return TaskSpec.model_validate(fields)


def _bool_option(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    low = str(value).strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"option {key!r}: cannot read {value!r} as a boolean")


def _load(info: LoaderInfo, options: dict[str, Any], data_dir: Path | None) -> LoadedData:
    if info.needs_data_dir:
        data_dir = resolve_data_dir(data_dir)
    elif data_dir is None:
        try:
            data_dir = resolve_data_dir(None)
        except DataError:
            data_dir = None
    data = info.call(data_dir, options)
    if len(data.texts) != len(data.labels):
        raise RuntimeError(
            f"loader {info.name!r} returned {len(data.texts)} texts but {len(data.labels)} labels"
        )
    if data.text_pairs is not None and len(data.text_pairs) != len(data.texts):
        raise RuntimeError(
            f"loader {info.name!r} returned {len(data.texts)} texts but {len(data.text_pairs)} text pairs"
        )
    return data


def _check_classes(labels: np.ndarray, label_names: Sequence[str], where: str, path: str, field: str) -> None:
    counts = np.bincount(labels, minlength=2)
    missing = [label_names[k] for k in (0, 1) if counts[k] == 0]
    if missing:
        raise DataError(
            f"{where} has no examples of class {', '.join(map(repr, missing))} "
            f"({label_names[0]}: {counts[0]}, {label_names[1]}: {counts[1]}); a task needs both classes",
            path=path,
            field=field,
        )


def _cross_split_note(n_texts: int, n_dropped: int, where: str) -> str:
    return (
        f"{where}: {n_texts} texts (or groups) were in more than one split; {n_dropped} copies dropped "
        "(an identical text is kept only in its evaluation split: test, else dev, else train)"
    )


def _drop_cross_split(keys: list[object], splits: Sequence[str]) -> tuple[np.ndarray, int, int]:
    """Indices kept, number of distinct keys affected, number of copies dropped."""
    drop = cross_split_copies(keys, splits)
    affected = len({keys[i] for i in np.flatnonzero(drop)})
    return np.flatnonzero(~drop), affected, int(drop.sum())


def load_task(spec: TaskSpec, data_dir: Path | None = None) -> Task:
    """Load, derive, cut and validate the task ``spec`` describes (see the module docstring for the order)."""
    info = get_loader(spec.loader)
    options = dict(spec.options)
    dedupe = _bool_option(options.pop("dedupe", COMMON_OPTIONS["dedupe"]), "dedupe")
    streamed_sample = (
        "sample" in info.options
        and "sample" not in options
        and spec.max_examples is not None
        and spec.partition is None
        and not dedupe
    )
    if streamed_sample:  # the loader draws max_examples while streaming (memory bounded)
        options.update(sample=spec.max_examples, sample_seed=spec.split.seed)
    data = _load(info, options, data_dir)
    notes = list(data.notes)
    texts = list(data.texts)
    pairs = list(data.text_pairs) if data.text_pairs is not None else None
    inputs: list[Any] = texts if pairs is None else list(zip(texts, pairs, strict=True))
    labels = np.asarray(data.labels, dtype=np.int64)
    corpus = list(data.corpus_splits) if data.corpus_splits is not None else None
    keys = leak_groups(inputs, data.groups)
    _check_classes(labels, data.label_names, "the task", data.main_file, "label")

    # 2. cross-split copies (corpus split), then grouping / dedup
    idx = np.arange(len(texts))
    if spec.split.use_corpus_split and corpus is not None:
        idx, affected, dropped = _drop_cross_split(keys, corpus)
        if dropped:
            notes.append(_cross_split_note(affected, dropped, "corpus split"))
    if dedupe:
        first: dict[Any, int] = {}
        conflicts = 0
        for i in idx:
            t = inputs[i]
            if t in first:
                conflicts += int(labels[first[t]] != labels[i])
            else:
                first[t] = int(i)
        keep = np.asarray(sorted(first.values()), dtype=np.int64)
        notes.append(
            f"dedupe: {len(idx) - len(keep)} repeated texts dropped (first occurrence kept; "
            f"{conflicts} of them had a different label)"
        )
        idx = keep
    else:
        repeated = sum(c - 1 for c in Counter(keys[i] for i in idx).values() if c > 1)
        if repeated:
            what = "texts" if pairs is None else "text pairs"
            what += "" if data.groups is None else " or group keys"
            notes.append(f"{repeated} repeated {what}: identical ones are kept together in one split/part")

    # 3. partition
    if spec.partition is not None:
        p = spec.partition
        parts = stratified_partition(labels[idx], p.parts, p.seed, groups=[keys[i] for i in idx])
        idx = idx[parts[p.index]]
        notes.append(f"part {p.index + 1} of {p.parts} disjoint stratified parts (partition seed {p.seed})")
    # 4. subsample
    if spec.max_examples is not None and spec.max_examples < len(idx):
        sub = stratified_subsample(labels[idx], spec.max_examples, spec.split.seed)
        idx = idx[sub]
        notes.append(f"stratified subsample of {spec.max_examples} examples (seed {spec.split.seed})")

    sel_labels = labels[idx]
    _check_classes(
        sel_labels, data.label_names, "the task after partition/subsample", data.main_file, "label"
    )
    # 5. split
    sc = spec.split
    splits: list[SplitName]
    if sc.use_corpus_split:
        if corpus is None:
            raise ConfigError(f"loader {info.name!r} has no corpus split; set split.use_corpus_split=false")
        chosen = [corpus[i] for i in idx]
        splits = [s if s != "trainval" else "train" for s in chosen]  # type: ignore[misc]
        tv = np.flatnonzero(np.asarray(chosen) == "trainval")
        if len(tv) and sc.dev_fraction > 0:
            share = sc.dev_fraction / (1.0 - sc.test_fraction)
            sub_split = stratified_split(
                sel_labels[tv], 0.0, min(share, 0.9), sc.seed, [keys[idx[i]] for i in tv]
            )
            for j, s in zip(tv, sub_split, strict=True):
                splits[j] = "dev" if s == "test" else "train"
            notes.append(
                f"corpus test split kept; corpus train+dev merged and a stratified dev set "
                f"({share:.1%} of it, seed {sc.seed}) drawn from it"
            )
        else:
            notes.append("the corpus's own train/dev/test split")
    else:
        splits = stratified_split(
            sel_labels, sc.dev_fraction, sc.test_fraction, sc.seed, [keys[i] for i in idx]
        )
        notes.append(
            f"stratified group-aware split: dev {sc.dev_fraction:g}, test {sc.test_fraction:g}, "
            f"seed {sc.seed}"
        )

    # 5b. limited regime
    if spec.train_size is not None:
        train = np.flatnonzero(np.asarray(splits) == "train")
        if spec.train_size < len(train):
            kept = set(train[stratified_subsample(sel_labels[train], spec.train_size, sc.seed)].tolist())
            keep = np.asarray(
                [i for i in range(len(idx)) if splits[i] != "train" or i in kept], dtype=np.int64
            )
            notes.append(
                f"limited regime: a stratified subsample of {spec.train_size} of the {len(train)} train "
                f"examples (seed {sc.seed}); dev and test unchanged"
            )
            idx, sel_labels, splits = idx[keep], sel_labels[keep], [splits[i] for i in keep]
        else:
            notes.append(f"train_size {spec.train_size} >= the {len(train)} train examples: all kept")

    # 6. validation: no text in two splits (whatever the mode), both classes everywhere
    kept, affected, dropped = _drop_cross_split([keys[i] for i in idx], splits)
    if dropped:
        notes.append(_cross_split_note(affected, dropped, "after the split"))
        idx, sel_labels, splits = idx[kept], sel_labels[kept], [splits[i] for i in kept]
    split_arr = np.asarray(splits)
    for s in SPLITS:
        mask = split_arr == s
        if not mask.any():
            if s == "dev" and sc.dev_fraction == 0:
                continue
            raise DataError(
                f"split {s!r} is empty ({len(splits)} examples); use more data or other fractions",
                path=data.main_file,
                field="split",
            )
        _check_classes(sel_labels[mask], data.label_names, f"split {s!r}", data.main_file, "split")

    if spec.stand_in_for:
        notes.append(f"stand-in for the study's task {spec.stand_in_for!r} (not the original data)")
    return Task(
        name=spec.name,
        texts=tuple(texts[i] for i in idx),
        labels=sel_labels,
        splits=tuple(splits),
        label_names=data.label_names,
        provenance=Provenance(
            source=data.source,
            licence=data.licence,
            derivation=data.derivation,
            files=data.files,
            notes=tuple(notes),
        ),
        stand_in_for=spec.stand_in_for,
        text_pairs=None if pairs is None else tuple(pairs[i] for i in idx),
    )
