"""Fault injection with real `jtask2vec run` processes: SIGKILL at named points, two runs at once on one
store, and corrupted artifacts of every kind. Each ends with the final tables of an uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_pipeline import TINY_SUITE

from jtask2vec.store.manifest import MANIFEST_FILE, read_events

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"
SUITE = {
    **TINY_SUITE,
    "name": "faults",
    "tasks": [{**t, "options": {**t["options"], "n": 80}} for t in TINY_SUITE["tasks"]],
    "training": {**TINY_SUITE["training"], "epochs": 1},
    "fisher": {"max_examples": 16, "batch_size": 8},
    "evaluation": {"bootstrap_samples": 100},
    "seeds": [0],
    # one process per run: the kills and the claims below are the run's own (worker processes are
    # covered by tests/jobs/test_parallel.py)
    "executor": {"workers": 1},
}
TABLES = ("evaluation.csv", "transfer.csv", "finetune.csv", "distances.csv", "scores.csv")
TIMINGS = ("train_seconds", "examples_per_second")  # wall times differ between runs, nothing else may


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "faults.yaml"
    path.write_text(yaml.safe_dump(SUITE, allow_unicode=True), encoding="utf-8")
    return path


def start_run(suite_file: Path, runs: Path, fault: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("JTASK2VEC_FAULT", None)
    if fault is not None:
        env["JTASK2VEC_FAULT"] = fault
    command = [sys.executable, "-m", "jtask2vec", "run", "--suite", str(suite_file)]
    return subprocess.Popen(
        [*command, "--runs-dir", str(runs), "--no-progress"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_to_end(suite_file: Path, runs: Path) -> str:
    proc = start_run(suite_file, runs)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


def tables(runs: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(runs / SUITE["name"] / name).drop(columns=list(TIMINGS), errors="ignore")
        for name in TABLES
    }


def assert_same_tables(runs: Path, reference: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables(runs).items():
        pd.testing.assert_frame_equal(frame, reference[name], obj=name)


def debris(runs: Path) -> list[str]:
    store = runs / "store"
    return sorted(
        str(p.relative_to(store))
        for p in store.rglob(".*")
        if p.name.startswith((".staging-", ".lock-", ".trash-", ".quarantine"))
    )


@pytest.fixture(scope="module")
def reference(suite_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    runs = tmp_path_factory.mktemp("reference")
    run_to_end(suite_file, runs)
    return runs, tables(runs)


def test_sigkill_at_every_stage_then_rerun_gives_the_same_tables(
    suite_file: Path, reference: tuple[Path, dict], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    # each killed run dies at a different point, a little further on, leaving its own debris
    for fault in ("claimed:1", "staged:2", "publish:2", "published:3", "publish:4"):
        proc = start_run(suite_file, runs, fault)
        proc.communicate(timeout=600)
        assert proc.returncode == -signal.SIGKILL, fault
    assert debris(runs)  # staging folders and claims of the killed runs are there
    # and one killed from outside while it trains (no hook): once a fine-tune is claimed
    proc = start_run(suite_file, runs)
    deadline = time.monotonic() + 300
    while not any(e["event"] == "claim" and e["pid"] == str(proc.pid) for e in read_events(runs / "store")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)

    run_to_end(suite_file, runs)
    assert_same_tables(runs, reference[1])
    assert debris(runs) == []
    published = Counter((e["kind"], e["key"]) for e in read_events(runs / "store") if e["event"] == "publish")
    assert max(published.values()) == 1  # nothing published twice
    assert set(published) == {
        (e["kind"], e["key"]) for e in read_events(reference[0] / "store") if e["event"] == "publish"
    }


def test_two_runs_at_once_share_the_work(
    suite_file: Path, reference: tuple[Path, dict], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    procs = [start_run(suite_file, runs) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert outputs[0][0] == outputs[1][0]  # the same summary printed by both
    assert_same_tables(runs, reference[1])
    assert debris(runs) == []
    events = read_events(runs / "store")
    published = Counter((e["kind"], e["key"]) for e in events if e["event"] == "publish")
    assert published and max(published.values()) == 1  # no fine-tune (or anything) computed twice
    assert not [e for e in events if e["event"] == "publish-lost-race"]
    finetunes = [e for e in events if e["event"] == "publish" and e["kind"] == "finetune"]
    assert len(finetunes) == len(set(reference[1]["transfer.csv"]["checkpoint_key"]))
    assert {e["pid"] for e in events if e["event"] == "claim"} == {str(p.pid) for p in procs}


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _garble(path: Path) -> None:
    path.write_text("{truncated", encoding="utf-8")


def test_every_corrupted_artifact_is_quarantined_and_recomputed(
    suite_file: Path, reference: tuple[Path, dict], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(reference[0], runs)
    store = runs / "store"
    transfer = reference[1]["transfer.csv"]
    sources = list(transfer.loc[transfer["source"] == "(pretrained)", "checkpoint_key"])
    transfers = list(transfer.loc[transfer["source"] != "(pretrained)", "checkpoint_key"])

    def only(kind: str) -> list[Path]:
        return sorted(p for p in (store / kind).iterdir() if not p.name.startswith("."))

    damage = [
        (store / "finetune" / sources[0] / "model.safetensors", _truncate),
        (store / "finetune" / sources[1] / "head.safetensors", _flip),
        (store / "finetune" / sources[2] / "meta.json", _garble),
        (store / "finetune" / transfers[0] / "result.json", _flip),
        (store / "finetune" / transfers[1] / "meta.json", Path.unlink),  # a transfer keeps metrics only
        (only("embedding")[0] / "embedding.safetensors", _truncate),
        (only("embedding")[1] / "meta.json", _flip),
        (only("trivial-embedding")[0] / MANIFEST_FILE, _garble),
        (only("textemb")[0] / "vector.npy", _truncate),
        (only("textemb")[1] / MANIFEST_FILE, Path.unlink),
        (only("selector-score")[0] / "result.json", _garble),
    ]
    for path, corrupt in damage:
        corrupt(path)
    err = run_to_end(suite_file, runs)
    warnings = [line for line in err.splitlines() if "corrupt artifact" in line]
    assert len(warnings) == len(damage)
    for path, _ in damage:
        kind, key = path.parent.parent.name, path.parent.name
        assert sum(f"{kind}/{key}" in line for line in warnings) == 1, (kind, key)
        assert (store / kind / key / path.name).is_file()  # recomputed in its place
    assert len(list((store / ".quarantine").iterdir())) == len(damage)
    assert_same_tables(runs, reference[1])
