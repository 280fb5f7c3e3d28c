"""Processes that die: the workers of a `jtask2vec run` killed with SIGKILL go with it, and a Ray worker
that dies fails its own job only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from test_pipeline import TINY_SUITE
from test_scheduler import ToyJob, toy_work

from jtask2vec.jobs.scheduler import JobsFailed, run_jobs
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.store.manifest import read_events

pytestmark = pytest.mark.slow
SRC = Path(__file__).resolve().parents[2] / "src"
TESTS = Path(__file__).resolve().parent


def children(pid: int) -> set[int]:
    """The pids of the live processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_die_with_a_killed_run(tmp_path: Path) -> None:
    suite = tmp_path / "tiny.yaml"
    raw = {**TINY_SUITE, "name": "orphans", "seeds": [0], "executor": {"workers": 2}}
    suite.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "jtask2vec", "run", "--suite", str(suite), "--runs-dir", str(runs)]
    proc = subprocess.Popen(
        [*command, "--no-progress"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        workers: set[int] = set()
        while len(workers) < 2:  # both workers have claimed a job: they are at work
            assert proc.poll() is None and time.monotonic() < deadline
            events = read_events(runs / "store") if (runs / "store").is_dir() else []
            workers = {int(e["pid"]) for e in events if e["event"] == "claim"} - {proc.pid}
            time.sleep(0.1)
        everyone = children(proc.pid)
        assert workers <= everyone
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in everyone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in everyone if alive(pid)] == []  # all gone within 10 s
    finally:
        proc.kill()
        proc.wait()


def test_a_ray_worker_that_dies_fails_its_own_job_only(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from jtask2vec.jobs.executors import RayExecutor

    path = os.pathsep.join([str(SRC), str(TESTS), os.environ.get("PYTHONPATH", "")])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    try:
        store, log = ArtifactStore(tmp_path / "store"), tmp_path / "failures.log"
        graph = [
            ToyJob("slow", sleep=2.0),
            ToyJob("dies", die="kill", wait_for="slow"),
            ToyJob("after", ("dies",)),
            ToyJob("next", ("slow",)),
        ]
        with pytest.raises(JobsFailed) as caught:
            run_jobs(graph, store, lambda n: RayExecutor(toy_work, str(store.root)), failure_log=log)
        lines = str(caught.value).splitlines()
        assert "  toy dies (seed 0): its Ray worker process died (WorkerCrashedError)" in lines
        assert [j.key for j in caught.value.skipped] == ["after"]
        assert "== toy dies (seed 0): its Ray worker process died" in log.read_text(encoding="utf-8")
        published = Counter(e["key"] for e in read_events(store.root) if e["event"] == "publish")
        assert published == {"slow": 1, "next": 1}
    finally:
        ray.shutdown()
