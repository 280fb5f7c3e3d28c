"""`rank --zoo` treats a target like the zoo's entries, and says how sure it is (issues 16 and 20).

A small zoo (tiny random BERT, three synthetic tasks, one seed, no checkpoints): an edited zoo.json is
refused naming the field; a target file is a file (a folder, a missing file, another type: each said so);
an entry holding the target's texts is found whatever the labels or format, and left out at >= 50 %;
the target is described first; label polarity does not change the verdict's category; 80 columns.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jtask2vec.cli import app
from jtask2vec.config import Suite
from jtask2vec.errors import DataError
from jtask2vec.tasks.registry import load_task, task_spec
from jtask2vec.zoo import Zoo, build_zoo
from jtask2vec.zoo.integrity import RECIPE_FILE
from jtask2vec.zoo.manifest import MANIFEST_FILE, sha256_file

pytestmark = pytest.mark.slow


def _synthetic(name: str, seed: int, style: str) -> dict:
    return {"name": name, "loader": "synthetic", "options": {"n": 120, "seed": seed, "style": style}}


SMALL_SUITE = {
    "name": "tiny-zoo-targets",
    "tasks": [_synthetic("hotel", 1, "hotel"), _synthetic("food", 2, "food"), _synthetic("news", 3, "news")],
    "probe": "tiny-random-bert",
    "training": {"epochs": 3, "batch_size": 16, "learning_rate": 3e-3},
    "fisher": {"max_examples": 24, "batch_size": 8},
    "seeds": [0],
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Zoo, Path]:
    root = tmp_path_factory.mktemp("zoo-targets")
    zoo = build_zoo(Suite.model_validate(SMALL_SUITE), root / "zoo", runs_dir=root / "runs", progress=False)
    return zoo, root / "runs"


def _source(name: str):
    spec = next(t for t in SMALL_SUITE["tasks"] if t["name"] == name)
    return load_task(task_spec("synthetic", name, **spec["options"]))


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def _rank(zoo: Path, runs: Path, target: Path, *extra: str, columns: str = "100") -> tuple[int, str]:
    args = ["rank", "--zoo", str(zoo), "--target-file", str(target), "--runs-dir", str(runs), "--no-progress"]
    result = CliRunner().invoke(app, [*args, *extra], env={"COLUMNS": columns})
    return result.exit_code, result.output


# ---- zoo.json is verified like every artifact -----------------------------------------------------------
def _edit(zoo: Zoo, folder: Path, edit, *, also_recipe_file: bool = False) -> Path:
    copy = Path(shutil.copytree(zoo.root, folder))
    manifest = json.loads((copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    edit(manifest)
    if also_recipe_file:  # a careful forger: recipe.json and its checksum edited to match
        (copy / RECIPE_FILE).write_text(json.dumps(manifest["recipe"]), encoding="utf-8")
        manifest["files"][RECIPE_FILE] = sha256_file(copy / RECIPE_FILE)
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    return copy


EDITS = [
    ("recipe.fisher.max_examples", lambda m: m["recipe"]["fisher"].update(max_examples=50)),
    ("recipe.asymmetric_alpha", lambda m: m["recipe"].update(asymmetric_alpha=0.9)),
    ("recipe.training.epochs", lambda m: m["recipe"]["training"].update(epochs=1)),
]


@pytest.mark.parametrize(("field", "edit"), EDITS, ids=[f for f, _ in EDITS])
def test_an_edited_recipe_is_one_error_naming_the_field(small, tmp_path: Path, field: str, edit) -> None:
    zoo, runs = small
    copy = _edit(zoo, tmp_path / "z", edit)
    with pytest.raises(DataError, match=re.escape(f"field '{field}'")):
        Zoo.load(copy)
    result = CliRunner().invoke(app, ["zoo", "show", str(copy)])
    assert result.exit_code == 2 and field in result.output
    assert len(result.output.strip().splitlines()) == 1
    code, out = _rank(copy, runs, _write_csv(tmp_path / "t.csv", [("a", "0"), ("b", "1")]))
    assert code == 2 and field in out  # rank refuses before any work


@pytest.mark.parametrize(("field", "edit"), EDITS, ids=[f for f, _ in EDITS])
def test_a_consistent_forgery_is_still_caught(small, tmp_path: Path, field: str, edit) -> None:
    zoo, _ = small
    copy = _edit(zoo, tmp_path / "z", edit, also_recipe_file=True)
    with pytest.raises(DataError) as err:
        Zoo.load(copy)
    # the entries' meta.json name the Fisher and training fields; α is caught by zoo.json's own checksum
    assert field in str(err.value) or "manifest_sha256" in str(err.value)


def test_an_old_zoo_gets_a_clear_message(small, tmp_path: Path) -> None:
    zoo, _ = small
    copy = _edit(zoo, tmp_path / "z", lambda m: m.update(format_version=1))
    with pytest.raises(DataError, match=r"format version 1.*rebuild the zoo"):
        Zoo.load(copy)


# ---- a target file is a file ---------------------------------------------------------------------------
def test_target_file_cases_are_each_named(small, tmp_path: Path) -> None:
    zoo, runs = small
    (tmp_path / "adir.csv").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    cases = {
        "toxic": "no such file; name a registered task with --target-task",  # not the built-in corpus
        str(tmp_path / "out"): "is a folder, not a data file",
        str(tmp_path / "adir.csv"): "is a folder, not a data file",
        str(tmp_path / "absent.csv"): "no such file",
        str(tmp_path / "sheet.xlsx"): "unknown file type '.xlsx'",
    }
    for target, message in cases.items():
        code, out = _rank(zoo.root, runs, Path(target))
        assert code == 2 and message in out and target in out, out
        assert len(out.strip().splitlines()) == 1


# ---- overlap: the same texts whatever the labels, split or format ----------------------------------------
def test_a_csv_export_with_other_label_names_is_left_out(small, tmp_path: Path) -> None:
    zoo, runs = small
    food = _source("food")
    rows = [(t, "good" if y == 0 else "bad") for t, y in zip(food.texts, food.labels, strict=True)][::-1]
    target = _write_csv(tmp_path / "food-export.csv", rows)  # other names, reversed polarity and order
    code, out = _rank(zoo.root, runs, target, "--seeds", "1", "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["excluded"] == ["food"]
    assert payload["overlap"] == [{"source": "food", "share": 1.0, "excluded": True}]
    assert "food" not in [s["source"] for s in payload["sources"]]
    code, out = _rank(zoo.root, runs, target, "--seeds", "1")
    assert code == 0 and "food: holds 100% of the target's texts (left out" in out


def test_a_30_percent_overlap_is_reported_not_excluded(small, tmp_path: Path) -> None:
    zoo, runs = small
    hotel = _source("hotel")
    new = load_task(task_spec("synthetic", "new", n=120, seed=41, style="news"))
    shared = [(f"　{t} ", str(y)) for t, y in zip(hotel.texts[:36], hotel.labels[:36], strict=True)]
    rows = shared + [(t, str(y)) for t, y in zip(new.texts[:84], new.labels[:84], strict=True)]
    target = _write_csv(tmp_path / "mixed.csv", rows)  # full-width spaces around: NFKC + white space
    code, out = _rank(zoo.root, runs, target, "--seeds", "1", "--json")
    assert code == 0, out
    payload = json.loads(out)
    hotel_share = next(o for o in payload["overlap"] if o["source"] == "hotel")
    distinct = len({t for t, _ in rows})
    assert hotel_share == {"source": "hotel", "share": pytest.approx(len(set(hotel.texts[:36])) / distinct),
                           "excluded": False}  # fmt: skip
    assert 0.25 < hotel_share["share"] < 0.35 and payload["excluded"] == []
    assert "hotel" in [s["source"] for s in payload["sources"]]


# ---- the target described, the verdict's stability, 80 columns --------------------------------------------
def _polarity_files(tmp_path: Path) -> tuple[Path, Path]:
    task = load_task(task_spec("synthetic", "t", n=120, seed=12, style="hotel"))
    a = [(t, str(y)) for t, y in zip(task.texts, task.labels, strict=True)]
    b = [(t, str(1 - int(y))) for t, y in a]
    return _write_csv(tmp_path / "split_a.csv", a), _write_csv(tmp_path / "split_b.csv", b)


def test_label_polarity_does_not_change_the_verdict(small, tmp_path: Path) -> None:
    zoo, runs = small
    verdicts = []
    for target in _polarity_files(tmp_path):
        code, out = _rank(zoo.root, runs, target, "--json")
        assert code == 0, out
        payload = json.loads(out)
        assert payload["seeds"] == [0, 1, 2] and payload["verdict"]["pairs"] == 3
        verdicts.append((payload["verdict"]["category"], payload["verdict"]["source"]))
        target_facts = payload["target"]
        assert target_facts["class_1"] == "1" and "larger is class 1" in target_facts["label_rule"]
        assert sum(target_facts["class_counts"].values()) == 120
        assert target_facts["split_sizes"] == {"train": 84, "dev": 12, "test": 24}
        assert target_facts["truncated"]["max_length"] == 128
        fine_tune = target_facts["fine_tune"]
        assert fine_tune["seeds"] == [0, 1, 2] and fine_tune["test_size"] == 24
        assert 0 <= fine_tune["accuracy"] <= 1 and fine_tune["majority_class"]["accuracy"] >= 0.5
        assert (target_facts["warning"] is None) == fine_tune["learned"]
    assert verdicts[0] == verdicts[1]


def test_rank_prints_the_target_first_and_fits_80_columns(small, tmp_path: Path) -> None:
    zoo, runs = small
    target, _ = _polarity_files(tmp_path)
    code, out = _rank(zoo.root, runs, target, columns="80")  # the three seeds are cached by now
    assert code == 0, out
    lines = out.splitlines()
    head = out[: out.index("labels:")]  # the target's name, then its path (wrapped, however long)
    assert out.startswith("Target split_a") and "split_a.csv" in head.replace("\n", "")
    assert "labels: class 1 = '1'" in out
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert "…" not in out and "seed(s)" not in out
    assert "own fine-tune, 3 seeds, test 24: accuracy" in out and "majority class" in out
    assert "3 pairs" in out and ("Recommendation: start from" in out or "No clear pick" in out)
    values = out[out.index("Values, mean over pairs") :].split("Legend")[0]
    for column in zip(
        *[row.split()[2:] for row in values.splitlines() if re.match(r"\s*\d+\s", row)], strict=True
    ):
        decimals = {len(v.split(".")[1]) if "." in v else 0 for v in column}
        assert len(decimals) == 1, column  # one number format per column


def test_zoo_show_says_zoo_once(small) -> None:
    zoo, _ = small
    result = CliRunner().invoke(app, ["zoo", "show", str(zoo.root)], env={"COLUMNS": "80"})
    assert result.exit_code == 0 and "zoo zoo" not in result.output.lower()
    assert result.output.startswith(f"Zoo {zoo.root}")
