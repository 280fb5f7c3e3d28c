"""The artifact store: content keys, atomic publication, and nothing half-written after a failure."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jtask2vec.config import TrainingConfig
from jtask2vec.store import ArtifactStore, atomic_write_json, canonical_json, content_key


def test_content_key_is_order_independent_and_sensitive_to_values() -> None:
    a = content_key({"x": 1, "cfg": TrainingConfig(), "path": Path("a/b")})
    b = content_key({"path": Path("a/b"), "cfg": TrainingConfig(), "x": 1})
    assert a == b
    assert content_key({"x": 1, "cfg": TrainingConfig(epochs=4), "path": Path("a/b")}) != a
    assert canonical_json({"b": [1, (2, 3)], "a": None}) == '{"a":null,"b":[1,[2,3]]}'


def test_staging_publishes_whole_directory(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with store.staging("kind", "k1") as stage:
        (stage / "a.txt").write_text("a")
        (stage / "b.txt").write_text("b")
        assert not store.exists("kind", "k1")  # invisible until the block ends
    assert store.exists("kind", "k1")
    assert sorted(p.name for p in store.path("kind", "k1").iterdir()) == ["a.txt", "b.txt"]
    assert store.keys("kind") == ["k1"]


def test_failed_staging_leaves_nothing(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(RuntimeError), store.staging("kind", "k2") as stage:
        (stage / "partial.txt").write_text("half")
        raise RuntimeError("killed mid-write")
    assert not store.exists("kind", "k2")
    assert store.keys("kind") == []
    assert not list((tmp_path / "kind").glob(".staging-*"))


def test_clean_staging_removes_debris_of_a_killed_process(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.write_json("kind", "done", {"v": 1})
    debris = tmp_path / "kind" / ".staging-x-1234"
    debris.mkdir()
    assert store.clean_staging() == 1
    assert not debris.exists()
    assert store.read_json("kind", "done") == {"v": 1}


def test_second_writer_keeps_the_first_result(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.write_json("kind", "same", {"v": "first"})
    store.write_json("kind", "same", {"v": "second"})
    assert store.read_json("kind", "same") == {"v": "first"}


def test_atomic_write_json_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "r.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]
    assert target.stat().st_mode & 0o044  # readable by others, unlike mkstemp's 0600


def test_failed_atomic_write_keeps_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    atomic_write_json(target, {"a": 1})

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
