"""Issue 8, data side: no silent merge, leak, label guess or truncation; streamed sampling of large files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fixtures_tasks import binary_rows, write_generic, write_rakuten
from jtask2vec.cli.app import app
from jtask2vec.errors import DataError
from jtask2vec.tasks import load_task, task_spec
from jtask2vec.tasks.lengths import token_length_stats
from jtask2vec.tasks.splits import StreamingSample, bottom_k_subsample, cross_split_copies, leak_groups

HEADER = "施設番号\t投稿日時\tコメント\tサービス\t総合"


def _rakuten_tsv(data_dir: Path, reviews: list[tuple[str, int]]) -> Path:
    folder = data_dir / "rakuten-travel" / "r"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [f"{i}\t2015-01-01\t{t}\t{r}\t{r}" for i, (t, r) in enumerate(reviews)]
    path = folder / "reviews.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- 1. quotes never merge rows; a row that does not parse is an error or counted ---------------------
def test_rakuten_tsv_quotes_are_ordinary_characters(tmp_path: Path) -> None:
    reviews = [
        ('"最高"の宿でした。', 5),
        ('"朝食が美味しい', 4),  # unbalanced quote: used to swallow the following lines
        ("部屋が汚い。", 1),
        ('接客が悪い"。', 2),
        ("また泊まりたい。", 5),
        ("高すぎる。", 1),
    ]
    _rakuten_tsv(tmp_path, reviews)
    task = load_task(task_spec("rakuten-travel", split={"test_fraction": 0.34, "dev_fraction": 0}), tmp_path)
    assert sorted(task.texts) == sorted(t for t, _ in reviews)
    truth = {t: int(r >= 4) for t, r in reviews}
    assert all(truth[t] == y for t, y in zip(task.texts, task.labels, strict=True))


def test_rakuten_row_with_a_wrong_field_count_is_an_error_or_counted(tmp_path: Path) -> None:
    reviews = [(f"良い宿{i}。", 5) for i in range(6)] + [(f"悪い宿{i}。", 1) for i in range(6)]
    reviews[3] = ("タブ\tが入った宿。", 5)  # one field too many
    path = _rakuten_tsv(tmp_path, reviews)
    with pytest.raises(DataError) as err:
        load_task(task_spec("rakuten-travel"), tmp_path)
    assert (err.value.path, err.value.line) == (str(path), 5)
    assert "6 fields" in str(err.value) and "5" in str(err.value) and "\n" not in str(err.value)
    task = load_task(task_spec("rakuten-travel", bad_rows="skip"), tmp_path)
    assert len(task) == 11
    assert any("1 malformed rows skipped" in n and "reviews.tsv:5" in n for n in task.provenance.notes)


def test_csv_unclosed_quote_is_an_error_not_a_merge(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    rows = ["text,label", "良い,pos", '"朝食が美味しい,pos', "部屋が汚い,neg", "接客が悪い,neg", '"最高",pos']
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_task(task_spec("csv", path=str(path)))
    assert (err.value.path, err.value.line) == (str(path), 3)
    # a real line break inside a quoted field is read only when allowed
    ok = tmp_path / "ok.csv"
    lines = ["text,label"] + [f"{t},{y}" for t, y in binary_rows(10)] + ['"一行目\n二行目",pos']
    ok.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="spans lines 12-13"):
        load_task(task_spec("csv", path=str(ok)))
    task = load_task(task_spec("csv", path=str(ok), multiline=True))
    assert "一行目\n二行目" in task.texts and len(task) == 11


def test_tsv_reads_quotes_as_text_by_default(tmp_path: Path) -> None:
    rows = [(f'"{t}', y) if i % 3 == 0 else (t, y) for i, (t, y) in enumerate(binary_rows(12))]
    path = tmp_path / "d.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows), encoding="utf-8")
    task = load_task(task_spec("tsv", path=str(path), split={"seed": 0}))
    assert sorted(task.texts) == sorted(t for t, _ in rows)


# ---- 2. no text in two splits, whatever the split mode ------------------------------------------------
def test_corpus_split_keeps_a_shared_text_only_in_its_evaluation_split(tmp_path: Path) -> None:
    rows = binary_rows(30)
    splits = [("train", "train", "train", "dev", "test")[i % 5] for i in range(30)]
    # row 0 (train) repeats row 4 (test); row 1 (train) repeats row 3 (dev); row 8 (dev) repeats row 9 (test)
    rows[0], rows[1], rows[8] = rows[4], rows[3], rows[9]
    path = tmp_path / "d.csv"
    path.write_text(
        "text,label,split\n" + "".join(f"{t},{y},{s}\n" for (t, y), s in zip(rows, splits, strict=True)),
        encoding="utf-8",
    )
    task = load_task(task_spec("csv", path=str(path), split_column="split", split={"use_corpus_split": True}))
    where: dict[str, set[str]] = {}
    for t, s in zip(task.texts, task.splits, strict=True):
        where.setdefault(t, set()).add(s)
    assert all(len(v) == 1 for v in where.values())
    assert where[rows[4][0]] == {"test"} and where[rows[3][0]] == {"dev"} and where[rows[9][0]] == {"test"}
    assert len(task) == 27
    assert any("3 texts" in n and "3 copies dropped" in n for n in task.provenance.notes)
    assert not any("kept together" in n for n in task.provenance.notes)  # no repeated text is left


def test_leak_groups_join_identical_texts_with_different_group_keys() -> None:
    texts = ["a", "b", "a", "c", "d"]
    groups = ["g1", "g2", "g3", "g2", "g3"]
    keys = leak_groups(texts, groups)
    assert keys[0] == keys[2] == keys[4] and keys[1] == keys[3] and keys[0] != keys[1]
    assert leak_groups(texts, None) == texts
    drop = cross_split_copies(keys, ["train", "dev", "test", "train", "dev"])
    assert drop.tolist() == [True, False, False, True, True]


# ---- 5. loose labels ----------------------------------------------------------------------------------
def test_positive_alone_rejects_unknown_values(tmp_path: Path) -> None:
    rows = [(t, "5" if y == "pos" else "1") for t, y in binary_rows(12)]
    rows[7] = (rows[7][0], "5.0")
    path = write_generic(tmp_path / "d.csv", rows, "csv")
    with pytest.raises(DataError) as err:  # used to make every other value negative, silently
        load_task(task_spec("csv", path=str(path), positive="5"))
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, "label")
    assert "'1'" in str(err.value) and "negative='*'" in str(err.value)
    with pytest.raises(DataError) as err:
        load_task(task_spec("csv", path=str(path), positive="5", negative="1"))
    assert (err.value.line, err.value.field) == (9, "label") and "'5.0'" in str(err.value)
    task = load_task(task_spec("csv", path=str(path), positive="5", negative="*"))
    assert task.class_counts() == {"other": 7, "5": 5}


def test_labels_are_stripped_in_every_format(tmp_path: Path) -> None:
    rows = [(t, f" {y} " if i % 4 == 0 else y) for i, (t, y) in enumerate(binary_rows(20))]
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps({"text": t, "label": y}, ensure_ascii=False) + "\n" for t, y in rows),
        encoding="utf-8",
    )
    jsonl = load_task(task_spec("jsonl", path=str(path), positive="pos", negative="neg"))
    csv = load_task(task_spec("csv", path=str(write_generic(tmp_path / "d.csv", rows, "csv"))))
    assert jsonl.class_counts() == csv.class_counts() == {"neg": 10, "pos": 10}


# ---- 6. truncation ------------------------------------------------------------------------------------
def test_token_length_stats_match_a_per_text_reference(tiny_probe) -> None:
    rng = np.random.default_rng(0)
    texts = ["良い" * int(k) for k in rng.integers(1, 40, size=57)]
    lengths = np.array([len(tiny_probe.tokenizer.encode(t)) for t in texts])
    limit = int(lengths[0])  # a text of exactly max_length tokens is not truncated
    stats = token_length_stats(texts, tiny_probe.tokenizer, limit)
    assert stats.n == 57 and stats.truncated == int((lengths > limit).sum()) > 0
    assert stats.truncated_share == pytest.approx(stats.truncated / 57)
    ordered = np.sort(lengths)
    for q, got in ((50, stats.p50), (90, stats.p90), (99, stats.p99)):
        assert got == ordered[int(np.ceil(q / 100 * 57)) - 1]  # smallest L with >= q % at or below
    assert stats.max == lengths.max()


def test_tasks_show_prints_the_truncated_share(tmp_path: Path) -> None:
    rows = [(t * (1 + i % 6), y) for i, (t, y) in enumerate(binary_rows(20))]
    path = write_generic(tmp_path / "d.csv", rows, "csv")
    args = ["tasks", "show", "csv", "-o", f"path={path}", "--probe", "tiny-random-bert", "--max-length", "16"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    from jtask2vec.model.probes import load_probe

    stats = token_length_stats(
        load_task(task_spec("csv", path=str(path))), load_probe("tiny-random-bert").tokenizer, 16
    )
    assert 0 < stats.truncated < 20
    assert f"{stats.truncated:,} of 20 ({stats.truncated_share:.1%})" in result.output
    assert re.search(
        rf"│\s*{stats.p50}\s*│\s*{stats.p90}\s*│\s*{stats.p99}\s*│\s*{stats.max}\s*│", result.output
    )


def test_tasks_table_and_report_show_truncation(tmp_path: Path) -> None:
    import yaml

    from jtask2vec.config import load_suite
    from jtask2vec.pipeline import Pipeline
    from jtask2vec.report import write_report
    from jtask2vec.results import TABLE_COLUMNS, RunResults

    suite = {
        "name": "trunc",
        "tasks": [
            {"name": "a", "loader": "synthetic", "options": {"n": 60, "seed": 1}},
            {"name": "b", "loader": "synthetic", "options": {"n": 60, "seed": 2, "style": "news"}},
        ],
        "probe": {"name": "tiny-random-bert", "max_length": 12},
        "seeds": [0],
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    pipe = Pipeline(load_suite(tmp_path / "s.yaml"), tmp_path / "runs")
    table = pipe.tasks_table()
    for col in ("truncated_share", "tokens_p50", "tokens_p90", "tokens_max"):
        assert col in TABLE_COLUMNS["tasks"] and col in table.columns
    for _, row in table.iterrows():
        ref = token_length_stats(pipe.tasks[row["task"]], pipe.probe.tokenizer, 12)
        assert (row["truncated_share"], row["tokens_p50"], row["tokens_max"]) == (
            ref.truncated_share,
            ref.p50,
            ref.max,
        )
    assert table["truncated_share"].max() > 0
    paths = write_report(RunResults(suite=pipe.suite, tasks=table), tmp_path / "report")
    md = paths.markdown.read_text(encoding="utf-8")
    row = table.iloc[0]
    shown = f"{row['truncated_share']:.1%} ({row['tokens_p50']}/{row['tokens_p90']}/{row['tokens_max']})"
    assert shown in md and "| truncated |" in md and "(median/90th percentile/max)" in md


# ---- 7. streamed, seeded, stratified sampling of large files -----------------------------------------
@pytest.mark.parametrize(("n_items", "n"), [(5000, 37), (3000, 2999), (40, 100), (9000, 4100)])
def test_streaming_sample_equals_the_in_memory_reference(n_items: int, n: int) -> None:
    rng = np.random.default_rng(n_items)
    labels = (rng.random(n_items) < 0.2).astype(np.int64)
    for seed in (0, 3):
        sampler = StreamingSample(n, seed)
        for i, y in enumerate(labels):
            sampler.offer(int(y), i)
        got = [i for _, i in sampler.result()]
        assert got == bottom_k_subsample(labels, n, seed).tolist()
        assert sampler.seen == n_items
    if n < n_items:
        kept = labels[got]
        assert abs(kept.mean() - labels.mean()) <= 1 / n + 1e-12  # stratified: rounding only


def test_rakuten_max_examples_is_drawn_while_streaming(tmp_path: Path) -> None:
    write_rakuten(tmp_path, "2019", n=600)
    full = load_task(task_spec("rakuten-travel", split={"seed": 4}), tmp_path)
    sampled = load_task(task_spec("rakuten-travel", max_examples=50, split={"seed": 4}), tmp_path)
    assert len(sampled) == 50
    assert any("drawn while streaming" in n and "seed 4" in n for n in sampled.provenance.notes)
    # the same sample as loading everything and applying the reference (same seed)
    ref = bottom_k_subsample(full.labels, 50, 4)
    assert list(sampled.texts) == [full.texts[i] for i in ref]
    assert sampled.class_counts() == {"negative": 25, "positive": 25}
