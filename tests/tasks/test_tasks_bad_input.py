"""Bad input: one clear line naming file, line and field; exit code 2; no traceback. One test per case."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures_tasks import binary_rows, write_generic, write_jrte
from jtask2vec.cli.app import app
from jtask2vec.errors import DataError
from jtask2vec.tasks import load_task, task_spec

runner = CliRunner()


def _fails(args: list[str], *needles: str) -> str:
    result = runner.invoke(app, args)
    out = result.output
    assert result.exit_code == 2, out
    assert ("Traceback" not in out and result.exception is None) or isinstance(result.exception, SystemExit)
    lines = [line for line in out.strip().splitlines() if line.strip()]
    assert len(lines) == 1, out
    for needle in needles:
        assert needle in out, (needle, out)
    return out


def test_missing_corpus_file_names_where_it_looked_and_the_source(tmp_path: Path) -> None:
    out = _fails(["tasks", "show", "jrte-pn", "--data-dir", str(tmp_path)], str(tmp_path / "jrte" / "pn.tsv"))
    assert "megagonlabs/jrte-corpus" in out and "tasks download jrte" in out


def test_missing_user_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"
    _fails(
        ["tasks", "show", "csv", "-o", f"path={missing}", "--data-dir", str(tmp_path)],
        str(missing),
        "not found",
    )


def test_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes("text,label\n良い,pos\n悪い,neg\n".encode("shift_jis"))
    args = ["tasks", "show", "csv", "-o", f"path={path}", "-o", "encoding=utf-8"]
    _fails(args, f"{path}:2", "field 'encoding'", "utf-8")  # an explicit encoding is never second-guessed


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,rating\n良い,5\n", encoding="utf-8")
    _fails(["tasks", "show", "csv", "-o", f"path={path}"], f"{path}:1", "field 'label'", "missing column")


def test_empty_text(tmp_path: Path) -> None:
    rows = binary_rows(10)
    rows[6] = ("  ", rows[6][1])
    path = write_generic(tmp_path / "d.tsv", rows, "tsv")
    _fails(["tasks", "show", "tsv", "-o", f"path={path}"], f"{path}:8", "field 'text'", "empty text")


def test_label_outside_the_binary_set(tmp_path: Path) -> None:
    folder = write_jrte(tmp_path)
    lines = (folder / "pn.tsv").read_text(encoding="utf-8").splitlines()
    cells = lines[4].split("\t")
    cells[1] = "2"
    lines[4] = "\t".join(cells)
    (folder / "pn.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _fails(
        ["tasks", "show", "jrte-pn", "--data-dir", str(tmp_path)],
        f"{folder / 'pn.tsv'}:5",
        "field 'label'",
        "'2'",
    )
    # the same through the Python API, for a generic file with a third value
    three = [
        (t, ("a", "b", "c")[min(i, 2)] if i < 3 else ("a", "b")[i % 2])
        for i, (t, _) in enumerate(binary_rows(9))
    ]
    path = write_generic(tmp_path / "three.csv", three, "csv")
    with pytest.raises(DataError) as err:
        load_task(task_spec("csv", path=str(path)))
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 4, "label")


def test_task_with_one_class(tmp_path: Path) -> None:
    rows = [(t, "pos") for t, _ in binary_rows(10)]
    path = write_generic(tmp_path / "one.csv", rows, "csv")
    _fails(
        ["tasks", "show", "csv", "-o", f"path={path}", "-o", "positive=pos", "-o", "negative=neg"],
        str(path),
        "field 'label'",
        "no examples of class 'neg'",
    )


def test_split_left_without_a_class(tmp_path: Path) -> None:
    rows = binary_rows(30)
    path = tmp_path / "split.csv"
    lines = ["text,label,split"]
    for i, (t, y) in enumerate(rows):
        split = "dev" if (i % 5 == 3 and y == "pos") else ("test" if i % 5 == 4 else "train")
        lines.append(f"{t},{y},{split}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _fails(
        ["tasks", "show", "csv", "-o", f"path={path}", "-o", "split_column=split", "--corpus-split"],
        str(path),
        "field 'split'",
        "split 'dev' has no examples of class 'neg'",
    )
    assert "Traceback" not in out
