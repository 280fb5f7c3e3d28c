"""Every loader on small files in its real format; the `load_task` pipeline (group, partition, split)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fixtures_tasks import binary_rows, write_chabsa, write_generic, write_jrte, write_livedoor, write_rakuten
from jtask2vec.config import TaskSpec
from jtask2vec.errors import ConfigError
from jtask2vec.tasks import LOADERS, SPLITS, list_loaders, load_task, task_spec
from jtask2vec.tasks.loading import coerce_option


def test_registry_lists_every_loader() -> None:
    names = {info.name for info in list_loaders()}
    assert names == {
        "jrte-pn",
        "jrte-rhr",
        "chabsa",
        "livedoor",
        "rakuten-travel",
        "csv",
        "tsv",
        "jsonl",
        "synthetic",
        "jcola",
        "janli",
        "jsts",
        "jrte-rte",
        "toxic",
    }
    assert set(LOADERS) == names


def test_task_spec_builds_a_valid_spec_and_rejects_unknown_loaders() -> None:
    spec = task_spec("livedoor", name="ld", categories=("smax", "peachy"), max_examples=50)
    assert isinstance(spec, TaskSpec) and spec.name == "ld" and spec.max_examples == 50
    assert spec.options == {"categories": ("smax", "peachy")}
    with pytest.raises(ConfigError, match="unknown task loader"):
        task_spec("nope")


def test_unknown_option_is_a_config_error(tmp_path: Path) -> None:
    write_jrte(tmp_path)
    with pytest.raises(ConfigError, match="no option 'colour'"):
        load_task(task_spec("jrte-pn", colour="red"), tmp_path)


def test_options_from_strings_are_coerced() -> None:
    assert coerce_option("x", "k", "yes", False) is True
    assert coerce_option("x", "k", "3.5", 4.0) == 3.5
    assert coerce_option("x", "k", "a, b", ("c",)) == ("a", "b")
    with pytest.raises(ConfigError, match="cannot read"):
        coerce_option("x", "k", "many", 1)


# ---- jrte -------------------------------------------------------------------------------------------
def test_jrte_pn_drops_neutral_and_maps_labels(tmp_path: Path) -> None:
    write_jrte(tmp_path, n_pos=24, n_neg=12, n_neu=6)
    task = load_task(task_spec("jrte-pn"), tmp_path)
    assert len(task) == 36
    assert task.class_counts() == {"negative": 12, "positive": 24}
    assert task.label_names == ("negative", "positive")
    assert all(not t.startswith("出張") for t in task.texts)
    assert any("3,293" in n for n in task.provenance.notes)
    assert any("rhr.tsv" in n for n in task.provenance.notes)


def test_jrte_corpus_split_and_trainval(tmp_path: Path) -> None:
    write_jrte(tmp_path)
    spec = task_spec("jrte-pn", split={"use_corpus_split": True})
    task = load_task(spec, tmp_path)
    # usage cycles train, train, train, dev, test over the rows in file order (neutral rows dropped)
    expected = [("train", "train", "train", "dev", "test")[i % 5] for i in range(36)]
    assert list(task.splits) == expected
    merged = load_task(
        task_spec("jrte-pn", split={"use_corpus_split": True}, corpus_dev="trainval"), tmp_path
    )
    is_test = np.asarray(merged.splits) == "test"
    assert np.array_equal(is_test, np.asarray(expected) == "test")
    assert set(merged.splits) == set(SPLITS)


def test_jrte_unanimous_keeps_only_agreeing_rows(tmp_path: Path) -> None:
    write_jrte(tmp_path)
    task = load_task(task_spec("jrte-pn", unanimous=True, split={"test_fraction": 0.3}), tmp_path)
    assert len(task) == 36 - 9  # rows 0, 4, ..., 32 have a dissenting judge


def test_jrte_rhr_keeps_every_row(tmp_path: Path) -> None:
    write_jrte(tmp_path, n_pos=24, n_neg=12, n_neu=6)
    task = load_task(task_spec("jrte-rhr"), tmp_path)
    assert len(task) == 42
    assert task.class_counts() == {"not-reputation": 21, "reputation": 21}


# ---- chABSA -----------------------------------------------------------------------------------------
def test_chabsa_score_rule_and_newlines(tmp_path: Path) -> None:
    write_chabsa(tmp_path)
    task = load_task(task_spec("chabsa", split={"dev_fraction": 0.0, "test_fraction": 0.3}), tmp_path)
    assert task.class_counts() == {"negative": 4, "positive": 6}
    assert all("\n" not in t for t in task.texts)
    assert task.texts.count("売上高は増加しました。") == 2
    dup = [s for t, s in zip(task.texts, task.splits, strict=True) if t == "売上高は増加しました。"]
    assert len(set(dup)) == 1
    assert "売上と利益が伸びた。" in task.texts  # +2 -1 = +1
    assert "受注は好調で、利益は減少。" not in task.texts  # score 0


def test_chabsa_dedupe_and_unanimous_rule(tmp_path: Path) -> None:
    write_chabsa(tmp_path)
    split = {"dev_fraction": 0.0, "test_fraction": 0.3}
    assert len(load_task(task_spec("chabsa", dedupe=True, split=split), tmp_path)) == 9
    strict = load_task(task_spec("chabsa", rule="unanimous", split=split), tmp_path)
    assert "売上と利益が伸びた。" not in strict.texts and len(strict) == 9


# ---- livedoor ---------------------------------------------------------------------------------------
def test_livedoor_two_categories_title_and_body(tmp_path: Path) -> None:
    write_livedoor(tmp_path, per_category=10)
    task = load_task(task_spec("livedoor"), tmp_path)
    assert task.label_names == ("kaden-channel", "sports-watch")
    assert task.class_counts() == {"kaden-channel": 10, "sports-watch": 10}
    assert all("http" not in t and "2012-" not in t for t in task.texts)
    first = task.texts[0]
    assert first.startswith("kaden-channelのタイトル0\n") and "二段落目0" in first
    spaced = load_task(task_spec("livedoor", join="space", text="body"), tmp_path)
    assert "\n" not in spaced.texts[0] and "タイトル" not in spaced.texts[0]


def test_livedoor_identical_bodies_stay_in_one_split(tmp_path: Path) -> None:
    write_livedoor(tmp_path, per_category=12)
    for seed in range(5):
        task = load_task(
            task_spec("livedoor", categories="topic-news,kaden-channel", split={"seed": seed}), tmp_path
        )
        s = [sp for t, sp in zip(task.texts, task.splits, strict=True) if "二段落目0。" in t and "topic" in t]
        assert len(s) == 2 and len(set(s)) == 1


# ---- rakuten ----------------------------------------------------------------------------------------
def test_rakuten_rating_rule_and_two_releases(tmp_path: Path) -> None:
    write_rakuten(tmp_path, "2019", n=30)
    write_rakuten(tmp_path, "2020", n=24, sep=",")
    r1 = load_task(task_spec("rakuten-travel", name="rakuten.1", files="2019/*.tsv"), tmp_path)
    r2 = load_task(task_spec("rakuten-travel", name="rakuten.2", files="2020/*.csv"), tmp_path)
    # ratings cycle 5, 4, 3, 2, 1, 0: per 6 rows 2 positive, 2 negative, one 3 and one unrated dropped
    assert r1.class_counts() == {"negative": 10, "positive": 10}
    assert r2.class_counts() == {"negative": 8, "positive": 8}
    assert all(t.startswith("2019") for t in r1.texts) and all(t.startswith("2020") for t in r2.texts)
    wide = load_task(task_spec("rakuten-travel", files="2019/*", positive_min=3, negative_max=1), tmp_path)
    assert wide.class_counts() == {"negative": 5, "positive": 15}


def test_rakuten_years_and_explicit_columns(tmp_path: Path) -> None:
    write_rakuten(tmp_path, "all", n=36, year="2015")
    task = load_task(task_spec("rakuten-travel", years="2015", split={"test_fraction": 0.3}), tmp_path)
    assert len(task) == 12  # even rows are 2015: ratings 5, 3, 1 repeat -> 6 pos + 6 neg
    assert any("2015" in n for n in task.provenance.notes)
    by_name = load_task(
        task_spec("rakuten-travel", text_column="コメント", rating_column="サービス"), tmp_path
    )
    assert len(by_name) == 24


# ---- generic ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_generic_auto_labels_and_corpus_split(tmp_path: Path, fmt: str) -> None:
    path = write_generic(tmp_path / f"d.{fmt}", binary_rows(30), fmt, split=True)
    task = load_task(task_spec(fmt, path=str(path)), tmp_path)
    assert task.label_names == ("neg", "pos") and task.class_counts() == {"neg": 15, "pos": 15}
    column = {"jsonl": "split_field"}.get(fmt, "split_column")
    options = {"path": str(path), column: "split"}
    corpus = load_task(task_spec(fmt, split={"use_corpus_split": True}, **options), tmp_path)
    assert list(corpus.splits) == [("train", "train", "train", "dev", "test")[i % 5] for i in range(30)]


def test_generic_numeric_auto_order_and_explicit_mapping(tmp_path: Path) -> None:
    rows = [(t, "1" if y == "pos" else "-1") for t, y in binary_rows(20)]
    path = write_generic(tmp_path / "d.csv", rows, "csv")
    task = load_task(task_spec("csv", path=str(path)), tmp_path)
    assert task.label_names == ("-1", "1")
    truth = dict(rows)
    assert all((y == 1) == (truth[t] == "1") for t, y in zip(task.texts, task.labels, strict=True))
    three = [(t, ("a", "b", "c")[i % 3]) for i, (t, _) in enumerate(binary_rows(30))]
    p3 = write_generic(tmp_path / "three.tsv", three, "tsv")
    mapped = load_task(task_spec("tsv", path=str(p3), positive="a", negative="b", drop="c"), tmp_path)
    assert len(mapped) == 20 and mapped.label_names == ("b", "a")
    rest = load_task(
        task_spec("tsv", path=str(p3), positive="a", negative="*", label_names="other,A"), tmp_path
    )
    assert rest.class_counts() == {"other": 20, "A": 10}


def test_generic_relative_path_is_found_in_the_data_dir(tmp_path: Path) -> None:
    write_generic(tmp_path / "mine.jsonl", binary_rows(20), "jsonl")
    assert len(load_task(task_spec("jsonl", path="mine.jsonl"), tmp_path)) == 20


# ---- load_task pipeline -----------------------------------------------------------------------------
def test_partition_then_subsample_then_split_gives_disjoint_equal_stand_ins(tmp_path: Path) -> None:
    write_jrte(tmp_path, n_pos=120, n_neg=60, n_neu=0)
    parts = [
        load_task(
            task_spec(
                "jrte-pn",
                name=f"hotel.{k}",
                partition={"parts": 3, "index": k, "seed": 7},
                max_examples=50,
                stand_in_for=f"rakuten.{k}",
            ),
            tmp_path,
        )
        for k in range(3)
    ]
    texts = [set(p.texts) for p in parts]
    assert not (texts[0] & texts[1]) and not (texts[0] & texts[2]) and not (texts[1] & texts[2])
    for k, p in enumerate(parts):
        assert len(p) == 50 and p.name == f"hotel.{k}" and p.stand_in_for == f"rakuten.{k}"
        assert p.class_counts() == {"negative": 17, "positive": 33}
        assert any("stand-in" in n for n in p.provenance.notes)
        assert any("part" in n for n in p.provenance.notes)
        for s in SPLITS:
            assert min(p.class_counts(s).values()) >= 1


def test_load_task_is_deterministic(tmp_path: Path) -> None:
    write_jrte(tmp_path)
    a = load_task(task_spec("jrte-pn", split={"seed": 3}), tmp_path)
    b = load_task(task_spec("jrte-pn", split={"seed": 3}), tmp_path)
    c = load_task(task_spec("jrte-pn", split={"seed": 4}), tmp_path)
    assert a.data_hash == b.data_hash != c.data_hash


def test_corpus_split_on_a_loader_without_one_is_a_config_error(tmp_path: Path) -> None:
    write_livedoor(tmp_path)
    with pytest.raises(ConfigError, match="no corpus split"):
        load_task(task_spec("livedoor", split={"use_corpus_split": True}), tmp_path)


def test_options_as_a_suite_file_gives_them_lists_and_numbers(tmp_path: Path) -> None:
    write_rakuten(tmp_path, "all", n=36, year="2015")
    spec = TaskSpec.model_validate(
        {"name": "r", "loader": "rakuten-travel", "options": {"years": [2015], "files": ["all/*.tsv"]}}
    )
    assert len(load_task(spec, tmp_path)) == 12
    rows = [(t, "5" if y == "pos" else "1") for t, y in binary_rows(20)]
    path = write_generic(tmp_path / "stars.csv", rows, "csv")
    spec = TaskSpec.model_validate(
        {"name": "s", "loader": "csv", "options": {"path": str(path), "positive": [4, 5], "negative": [1, 2]}}
    )
    assert load_task(spec, tmp_path).class_counts() == {"1|2": 10, "4|5": 10}


def test_synthetic_loader_needs_no_data_and_goes_through_the_pipeline(tmp_path: Path) -> None:
    spec = task_spec("synthetic", name="toy", n="120", style="food", signal="topic", max_examples=60)
    task = load_task(spec, tmp_path)
    assert task.name == "toy" and len(task) == 60 and task.label_names == ("topic-a", "topic-b")
    with pytest.raises(ConfigError, match="unknown synthetic style"):
        load_task(task_spec("synthetic", style="poetry"), tmp_path)
