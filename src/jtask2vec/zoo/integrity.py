"""Checks that ``zoo.json`` says what the zoo's files were made with: its own checksum, the checksummed
copy of its recipe (``recipe.json``) and the metadata every embedding and checkpoint recorded.

An edited manifest is refused with one line: a recipe field that disagrees with ``recipe.json`` or with an
entry's ``meta.json`` is named (``recipe.fisher.max_examples``...); any other edit is a checksum mismatch
of ``zoo.json`` itself (``manifest_sha256``: SHA-256 of the manifest's canonical JSON without that field).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from jtask2vec.errors import DataError

DIGEST_FIELD = "manifest_sha256"
RECIPE_FILE = "recipe.json"


def manifest_digest(raw: dict[str, Any]) -> str:
    """SHA-256 of ``raw`` (the manifest as JSON values) without its digest field, keys sorted."""
    body = {k: v for k, v in raw.items() if k != DIGEST_FIELD}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def first_difference(a: Any, b: Any, prefix: str) -> tuple[str, Any, Any] | None:
    """The first dotted path (from ``prefix``) where two JSON values differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            found = first_difference(a.get(key), b.get(key), f"{prefix}.{key}")
            if found is not None:
                return found
        return None
    return None if a == b else (prefix, a, b)


def check_digest(raw: dict[str, Any], path: Path) -> None:
    stored = raw.get(DIGEST_FIELD)
    if stored != manifest_digest(raw):
        raise DataError(
            "checksum mismatch: the manifest was edited after the zoo was built (rebuild it with "
            "`jtask2vec zoo build`)",
            path=path,
            field=DIGEST_FIELD,
        )


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read it: {exc}", path=path) from None


def check_recipe(recipe: dict[str, Any], root: Path, manifest: Path) -> None:
    """``zoo.json``'s recipe equals ``recipe.json`` (a checksummed file written by the same build)."""
    built = _read(root / RECIPE_FILE)
    found = first_difference(recipe, built, "recipe")
    if found is not None:
        field, now, then = found
        raise DataError(
            f"{now!r} differs from {then!r}, the value the zoo was built with ({RECIPE_FILE})",
            path=manifest,
            field=field,
        )


def check_entry_meta(
    recipe: dict[str, Any], entry: str, seed: int, embedding: Path, checkpoint: Path | None, manifest: Path
) -> None:
    """The recipe agrees with what the entry's embedding (and checkpoint) recorded in their meta.json."""
    meta = _read(embedding / "meta.json")
    probe = recipe["probe"]
    checks: list[tuple[str, Any, Any, Path]] = [
        ("recipe.probe.fingerprint", probe["fingerprint"], meta.get("probe"), embedding),
        ("recipe.probe.max_length", probe["max_length"], meta.get("max_length"), embedding),
    ]
    stored_fisher = meta.get("fisher_config") or {}
    for key, value in recipe["fisher"].items():
        if key in stored_fisher:
            checks.append((f"recipe.fisher.{key}", value, stored_fisher[key], embedding))
    if checkpoint is not None:
        cmeta = _read(checkpoint / "meta.json")
        checks.append(
            ("recipe.probe.fingerprint", probe["fingerprint"], cmeta.get("probe_fingerprint"), checkpoint)
        )
        stored_training = cmeta.get("training") or {}
        for key, value in recipe["training"].items():
            if key in stored_training:
                checks.append((f"recipe.training.{key}", value, stored_training[key], checkpoint))
    for field, declared, recorded, folder in checks:
        if declared != recorded:
            raise DataError(
                f"{declared!r}, but entry {entry!r} (seed {seed}) was made with {recorded!r} "
                f"({folder / 'meta.json'})",
                path=manifest,
                field=field,
            )
