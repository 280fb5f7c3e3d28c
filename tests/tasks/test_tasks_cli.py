"""`jtask2vec tasks` and `tasks show`: the listing, the statistics tables and the options."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from fixtures_tasks import binary_rows, write_generic, write_jrte
from jtask2vec.cli.app import app
from jtask2vec.cli.tasks import length_stats, parse_options
from jtask2vec.tasks import load_task, task_spec
from jtask2vec.tasks.registry import list_loaders

runner = CliRunner()


def test_tasks_lists_every_loader() -> None:
    for args in (["tasks"], ["tasks", "list"]):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        for name in ("jrte-pn", "jrte-rhr", "chabsa", "livedoor", "rakuten-travel", "csv", "tsv", "jsonl"):
            assert name in result.output


def test_show_prints_counts_splits_lengths_and_hash(tmp_path: Path) -> None:
    write_jrte(tmp_path)
    result = runner.invoke(
        app, ["tasks", "show", "jrte-pn", "--data-dir", str(tmp_path), "--seed", "1"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "36 examples (negative 12 / positive 24)" in out
    task = load_task(task_spec("jrte-pn", split={"seed": 1}), tmp_path)
    assert task.data_hash in re.sub(r"[\s│]", "", out)  # folded over lines in a narrow console
    sizes = task.split_sizes()
    for split in ("train", "dev", "test"):
        assert re.search(rf"{split}\s*│\s*{sizes[split]}\s*│", out), out
    lo, med, mean, hi = length_stats(task.texts)
    assert re.search(
        rf"all\s*│\s*36\s*│\s*12\s*│\s*24\s*│\s*66\.7%\s*│\s*{lo}\s*│\s*{med:.1f}\s*│\s*{mean:.1f}\s*│\s*{hi}",
        out,
    )


def test_show_options_corpus_split_and_max_examples(tmp_path: Path) -> None:
    path = write_generic(tmp_path / "d.tsv", binary_rows(40), "tsv", split=True)
    args = ["tasks", "show", "tsv", "-o", f"path={path}", "--option", "split_column=split", "--corpus-split"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "40 examples" in result.output and "own train/dev/test split" in result.output
    result = runner.invoke(app, [*args[:-1], "--max-examples", "20"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "20 examples (neg 10 / pos 10)" in result.output


def test_bad_option_syntax_and_bad_fractions_are_one_line_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tasks", "show", "csv", "-o", "novalue"])
    assert result.exit_code == 2 and "key=value" in result.output
    result = runner.invoke(app, ["tasks", "show", "csv", "--dev-fraction", "0.5", "--test-fraction", "0.6"])
    assert result.exit_code == 2 and "invalid task settings" in result.output


def test_helpers() -> None:
    assert parse_options(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    assert length_stats(["ab", "abcd", "abcdef"]) == (2, 4.0, 4.0, 6)


def test_show_and_list_fit_80_columns_with_whole_words(tmp_path: Path) -> None:
    write_jrte(tmp_path)
    shown = runner.invoke(
        app, ["tasks", "show", "jrte-pn", "--data-dir", str(tmp_path)], env={"COLUMNS": "80"}
    )
    listed = runner.invoke(app, ["tasks"], env={"COLUMNS": "80"})
    for result in (shown, listed):
        assert result.exit_code == 0, result.output
        assert "…" not in result.output
        assert max(len(line) for line in result.output.splitlines()) <= 80
    task = load_task(task_spec("jrte-pn"), tmp_path)
    assert f"data hash: {task.data_hash}\n" in shown.output  # whole, on one line
    assert "class 0 = negative, class 1 = positive" in shown.output
    words = set(re.findall(r"[A-Za-z]{4,}", listed.output))
    for info in list_loaders():
        for word in re.findall(r"[A-Za-z]{4,}", f"{info.source}: {info.derives}"):
            assert word in words, word  # no word of a loader's description is cut in two
