"""Suites: built-in files validate, overrides apply, bad files give one clear line."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.cli.app import parse_overrides
from jtask2vec.config import Suite, builtin_suites, dump_suite, load_suite
from jtask2vec.errors import ConfigError


def test_builtin_suites_validate() -> None:
    names = builtin_suites()
    assert {"demo", "paper", "paper-offline", "ja-extended"} <= set(names)
    for name in names:
        suite = load_suite(name)
        raw = yaml.safe_load((files("jtask2vec") / "suites" / f"{name}.yaml").read_text(encoding="utf-8"))
        assert suite.name == name == raw["name"]
        assert suite.task_names == [t["name"] for t in raw["tasks"]]  # the file's own values
        assert suite.probe.name == raw["probe"]["name"]
        if "seeds" in raw:
            assert suite.seeds == raw["seeds"]


def test_paper_offline_marks_stand_ins() -> None:
    suite = load_suite("paper-offline")
    stand_ins = {t.name: t.stand_in_for for t in suite.tasks if t.stand_in_for}
    assert sorted(stand_ins.values()) == ["jrte", "rakuten.1", "rakuten.2"]
    assert len(suite.seeds) == 5  # the verdict needs intervals over several seeds
    assert suite.probe.name == "ja-imitator"


def test_overrides_apply_dotted_keys(tmp_path: Path) -> None:
    suite = load_suite("demo", parse_overrides(["probe.name=tiny-random-bert", "seeds=[3, 4]"]))
    assert suite.probe.name == "tiny-random-bert"
    assert suite.seeds == [3, 4]
    assert suite.training == load_suite("demo").training  # fields not overridden keep the file's values
    # the dumped YAML loads back to the same suite, overrides included
    dumped = tmp_path / "dumped.yaml"
    dumped.write_text(dump_suite(suite), encoding="utf-8")
    again = load_suite(dumped)
    assert again == suite and again.probe.name == "tiny-random-bert" and again.seeds == [3, 4]


def test_bad_override_and_bad_field_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["probe.name"])
    with pytest.raises(ConfigError, match=r"training\.epochs"):
        load_suite("demo", {"training.epochs": 0})
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntasks: [{name: a, loader: csv}, {name: a, loader: csv}]\n")
    with pytest.raises(ConfigError, match="repeated: a"):
        load_suite(bad)
    with pytest.raises(ConfigError, match="unknown suite"):
        load_suite("no-such-suite")


def test_targets_must_name_tasks(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\ntasks: [{name: a, loader: synthetic}, {name: b, loader: synthetic}]\ntargets: [c]\n"
    )
    with pytest.raises(ConfigError, match="unknown tasks: c"):
        load_suite(path)


def test_cli_suites_lists_and_shows() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["suites"])
    assert listed.exit_code == 0 and "paper-offline" in listed.output
    shown = runner.invoke(app, ["suites", "paper"])
    assert shown.exit_code == 0 and "tohoku-nlp/bert-base-japanese-v3" in shown.output
    missing = runner.invoke(app, ["run", "--suite", "nope.yaml"])
    assert missing.exit_code == 2 and "suite file not found" in missing.output


TWO = [{"name": "a", "loader": "synthetic"}, {"name": "b", "loader": "synthetic"}]


def test_a_transfer_recipe_names_only_what_differs_from_training() -> None:
    """A partial ``transfer_training`` takes every field it does not give from ``training`` (a block that
    set only epochs once trained me5's whole word-embedding table in float32); what it gives wins."""
    suite = Suite(
        name="s",
        tasks=TWO,
        training={"freeze_word_embeddings": True, "precision": "auto", "epochs": 3, "learning_rate": 3e-5},
        transfer_training={"epochs": 1},
    )
    assert suite.transfer_training == suite.training.model_copy(update={"epochs": 1})
    assert suite.target_training.freeze_word_embeddings and suite.target_training.precision == "auto"
    assert Suite(name="s", tasks=TWO).transfer_training is None
