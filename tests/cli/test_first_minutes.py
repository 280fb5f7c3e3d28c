"""A new user's first ten minutes: suite shorthands, `suites` output that pastes back, 80-column tables,
and the README's word on the demo suite agreeing with the suite file."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.cli.summary import SHORT_SELECTORS, print_evaluation
from jtask2vec.config import Suite, load_suite
from jtask2vec.errors import ConfigError
from jtask2vec.results import RunResults

REPO_ROOT = Path(__file__).resolve().parents[2]


def _suite_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shorthands_expand_to_the_full_form(tmp_path: Path) -> None:
    short = load_suite(
        _suite_file(
            tmp_path,
            "name: mine\n"
            "probe: tiny-random-bert\n"
            "tasks:\n"
            "  - chabsa\n"
            "  - jrte-pn\n"
            "  - livedoor: {categories: [sports-watch, it-life-hack], max_examples: 300}\n"
            "  - synthetic: {name: syn, n: 40, style: food}\n"
            "  - csv:\n",
        )
    )
    full = Suite.model_validate(
        {
            "name": "mine",
            "probe": {"name": "tiny-random-bert"},
            "tasks": [
                {"name": "chabsa", "loader": "chabsa"},
                {"name": "jrte-pn", "loader": "jrte-pn"},
                {
                    "name": "livedoor",
                    "loader": "livedoor",
                    "options": {"categories": ["sports-watch", "it-life-hack"]},
                    "max_examples": 300,
                },
                {"name": "syn", "loader": "synthetic", "options": {"n": 40, "style": "food"}},
                {"name": "csv", "loader": "csv"},
            ],
        }
    )
    assert short == full


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("{livedoor: {categories: [a], options: {join: true}}}", "ambiguous: both 'options' and loose"),
        ("{livedoor: {}, chabsa: {}}", "got keys livedoor, chabsa"),
        ("{max_examples: 40}", "'max_examples' is a task field, not a loader id"),
        ("{livedoor: [a, b]}", "options of loader 'livedoor' must be a mapping"),
        ("''", "empty loader id"),
    ],
)
def test_ambiguous_shorthands_are_one_clear_line(tmp_path: Path, task: str, message: str) -> None:
    path = _suite_file(tmp_path, f"name: mine\ntasks:\n  - chabsa\n  - {task}\n")
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_suite(path)
    assert "tasks[1]" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["paper", "demo"])
def test_suites_prints_raw_yaml_that_loads_back_at_60_columns(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(app, ["suites", name], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) > 60  # long lines were not wrapped
    path = _suite_file(tmp_path, result.output)
    assert load_suite(path) == load_suite(name)


def test_suites_prints_a_suite_file_expanded(tmp_path: Path) -> None:
    path = _suite_file(tmp_path, "name: mine\nprobe: tiny-random-bert\ntasks: [chabsa, jrte-pn]\n")
    result = CliRunner().invoke(app, ["suites", str(path)], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert printed["tasks"][1] == {**printed["tasks"][1], "name": "jrte-pn", "loader": "jrte-pn"}
    assert printed["probe"]["name"] == "tiny-random-bert" and "max_length" in printed["probe"]
    assert Suite.model_validate(printed) == load_suite(path)


def test_evaluation_table_keeps_selector_names_readable_at_80_columns() -> None:
    selectors = [*SHORT_SELECTORS, "random", "datasize", "textemb", "logme"]
    metrics = ["top1_hit", "regret@1", "regret@3", "ndcg", "spearman", "kendall"]
    rows = [
        {"selector": s, "metric": m, "mean": 0.5, "ci_low": 0.25, "ci_high": 0.75, "ci_method": "t"}
        for s in selectors
        for m in metrics
    ]
    results = RunResults(suite=load_suite("demo"), evaluation=pd.DataFrame(rows))
    out = io.StringIO()
    print_evaluation(results, Console(file=out, width=80))
    text = out.getvalue()
    assert "…" not in text
    for name, short in SHORT_SELECTORS.items():
        assert re.search(rf"│ {re.escape(short)} +│", text), short
        assert f"{short} = {name}" in text  # the legend
    assert max(len(line) for line in text.splitlines() if "│" in line) <= 80


def test_readme_describes_the_demo_suite_as_its_file_does() -> None:
    suite = load_suite("demo")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `demo` |"))
    sizes = {t.name: t.max_examples for t in suite.tasks}
    hotel = {sizes[n] for n in ("hotel-a", "hotel-b", "hotel-c")}
    assert len(hotel) == 1
    expected = (
        f"hotel stand-ins {hotel.pop()} examples each, chABSA {sizes['chabsa']}, livedoor "
        f"{sizes['livedoor']}; texts cut to {suite.probe.max_length} tokens; {suite.training.epochs} "
        f"epochs; Fisher on {suite.fisher.max_examples} examples; {len(suite.seeds)} seed"
    )
    assert expected in row
    description = " ".join(suite.description.split())
    assert f"texts cut to {suite.probe.max_length} tokens" in description
    for task in ("chABSA", "livedoor"):
        assert f"{task} to {sizes[task.lower()]}" in description
