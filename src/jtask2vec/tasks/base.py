"""The `Task`: texts, binary labels, a train/dev/test assignment, and where it all came from."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from jtask2vec.tasks.text_inputs import TextInput

SplitName = Literal["train", "dev", "test"]
SPLITS: tuple[SplitName, ...] = ("train", "dev", "test")


@dataclass(frozen=True)
class Provenance:
    """Where a task's data came from and how the binary task was derived."""

    source: str  # human name + official URL of the corpus
    licence: str
    derivation: str  # the rule that turns the corpus into this binary task
    files: tuple[str, ...] = ()  # files read (as given, relative to the data directory where possible)
    notes: tuple[str, ...] = ()  # dedup, dropped rows, deviations from the study, stand-in status...


@dataclass(frozen=True)
class Task:
    """A binary text-classification task.

    ``labels[i]`` is 0 or 1 and names ``label_names[labels[i]]``; ``splits[i]`` is "train", "dev" or
    "test". Arrays are aligned with ``texts``. A sentence-pair task also has ``text_pairs`` (the second
    text of each example: hypothesis, second sentence); its model input is ``(texts[i], text_pairs[i])``.
    """

    name: str
    texts: tuple[str, ...]
    labels: np.ndarray  # int64, values in {0, 1}
    splits: tuple[SplitName, ...]
    label_names: tuple[str, str]
    provenance: Provenance
    stand_in_for: str | None = None
    text_pairs: tuple[str, ...] | None = None
    _hash: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels, dtype=np.int64)
        object.__setattr__(self, "labels", labels)
        if not (len(self.texts) == len(labels) == len(self.splits)):
            raise ValueError("texts, labels and splits must have the same length")
        if self.text_pairs is not None and len(self.text_pairs) != len(self.texts):
            raise ValueError("text_pairs must have one entry per text")
        if len(self.label_names) != 2:
            raise ValueError("a task has exactly two label names")

    def __len__(self) -> int:
        return len(self.texts)

    # ---- views -------------------------------------------------------------------------------------
    def indices(self, split: SplitName) -> np.ndarray:
        return np.flatnonzero(np.asarray(self.splits) == split)

    def texts_of(self, split: SplitName) -> list[str]:
        return [self.texts[i] for i in self.indices(split)]

    def pairs_of(self, split: SplitName) -> list[str] | None:
        """The second texts of ``split`` (None for a single-sentence task)."""
        if self.text_pairs is None:
            return None
        return [self.text_pairs[i] for i in self.indices(split)]

    @property
    def is_pair_task(self) -> bool:
        return self.text_pairs is not None

    @property
    def inputs(self) -> list[TextInput]:
        """Every example's model input: its text, or its ``(text, text_pair)``."""
        if self.text_pairs is None:
            return list(self.texts)
        return list(zip(self.texts, self.text_pairs, strict=True))

    def inputs_of(self, split: SplitName) -> list[TextInput]:
        """The model inputs of ``split`` (what every stage tokenises, see
        :mod:`jtask2vec.tasks.text_inputs`)."""
        inputs = self.inputs
        return [inputs[i] for i in self.indices(split)]

    def labels_of(self, split: SplitName) -> np.ndarray:
        return self.labels[self.indices(split)]

    def subset(self, indices: np.ndarray | list[int], name: str | None = None) -> Task:
        """The examples at ``indices`` (order kept), as a new task."""
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            name=name or self.name,
            texts=tuple(self.texts[i] for i in idx),
            labels=self.labels[idx],
            splits=tuple(self.splits[i] for i in idx),
            text_pairs=None if self.text_pairs is None else tuple(self.text_pairs[i] for i in idx),
            _hash=None,
        )

    def with_splits(self, splits: list[SplitName] | tuple[SplitName, ...]) -> Task:
        return replace(self, splits=tuple(splits), _hash=None)

    # ---- summaries ---------------------------------------------------------------------------------
    def class_counts(self, split: SplitName | None = None) -> dict[str, int]:
        labels = self.labels if split is None else self.labels_of(split)
        counts = Counter(int(v) for v in labels)
        return {self.label_names[k]: counts.get(k, 0) for k in (0, 1)}

    def split_sizes(self) -> dict[str, int]:
        counts = Counter(self.splits)
        return {s: counts.get(s, 0) for s in SPLITS}

    @property
    def data_hash(self) -> str:
        """SHA-256 of the derived data (texts, text pairs, labels, splits, label names): changes iff the data
        do. The second texts enter only when present, so a single-sentence task keeps its hash."""
        if self._hash is None:
            h = hashlib.sha256()
            h.update("\x1f".join(self.label_names).encode("utf-8"))
            for text, label, split in zip(self.texts, self.labels.tolist(), self.splits, strict=True):
                h.update(f"\x1e{label}\x1f{split}\x1f{text}".encode())
            if self.text_pairs is not None:
                h.update(b"\x1dpairs")
                for pair in self.text_pairs:
                    h.update(f"\x1e{pair}".encode())
            object.__setattr__(self, "_hash", h.hexdigest())
        return self._hash  # type: ignore[return-value]
