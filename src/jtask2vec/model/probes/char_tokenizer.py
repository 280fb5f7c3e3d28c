"""Character-level fast tokenizers: one token per character, as the offline probes were trained.

Built with the `tokenizers` library and wrapped in a standard `PreTrainedTokenizerFast`, so they save to
``tokenizer.json`` and load with ``AutoTokenizer`` like any hub tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

KANJI_CLASS = "\u4e00-\u9fff\u3400-\u4dbf"
UNKNOWN_KANJI_PLACEHOLDER = "\ue000"  # private-use character that stands for "a kanji not in the vocabulary"


def build_char_tokenizer(
    chars: Sequence[str],
    *,
    pad_token: str = "[PAD]",
    unk_token: str = "[UNK]",
    unknown_kanji_token: str | None = None,
    cls_token: str | None = None,
    sep_token: str | None = None,
    mask_token: str | None = None,
    leading_specials: Sequence[str] | None = None,
    model_max_length: int = 512,
    token_type_ids: bool = True,
) -> PreTrainedTokenizerFast:
    """A char-level tokenizer whose ids are ``leading_specials`` then ``chars`` in order.

    ``leading_specials`` defaults to the special tokens given, in the order pad, unknown-kanji, unk, cls,
    sep, mask. With ``unknown_kanji_token``, a kanji missing from ``chars`` maps to that token instead of
    ``unk_token`` (the convention of the unidic-lite imitator). Special tokens not in ``leading_specials``
    get the ids after the characters.

    Templates: with ``cls_token`` and ``sep_token``, a single text is ``[CLS] a [SEP]`` and a pair
    ``[CLS] a [SEP] b [SEP]``; with ``sep_token`` alone (a model without [CLS], like the imitator), a
    single text is ``a`` and a pair ``a [SEP] b``. In a pair, the tokens of ``b`` (and the [SEP] after
    it) have token type 1. ``token_type_ids``: return token types (for models with a token-type
    embedding, e.g. BERT and ALBERT).
    """
    if leading_specials is None:
        leading_specials = [
            t for t in (pad_token, unknown_kanji_token, unk_token, cls_token, sep_token, mask_token) if t
        ]
    vocab: dict[str, int] = {}
    for token in [*leading_specials, *chars]:
        if token in vocab:
            raise ValueError(f"duplicate token {token!r} in the character vocabulary")
        vocab[token] = len(vocab)
    for token in (pad_token, unknown_kanji_token, unk_token, cls_token, sep_token, mask_token):
        if token and token not in vocab:
            vocab[token] = len(vocab)
    if unknown_kanji_token is not None:
        vocab[UNKNOWN_KANJI_PLACEHOLDER] = vocab.pop(unknown_kanji_token)

    tok = Tokenizer(models.WordLevel(vocab, unk_token=unk_token))
    steps = [normalizers.Replace(Regex(r"[\r\n\t\u3000]"), " ")]
    if unknown_kanji_token is not None:
        known_kanji = "".join(re.escape(c) for c in chars if re.fullmatch(f"[{KANJI_CLASS}]", c))
        pattern = f"[{KANJI_CLASS}&&[^{known_kanji}]]" if known_kanji else f"[{KANJI_CLASS}]"
        steps.append(normalizers.Replace(Regex(pattern), UNKNOWN_KANJI_PLACEHOLDER))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    if cls_token and sep_token:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls_token} $A {sep_token}",
            pair=f"{cls_token} $A {sep_token} $B:1 {sep_token}:1",
            special_tokens=[(cls_token, vocab[cls_token]), (sep_token, vocab[sep_token])],
        )
    elif sep_token:
        tok.post_processor = processors.TemplateProcessing(
            single="$A", pair=f"$A {sep_token} $B:1", special_tokens=[(sep_token, vocab[sep_token])]
        )
    specials = {"pad_token": pad_token, "unk_token": unk_token}
    if cls_token:
        specials["cls_token"] = cls_token
    if sep_token:
        specials["sep_token"] = sep_token
    if mask_token:
        specials["mask_token"] = mask_token
    inputs = ["input_ids", "token_type_ids", "attention_mask"] if token_type_ids else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=model_max_length,
        **({"model_input_names": inputs} if inputs else {}),
        **specials,
    )
