"""Long work speaks without a terminal, and Ctrl-C is one line (issue 20, item 5): a run whose output goes to
a file prints a progress line with done/total and an ETA every period; SIGINT to the process group (as
Ctrl-C sends it) prints "interrupted; ..." alone, exits 130, and leaves no worker running; a --workers
above the core count warns. Real subprocesses (a patch would not reach the workers)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

import jtask2vec
from jtask2vec.jobs.progress import OverallProgress, plain_lines

SUITE = """\
name: slow
probe: {name: tiny-random-bert, max_length: 16}
tasks:
  - synthetic: {name: a, n: 12000, seed: 1, style: hotel}
  - synthetic: {name: b, n: 12000, seed: 2, style: food}
seeds: [0, 1]
"""


def test_plain_lines_report_done_total_and_eta_on_a_timer() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80)
    tracker = OverallProgress(None, console)
    with plain_lines(tracker, console, interval=0.05):
        tracker.plan_jobs("fine-tune", 4)
        time.sleep(0.2)
        tracker.job_done("fine-tune", "a")
        time.sleep(0.2)
        for _ in range(3):
            tracker.job_done("fine-tune", "b")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("progress: 0/4 jobs done (fine-tune 0/4);") and "eta unknown" in lines[0]
    assert any(
        re.match(r"progress: 1/4 jobs done \(fine-tune 1/4\); \d+s elapsed, eta \d+s$", x) for x in lines
    )
    assert re.match(r"progress: 4/4 jobs done \(fine-tune 4/4\) in \d+s$", lines[-1])


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    suite = tmp_path / "slow.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    src = str(Path(jtask2vec.__file__).resolve().parents[1])  # this checkout, whatever the cwd
    env = {**os.environ, "JTASK2VEC_PROGRESS_SECONDS": "1", "COLUMNS": "80", "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "jtask2vec", "run", "--suite", str(suite)]
    command += ["--runs-dir", str(tmp_path / "runs"), *args]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )


def _group_alive(pgid: int) -> list[str]:
    listing = subprocess.run(["ps", "-o", "pid=,args=", "-g", str(pgid)], capture_output=True, text=True)
    return [line for line in listing.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_ctrl_c_prints_one_line_exits_130_and_stops_the_workers(tmp_path: Path) -> None:
    process = _start(tmp_path, "--workers", "2")
    try:
        first = process.stderr.readline()  # the first progress line: jobs are running
        assert first.startswith("progress: 0/"), first
        os.killpg(process.pid, signal.SIGINT)
        interrupted = time.monotonic()
        rest: list[str] = []
        reader = threading.Thread(target=lambda: rest.extend(process.stderr), daemon=True)
        reader.start()
        assert process.wait(timeout=300) == 130
        assert time.monotonic() - interrupted < 60, (
            "a fine-tune here takes minutes: Ctrl-C must not wait for it"
        )
        reader.join(timeout=30)
        messages = [line for line in rest if not line.startswith("progress:")]
        assert messages == ["interrupted; finished jobs are stored; run the same command to resume\n"]
        deadline = time.monotonic() + 10
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _group_alive(process.pid), _group_alive(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_more_workers_than_cores_warns(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jtask2vec.cli import app
    from jtask2vec.jobs.executors import available_cores

    suite = tmp_path / "slow.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    many = str(available_cores() + 1)
    result = CliRunner().invoke(app, ["report", "--suite", str(suite), "--set", f"executor.workers={many}"])
    assert (
        f"warning: --set executor.workers={many}: {many} worker processes on {available_cores()}"
        in result.output
    )
    assert "--workers auto starts one per core" in result.output
    enough = CliRunner().invoke(app, ["report", "--suite", str(suite), "--set", "executor.workers=1"])
    assert "warning" not in enough.output
