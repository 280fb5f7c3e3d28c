"""Build a zoo from a suite (``zoo build``) and merge two zoos (``zoo add``), always atomically.

A zoo is written into a staging folder beside its destination and renamed into place when complete, so a
reader never sees half a zoo. Merging refuses zoos whose embeddings are not comparable (another probe,
pooling, maximum length, Fisher or training recipe, other seeds) and duplicate task names whose data
differ.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from jtask2vec import __version__
from jtask2vec.config import Suite
from jtask2vec.errors import ConfigError
from jtask2vec.store.artifacts import atomic_write_json, content_key
from jtask2vec.zoo import integrity
from jtask2vec.zoo.compute import suite_artifacts
from jtask2vec.zoo.manifest import (
    MANIFEST_FILE,
    ZOO_FORMAT_VERSION,
    Manifest,
    SeedFiles,
    Zoo,
    ZooEntry,
    ZooProbe,
    ZooRecipe,
    checksum_tree,
    folder_name,
)
from jtask2vec.zoo.overlap import text_hashes, write_hashes


@contextmanager
def _staged_folder(out: Path, *, replace: bool) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``out`` (rename), on failure it is removed."""
    if out.exists() and not replace:
        raise ConfigError(f"{out}: already exists (choose another --out, or remove it first)")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        yield stage
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out, old)
        os.replace(stage, out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _write_manifest(stage: Path, manifest_fields: dict) -> Manifest:
    """Write ``recipe.json`` (the recipe's checksummed copy), then ``zoo.json`` with its own checksum."""
    recipe = ZooRecipe.model_validate(manifest_fields["recipe"])
    atomic_write_json(stage / integrity.RECIPE_FILE, recipe.model_dump(mode="json"))
    fields = {**manifest_fields, "files": checksum_tree(stage), "manifest_sha256": ""}
    raw = json.loads(json.dumps(Manifest(**fields).model_dump(mode="json")))
    raw["manifest_sha256"] = integrity.manifest_digest(raw)
    atomic_write_json(stage / MANIFEST_FILE, raw)
    return Manifest.model_validate(raw)


def build_zoo(
    suite: Suite,
    out: str | Path,
    *,
    runs_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    with_checkpoints: bool = False,
    progress: bool = True,
) -> Zoo:
    """Fine-tune and embed the suite's source tasks (cached in ``runs_dir``) and write them as a zoo."""
    from jtask2vec.jobs.embedding_files import load_embedding, save_embedding

    out = Path(out)
    if out.exists():  # fail before hours of fine-tuning, not after
        raise ConfigError(f"{out}: already exists (choose another --out, or remove it first)")
    art = suite_artifacts(suite, runs_dir, data_dir, progress=progress)
    group = content_key(sorted(task.data_hash for task in art.tasks.values()), length=12)
    recipe = ZooRecipe(
        probe=ZooProbe(
            config=suite.probe,
            fingerprint=art.probe.fingerprint,
            pooling=art.probe.pooling,
            max_length=art.probe.max_length,
        ),
        training=suite.training,
        transfer_training=suite.target_training,
        fisher=suite.fisher,
        seeds=list(suite.seeds),
        asymmetric_alpha=suite.evaluation.asymmetric_alpha,
        source_regime=suite.source_regime,
        target_regime=suite.target_regime,
    )
    with _staged_folder(out, replace=False) as stage:
        trivial = {}
        for seed, folder in art.trivial.items():
            rel = f"trivial/{group}/seed-{seed}"
            save_embedding(load_embedding(folder), stage / rel)
            trivial[seed] = rel
        entries = []
        for name in suite.source_names:
            task, spec = art.tasks[name], art.specs[name]
            seeds = {}
            hashes = text_hashes(task.inputs)
            texts = f"tasks/{folder_name(name)}/texts.sha256"
            write_hashes(stage / texts, hashes)
            for seed in suite.seeds:
                base = f"tasks/{folder_name(name)}/seed-{seed}"
                save_embedding(load_embedding(art.embeddings[(name, seed)]), stage / base / "embedding")
                checkpoint = None
                if with_checkpoints:
                    shutil.copytree(art.checkpoints[(name, seed)], stage / base / "checkpoint")
                    checkpoint = f"{base}/checkpoint"
                seeds[seed] = SeedFiles(
                    embedding=f"{base}/embedding",
                    checkpoint=checkpoint,
                    checkpoint_key=art.checkpoint_keys[(name, seed)],
                )
            entries.append(
                ZooEntry(
                    name=name,
                    kind=getattr(spec, "kind", None),
                    loader=spec.loader,
                    stand_in_for=task.stand_in_for,
                    description=spec.description,
                    size=len(task),
                    split_sizes=task.split_sizes(),
                    label_names=list(task.label_names),
                    class_counts=task.class_counts(),
                    source=task.provenance.source,
                    licence=task.provenance.licence,
                    derivation=task.provenance.derivation,
                    data_hash=task.data_hash,
                    texts=texts,
                    n_texts=len(hashes),
                    trivial=group,
                    seeds=seeds,
                )
            )
        _write_manifest(
            stage,
            {
                "format_version": ZOO_FORMAT_VERSION,
                "jtask2vec_version": __version__,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "recipe": recipe,
                "trivial": {group: trivial},
                "entries": entries,
            },
        )
    return Zoo.load(out)


def check_compatible(a: ZooRecipe, b: ZooRecipe, where: str) -> None:
    """Refuse (one line) to mix zoos whose embeddings are not comparable."""
    pa, pb = a.probe, b.probe
    checks = (
        ("probe weights fingerprint", pa.fingerprint, pb.fingerprint),
        ("probe pooling", pa.pooling, pb.pooling),
        ("probe max_length", pa.max_length, pb.max_length),
        ("Fisher config", a.fisher, b.fisher),
        ("training config", a.training, b.training),
        ("transfer training config", a.transfer_training, b.transfer_training),
        ("seeds", sorted(a.seeds), sorted(b.seeds)),
        ("asymmetric alpha", a.asymmetric_alpha, b.asymmetric_alpha),
        ("source regime", a.source_regime, b.source_regime),
        ("target regime", a.target_regime, b.target_regime),
    )
    for what, x, y in checks:
        if x != y:
            shown = (x, y) if not hasattr(x, "model_dump") else _first_difference(x, y)
            raise ConfigError(f"{where}: cannot mix zoos with a different {what} ({shown[0]} vs {shown[1]})")


def _first_difference(x, y) -> tuple[str, str]:
    dx, dy = x.model_dump(mode="json"), y.model_dump(mode="json")
    for key in dx:
        if dx[key] != dy.get(key):
            return f"{key}={dx[key]!r}", f"{key}={dy.get(key)!r}"
    return str(dx), str(dy)


def add_zoo(into: str | Path, other: str | Path) -> Zoo:
    """Merge zoo ``other`` into zoo ``into`` (rewritten atomically). Entries already present with the same
    data hash are kept once; the same name with other data is refused."""
    base, extra = Zoo.load(into), Zoo.load(other)
    check_compatible(base.recipe, extra.recipe, f"{other}")
    known = {e.name: e for e in base.entries}
    new = []
    for e in extra.entries:
        if e.name in known:
            if known[e.name].data_hash != e.data_hash:
                raise ConfigError(
                    f"{other}: task {e.name!r} is already in {into} with other data "
                    f"(data hash {known[e.name].data_hash[:12]} vs {e.data_hash[:12]}); rename one of them"
                )
            continue
        new.append(e)
    taken = {folder_name(e.name) for e in base.entries}
    with _staged_folder(Path(into), replace=True) as stage:
        shutil.copytree(base.root, stage, dirs_exist_ok=True, ignore=shutil.ignore_patterns(MANIFEST_FILE))
        trivial = dict(base.manifest.trivial)
        groups = {e.trivial for e in new}
        for g in sorted(groups):
            if g not in trivial:
                shutil.copytree(extra.root / "trivial" / g, stage / "trivial" / g)
                trivial[g] = extra.manifest.trivial[g]
        for e in new:
            if folder_name(e.name) in taken:  # cannot happen for distinct names; guard the layout anyway
                raise ConfigError(f"{other}: task {e.name!r} collides with a folder of {into}")
            shutil.copytree(extra.root / "tasks" / folder_name(e.name), stage / "tasks" / folder_name(e.name))
        fields = base.manifest.model_dump(exclude={"files", "entries", "trivial", "manifest_sha256"})
        fields.update(
            {
                "trivial": trivial,
                "entries": [*base.entries, *new],
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "jtask2vec_version": __version__,
            }
        )
        fields["recipe"] = base.recipe
        _write_manifest(stage, fields)
    return Zoo.load(into)
