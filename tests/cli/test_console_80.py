"""The console at 80 columns and docs that agree with the suites (issue 20, items 7 and 8): `suites` is one
line per suite (name, task count, seeds, a short description), the run summary's tables fit 80 columns
with their numbers whole, one seed prints the mean alone, and every suite's README row and description
state the seeds and sizes its YAML has."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.cli.summary import print_summary
from jtask2vec.cli.tables import wrap_entries
from jtask2vec.config import builtin_suites, load_suite
from jtask2vec.results import BASELINE_SOURCE, RunResults

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_suites_lists_one_line_per_suite_at_80_columns() -> None:
    result = CliRunner().invoke(app, ["suites"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for name in builtin_suites():
        suite = load_suite(name)
        row = [line for line in lines if line.split()[:1] == [name]]
        assert len(row) == 1, name
        assert row[0].split()[1:3] == [str(len(suite.tasks)), str(len(suite.seeds))]
        assert row[0].endswith(suite.summary), name  # the whole short description, not cut
    assert len(lines) <= len(builtin_suites()) + 3


def _results(n_tasks: int, seeds: list[int]) -> RunResults:
    names = [f"task-{i:02d}-name" for i in range(n_tasks)]
    finetune = pd.DataFrame(
        [{"task": t, "seed": s, "accuracy": 0.875 + 0.01 * s, "macro_f1": 0.8} for t in names for s in seeds]
    )
    transfer = pd.DataFrame(
        [
            {"target": t, "source": src, "seed": s, "accuracy": 0.8125}
            for t in names
            for src in [BASELINE_SOURCE, *names]
            if src != t
            for s in seeds
        ]
    )
    suite = load_suite("demo").model_copy(update={"seeds": seeds})
    return RunResults(suite=suite, finetune=finetune, transfer=transfer, evaluation=pd.DataFrame())


def _printed(results: RunResults) -> str:
    out = io.StringIO()
    print_summary(results, Console(file=out, width=80))
    return out.getvalue()


def test_one_seed_prints_the_mean_alone() -> None:
    one = _printed(_results(3, [0]))
    assert "0.8750" in one and "±" not in one
    several = _printed(_results(3, [0, 1]))
    assert "0.8800 ± 0.0071" in several


@pytest.mark.parametrize("n_tasks", [3, 11])
def test_summary_tables_fit_80_columns_with_whole_numbers(n_tasks: int) -> None:
    text = _printed(_results(n_tasks, [0]))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    cells = re.findall(r"│ *([0-9.–]+) *(?=│)", text)
    assert cells and all(c in {"0.8125", "–", "0.8750", "0.8000", "1"} for c in cells), set(cells)
    for name in (f"task-{i:02d}-name" for i in range(n_tasks)):
        # every source has its column, in as many tables as needed
        assert re.search(rf"┃ +{name} +┃", text), name


def test_a_legend_wraps_between_entries() -> None:
    legend = "Legend: " + ", ".join(f"short{i} = a-rather-long-selector-name-{i}" for i in range(6))
    lines = wrap_entries(legend, 80).splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 80
    joined = " ".join(line.strip() for line in lines)
    assert all(f"short{i} = a-rather-long-selector-name-{i}" in joined for i in range(6))


# ---- docs true ---------------------------------------------------------------------------------------
# Sizes a description names that belong to no task of its suite: toxic's own 282 training examples, the
# task equal-size leaves out for being smaller than 800.
NOT_THE_SUITES = {("equal-size", "282")}


@pytest.mark.parametrize("name", builtin_suites())
def test_each_suites_readme_row_and_description_state_its_seeds_and_sizes(name: str) -> None:
    suite = load_suite(name)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    row = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"README's suite table has no row for {name}"
    for text in (row, " ".join(suite.description.split()), suite.summary):
        for other, count in re.findall(r"([\w-]+) \((\d+) seeds", text):  # another suite's seeds
            assert len(load_suite(other).seeds) == int(count), (name, other)
        text = re.sub(r"[\w-]+ \(\d+ seeds", "", text)
        words = {"one": 1, "two": 2, "three": 3, "five": 5}
        for count in re.findall(r"\b(\d+|one|two|three|five) seeds?\b", text):
            assert words.get(count, count) in (len(suite.seeds), str(len(suite.seeds))), (name, text)
        sizes = {t.max_examples for t in suite.tasks} | {t.train_size for t in suite.tasks}
        sizes |= {suite.source_regime.train_size, suite.target_regime.train_size, suite.fisher.max_examples}
        for size in re.findall(r"(\d[\d,]*)(?:-| training | )examples?\b", text):
            if (name, size) not in NOT_THE_SUITES:
                assert int(size.replace(",", "")) in sizes, (name, size)


def test_the_task_forms_in_docs_tasks_md_load_as_documented(tmp_path: Path) -> None:
    text = (REPO_ROOT / "docs" / "tasks.md").read_text(encoding="utf-8")
    section = text.split("## Tasks in a suite file", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "forms.yaml"
    path.write_text("name: forms\n" + block, encoding="utf-8")
    suite = load_suite(path)
    assert [(t.name, t.loader) for t in suite.tasks] == [
        ("chabsa", "chabsa"),
        ("livedoor", "livedoor"),
        ("ld-sports-it", "livedoor"),
        ("ld-kaden", "livedoor"),
    ]
    assert suite.tasks[1].max_examples == 400
    assert suite.tasks[2].options == {"categories": ["sports-watch", "it-life-hack"]}
