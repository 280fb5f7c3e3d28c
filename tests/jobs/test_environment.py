"""The run's environment records the device the suite resolved to, the CPU and the library builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from jtask2vec.config import load_suite
from jtask2vec.jobs.environment import cpu_model, describe_environment, run_environment
from jtask2vec.pipeline import Pipeline


def test_cpu_run_records_the_resolved_device(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 'auto' resolves to CUDA")
    pipeline = Pipeline(load_suite("demo", {"device": "auto"}), tmp_path)
    env = run_environment(12.34, pipeline.device)
    assert env["device"] == "cpu"
    assert "gpu" not in env and "cudnn" not in env
    assert env["wall_seconds"] == 12.3
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert env["torch_threads"] == torch.get_num_threads()
    assert env["torch_interop_threads"] == torch.get_num_interop_threads()
    assert env["torch"] == torch.__version__
    assert isinstance(env["cpu"], str) and env["cpu"]
    assert env["versions"]["torch"]  # type: ignore[index]


def test_a_cuda_device_records_the_gpu_its_capability_and_cuda_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake CUDA machine: the suite resolves to cuda:1 and the GPU fields come from torch.cuda."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"NVIDIA Fake H200 #{i}")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i: (9, 0))
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 90100)
    pipeline = Pipeline(load_suite("demo", {"device": "cuda:1"}), tmp_path)
    env = run_environment(1.0, pipeline.device)
    assert env["device"] == "cuda:1"
    assert env["gpu"] == "NVIDIA Fake H200 #1"
    assert env["gpu_capability"] == "9.0"
    assert env["cuda"] == "12.8" and env["torch_cuda_build"] == "12.8"
    assert env["cudnn"] == 90100


def test_plain_cuda_uses_the_current_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"gpu{i}")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i: (8, 6))
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: None)
    env = describe_environment(torch.device("cuda"), workers=4)
    assert (env["gpu"], env["gpu_capability"], env["workers"]) == ("gpu3", "8.6", 4)


def test_cpu_model_from_cpuinfo_and_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: X\nmodel name\t: Example CPU @ 3.0GHz\n", encoding="utf-8")
    assert cpu_model(info) == "Example CPU @ 3.0GHz"
    monkeypatch.setattr("platform.processor", lambda: "arm64")
    assert cpu_model(tmp_path / "absent") == "arm64"
    monkeypatch.setattr("platform.processor", lambda: "")
    monkeypatch.setattr("platform.machine", lambda: "riscv64")
    assert cpu_model(tmp_path / "absent") == "riscv64"
