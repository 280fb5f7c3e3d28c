"""`tiny-random-bert`: a seeded, randomly initialised BERT with a char tokenizer, for fast tests."""

from __future__ import annotations

import torch
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from jtask2vec.model.probes.char_tokenizer import build_char_tokenizer


def _tiny_charset() -> list[str]:
    ascii_chars = [chr(c) for c in range(0x20, 0x7F)]
    hiragana = [chr(c) for c in range(0x3041, 0x3097)]
    katakana = [chr(c) for c in range(0x30A1, 0x30FB)] + ["ー"]
    punct = list("、。「」『』（）！？・：")
    kanji = list("日本人大中小上下前後左右東西南北年月時分今好悪良美味安高低新古多少家店駅宿部屋朝夕食事風呂")
    return ascii_chars + hiragana + katakana + punct + kanji


def tiny_random_bert(
    seed: int = 0,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 64,
    max_position_embeddings: int = 256,
) -> tuple[BertModel, PreTrainedTokenizerFast]:
    """A BertModel drawn from ``torch.manual_seed(seed)`` and its [CLS]/[SEP] char tokenizer."""
    tokenizer = build_char_tokenizer(
        _tiny_charset(),
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_position_embeddings,
    )
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    return model, tokenizer
