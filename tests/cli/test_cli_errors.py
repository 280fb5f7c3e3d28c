"""An unexpected exception in the CLI: one stderr line naming the log file that holds the traceback, exit 1;
``--debug`` shows the traceback inline. Real subprocesses on a genuinely broken probe folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jtask2vec.cli.crash import summary_line, write_crash_log
from jtask2vec.model.probes.tiny import tiny_random_bert


@pytest.fixture(scope="module")
def broken_probe_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A suite whose probe folder has ``num_attention_heads: 0``: building the encoder divides by zero
    inside transformers (a ZeroDivisionError, not a project error)."""
    root = tmp_path_factory.mktemp("broken")
    probe = root / "probe"
    encoder, tokenizer = tiny_random_bert(seed=0)
    encoder.save_pretrained(probe)
    tokenizer.save_pretrained(probe)
    config = json.loads((probe / "config.json").read_text(encoding="utf-8"))
    config["num_attention_heads"] = 0
    (probe / "config.json").write_text(json.dumps(config), encoding="utf-8")
    suite = {
        "name": "broken-probe",
        "tasks": [
            {"name": "a", "loader": "synthetic", "options": {"n": 40, "seed": 1, "style": "hotel"}},
            {"name": "b", "loader": "synthetic", "options": {"n": 40, "seed": 2, "style": "food"}},
        ],
        "probe": {"name": str(probe), "max_length": 16},
        "seeds": [0],
    }
    path = root / "suite.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}  # narrow terminal: the message must still be one line
    return subprocess.run(
        [sys.executable, "-m", "jtask2vec.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_unexpected_error_is_one_line_with_a_log_of_the_traceback(
    broken_probe_suite: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    done = _cli(
        "run", "--suite", str(broken_probe_suite), "--runs-dir", str(runs), "--no-progress", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("unexpected error: ZeroDivisionError: ")
    logs = list((runs / "broken-probe" / "logs").glob("error-*.log"))
    assert len(logs) == 1
    assert str(logs[0]) in lines[0]
    log = logs[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "ZeroDivisionError" in log
    assert "load_probe" in log and "command: " in log and "--suite" in log
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.slow
def test_debug_shows_the_traceback_inline(broken_probe_suite: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = _cli(
        "--debug",
        "run",
        "--suite",
        str(broken_probe_suite),
        "--runs-dir",
        str(runs),
        "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert "ZeroDivisionError" in done.stderr and "load_probe" in done.stderr
    assert not (runs / "broken-probe" / "logs").exists()


@pytest.mark.slow
def test_user_errors_stay_one_line_with_exit_2(tmp_path: Path) -> None:
    done = _cli("run", "--suite", str(tmp_path / "missing.yaml"), "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing.yaml" in lines[0]
    assert not (tmp_path / "logs").exists()


def test_crash_log_falls_back_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    try:
        raise RuntimeError("first line\nsecond line")
    except RuntimeError as exc:
        path = write_crash_log(exc, blocked / "logs")  # cannot create a folder under a file
        assert summary_line(exc) == "RuntimeError: first line"
    assert path.parent == tmp_path / "tmp" / "jtask2vec-logs"
    assert "RuntimeError" in path.read_text(encoding="utf-8")
    assert summary_line(ValueError()) == "ValueError"
