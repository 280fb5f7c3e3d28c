"""Device selection: CPU everywhere here; a GPU when present. The device never changes a cache key."""

from __future__ import annotations

import pytest
import torch

from jtask2vec.config import TrainingConfig
from jtask2vec.errors import ConfigError
from jtask2vec.jobs.keys import finetune_key
from jtask2vec.jobs.stages import finetune
from jtask2vec.model.device import resolve_device
from jtask2vec.tasks import make_synthetic_task


def test_auto_is_cpu_without_a_gpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match="device 'toaster'"):
        resolve_device("toaster")


def test_device_is_not_part_of_the_result(tiny_probe) -> None:
    task = make_synthetic_task(n=60, seed=0)
    config = TrainingConfig(epochs=1, batch_size=16)
    a = finetune(task, tiny_probe, config, seed=0, progress=False, device="cpu")
    b = finetune(task, tiny_probe, config, seed=0, progress=False, device=torch.device("cpu"))
    assert a.accuracy == b.accuracy and a.checkpoint_key == b.checkpoint_key
    assert a.checkpoint_key == finetune_key(task, tiny_probe, config, 0)
