"""Saving and loading a :class:`~jtask2vec.fisher.embedding.TaskEmbedding` folder (the file format, no store).

A folder holds ``embedding.safetensors`` (``vector`` and ``layer/<key>`` tensors, float64), ``meta.json``
(estimator, scope, reduction, probe, task data hash, number of examples, seed, ...), and with
``FisherConfig.save_raw`` also ``fisher.safetensors`` (the raw per-parameter diagonal Fisher). The stages
write one into a store staging folder; a zoo copies them. May import: embedding, errors, store's atomic
file helpers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file as load_torch
from safetensors.torch import save_file as save_torch

from jtask2vec.errors import DataError
from jtask2vec.fisher.embedding import TaskEmbedding

VECTOR_FILE = "embedding.safetensors"
META_FILE = "meta.json"
RAW_FILE = "fisher.safetensors"


def save_embedding(embedding: TaskEmbedding, folder: str | Path) -> Path:
    """Write ``embedding`` into ``folder`` (created if needed) and return it."""
    from jtask2vec.store.artifacts import atomic_write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"vector": np.ascontiguousarray(embedding.vector, dtype=np.float64)}
    arrays.update(
        {f"layer/{k}": np.ascontiguousarray(v, dtype=np.float64) for k, v in embedding.layers.items()}
    )
    save_numpy(arrays, str(folder / VECTOR_FILE))
    if embedding.raw is not None:
        save_torch({k: v.contiguous() for k, v in embedding.raw.items()}, str(folder / RAW_FILE))
    atomic_write_json(folder / META_FILE, embedding.meta)
    return folder


def load_embedding(folder: str | Path) -> TaskEmbedding:
    """The embedding saved in ``folder`` by :func:`save_embedding`."""
    folder = Path(folder)
    path = folder / VECTOR_FILE
    if not path.is_file() or not (folder / META_FILE).is_file():
        raise DataError(
            "not a task embedding folder (missing embedding.safetensors or meta.json)", path=folder
        )
    arrays = load_numpy(str(path))
    layers = {k.removeprefix("layer/"): v for k, v in arrays.items() if k.startswith("layer/")}
    raw = load_torch(str(folder / RAW_FILE)) if (folder / RAW_FILE).is_file() else None
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    return TaskEmbedding(vector=arrays["vector"], layers=layers, meta=meta, raw=raw)
