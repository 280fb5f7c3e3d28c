"""The zoo folder: ``zoo.json`` (the manifest) and the files it lists, each with its SHA-256.

A zoo is a portable library of source tasks embedded with one probe and one recipe::

    zoo.json
    trivial/<group>/seed-<s>/                t0 of the asymmetric distance (TaskEmbedding folder)
    tasks/<task>/seed-<s>/embedding/         the source task's embedding (TaskEmbedding folder)
    tasks/<task>/seed-<s>/checkpoint/        its fine-tuned classifier (with --with-checkpoints)

The manifest records the recipe every entry shares (probe identity, training, Fisher, seeds) and, per
entry, the task's facts (size, labels, provenance, licence, data hash) and the relative paths of its
files. :meth:`Zoo.load` verifies every listed file against its checksum and names the first bad one.
Format: docs/zoo.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jtask2vec.config import FisherConfig, ProbeConfig, RegimeConfig, TrainingConfig
from jtask2vec.errors import DataError
from jtask2vec.zoo import integrity

ZOO_FORMAT_VERSION = 2  # 2: regimes in the recipe, entries' text hashes, recipe.json, manifest_sha256
MANIFEST_FILE = "zoo.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZooProbe(_Model):
    """The probe every entry was fine-tuned and embedded with (``fingerprint``: the exact weights)."""

    config: ProbeConfig
    fingerprint: str
    pooling: str
    max_length: int


class ZooRecipe(_Model):
    """What a target must be fine-tuned and embedded with to be comparable to the entries."""

    probe: ZooProbe
    training: TrainingConfig
    transfer_training: TrainingConfig
    fisher: FisherConfig
    seeds: list[int] = Field(min_length=1)
    asymmetric_alpha: float = 0.15
    source_regime: RegimeConfig  # the entries' data regime (their fine-tunes and embeddings)
    target_regime: RegimeConfig  # a target's: its embedding fine-tune and the --verify fine-tunes

    @property
    def has_target_regime(self) -> bool:
        return self.source_regime != self.target_regime

    @property
    def target_embedding_training(self) -> TrainingConfig:
        """The config a target is fine-tuned with before it is embedded, as in a suite run: its own
        fine-tune (``training``) without a target regime, else its baseline fine-tune
        (``transfer_training``)."""
        return self.transfer_training if self.has_target_regime else self.training


class SeedFiles(_Model):
    """One seed of an entry: its embedding folder and (optional) checkpoint folder, relative paths."""

    embedding: str
    checkpoint: str | None = None
    checkpoint_key: str  # the store key the checkpoint had (and gets again when imported)


class ZooEntry(_Model):
    name: str
    kind: str | None = None
    language: str = "ja"
    loader: str
    stand_in_for: str | None = None
    description: str = ""
    size: int
    split_sizes: dict[str, int]
    label_names: list[str]
    class_counts: dict[str, int]
    source: str
    licence: str
    derivation: str
    data_hash: str
    texts: str  # relative path of its texts' hashes (jtask2vec.zoo.overlap), one per line
    n_texts: int  # distinct texts
    trivial: str  # the t0 group (key of Manifest.trivial) this entry was embedded next to
    seeds: dict[int, SeedFiles]

    @property
    def has_checkpoints(self) -> bool:
        return all(f.checkpoint is not None for f in self.seeds.values())


class Manifest(_Model):
    format_version: int
    jtask2vec_version: str
    created: str
    recipe: ZooRecipe
    trivial: dict[str, dict[int, str]]  # group -> seed -> folder of t0
    entries: list[ZooEntry]
    files: dict[str, str]  # relative path -> sha256 of every file but zoo.json
    manifest_sha256: str  # of this manifest without this field (jtask2vec.zoo.integrity)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksum_tree(root: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``root`` except the manifest."""
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() != MANIFEST_FILE
    }


def folder_name(task: str) -> str:
    """A file-system-safe folder name for a task name (a hash suffix when characters were replaced)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", task)
    if safe == task and not task.startswith("."):
        return task
    return f"{safe.lstrip('.')}-{hashlib.sha256(task.encode()).hexdigest()[:8]}"


class Zoo:
    """A verified zoo folder: the manifest and helpers to reach its files."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest

    @property
    def recipe(self) -> ZooRecipe:
        return self.manifest.recipe

    @property
    def entries(self) -> list[ZooEntry]:
        return self.manifest.entries

    def entry(self, name: str) -> ZooEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise DataError(f"no entry {name!r} in the zoo", path=self.root / MANIFEST_FILE)

    @property
    def has_checkpoints(self) -> bool:
        return bool(self.entries) and all(e.has_checkpoints for e in self.entries)

    def embedding_folder(self, entry: ZooEntry, seed: int) -> Path:
        return self.root / entry.seeds[seed].embedding

    def checkpoint_folder(self, entry: ZooEntry, seed: int) -> Path:
        rel = entry.seeds[seed].checkpoint
        if rel is None:
            raise DataError(
                f"entry {entry.name!r} has no checkpoint (build the zoo with --with-checkpoints)",
                path=self.root / MANIFEST_FILE,
            )
        return self.root / rel

    def vector(self, entry: ZooEntry, seed: int) -> np.ndarray:
        from jtask2vec.jobs.embedding_files import load_embedding

        return load_embedding(self.embedding_folder(entry, seed)).vector

    def trivial_vector(self, group: str, seed: int) -> np.ndarray:
        from jtask2vec.jobs.embedding_files import load_embedding

        return load_embedding(self.root / self.manifest.trivial[group][seed]).vector

    @classmethod
    def load(cls, root: str | Path, *, verify: bool = True) -> Zoo:
        """Read ``root/zoo.json``; with ``verify`` check every listed file's SHA-256 (a DataError names the
        first missing or corrupt file)."""
        root = Path(root)
        path = root / MANIFEST_FILE
        if not path.is_file():
            raise DataError("not a zoo folder (no zoo.json)", path=root)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if version != ZOO_FORMAT_VERSION:
            raise DataError(
                f"zoo format version {version!r}; this jtask2vec reads version {ZOO_FORMAT_VERSION}"
                + (" (rebuild the zoo with `jtask2vec zoo build`)" if isinstance(version, int) else ""),
                path=path,
                field="format_version",
            )
        try:
            manifest = Manifest.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise DataError(first["msg"], path=path, field=loc) from None
        zoo = cls(root, manifest)
        zoo._check_references()
        if verify:
            zoo.verify()
            zoo._check_integrity(raw)
        return zoo

    def _check_integrity(self, raw: dict) -> None:
        """The recipe agrees with recipe.json and every entry's meta.json; then zoo.json's own checksum."""
        path = self.root / MANIFEST_FILE
        recipe = raw["recipe"]
        integrity.check_recipe(recipe, self.root, path)
        for e in self.entries:
            for seed, files in e.seeds.items():
                checkpoint = None if files.checkpoint is None else self.root / files.checkpoint
                integrity.check_entry_meta(
                    recipe, e.name, seed, self.root / files.embedding, checkpoint, path
                )
        integrity.check_digest(raw, path)

    def texts(self, entry: ZooEntry) -> frozenset[str]:
        """The hashes of ``entry``'s normalised texts (:mod:`jtask2vec.zoo.overlap`)."""
        from jtask2vec.zoo.overlap import read_hashes

        return read_hashes(self.root / entry.texts)

    def _check_references(self) -> None:
        """Every folder the manifest points to has files listed in ``files``; t0 groups exist."""
        listed = {p.rsplit("/", 1)[0] for p in self.manifest.files}
        folders = [f for seeds in self.manifest.trivial.values() for f in seeds.values()]
        for e in self.entries:
            if e.trivial not in self.manifest.trivial:
                raise DataError(f"entry {e.name!r}: unknown t0 group {e.trivial!r}", path=self.root)
            if sorted(e.seeds) != sorted(self.recipe.seeds):
                raise DataError(f"entry {e.name!r}: seeds {sorted(e.seeds)} differ from the recipe's")
            folders += [f.embedding for f in e.seeds.values()]
            if e.texts not in self.manifest.files:
                raise DataError("the manifest lists no such file", path=self.root / e.texts)
        for folder in folders:
            if folder not in listed:
                raise DataError("the manifest lists no files in this folder", path=self.root / folder)

    def verify(self) -> None:
        for rel, digest in self.manifest.files.items():
            file = self.root / rel
            if not file.is_file():
                raise DataError("missing file listed in zoo.json", path=file)
            if sha256_file(file) != digest:
                raise DataError(
                    "checksum mismatch: the file is corrupt or was changed after the zoo was built",
                    path=file,
                )
