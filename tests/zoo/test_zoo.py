"""The zoo end to end (tiny random BERT, synthetic tasks): build, show, merge, refusals, rank, verify."""

from __future__ import annotations

import csv
import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import jtask2vec
from jtask2vec.cli import app
from jtask2vec.config import Suite
from jtask2vec.errors import ConfigError, DataError, ProbeError
from jtask2vec.fisher.distances import DISTANCES, distance_matrix
from jtask2vec.jobs.embedding_files import load_embedding
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.registry import load_task, task_spec
from jtask2vec.zoo import TargetOptions, Zoo, add_zoo, build_zoo, rank_zoo_target
from jtask2vec.zoo.integrity import RECIPE_FILE, manifest_digest
from jtask2vec.zoo.manifest import MANIFEST_FILE, checksum_tree
from jtask2vec.zoo.overlap import text_hashes
from jtask2vec.zoo.verify import NO_TRANSFER

pytestmark = pytest.mark.slow


def _synthetic(name: str, seed: int, style: str, signal: str = "keyword") -> dict:
    return {
        "name": name,
        "loader": "synthetic",
        "options": {"n": 120, "seed": seed, "style": style, "signal": signal},
    }


ZOO_SUITE = {
    "name": "tiny-zoo",
    "tasks": [_synthetic("hotel", 1, "hotel"), _synthetic("food", 2, "food"), _synthetic("news", 3, "news")],
    "probe": "tiny-random-bert",
    "training": {"epochs": 3, "batch_size": 16, "learning_rate": 3e-3},
    "fisher": {"max_examples": 24, "batch_size": 8},
    "seeds": [0, 1],
}
OTHER_SUITE = {
    **ZOO_SUITE,
    "name": "tiny-other",
    "tasks": [ZOO_SUITE["tasks"][0], _synthetic("sport", 4, "news")],
}


def _write_target_csv(path: Path, *, seed: int, style: str, pairs: bool = False) -> Path:
    task = load_task(task_spec("synthetic", "t", n=120, seed=seed, style=style))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "text2", "label"] if pairs else ["text", "label"])
        for i, (text, label) in enumerate(zip(task.texts, task.labels, strict=True)):
            row = [text, task.texts[(i + 1) % len(task)]] if pairs else [text]
            writer.writerow([*row, "pos" if label else "neg"])
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Zoo, Path]:
    root = tmp_path_factory.mktemp("zoo")
    runs = root / "runs"
    zoo = build_zoo(Suite.model_validate(ZOO_SUITE), root / "zoo", runs_dir=runs, with_checkpoints=True,
                    progress=False)  # fmt: skip
    return zoo, runs


@pytest.fixture(scope="module")
def target_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_target_csv(tmp_path_factory.mktemp("target") / "mine.csv", seed=11, style="hotel")


@pytest.fixture(scope="module")
def ranked(built, target_csv):
    zoo, runs = built
    return rank_zoo_target(
        zoo, target_csv, options=TargetOptions(positive=("pos",), negative=("neg",)), runs_dir=runs, verify=2
    )


def test_build_writes_a_self_contained_checksummed_zoo(built) -> None:
    zoo, runs = built
    manifest = json.loads((zoo.root / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["format_version"] == 2 and manifest["jtask2vec_version"] == jtask2vec.__version__
    recipe = manifest["recipe"]
    assert recipe["probe"]["fingerprint"] == "tiny-random-bert-seed0"
    assert recipe["probe"]["pooling"] == "cls" and recipe["probe"]["max_length"] == 128
    assert recipe["fisher"]["max_examples"] == 24 and recipe["training"]["epochs"] == 3
    assert recipe["source_regime"] == recipe["target_regime"] == {"train_size": None}
    assert json.loads((zoo.root / "recipe.json").read_text(encoding="utf-8")) == recipe
    assert [e["name"] for e in manifest["entries"]] == ["hotel", "food", "news"]
    files = {p.relative_to(zoo.root).as_posix() for p in zoo.root.rglob("*") if p.is_file()}
    assert files - {MANIFEST_FILE} == set(manifest["files"])
    hotel = zoo.entry("hotel")
    assert hotel.language == "ja" and hotel.size == 120 and hotel.label_names == ["negative", "positive"]
    assert hotel.licence and hotel.source and len(hotel.data_hash) == 64
    source = load_task(task_spec("synthetic", "hotel", n=120, seed=1, style="hotel"))
    assert zoo.texts(hotel) == text_hashes(source.inputs) and hotel.n_texts == len(zoo.texts(hotel))
    store = ArtifactStore(runs / "store")
    for seed in (0, 1):
        # the zoo's vector is the suite run's embedding of that checkpoint, and its checkpoint is a copy
        stored = [load_embedding(p).vector for p in (store.root / "embedding").iterdir()]
        assert any(np.array_equal(zoo.vector(hotel, seed), v) for v in stored)
        key = hotel.seeds[seed].checkpoint_key
        assert (zoo.checkpoint_folder(hotel, seed) / "model.safetensors").read_bytes() == (
            store.path("finetune", key) / "model.safetensors"
        ).read_bytes()
    assert not list(zoo.root.parent.glob(".zoo.staging-*"))  # the staging folder was renamed away


def test_build_refuses_an_existing_folder(built) -> None:
    zoo, runs = built
    with pytest.raises(ConfigError, match="already exists"):
        build_zoo(Suite.model_validate(ZOO_SUITE), zoo.root, runs_dir=runs, progress=False)


def test_corrupt_file_is_named_in_one_line(built, tmp_path: Path) -> None:
    zoo, _ = built
    copy = Path(shutil.copytree(zoo.root, tmp_path / "copy"))
    victim = copy / zoo.entry("food").seeds[1].embedding / "embedding.safetensors"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(DataError, match="checksum mismatch") as err:
        Zoo.load(copy)
    assert str(victim) in str(err.value)
    result = CliRunner().invoke(app, ["zoo", "show", str(copy)])
    assert result.exit_code == 2 and "checksum mismatch" in result.output
    assert len(result.output.strip().splitlines()) == 1
    victim.unlink()
    with pytest.raises(DataError, match="missing file"):
        Zoo.load(copy)


def test_show_lists_the_entries(built) -> None:
    zoo, _ = built
    result = CliRunner().invoke(app, ["zoo", "show", str(zoo.root)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    for name in ("hotel", "food", "news", "tiny-random-bert-seed0", "checkpoints: yes"):
        assert name in result.output


def _edited_copy(zoo: Zoo, folder: Path, edit) -> Path:
    """A copy of the zoo as if built with the edited manifest: the entries' meta.json, recipe.json, the
    checksums and zoo.json's own checksum all made to agree (zoo.json alone edited is refused on load)."""
    copy = Path(shutil.copytree(zoo.root, folder))
    manifest = json.loads((copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    edit(manifest)
    recipe = manifest["recipe"]
    for meta_file in copy.glob("tasks/*/seed-*/*/meta.json"):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta_file.parent.name == "embedding":
            meta.update(probe=recipe["probe"]["fingerprint"], max_length=recipe["probe"]["max_length"],
                        fisher_config=recipe["fisher"])  # fmt: skip
        else:
            meta.update(probe_fingerprint=recipe["probe"]["fingerprint"], training=recipe["training"])
        meta_file.write_text(json.dumps(meta), encoding="utf-8")
    (copy / RECIPE_FILE).write_text(json.dumps(recipe), encoding="utf-8")
    manifest["files"] = checksum_tree(copy)
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    return copy


def test_merge_adds_new_tasks_and_keeps_identical_ones_once(built, tmp_path: Path) -> None:
    zoo, runs = built
    into = Path(shutil.copytree(zoo.root, tmp_path / "into"))
    other = build_zoo(Suite.model_validate(OTHER_SUITE), tmp_path / "other", runs_dir=runs, progress=False)
    merged = add_zoo(into, other.root)
    assert [e.name for e in merged.entries] == ["hotel", "food", "news", "sport"]
    sport = merged.entry("sport")
    assert np.array_equal(merged.vector(sport, 0), other.vector(other.entry("sport"), 0))
    # sport keeps the t0 of the zoo it was built in (another text mix than the first zoo's)
    assert sport.trivial != merged.entry("hotel").trivial and len(merged.manifest.trivial) == 2
    assert not merged.has_checkpoints  # the other zoo has none
    Zoo.load(into)  # checksums of the merged zoo hold


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["recipe"]["probe"].update(fingerprint="another-probe"), "probe weights fingerprint"),
        (lambda m: m["recipe"]["probe"].update(pooling="mean"), "probe pooling"),
        (lambda m: m["recipe"]["probe"].update(max_length=64), "probe max_length"),
        (lambda m: m["recipe"]["fisher"].update(estimator="empirical"), "Fisher config"),
        (lambda m: m["entries"][0].update(data_hash="0" * 64), "already in .* with other data"),
    ],
)
def test_merge_refuses_incomparable_zoos(built, tmp_path: Path, edit, message: str) -> None:
    zoo, _ = built
    other = _edited_copy(zoo, tmp_path / "other", edit)
    into = Path(shutil.copytree(zoo.root, tmp_path / "into"))
    before = (into / MANIFEST_FILE).read_bytes()
    with pytest.raises(ConfigError, match=message):
        add_zoo(into, other)
    assert (into / MANIFEST_FILE).read_bytes() == before
    result = CliRunner().invoke(app, ["zoo", "add", str(into), str(other)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def test_rank_refuses_a_probe_with_other_weights(built, target_csv: Path, tmp_path: Path) -> None:
    zoo, runs = built
    other = _edited_copy(zoo, tmp_path / "z", lambda m: m["recipe"]["probe"].update(fingerprint="x"))
    with pytest.raises(ProbeError, match="fingerprint"):
        rank_zoo_target(
            other, target_csv, options=TargetOptions(positive=("pos",), negative=("neg",)), runs_dir=runs
        )


def test_rank_values_are_the_distances_of_the_embeddings(ranked, built) -> None:
    zoo, runs = built
    table = ranked.table
    assert set(table["source"]) == {"hotel", "food", "news"}
    assert ranked.selectors == [f"task2vec:{d}" for d in DISTANCES] + ["logme"]
    store = ArtifactStore(runs / "store")
    targets = [
        load_embedding(store.path("embedding", k))
        for k in store.keys("embedding")
        if load_embedding(store.path("embedding", k)).meta["task"] == "mine"
    ]
    assert sorted(e.meta["seed"] for e in targets) == [0, 1, 2]  # the target's seeds, by default 3
    for distance in DISTANCES:
        per_pair = []  # every target seed against every zoo seed
        for emb in sorted(targets, key=lambda e: e.meta["seed"]):
            for seed in (0, 1):
                vectors = {e.name: zoo.vector(e, seed) for e in zoo.entries} | {"mine": emb.vector}
                t0 = zoo.trivial_vector(zoo.entries[0].trivial, seed)
                per_pair.append(distance_matrix(vectors, distance, trivial=t0)["mine"])
        want = pd.concat(per_pair, axis=1).mean(axis=1)
        got = table.set_index("source")[f"task2vec:{distance}"]
        for source in ("hotel", "food", "news"):
            assert got[source] == pytest.approx(want[source], rel=1e-12, abs=1e-15)
    ranks = table[[f"rank:task2vec:{d}" for d in DISTANCES]].mean(axis=1)
    assert np.allclose(ranks, table["mean_rank"])
    assert list(table["top"]) == sorted(table["top"], reverse=True) and table["top"].sum() == 6
    assert (table["pairs"] == 6).all() and (table["pair_rank_low"] <= table["pair_rank"]).all()
    assert table["logme"].notna().all()
    assert ranked.recommended == table["source"].iloc[0]
    line = ranked.recommendation_line()
    assert line.startswith(f"Recommendation: start from {ranked.recommended!r}") == ranked.verdict.clear


def test_rank_leaves_out_the_target_itself(built, tmp_path: Path) -> None:
    zoo, runs = built
    # the zoo's "food" task exported to a CSV file, made apart from the suite's TaskSpec
    export = _write_target_csv(tmp_path / "export.csv", seed=2, style="food")
    options = TargetOptions(
        positive=("pos",), negative=("neg",), options={"label_names": ["negative", "positive"]}
    )
    frame = jtask2vec.rank_target(zoo, export, options=options, runs_dir=runs, logme=False)
    assert set(frame["source"]) == {"hotel", "news"} and frame.attrs["excluded"] == ["food"]
    assert "logme" not in frame.columns


def test_verify_runs_the_top_sources_and_the_baseline(ranked, built) -> None:
    zoo, runs = built
    v = ranked.verify
    top2 = list(ranked.table["source"])[:2]
    assert v.recommended == top2[0]
    assert sorted(v.runs["source"].unique()) == sorted([NO_TRANSFER, *top2])
    assert len(v.runs) == 3 * 3  # (baseline + 2 sources) x 3 target seeds
    assert [c.b for c in v.comparisons] == [NO_TRANSFER, top2[1]]
    assert v.test_size == 24 and not v.judgeable  # 24 test examples: not enough to judge
    for c in v.comparisons:  # three seeds: a t-interval around the paired mean difference
        a = v.runs[v.runs["source"] == c.a].set_index("seed")["accuracy"]
        b = v.runs[v.runs["source"] == c.b].set_index("seed")["accuracy"]
        assert c.mean == pytest.approx(float((a - b).mean()))
        assert c.low <= c.mean <= c.high
    store = ArtifactStore(runs / "store")
    for seed in (0, 1):  # the source checkpoints were imported under their zoo keys and used as init_from
        assert store.exists("finetune", zoo.entry(top2[0]).seeds[seed].checkpoint_key)
    sources = {r["source"] for r in (store.read_json("finetune", k) for k in store.keys("finetune"))}
    assert set(top2) <= sources


def test_rank_cli_json_schema(built, target_csv: Path) -> None:
    zoo, runs = built
    args = [
        "rank",
        "--zoo",
        str(zoo.root),
        "--target-file",
        str(target_csv),
        "--positive",
        "pos",
        "--negative",
        "neg",
    ]
    result = CliRunner().invoke(app, [*args, "--runs-dir", str(runs), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["format"] == "jtask2vec-rank/2"
    assert set(payload) == {
        "format", "target", "zoo", "seeds", "zoo_seeds", "selectors", "sources", "agreement", "verdict",
        "recommendation", "excluded", "flags", "overlap", "cost", "verify",
    }  # fmt: skip
    assert payload["target"]["name"] == "mine" and payload["target"]["size"] == 120
    first = payload["sources"][0]
    assert set(first) == {
        "source", "kind", "size", "scores", "score_ranges", "ranks", "mean_rank", "pair_rank",
        "pair_rank_range", "top", "pairs",
    }  # fmt: skip
    assert set(first["scores"]) == set(payload["selectors"])
    assert payload["verdict"]["most_often_top"] == first["source"]
    assert payload["recommendation"]["source"] in (first["source"], None)
    assert payload["agreement"]["distances"] == 5
    result = CliRunner().invoke(app, [*args, "--runs-dir", str(runs), "--csv"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(pd.io.common.StringIO(result.output))
    assert list(frame["source"]) == [s["source"] for s in payload["sources"]]
    result = CliRunner().invoke(app, [*args, "--runs-dir", str(runs), "--verify", "2"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # lines wrap at 80 columns
    assert ("Recommendation: start from" in text or "No clear pick" in text) and "…" not in text
    assert "t2v:asym = task2vec:asymmetric" in text
    assert "Verification" in text and "(no transfer)" in text
    assert "t-interval over seeds" in text or "no clear difference" in text


def test_rank_on_sentence_pairs(built, tmp_path: Path) -> None:
    zoo, runs = built
    path = _write_target_csv(tmp_path / "pairs.csv", seed=12, style="food", pairs=True)
    options = TargetOptions(text_pair_column="text2", positive=("pos",), negative=("neg",))
    ranking = rank_zoo_target(zoo, path, options=options, runs_dir=runs, logme=False)
    assert ranking.table["task2vec:cosine"].notna().all()
    single = load_task(task_spec("csv", "pairs", path=str(path), positive=["pos"], negative=["neg"]))
    assert ranking.target["data_hash"] != single.data_hash  # the second text is part of the data
    paired = load_task(
        task_spec(
            "csv", "pairs", path=str(path), positive=["pos"], negative=["neg"], text_pair_column="text2"
        )
    )
    assert paired.is_pair_task and paired.text_pairs is not None and len(paired.text_pairs) == len(paired)
    assert ranking.target["data_hash"] == paired.data_hash


def test_rank_needs_one_target(built, target_csv: Path) -> None:
    zoo, _ = built
    both = ["rank", "--zoo", str(zoo.root), "--target-file", str(target_csv), "--target-task", "x"]
    for args in (["rank", "--zoo", str(zoo.root)], both, ["rank", "--target-file", str(target_csv)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "Traceback" not in result.output


def _write_duplicated_csv(path: Path, *, n: int, repeat: int, seed: int) -> Path:
    """A CSV of ``n`` synthetic rows followed by its first ``repeat`` rows again (the loader keeps them)."""
    task = load_task(task_spec("synthetic", "t", n=n, seed=seed, style="food"))
    rows = [[text, "pos" if label else "neg"] for text, label in zip(task.texts, task.labels, strict=True)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["text", "label"], *rows, *rows[:repeat]])
    return path


def _rank_json(zoo: Zoo, path: Path, runs: Path) -> dict:
    args = ["rank", "--zoo", str(zoo.root), "--target-file", str(path), "--positive", "pos"]
    result = CliRunner().invoke(app, [*args, "--negative", "neg", "--runs-dir", str(runs), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rank_with_repeated_rows_takes_logme_s_flagged_limit(built, tmp_path: Path) -> None:
    """Issue 16: repeated rows give target features of rank < N (the probe has D = 32 > the distinct train
    texts), and each class is then an exact linear function of them. LogME's evidence has no maximum there;
    it takes its rank-deficient noise-free limit, flagged, instead of failing the whole ranking."""
    zoo, runs = built
    payload = _rank_json(zoo, _write_duplicated_csv(tmp_path / "dup.csv", n=30, repeat=10, seed=21), runs)
    assert all(v is not None for s in payload["sources"] for v in s["scores"].values())
    assert all(v is not None for s in payload["sources"] for v in s["ranks"].values())
    flags = {(f["selector"], f["flag"]) for f in payload["flags"]}
    assert flags == {("logme", "rank-deficient")}
    assert len(payload["flags"]) == len(payload["sources"]) * len(payload["zoo_seeds"])  # LogME: per zoo seed


def test_a_selector_that_cannot_score_loses_nothing_else(
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """120 rows + its first 10 again, and a LogME that cannot score (patched: the zoo's LogME runs in this
    process): every distance is ranked and printed, LogME's values are flagged missing with the reason."""
    zoo, _ = built
    feature_based = importlib.import_module("jtask2vec.selection.feature_based")

    def broken(t, y, s):
        raise DataError("logme: planted failure")

    monkeypatch.setitem(feature_based._SCORERS, "logme", (broken, True))
    path = _write_duplicated_csv(tmp_path / "dup.csv", n=120, repeat=10, seed=22)
    runs = tmp_path / "runs"  # its own store: the flagged failure is cached there, not in the module's
    payload = _rank_json(zoo, path, runs)
    for source in payload["sources"]:
        assert source["scores"]["logme"] is None and source["ranks"]["logme"] is None
        assert all(source["scores"][s] is not None for s in payload["selectors"] if s != "logme")
    assert {f["flag"] for f in payload["flags"]} == {"failed: logme: planted failure"}
    args = ["rank", "--zoo", str(zoo.root), "--target-file", str(path), "--positive", "pos", "--negative"]
    result = CliRunner().invoke(app, [*args, "neg", "--runs-dir", str(runs)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Recommendation: start from" in text or "No clear pick" in text
    assert "flagged 'failed: logme: planted failure'" in text
