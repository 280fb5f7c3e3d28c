"""The artifact store: content keys, manifests, verified reads and quarantine, atomic publication, debris
of dead processes, and claims between real processes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import jtask2vec.store.artifacts as store_module
from jtask2vec.config import TrainingConfig
from jtask2vec.errors import StoreError
from jtask2vec.store.artifacts import ArtifactStore, atomic_write_json, canonical_json, content_key
from jtask2vec.store.manifest import MANIFEST_FILE, read_events
from jtask2vec.store.owners import Owner, process_start

SRC = Path(__file__).resolve().parents[2] / "src"


def python(code: str, **env: str) -> subprocess.Popen:
    """A real Python process running ``code`` with this checkout's sources first on the path."""
    full_env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **env}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=full_env)


def dead_owner() -> Owner:
    """The identity of a real process of this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    owner = Owner(Owner.me().host, child.pid, process_start(child.pid))
    child.wait()
    return owner


def test_content_key_is_order_independent_and_sensitive_to_values() -> None:
    a = content_key({"x": 1, "cfg": TrainingConfig(), "path": Path("a/b")})
    b = content_key({"path": Path("a/b"), "cfg": TrainingConfig(), "x": 1})
    assert a == b
    assert content_key({"x": 1, "cfg": TrainingConfig(epochs=4), "path": Path("a/b")}) != a
    assert canonical_json({"b": [1, (2, 3)], "a": None}) == '{"a":null,"b":[1,[2,3]]}'


def test_staging_publishes_whole_directory_with_its_manifest(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with store.staging("kind", "k1", inputs={"cfg": TrainingConfig(epochs=3)}) as stage:
        (stage / "a.txt").write_text("a")
        (stage / "sub").mkdir()
        (stage / "sub" / "b.bin").write_bytes(b"\x00" * 10)
        assert not store.exists("kind", "k1")  # invisible until the block ends
    assert store.exists("kind", "k1")
    assert store.keys("kind") == ["k1"]
    manifest = json.loads((store.path("kind", "k1") / MANIFEST_FILE).read_text())
    assert (manifest["kind"], manifest["key"]) == ("kind", "k1")
    assert manifest["inputs"]["cfg"]["epochs"] == 3
    assert manifest["producer"]["pid"] == os.getpid()
    assert manifest["files"] == {
        "a.txt": {"size": 1, "sha256": hashlib.sha256(b"a").hexdigest()},
        "sub/b.bin": {"size": 10, "sha256": hashlib.sha256(b"\x00" * 10).hexdigest()},
    }
    assert [e["event"] for e in read_events(tmp_path)] == ["publish"]


def test_failed_staging_leaves_nothing(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(RuntimeError), store.staging("kind", "k2") as stage:
        (stage / "partial.txt").write_text("half")
        assert stage.is_dir()
        raise RuntimeError("killed mid-write")
    assert not store.exists("kind", "k2")
    assert list((tmp_path / "kind").iterdir()) == []


# ---- verified reads and quarantine ---------------------------------------------------------------------
def _corrupt_truncate(folder: Path) -> None:
    path = folder / "result.json"
    path.write_bytes(path.read_bytes()[:5])


def _corrupt_same_size(folder: Path) -> None:
    path = folder / "result.json"
    data = bytearray(path.read_bytes())
    data[2] ^= 0x01
    path.write_bytes(bytes(data))


CORRUPTIONS = {
    "truncated file": _corrupt_truncate,
    "same-size bit flip": _corrupt_same_size,
    "missing file": lambda folder: (folder / "result.json").unlink(),
    "missing manifest": lambda folder: (folder / MANIFEST_FILE).unlink(),
    "garbled manifest": lambda folder: (folder / MANIFEST_FILE).write_text("{not json"),
    "manifest of another key": lambda folder: (folder / MANIFEST_FILE).write_text(
        (folder / MANIFEST_FILE).read_text().replace('"key": "k"', '"key": "other"')
    ),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_artifact_is_quarantined_with_one_warning(
    tmp_path: Path, corruption: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ArtifactStore(tmp_path)
    store.write_json("kind", "k", {"value": 12345})
    CORRUPTIONS[corruption](store.path("kind", "k"))
    store_module._VERIFIED.clear()  # as in a fresh process: SHA-256 sums are checked once per process
    with caplog.at_level(logging.WARNING, logger="jtask2vec.store.artifacts"):
        assert store.open("kind", "k") is None
        assert not store.exists("kind", "k")  # and it stays absent, no second warning
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "kind/k" in message and ".quarantine" in message
    moved = list((tmp_path / ".quarantine").iterdir())
    assert len(moved) == 1 and moved[0].name.startswith("kind-k-")
    assert not store.path("kind", "k").exists()
    assert [e["event"] for e in read_events(tmp_path)] == ["publish", "quarantine"]
    store.write_json("kind", "k", {"value": 12345})  # recomputed: published again in its place
    assert store.read_json("kind", "k") == {"value": 12345}


def test_sizes_are_checked_on_every_read_and_sums_once_per_process(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.write_json("kind", "k", {"value": 1})
    assert store.open("kind", "k") is not None
    _corrupt_same_size(store.path("kind", "k"))
    assert store.open("kind", "k") is not None  # sums were checked at publication in this process
    _corrupt_truncate(store.path("kind", "k"))
    assert store.open("kind", "k") is None  # a size change is caught at once


def test_read_json_of_absent_artifact_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no artifact kind/nope"):
        ArtifactStore(tmp_path).read_json("kind", "nope")


# ---- concurrent publication --------------------------------------------------------------------------
def test_losing_publisher_keeps_the_winner(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with store.staging("kind", "same") as stage:
        atomic_write_json(stage / "result.json", {"v": "second"})
        store.write_json("kind", "same", {"v": "first"})  # another writer publishes first
    assert store.read_json("kind", "same") == {"v": "first"}
    assert [p.name for p in (tmp_path / "kind").iterdir()] == ["same"]
    assert [e["event"] for e in read_events(tmp_path)] == ["publish", "publish-lost-race"]


def test_publisher_replaces_a_corrupt_winner(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with store.staging("kind", "same") as stage:
        atomic_write_json(stage / "result.json", {"v": "good"})
        store.path("kind", "same").mkdir(parents=True)
        (store.path("kind", "same") / "junk").write_text("no manifest")
    assert store.read_json("kind", "same") == {"v": "good"}
    assert len(list((tmp_path / ".quarantine").iterdir())) == 1


# ---- debris of dead processes ------------------------------------------------------------------------
def test_clean_staging_removes_only_debris_of_dead_processes(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, stale_seconds=60)
    store.write_json("kind", "done", {"v": 1})
    dead, me = dead_owner(), Owner.me()
    folder = tmp_path / "kind"
    dead_stage = folder / f".staging-aa.{dead.token}.0000"
    reused_pid = folder / f".staging-bb.{me.pid}.{me.start + 1}.{me.host}.0000"  # same pid, other start
    live_stage = folder / f".staging-cc.{me.token}.0000"
    remote_fresh = folder / f".staging-dd.{me.pid}.{me.start}.otherhst.0000"
    remote_old = folder / f".staging-ee.{me.pid}.{me.start}.otherhst.0000"
    dead_lock, live_lock = folder / ".lock-aa", folder / ".lock-cc"
    for stage in (dead_stage, reused_pid, live_stage, remote_fresh, remote_old):
        stage.mkdir()
    dead_lock.write_text(json.dumps(dead.to_dict()))  # a lock file nobody holds: debris, whoever it names
    os.utime(remote_old, (time.time() - 3600, time.time() - 3600))
    with store.claim("kind", "cc"):  # a held claim stays
        assert store.clean_staging() == 4
        left = sorted(p.name for p in folder.iterdir())
    assert left == sorted(["done", live_stage.name, remote_fresh.name, live_lock.name])
    assert store.read_json("kind", "done") == {"v": 1}


# ---- claims between real processes ---------------------------------------------------------------------
HOLD_CLAIM = """
    import sys, time
    from pathlib import Path
    from jtask2vec.store.artifacts import ArtifactStore
    store = ArtifactStore(sys.argv[1] if len(sys.argv) > 1 else {root!r})
    with store.claim("kind", "k"):
        Path({flag!r}).write_text("held")
        time.sleep({hold})
"""


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_claim_waits_for_a_live_owner_then_gets_it(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    flag = tmp_path / "held"
    child = python(HOLD_CLAIM.format(root=str(store.root), flag=str(flag), hold=1.5))
    _wait_for(flag)
    polls: list[Owner | None] = []
    started = time.monotonic()
    with store.claim("kind", "k", poll=0.05, on_wait=polls.append):
        waited = time.monotonic() - started
    assert child.wait() == 0
    assert waited > 0.5 and polls and polls[0] is not None and polls[0].pid == child.pid
    assert not (tmp_path / "store" / "kind" / ".lock-k").exists()
    events = [(e["event"], e["pid"]) for e in read_events(store.root)]
    child_pid, my_pid = str(child.pid), str(os.getpid())
    # we got the claim only after the owner released it
    assert events == [
        ("claim", child_pid),
        ("wait", my_pid),
        ("release", child_pid),
        ("claim", my_pid),
        ("release", my_pid),
    ]


def test_claim_times_out_while_the_owner_lives(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    flag = tmp_path / "held"
    child = python(HOLD_CLAIM.format(root=str(store.root), flag=str(flag), hold=30))
    try:
        _wait_for(flag)
        with (
            pytest.raises(StoreError, match=f"claimed by .*pid={child.pid}"),
            store.claim("kind", "k", timeout=0.3, poll=0.05),
        ):
            pass
    finally:
        child.kill()
        child.wait()


def test_claim_of_a_killed_process_is_broken(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    flag = tmp_path / "held"
    child = python(
        HOLD_CLAIM.format(root=str(store.root), flag=str(flag), hold=0), JTASK2VEC_FAULT="claimed:1"
    )
    assert child.wait() == -9  # SIGKILLed holding the claim
    assert (store.root / "kind" / ".lock-k").exists() and not flag.exists()
    with store.claim("kind", "k", timeout=5):
        pass
    assert [e["event"] for e in read_events(store.root)][-3:] == ["break-stale-claim", "claim", "release"]
    assert list((store.root / "kind").iterdir()) == []


GET_OR_CREATE = """
    import os, sys, time
    from pathlib import Path
    from jtask2vec.store.artifacts import ArtifactStore
    root, log = sys.argv[1], Path(sys.argv[2])
    def build(stage):
        with open(log, "a") as fh:
            fh.write(f"{{os.getpid()}}\\n")
        time.sleep(1.0)
        (stage / "value.txt").write_text("made once")
    folder = ArtifactStore(root).get_or_create("kind", "k", build)
    print((folder / "value.txt").read_text())
"""


def test_two_processes_get_or_create_build_once(tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    code = textwrap.dedent(GET_OR_CREATE)
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "store"), str(log)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs == ["made once\n", "made once\n"]
    assert len(log.read_text().splitlines()) == 1
    events = [e["event"] for e in read_events(tmp_path / "store")]
    assert events.count("publish") == 1 and events.count("claim") >= 1
    assert sorted(p.name for p in (tmp_path / "store" / "kind").iterdir()) == ["k"]


# ---- atomic single files -----------------------------------------------------------------------------
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


def test_files_and_folders_are_fsynced_before_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to name file descriptors")
    monkeypatch.setattr(os, "fsync", spy)
    store = ArtifactStore(tmp_path)
    with store.staging("kind", "k") as stage:
        (stage / "data.bin").write_bytes(b"x" * 100)
    names = [Path(p).name for p in synced]
    assert "data.bin" in names and MANIFEST_FILE in names
    assert any(n.startswith(".staging-k.") for n in names)  # the staging folder's entries
    assert names[-1] == "kind"  # the parent, after the rename
    synced.clear()
    atomic_write_json(tmp_path / "out" / "r.json", {"a": 1})
    assert [Path(p).name for p in synced][-1] == "out"
