"""Saving and loading fine-tuned classifiers: safetensors + JSON, never pickles.

A checkpoint folder holds

- the encoder, written by ``save_pretrained`` (``config.json`` + ``model.safetensors``), so the folder is
  also a plain Hugging Face model folder (``load_probe(folder)`` and ``AutoModel`` load it);
- the tokenizer files (``tokenizer.json`` ...);
- ``head.safetensors``: the linear head, ``head.weight`` (num_labels, hidden) and ``head.bias`` (num_labels,);
- ``meta.json``: ``{"pooling", "num_labels", "head_dropout", ...}`` plus whatever the caller adds.

The file format only: the caller names the folder (the ``finetune`` stage writes into a store staging
folder and opens stored ones; :mod:`jtask2vec.stages`). May import: modeling, probes, errors and the
store's atomic file helpers, never the store itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from jtask2vec.errors import ProbeError
from jtask2vec.modeling import EncoderClassifier
from jtask2vec.probes import quiet_hf_progress
from jtask2vec.store import atomic_write_json

HEAD_FILE = "head.safetensors"
META_FILE = "meta.json"


def save_classifier(
    model: EncoderClassifier, tokenizer: PreTrainedTokenizerBase, folder: str | Path, meta: dict[str, Any]
) -> Path:
    """Write ``model`` and ``tokenizer`` to ``folder`` (created if needed) and return it.

    ``meta`` is stored in ``meta.json`` beside the architecture facts needed to rebuild the classifier
    (those win over same-named keys of ``meta``). Write into a staging folder (``ArtifactStore.staging``)
    for atomicity.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with quiet_hf_progress():
        model.encoder.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    head = {k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}
    save_file({f"head.{k}": v for k, v in head.items()}, str(folder / HEAD_FILE), metadata={"format": "pt"})
    facts = {
        "pooling": model.pooling,
        "num_labels": int(model.head.out_features),
        "head_dropout": float(model.dropout.p),
        "hidden_size": int(model.head.in_features),
    }
    atomic_write_json(folder / META_FILE, {**meta, **facts})
    return folder


def load_classifier(folder: str | Path) -> tuple[EncoderClassifier, PreTrainedTokenizerBase, dict[str, Any]]:
    """Rebuild a classifier written by :func:`save_classifier`; returned in eval mode, on the CPU.

    The global torch RNG is left untouched (the head's throw-away initialisation runs in a forked RNG).
    """
    from jtask2vec.probes import load_encoder

    folder = Path(folder)
    for required in (META_FILE, HEAD_FILE, "config.json"):
        if not (folder / required).is_file():
            raise ProbeError(f"{folder}: not a fine-tuned classifier folder (missing {required})")
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    with torch.random.fork_rng(devices=[]), quiet_hf_progress():
        encoder = load_encoder(folder)
        model = EncoderClassifier(
            encoder, pooling=meta["pooling"], num_labels=int(meta["num_labels"]), dropout=meta["head_dropout"]
        )
    head = load_file(str(folder / HEAD_FILE))
    model.head.load_state_dict({k.removeprefix("head."): v for k, v in head.items()})
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model.eval()
    return model, tokenizer, meta
