"""The loaders on the real corpora: the counts each SOURCE.md records (skipped when the data are absent)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from jtask2vec.tasks import SPLITS, load_task, task_spec
from jtask2vec.tasks.registry import get_loader

pytestmark = pytest.mark.realdata


def _no_text_in_two_splits(task) -> None:
    where: dict[str, set[str]] = {}
    for t, s in zip(task.texts, task.splits, strict=True):
        where.setdefault(t, set()).add(s)
    assert all(len(v) == 1 for v in where.values())


def test_chabsa_2813(shared_data_dir: Path) -> None:
    task = load_task(task_spec("chabsa"), shared_data_dir)
    assert len(task) == 2813 and task.class_counts() == {"negative": 1143, "positive": 1670}
    assert sum(c - 1 for c in Counter(task.texts).values()) == 6
    assert all("\n" not in t for t in task.texts)
    _no_text_in_two_splits(task)
    assert len(load_task(task_spec("chabsa", dedupe=True), shared_data_dir)) == 2807
    strict = load_task(task_spec("chabsa", rule="unanimous"), shared_data_dir)
    assert strict.class_counts() == {"negative": 933, "positive": 1397}


def test_jrte_pn_4224_and_corpus_split(shared_data_dir: Path) -> None:
    task = load_task(task_spec("jrte-pn"), shared_data_dir)
    assert len(task) == 4224 and task.class_counts() == {"negative": 818, "positive": 3406}
    corpus = load_task(task_spec("jrte-pn", split={"use_corpus_split": True}), shared_data_dir)
    assert corpus.split_sizes() == {"train": 2959, "dev": 851, "test": 414}
    assert corpus.class_counts("test") == {"negative": 78, "positive": 336}
    assert len(load_task(task_spec("jrte-pn", unanimous=True), shared_data_dir)) == 3437


def test_jrte_rhr_5553_and_shared_test_set(shared_data_dir: Path) -> None:
    task = load_task(task_spec("jrte-rhr"), shared_data_dir)
    assert len(task) == 5553 and task.class_counts() == {"not-reputation": 2069, "reputation": 3484}
    rhr = load_task(
        task_spec("jrte-rhr", split={"use_corpus_split": True}, corpus_dev="trainval"), shared_data_dir
    )
    pn = load_task(
        task_spec("jrte-pn", split={"use_corpus_split": True}, corpus_dev="trainval"), shared_data_dir
    )
    rhr_test = set(rhr.texts_of("test"))
    assert len(rhr_test) == 553
    assert set(pn.texts_of("test")) <= rhr_test
    assert not (set(pn.texts_of("train")) | set(pn.texts_of("dev"))) & rhr_test


def test_livedoor_1764(shared_data_dir: Path) -> None:
    task = load_task(task_spec("livedoor"), shared_data_dir)
    assert len(task) == 1764 and task.class_counts() == {"kaden-channel": 864, "sports-watch": 900}
    assert not any(t.startswith("http") for t in task.texts)
    other = load_task(
        task_spec("livedoor", categories="dokujo-tsushin,topic-news", text="body"), shared_data_dir
    )
    assert other.class_counts() == {"dokujo-tsushin": 870, "topic-news": 770}
    _no_text_in_two_splits(other)  # the 3 identical-body pairs stay together


def test_three_disjoint_jrte_stand_ins(shared_data_dir: Path) -> None:
    parts = [
        load_task(
            task_spec("jrte-pn", partition={"parts": 3, "index": k}, max_examples=1000), shared_data_dir
        )
        for k in range(3)
    ]
    assert [len(p) for p in parts] == [1000, 1000, 1000]
    sets = [set(p.texts) for p in parts]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    for p in parts:
        assert abs(float(np.mean(p.labels)) - 3406 / 4224) < 0.01
        assert all(min(p.class_counts(s).values()) > 0 for s in SPLITS)


# ---- the zoo's corpora (counts of each folder's SOURCE.md) ------------------------------------------------
def _inputs_in_two_splits(task) -> int:
    where: dict[object, set[str]] = {}
    for item, s in zip(task.inputs, task.splits, strict=True):
        where.setdefault(item, set()).add(s)
    return sum(len(v) > 1 for v in where.values())


def test_jcola_counts_and_both_test_sets(shared_data_dir: Path) -> None:
    corpus = {"use_corpus_split": True}
    task = load_task(task_spec("jcola", split=corpus), shared_data_dir)
    assert len(task) == 6919 + 865 and not task.is_pair_task
    assert task.class_counts("test") == {"unacceptable": 139, "acceptable": 726}
    train_dev = {k: task.class_counts("train")[k] + task.class_counts("dev")[k] for k in task.label_names}
    assert train_dev == {"unacceptable": 1150, "acceptable": 5769}
    assert task.split_sizes()["dev"] == 865  # 1/8 of train+dev drawn as dev (dev 0.1 / (1 - test 0.2))
    ood = load_task(task_spec("jcola", split=corpus, test_set="out_of_domain"), shared_data_dir)
    assert ood.split_sizes() == {"train": 6919, "dev": 865, "test": 685}
    assert ood.class_counts("test") == {"unacceptable": 183, "acceptable": 502}
    assert ood.class_counts("train") == {"unacceptable": 1150, "acceptable": 5769}
    assert _inputs_in_two_splits(ood) == 0


def test_janli_counts(shared_data_dir: Path) -> None:
    data = get_loader("janli").call(shared_data_dir, {})  # the corpus as published (SOURCE.md's counts)
    assert len(data.texts) == 14400 and Counter(data.corpus_splits) == {"trainval": 13680, "test": 720}
    assert Counter(data.labels.tolist()) == {0: 7200, 1: 7200}
    task = load_task(task_spec("janli", split={"use_corpus_split": True}), shared_data_dir)
    # 12 distinct pairs sit in both official splits (13 train copies): kept only in test, counted
    assert task.is_pair_task and len(task) == 14400 - 13
    assert task.class_counts("test") == {"non-entailment": 360, "entailment": 360}
    assert task.split_sizes()["train"] + task.split_sizes()["dev"] == 13680 - 13
    assert any(n.startswith("corpus split: 12 texts (or groups)") for n in task.provenance.notes)
    assert _inputs_in_two_splits(task) == 0
    assert task.texts[0] == "学生がフットボール選手をたたいている"
    assert task.text_pairs[0] == "フットボール選手を学生がたたいている"
    assert any("12 distinct (premise, hypothesis) pairs" in n for n in task.provenance.notes)
    assert _inputs_in_two_splits(load_task(task_spec("janli"), shared_data_dir)) == 0  # fresh split: grouped


def test_jsts_counts(shared_data_dir: Path) -> None:
    task = load_task(task_spec("jsts", split={"use_corpus_split": True}), shared_data_dir)
    assert task.is_pair_task and len(task) == 10151 + 1198
    assert task.class_counts("test") == {"dissimilar": 586, "similar": 612}
    train_dev = {k: task.class_counts("train")[k] + task.class_counts("dev")[k] for k in task.label_names}
    assert train_dev == {"dissimilar": 5073, "similar": 5078}
    assert any(n.startswith(f"{12451 + 1457 - 11349} pairs") for n in task.provenance.notes)


def test_jrte_rte_counts(shared_data_dir: Path) -> None:
    task = load_task(task_spec("jrte-rte", split={"use_corpus_split": True}), shared_data_dir)
    assert task.is_pair_task and len(task) == 7750
    assert task.split_sizes() == {"train": 5437, "dev": 1537, "test": 776}
    assert task.class_counts("train") == {"not-entailment": 3324, "entailment": 2113}
    assert task.class_counts("dev") == {"not-entailment": 908, "entailment": 629}
    assert task.class_counts("test") == {"not-entailment": 506, "entailment": 270}
    assert len(set(task.inputs)) == 7750  # no duplicate (premise, hypothesis) pair
    assert (
        task.texts[0] == "肌がスベスベになりました。"
        and task.text_pairs[0] == "温泉は、肌がスベスベになります。"
    )


def test_toxic_counts(shared_data_dir: Path) -> None:
    task = load_task(task_spec("toxic"), shared_data_dir)
    assert len(task) == 403 and task.class_counts() == {"not-toxic": 354, "toxic": 49}
    assert any(n.startswith("34 texts with a tie") for n in task.provenance.notes)
    labels = dict(zip(task.texts, task.labels.tolist(), strict=True))
    assert labels["いわゆる天使だろ"] == 0  # Not Toxic 2 > Toxic 0 + Very Toxic 1


@pytest.mark.parametrize(
    ("loader", "head"),
    [
        ("jcola", "7,784 examples (unacceptable 1,289 / acceptable 6,495)"),
        ("janli", "14,400 examples (non-entailment 7,200 / entailment 7,200)"),
        ("jsts", "11,349 examples (dissimilar 5,659 / similar 5,690)"),
        ("jrte-rte", "7,750 examples (not-entailment 4,738 / entailment 3,012)"),
        ("toxic", "403 examples (not-toxic 354 / toxic 49)"),
    ],
)
def test_tasks_show_prints_the_source_counts(shared_data_dir: Path, loader: str, head: str) -> None:
    from typer.testing import CliRunner

    from jtask2vec.cli.app import app

    args = ["tasks", "show", loader, "--data-dir", str(shared_data_dir)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert head in result.output
