"""Saving and loading fine-tuned classifiers: safetensors + JSON, never pickles.

A checkpoint folder holds

- the encoder, written by ``save_pretrained`` (``config.json`` + ``model.safetensors``), so the folder is
  also a plain Hugging Face model folder (``load_probe(folder)`` and ``AutoModel`` load it);
- the tokenizer files (``tokenizer.json`` ...);
- ``head.safetensors``: the linear head, ``head.weight`` (num_labels, hidden) and ``head.bias`` (num_labels,);
- ``meta.json``: ``{"pooling", "num_labels", "head_dropout", ...}`` plus whatever the caller adds.

A *delta* checkpoint (``omit`` = parameters fine-tuning did not change, e.g. frozen word embeddings) holds
instead ``config.json`` + ``delta.safetensors`` (every other encoder tensor) and no tokenizer; its
``meta.json`` records the omitted names and the base probe's weights fingerprint, and it loads only on top
of that probe (``load_classifier(folder, base=probe)``). A me5-small fine-tune with frozen word
embeddings stores 21.5M of its 117.5M parameters (about 86 MB instead of 470 MB).

The file format only: the caller names the folder (the ``finetune`` stage writes into a store staging
folder and opens stored ones; :mod:`jtask2vec.jobs.stages`). May import: modeling, probes, errors and the
store's atomic file helpers, never the store itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from jtask2vec.errors import ProbeError
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.probes import Probe, quiet_hf_progress
from jtask2vec.store.artifacts import atomic_write_json

HEAD_FILE = "head.safetensors"
META_FILE = "meta.json"
DELTA_FILE = "delta.safetensors"
OMITTED = "omitted_parameters"
BASE = "base_probe_fingerprint"


def save_classifier(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    folder: str | Path,
    meta: dict[str, Any],
    *,
    omit: Sequence[str] = (),
    base_fingerprint: str | None = None,
) -> Path:
    """Write ``model`` and ``tokenizer`` to ``folder`` (created if needed) and return it.

    ``meta`` is stored in ``meta.json`` beside the architecture facts needed to rebuild the classifier
    (those win over same-named keys of ``meta``). Write into a staging folder (``ArtifactStore.staging``)
    for atomicity. ``omit``: encoder tensors left out (a delta checkpoint on top of the probe whose
    weights fingerprint is ``base_fingerprint``; the tokenizer is then the probe's and is not written).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    facts: dict[str, Any] = {
        "pooling": model.pooling,
        "num_labels": int(model.head.out_features),
        "head_dropout": float(model.dropout.p),
        "hidden_size": int(model.head.in_features),
    }
    if omit:
        if base_fingerprint is None:
            raise ValueError("a delta checkpoint (omit) needs the base probe's fingerprint")
        state = model.encoder.state_dict()
        unknown = sorted(set(omit) - set(state))
        if unknown:
            raise ValueError(f"cannot omit {unknown}: not tensors of the encoder")
        kept = {k: v.detach().cpu().contiguous() for k, v in state.items() if k not in set(omit)}
        save_file(kept, str(folder / DELTA_FILE), metadata={"format": "pt"})
        model.encoder.config.to_json_file(str(folder / "config.json"))
        facts |= {OMITTED: sorted(omit), BASE: base_fingerprint}
    else:
        with quiet_hf_progress():
            model.encoder.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
    head = {k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}
    save_file({f"head.{k}": v for k, v in head.items()}, str(folder / HEAD_FILE), metadata={"format": "pt"})
    atomic_write_json(folder / META_FILE, {**meta, **facts})
    return folder


def load_classifier(
    folder: str | Path, base: Probe | None = None
) -> tuple[EncoderClassifier, PreTrainedTokenizerBase, dict[str, Any]]:
    """Rebuild a classifier written by :func:`save_classifier`; returned in eval mode, on the CPU.

    A delta checkpoint needs ``base``, the probe it was fine-tuned from (its fingerprint is checked); the
    omitted tensors and the tokenizer are the probe's. The global torch RNG is left untouched (the head's
    throw-away initialisation runs in a forked RNG).
    """
    from jtask2vec.model.probes import load_encoder

    folder = Path(folder)
    for required in (META_FILE, HEAD_FILE, "config.json"):
        if not (folder / required).is_file():
            raise ProbeError(f"{folder}: not a fine-tuned classifier folder (missing {required})")
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    omitted = list(meta.get(OMITTED, []))
    with torch.random.fork_rng(devices=[]), quiet_hf_progress():
        encoder = _delta_encoder(folder, meta, omitted, base) if omitted else load_encoder(folder)
        model = EncoderClassifier(
            encoder, pooling=meta["pooling"], num_labels=int(meta["num_labels"]), dropout=meta["head_dropout"]
        )
    head = load_file(str(folder / HEAD_FILE))
    model.head.load_state_dict({k.removeprefix("head."): v for k, v in head.items()})
    if omitted:
        assert base is not None
        tokenizer = base.tokenizer
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model.eval()
    return model, tokenizer, meta


def _delta_encoder(folder: Path, meta: dict[str, Any], omitted: list[str], base: Probe | None):
    """The base probe's encoder with a delta checkpoint's tensors loaded over it."""
    if base is None:
        raise ProbeError(
            f"{folder}: a delta checkpoint (without {', '.join(omitted)}) loads only on top of its base "
            f"probe (weights fingerprint {meta[BASE]}); pass the probe"
        )
    if base.fingerprint != meta[BASE]:
        raise ProbeError(
            f"{folder}: fine-tuned from the probe with weights fingerprint {meta[BASE]}, "
            f"not {base.fingerprint} ({base.name})"
        )
    # the omitted (frozen) word embeddings are the probe's: shared, not copied (training that would write
    # them gives the encoder its own copy first, jtask2vec.model.probes.own_word_embeddings)
    encoder = base.fresh_encoder(share_word_embeddings=set(base.word_embedding_names()) <= set(omitted))
    missing, unexpected = encoder.load_state_dict(load_file(str(folder / DELTA_FILE)), strict=False)
    if sorted(missing) != sorted(omitted) or unexpected:
        raise ProbeError(
            f"{folder}: delta checkpoint does not fit the probe (missing {sorted(missing)}, "
            f"expected {sorted(omitted)}; unexpected {sorted(unexpected)})"
        )
    return encoder
