"""Synthetic, learnable binary tasks for tests and demos (no corpus needed).

Texts are short Japanese-like sentences built only from characters in the ``tiny-random-bert`` vocabulary
(ASCII, hiragana, katakana, a little punctuation and ~50 kanji), so every character has its own token.

A *style* fixes the vocabulary: the neutral subject words, the two keyword sets that carry the label, and
the filler words. Tasks made with the same style are closely related (same vocabulary, same rule); tasks
of different styles share little. The *signal* fixes how the label shows in the text:

- ``"keyword"``: the sentence contains a word of the label's keyword set (``positive``/``negative``);
- ``"topic"``: the subject words come from one of two topic sets (``topic_a``/``topic_b``), the sentiment
  keyword is random;
- ``"length"``: label 1 texts have three to five more filler words than label 0 texts;
- ``"none"``: labels are coin flips, independent of the text (an unlearnable control).

A fraction ``noise`` of labels is flipped at random after the texts are made, so the Bayes accuracy is about
``1 - noise``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from jtask2vec.errors import ConfigError
from jtask2vec.tasks.base import Provenance, Task
from jtask2vec.tasks.loading import LoadedData, register_loader
from jtask2vec.tasks.splits import stratified_split

Signal = Literal["keyword", "topic", "length", "none"]


@dataclass(frozen=True)
class SyntheticStyle:
    """The vocabulary of one family of synthetic tasks."""

    name: str
    subjects: tuple[str, ...]  # neutral subjects (used by "keyword", "length", "none")
    positive: tuple[str, ...]  # label 1 keywords under signal="keyword"
    negative: tuple[str, ...]  # label 0 keywords under signal="keyword"
    topic_a: tuple[str, ...]  # label 0 subjects under signal="topic"
    topic_b: tuple[str, ...]  # label 1 subjects under signal="topic"
    fillers: tuple[str, ...]
    endings: tuple[str, ...]
    label_names: tuple[str, str] = ("negative", "positive")
    topic_label_names: tuple[str, str] = ("topic-a", "topic-b")


STYLES: dict[str, SyntheticStyle] = {
    "hotel": SyntheticStyle(
        name="hotel",
        subjects=("部屋", "朝食", "風呂", "宿", "駅から", "夕食", "家で"),
        positive=("良い", "美味しい", "安い", "新しい", "好き"),
        negative=("悪い", "高い", "古い", "少ない", "まずい"),
        topic_a=("部屋", "風呂", "宿"),
        topic_b=("朝食", "夕食", "食事"),
        fillers=("とても", "すこし", "また", "かなり", "まあ", "今日は", "前に"),
        endings=("です。", "でした。", "とおもう。", "！"),
    ),
    "food": SyntheticStyle(
        name="food",
        subjects=("店", "ラーメン", "カレー", "パン", "コーヒー", "ケーキ"),
        positive=("うまい", "美味", "おすすめ", "さいこう", "好き"),
        negative=("まずい", "ひどい", "高すぎ", "ざんねん", "悪い"),
        topic_a=("ラーメン", "カレー", "ソバ"),
        topic_b=("ケーキ", "パン", "コーヒー"),
        fillers=("ほんとうに", "ちょっと", "やはり", "なかなか", "けっこう"),
        endings=("だ。", "だった。", "かな。", "ね！"),
    ),
    "news": SyntheticStyle(
        name="news",
        subjects=("テレビ", "カメラ", "サッカー", "ゲーム", "チーム", "スマホ"),
        positive=("上", "かち", "新しい", "にんき", "大きい"),
        negative=("下", "まけ", "古い", "少ない", "小さい"),
        topic_a=("テレビ", "カメラ", "スマホ", "パソコン"),
        topic_b=("サッカー", "チーム", "ゴール", "シュート"),
        fillers=("今年", "東日本で", "西日本で", "前年より", "今月"),
        endings=("とはっぴょう。", "になる。", "という。", "。"),
        label_names=("down", "up"),
        topic_label_names=("kaden", "sports"),
    ),
    "ascii": SyntheticStyle(
        name="ascii",
        subjects=("room", "food", "staff", "bath", "view", "bed"),
        positive=("good", "great", "nice", "clean", "love"),
        negative=("bad", "poor", "dirty", "rude", "hate"),
        topic_a=("room", "bed", "bath"),
        topic_b=("food", "menu", "lunch"),
        fillers=("very", "quite", "so", "really", "a bit"),
        endings=(".", "!", " :)", " ..."),
    ),
}


def _sentence(rng: np.random.Generator, subject: str, keyword: str, style: SyntheticStyle, extra: int) -> str:
    words = [subject]
    n_fill = int(rng.integers(0, 3)) + extra
    words.extend(style.fillers[int(rng.integers(len(style.fillers)))] for _ in range(n_fill))
    words.append(keyword)
    sep = " " if style.name == "ascii" else ""
    return sep.join(words) + style.endings[int(rng.integers(len(style.endings)))]


def make_synthetic_task(
    name: str = "synthetic",
    n: int = 200,
    seed: int = 0,
    signal: Signal = "keyword",
    style: str | SyntheticStyle = "hotel",
    noise: float = 0.1,
    positive_fraction: float = 0.5,
    dev_fraction: float = 0.1,
    test_fraction: float = 0.2,
    sentences: tuple[int, int] = (1, 2),
    stand_in_for: str | None = None,
) -> Task:
    """A learnable binary task of ``n`` short texts (see the module docstring for ``signal``/``style``).

    ``positive_fraction`` is the share of label-1 examples before noise; ``sentences`` the inclusive range
    of sentences per text (the label-carrying one plus neutral ones made with random keywords of the
    other signal). Splits are stratified by :func:`stratified_split` with the same ``seed``.
    """
    if n < 6:
        raise ValueError("a synthetic task needs n >= 6 (two classes in three splits)")
    if not 0 <= noise < 0.5:
        raise ValueError("noise must be in [0, 0.5)")
    if isinstance(style, str) and style not in STYLES:
        raise ConfigError(f"unknown synthetic style {style!r}; known: {', '.join(sorted(STYLES))}")
    if signal not in ("keyword", "topic", "length", "none"):
        raise ConfigError(f"unknown synthetic signal {signal!r}; known: keyword, topic, length, none")
    st = STYLES[style] if isinstance(style, str) else style
    rng = np.random.default_rng(seed)
    n_pos = min(max(round(n * positive_fraction), 3), n - 3)
    clean = np.array([1] * n_pos + [0] * (n - n_pos), dtype=np.int64)
    clean = clean[rng.permutation(n)]
    texts: list[str] = []
    for y in clean.tolist():
        parts: list[str] = []
        k = int(rng.integers(sentences[0], sentences[1] + 1))
        carrier = int(rng.integers(k))
        for j in range(k):
            kw_any = st.positive + st.negative
            keyword = kw_any[int(rng.integers(len(kw_any)))]
            subject = st.subjects[int(rng.integers(len(st.subjects)))]
            extra = 0
            if j == carrier:
                if signal == "keyword":
                    kws = st.positive if y == 1 else st.negative
                    keyword = kws[int(rng.integers(len(kws)))]
                elif signal == "topic":
                    tops = st.topic_b if y == 1 else st.topic_a
                    subject = tops[int(rng.integers(len(tops)))]
                elif signal == "length":
                    extra = 3 + int(rng.integers(3)) if y == 1 else 0
            elif signal == "topic":
                # Other sentences of a topic text stay on the same topic (no contradicting subjects).
                tops = st.topic_b if y == 1 else st.topic_a
                subject = tops[int(rng.integers(len(tops)))]
            parts.append(_sentence(rng, subject, keyword, st, extra))
        texts.append("".join(parts) if st.name != "ascii" else " ".join(parts))
    if signal == "none":
        labels = rng.integers(0, 2, size=n).astype(np.int64)
        if labels.sum() < 3 or labels.sum() > n - 3:
            labels = clean.copy()[rng.permutation(n)]
    else:
        flip = rng.random(n) < noise
        labels = np.where(flip, 1 - clean, clean)
    splits = stratified_split(labels, dev_fraction, test_fraction, seed)
    label_names = st.topic_label_names if signal == "topic" else st.label_names
    notes = [f"synthetic: style={st.name}, signal={signal}, noise={noise}, seed={seed}, n={n}"]
    if stand_in_for:
        notes.append(f"stand-in for the study's task {stand_in_for!r}")
    return Task(
        name=name,
        texts=tuple(texts),
        labels=labels,
        splits=tuple(splits),
        label_names=label_names,
        provenance=Provenance(
            source="jtask2vec synthetic generator (jtask2vec.tasks.synthetic)",
            licence="public domain (generated)",
            derivation=f"label carried by {signal!r} in style {st.name!r}; {noise:.0%} labels flipped",
            notes=tuple(notes),
        ),
        stand_in_for=stand_in_for,
    )


@register_loader(
    "synthetic",
    source="jtask2vec synthetic generator (no data needed)",
    derives="toy task in the tiny-random-bert vocabulary: label shown by keyword/topic/length (or none)",
    official="built in",
    needs_data_dir=False,
)
def load_synthetic(
    data_dir: object = None,
    n: int = 200,
    seed: int = 0,
    signal: str = "keyword",
    style: str = "hotel",
    noise: float = 0.1,
    positive_fraction: float = 0.5,
) -> LoadedData:
    """The texts and labels of :func:`make_synthetic_task` (``load_task`` then cuts and splits them)."""
    task = make_synthetic_task(
        n=n,
        seed=seed,
        signal=signal,
        style=style,
        noise=noise,
        positive_fraction=positive_fraction,  # type: ignore[arg-type]
    )
    return LoadedData(
        texts=list(task.texts),
        labels=task.labels,
        label_names=task.label_names,
        source=task.provenance.source,
        licence=task.provenance.licence,
        derivation=task.provenance.derivation,
        files=(),
        main_file="<synthetic>",
        notes=list(task.provenance.notes),
    )
