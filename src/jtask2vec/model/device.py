"""Where the computations run. The device never enters a cache key: results are the same artifact."""

from __future__ import annotations

import torch

from jtask2vec.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: the first CUDA GPU when there is one, else the CPU; or an explicit torch device string."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"device {name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but torch sees no CUDA GPU")
    return device


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device
