"""Errors a person understands (issue 20): a flag's error names the flag, every problem of a suite file is
shown at once with its line, unknown keys get a "did you mean", and `suites FILE` checks as deeply as `run`
(loaders, loader options, probe names, livedoor categories) without reading data. Each input is the one
the issue reports, and each message must name the real cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import load_suite

TINY = """\
name: tiny
probe: tiny-random-bert
tasks:
  - synthetic: {name: a, n: 40, seed: 1, style: hotel}
  - synthetic: {name: b, n: 40, seed: 2, style: food}
"""


def _cli(tmp_path: Path, *args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    assert not (tmp_path / "runs").exists(), "nothing may be created before the input is checked"
    return result


def _suite(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--workers", "0", "--workers 0: workers must be a number of processes, at least 1, or 'auto'"),
        ("--workers", "abc", "--workers abc: workers must be a number of processes, at least 1, or 'auto'"),
        ("--set", "probe.nmae=x", "--set probe.nmae=x: unknown key (did you mean 'name'?)"),
        ("--set", "nmae=x", "--set nmae=x: unknown key (did you mean 'name'?)"),
        ("--set", "probe.name=tiny-random-bertt", "(did you mean 'tiny-random-bert'?)"),
    ],
)
def test_a_flags_error_names_the_flag_not_the_suite_file(
    tmp_path: Path, flag: str, value: str, message: str
) -> None:
    suite = _suite(tmp_path, TINY, "tiny.yaml")
    result = _cli(tmp_path, "run", "--suite", str(suite), "--runs-dir", str(tmp_path / "runs"), flag, value)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "tiny.yaml" not in result.output and "error(s)" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_every_problem_of_a_suite_file_is_shown_at_once_with_its_line(tmp_path: Path) -> None:
    text = (
        "name: two\n"
        "probe: {name: tiny-random-bert, max_lenght: 12}\n"
        "seeds: [a]\n"
        "tasks:\n"
        "  - synthetic: {name: a, n: 40}\n"
        "  - synthetic: {name: b, n: 40}\n"
    )
    path = _suite(tmp_path, text)
    result = _cli(tmp_path, "suites", str(path))
    assert result.exit_code == 2
    assert f"{path}: 2 problems:" in result.output
    assert f"{path}:2: field 'probe.max_lenght': unknown key (did you mean 'max_length'?)" in result.output
    assert f"{path}:3: field 'seeds.0':" in result.output


def test_suites_file_checks_loaders_options_probe_and_categories_like_run(tmp_path: Path) -> None:
    text = (
        "name: deep\n"
        "probe: tiny-random-bertt\n"
        "tasks:\n"
        "  - chabsaa\n"
        "  - livedoor: {categories: [sports-watch, it-lif-hack]}\n"
        "  - synthetic: {name: c, n: 40, stylee: food}\n"
        "  - {name: d, loader: csv, options: {path: x.csv, multiline: maybe}}\n"
    )
    path = _suite(tmp_path, text)
    for command in (
        ["suites", str(path)],
        ["run", "--suite", str(path), "--runs-dir", str(tmp_path / "runs")],
    ):
        result = _cli(tmp_path, *command)
        assert result.exit_code == 2, result.output
        out = result.output
        assert f"{path}: 5 problems:" in out
        assert (
            f"{path}:2: probe 'tiny-random-bertt': not a built-in probe (did you mean 'tiny-random-bert'?)"
            in out
        )
        assert f"{path}:4: task 'chabsaa': unknown loader 'chabsaa' (did you mean 'chabsa'?)" in out
        assert f"{path}:5: task 'livedoor': loader 'livedoor': no category 'it-lif-hack' (did you mean" in out
        assert "loader 'synthetic' has no option 'stylee' (did you mean 'style'?)" in out
        assert f"{path}:7: task 'd': loader 'csv', option 'multiline': cannot read 'maybe' as bool" in out
        assert "download" not in out


def test_two_livedoor_entries_get_a_hint_about_task_keys_as_names(tmp_path: Path) -> None:
    text = (
        "name: ld\n"
        "tasks:\n"
        "  - livedoor: {categories: [sports-watch, it-life-hack]}\n"
        "  - livedoor: {categories: [smax, dokujo-tsushin]}\n"
    )
    result = _cli(tmp_path, "suites", str(_suite(tmp_path, text)))
    assert result.exit_code == 2
    assert "task names must be unique; repeated: livedoor" in result.output
    assert "use the name as the key" in result.output and "{loader: livedoor" in result.output


def test_task_keys_as_names_work_as_the_hint_says(tmp_path: Path) -> None:
    text = (
        "name: ld\n"
        "tasks:\n"
        "  - ld-sports-it: {loader: livedoor, categories: [sports-watch, it-life-hack]}\n"
        "  - ld-smax-dokujo: {loader: livedoor, categories: [smax, dokujo-tsushin], max_examples: 40}\n"
    )
    result = _cli(tmp_path, "suites", str(_suite(tmp_path, text)))
    assert result.exit_code == 0, result.output
    assert "name: ld-smax-dokujo\n  loader: livedoor" in result.output
    assert "max_examples: 40" in result.output


def test_set_applies_to_a_probe_given_as_shorthand(tmp_path: Path) -> None:
    suite = _suite(tmp_path, TINY, "tiny.yaml")
    assert load_suite(suite, {"probe.max_length": 12}).probe.max_length == 12


def test_a_runs_folder_that_cannot_be_written_is_one_line_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import sys

    cli_app = sys.modules["jtask2vec.cli.app"]

    suite = _suite(tmp_path, TINY, "tiny.yaml")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["run", "--suite", str(suite), "--runs-dir", str(tmp_path / "a-file" / "r")]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {tmp_path / 'a-file' / 'r'}: the runs folder cannot be written (Not a directory); "
        "pass --runs-dir with a writable folder"
    )

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cli_app.tempfile, "NamedTemporaryFile", read_only)
    result = CliRunner().invoke(app, ["finetune", "--suite", str(suite), "--runs-dir", str(tmp_path / "ro")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "the runs folder cannot be written (Read-only file system)" in result.output


def test_a_wrong_livedoor_category_names_the_category_not_a_download(tmp_path: Path) -> None:
    text_dir = tmp_path / "livedoor" / "text"
    for category in ("sports-watch", "it-life-hack"):
        (text_dir / category).mkdir(parents=True)
        article = "http://news.livedoor.com/article/1/\n2012-01-01T00:00:00+0900\nTitle\nBody\n"
        (text_dir / category / f"{category}-1.txt").write_text(article, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "tasks",
            "show",
            "livedoor",
            "--data-dir",
            str(tmp_path),
            "-o",
            "categories=sports-watch,it-lif-hack",
        ],
    )
    assert result.exit_code == 2
    assert "no category 'it-lif-hack' (did you mean 'it-life-hack'?)" in result.output
    assert "download" not in result.output
    # a release with other folder names: the folders present are named
    result = CliRunner().invoke(
        app,
        ["tasks", "show", "livedoor", "--data-dir", str(tmp_path), "-o", "folder=livedoor",
         "-o", "categories=sports-watch,smax"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert (
        "no category folder 'smax'" in result.output and "it has: it-life-hack, sports-watch" in result.output
    )


def test_a_tsv_named_csv_gets_a_delimiter_hint(tmp_path: Path) -> None:
    path = tmp_path / "their.csv"
    path.write_text("text\tlabel\nこれはよい\t1\nだめ\t0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tasks", "show", "csv", "-o", f"path={path}", "--probe", "none"])
    assert result.exit_code == 2
    assert "missing column" in result.output
    assert (
        "the header is one field with tabs in it: read the file with the tsv loader, or delimiter='\\t'"
        in (" ".join(result.output.split()))
    )


def test_an_xlsx_renamed_csv_is_named_as_such(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "their.csv"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as book:  # as Excel writes .xlsx
        book.writestr("[Content_Types].xml", "<Types/>" * 50)
        book.writestr("xl/worksheets/sheet1.xml", "<row><c>テキスト</c></row>" * 200)
    result = CliRunner().invoke(app, ["tasks", "show", "csv", "-o", f"path={path}", "--probe", "none"])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "an Excel workbook (.xlsx) or another zip archive, not a text file" in output
    assert "utf-8" not in output.replace("(UTF-8)", "")
