"""The pure parts of `rank --zoo`: overlap hashes, stability and its verdict, the target's description, the
verification's basis, the target file's options and encodings, and errors that name `rank`'s options."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.cli.rank import as_rank_error, column_format, parse_seeds
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.model.training import FinetuneResult
from jtask2vec.tasks.registry import load_task, task_spec
from jtask2vec.zoo.describe import describe_target
from jtask2vec.zoo.overlap import shared_share, text_hash, text_hashes
from jtask2vec.zoo.stability import CLEAR_PICK_SHARE, MIN_PAIRS, Verdict, source_stability
from jtask2vec.zoo.target import TargetOptions, target_spec
from jtask2vec.zoo.verify import MIN_TEST_SIZE, Verification


# ---- overlap ---------------------------------------------------------------------------------------------
def test_text_hashes_ignore_width_and_white_space() -> None:
    assert text_hash("ホテル　が 良い") == text_hash(" ﾎﾃﾙ が\n良い ")  # NFKC + white space
    assert text_hash("ホテルが良い") != text_hash("ホテル が良い")  # white space inside a word counts
    assert text_hash(("a", "b")) != text_hash("a b") and text_hash(("a ", "b")) == text_hash(("a", " b"))
    target = text_hashes(["x", "y", "z", "x"])
    assert shared_share(target, text_hashes(["x", "q"])) == pytest.approx(1 / 3)


# ---- stability and the verdict ----------------------------------------------------------------------------
def test_verdict_threshold() -> None:
    assert CLEAR_PICK_SHARE == 0.7 and MIN_PAIRS == 3
    assert Verdict("chabsa", 5, 6, "hotel", 1).clear  # 5/6 = 0.83
    assert not Verdict("chabsa", 4, 6, "hotel", 2).clear  # 4/6 = 0.67 < 0.7
    assert Verdict("a", 3, 3, "b", 0).clear and not Verdict("a", 2, 3, "b", 1).clear
    assert not Verdict("a", 1, 1, None, 0).clear  # one pair cannot show stability
    assert Verdict("a", 7, 10, "b", 3).clear and not Verdict("a", 6, 10, "b", 4).clear
    line = Verdict("chabsa", 5, 6, "hotel", 1).line()
    assert line == "Recommendation: start from 'chabsa' — top in 5 of 6 (seed × zoo-seed) pairs"
    assert Verdict("a", 3, 6, "b", 3).line().startswith("No clear pick: the top source changes")
    assert "--seeds 3" in Verdict("a", 1, 1, None, 0).line()
    # randomly labelled data: the probe learns nothing, so even a stable top is no recommendation
    unlearned = Verdict("a", 6, 6, "b", 0, learned=False)
    assert unlearned.stable and not unlearned.clear and unlearned.category == "no clear pick"
    assert unlearned.line().startswith("No clear pick: the probe did not learn the target")


def test_source_stability_counts_top_picks_per_pair() -> None:
    rows = []
    for seed, zoo_seed, order in [(0, 0, "ab"), (1, 0, "ab"), (2, 0, "ba")]:
        for d in ("task2vec:cosine", "task2vec:normalized-cosine"):
            rows += [(d, seed, zoo_seed, s, float(i)) for i, s in enumerate(order)]
    table = source_stability(pd.DataFrame(rows, columns=["selector", "seed", "zoo_seed", "source", "value"]),
                             ["task2vec:cosine", "task2vec:normalized-cosine"])  # fmt: skip
    a = table.set_index("source").loc["a"]
    assert a["top"] == 2 and a["pairs"] == 3
    assert a["pair_rank"] == pytest.approx(4 / 3) and (a["pair_rank_low"], a["pair_rank_high"]) == (1, 2)
    assert (a["task2vec:cosine:low"], a["task2vec:cosine:high"]) == (0.0, 1.0)


# ---- the target described ----------------------------------------------------------------------------------
def _result(seed: int, accuracy: float) -> FinetuneResult:
    return FinetuneResult(task="t", seed=seed, accuracy=accuracy, macro_f1=accuracy - 0.01,
                          balanced_accuracy=accuracy, best_epoch=1, dev_metric=accuracy, train_seconds=1.0,
                          examples_per_second=1.0, n_train=84, n_dev=12, n_test=24, source=None,
                          checkpoint_key="k")  # fmt: skip


def test_description_warns_when_not_learned_beyond_the_majority() -> None:
    task = load_task(task_spec("synthetic", "t", n=120, seed=3, style="hotel"))
    spec = task_spec("synthetic", "t", n=120, seed=3, style="hotel")
    share = max(task.class_counts("test").values()) / 24
    learned = describe_target(task, spec, full_size=120, results=[_result(0, 0.9), _result(1, 0.95)],
                              lengths=None)  # fmt: skip
    assert learned["fine_tune"]["learned"] and learned["warning"] is None
    assert learned["fine_tune"]["accuracy_range"] == [0.9, 0.95]
    assert learned["fine_tune"]["majority_class"]["accuracy"] == pytest.approx(share)
    assert learned["fine_tune"]["majority_class"]["macro_f1"] == pytest.approx(share / (1 + share))
    flat = describe_target(task, spec, full_size=120, results=[_result(0, share)], lengths=None)
    assert not flat["fine_tune"]["learned"] and "not meaningful" in flat["warning"]
    assert "set by the loader 'synthetic'" in flat["label_rule"]


# ---- --verify's basis ------------------------------------------------------------------------------------
def _verification(seeds: int, test_size: int) -> Verification:
    runs = pd.DataFrame([("(no transfer)", s, 0.8, 0.8) for s in range(seeds)],
                        columns=["source", "seed", "accuracy", "macro_f1"])  # fmt: skip
    return Verification(runs=runs, recommended="a", comparisons=[], confidence=0.95, test_size=test_size)


def test_verify_basis_says_when_it_is_not_enough() -> None:
    one = _verification(1, 200).basis()
    assert "200 examples" in one and "1 seed" in one and "not enough to judge (one seed)" in one
    small = _verification(3, 24).basis()
    assert "3 seeds" in small and f"under {MIN_TEST_SIZE} examples" in small
    enough = _verification(3, 200)
    assert enough.judgeable and "not enough" not in enough.basis() and "95% t-intervals" in enough.basis()


# ---- reading the file as people have it ------------------------------------------------------------------
def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_positive_and_negative_take_repeats_and_comma_lists(tmp_path: Path) -> None:
    rows = "".join(f"text {i},{i % 5 + 1}\n" for i in range(60))
    path = _write(tmp_path / "five.csv", "text,label\n" + rows)
    options = TargetOptions(positive=("4,5",), negative=("1", "2"), drop=("3",))
    task = load_task(target_spec(path, options))
    assert task.label_names == ("1|2", "4|5") and len(task) == 48
    assert load_task(target_spec(path, TargetOptions(positive=("4", "5"), negative=("1,2",), drop=("3",)))) \
        .data_hash == task.data_hash  # fmt: skip


@pytest.mark.parametrize(("encoding", "note"), [("cp932", "CP932 (Shift-JIS) detected"),
                                                ("utf-8-sig", "UTF-8 with BOM")])  # fmt: skip
def test_excel_encodings_are_detected_and_named(tmp_path: Path, encoding: str, note: str) -> None:
    rows = "".join(f"ホテル{i}は良い,{i % 2}\n" for i in range(40))
    path = _write(tmp_path / "excel.csv", "text,label\n" + rows, encoding)
    task = load_task(target_spec(path))
    assert task.texts[0].startswith("ホテル") and any(note in n for n in task.provenance.notes)
    plain = load_task(target_spec(_write(tmp_path / "plain.csv", "text,label\n" + rows)))
    assert plain.data_hash == task.data_hash and not any("encoding" in n for n in plain.provenance.notes)


def _rank_flags() -> set[str]:
    import typer.main

    command = typer.main.get_command(app)
    rank = command.commands["rank"]  # type: ignore[attr-defined]
    return {opt for p in rank.params for opt in getattr(p, "opts", []) if opt.startswith("-")}


def _named_flags(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-o)\b", text))


def test_loader_hints_name_options_that_rank_has(tmp_path: Path) -> None:
    flags = _rank_flags()
    assert {"--encoding", "--delimiter", "--multiline", "--drop", "-o", "--seeds"} <= flags
    cases = {
        "three.csv": ("text,label\na,1\nb,2\nc,3\n", "utf-8", TargetOptions(), "--drop"),
        "mapped.csv": ("text,label\na,1\nb,2\nc,3\n", "utf-8", TargetOptions(positive=("1",)), "--negative"),
        "broken.csv": ('text,label\n"a\nb",1\nc,0\n', "utf-8", TargetOptions(), "--multiline"),
        "undecodable.csv": ("text,label\n良い,1\n悪い,0\n", "shift_jis", TargetOptions(encoding="utf-8"),
                            "--encoding"),
    }  # fmt: skip
    for name, (text, encoding, options, flag) in cases.items():
        path = _write(tmp_path / name, text, encoding)
        with pytest.raises(DataError) as err:
            load_task(target_spec(path, options))
        message = str(as_rank_error(err.value))
        assert flag in message, message
        assert _named_flags(message) <= flags, (message, _named_flags(message) - flags)


def test_rank_cli_error_names_its_own_flag(tmp_path: Path) -> None:
    path = _write(tmp_path / "three.csv", "text,label\na,1\nb,2\nc,3\n")
    zoo = tmp_path / "no-zoo"
    result = CliRunner().invoke(app, ["rank", "--zoo", str(zoo), "--target-file", str(path)])
    assert result.exit_code == 2 and "zoo.json" in result.output  # the zoo is checked first


def test_seeds_and_column_formats() -> None:
    assert parse_seeds("3") == [0, 1, 2] and parse_seeds("0,4") == [0, 4] and parse_seeds("5,") == [5]
    for bad in ("0", "x", "1,a"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)
    assert column_format([0.13, 0.167]).format(0.13) == "0.130"
    assert column_format([1.25, 0.99]).format(0.99) == "0.99" and column_format([12.5]).format(3) == "3.0"
    assert column_format([math.nan]).format(0.5) == "0.500"
