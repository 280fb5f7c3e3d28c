"""Golden values: a tiny fixed case per stage of :data:`jtask2vec.jobs.keys.STAGE_VERSIONS`, recomputed and
compared with the numbers checked in under ``tests/jobs/golden/<stage>.json``.

A change of a stage's result without a bump of its version fails here (the stale-artifact guard of the
store); after a bump the test asks for the golden values to be regenerated:

    pytest tests/jobs/test_golden.py --update-golden -n 0

Continuous summaries are compared with a relative tolerance (:data:`RTOL`, of each quantity's own scale)
that float rounding across CPUs and BLAS builds stays far below, while a 0.1 % change of an algorithm
trips it (the ``test_*_trips_*`` tests prove it per stage). Accuracies, F1 and the selected epoch are
compared exactly only when every prediction's logit margin is wide enough that rounding cannot flip it.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from jtask2vec.config import FisherConfig, ProbeConfig, TrainingConfig
from jtask2vec.fisher.distances import trivial_embedding_for_probe
from jtask2vec.fisher.embedding import embed_task
from jtask2vec.jobs.keys import STAGE_VERSIONS
from jtask2vec.jobs.stages import finetune, load_finetuned
from jtask2vec.model.predict import collate, tokenize
from jtask2vec.model.probes import Probe, load_probe
from jtask2vec.selection import logme_score, text_embedding
from jtask2vec.selection.feature_based import FEATURE_SELECTORS, VERSIONS, score_features_flagged
from jtask2vec.selection.features import extract_target_features
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.base import Task
from jtask2vec.tasks.synthetic import make_synthetic_task

GOLDEN_DIR = Path(__file__).with_name("golden")
RTOL = 1e-4  # of a quantity's scale; float rounding across CPUs/BLAS is ~1e-6 here
ROBUST_MARGIN = 1e-3  # a logit margin this wide cannot be flipped by rounding
MAX_LENGTH = 16
TRAINING = TrainingConfig(epochs=2, batch_size=16, learning_rate=1e-2)
FISHER = FisherConfig(max_examples=16, batch_size=8)
SEED = 0

Values = dict[str, dict[str, Any]]  # name -> {"value": float, "scale": float} or {"value": x, "exact": True}


# ---- the fixed inputs ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def probe(one_thread: None) -> Probe:
    return load_probe(ProbeConfig(name="tiny-random-bert", max_length=MAX_LENGTH))


@pytest.fixture(scope="module")
def source() -> Task:
    return make_synthetic_task("golden-source", n=120, seed=11, style="hotel")


@pytest.fixture(scope="module")
def target() -> Task:
    return make_synthetic_task("golden-target", n=60, seed=12, style="food", signal="topic")


# ---- summaries -------------------------------------------------------------------------------------------
def smooth(value: float, scale: float) -> dict[str, Any]:
    return {"value": float(value), "scale": float(scale)}


def vector_summary(prefix: str, vector: np.ndarray, picks: int = 4) -> Values:
    """Sum, norm, extremes and a few evenly spaced entries; each compared on the vector's own scale."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    top = float(np.abs(v).max()) or 1.0
    out = {
        f"{prefix}.size": {"value": int(v.size), "exact": True},
        f"{prefix}.sum": smooth(v.sum(), np.abs(v).sum()),
        f"{prefix}.norm": smooth(np.linalg.norm(v), np.linalg.norm(v)),
        f"{prefix}.min": smooth(v.min(), top),
        f"{prefix}.max": smooth(v.max(), top),
    }
    for i in np.linspace(0, v.size - 1, picks).round().astype(int):
        out[f"{prefix}[{i}]"] = smooth(v[i], top)
    return out


def discrete(name: str, value: float, robust: bool) -> Values:
    """An accuracy-like number: exact when robust, else recorded for information only."""
    return {name: {"value": value, "exact": True} if robust else {"value": value, "info": True}}


def logits(model: torch.nn.Module, probe: Probe, texts: list[str]) -> np.ndarray:
    ids = tokenize(probe.tokenizer, texts, MAX_LENGTH)
    model.eval()
    with torch.no_grad():
        return model(**collate(ids, probe.tokenizer.pad_token_id, torch.device("cpu"))).double().numpy()


# ---- the stages ------------------------------------------------------------------------------------------
def compute_finetune(probe: Probe, task: Task, store_dir: Path) -> tuple[Values, Any]:
    store = ArtifactStore(store_dir)
    result = finetune(task, probe, TRAINING, SEED, store=store, progress=False, device="cpu")
    model, _, _ = load_finetuned(store, result.checkpoint_key)
    test_logits = logits(model, probe, task.texts_of("test"))
    dev_logits = logits(model, probe, task.texts_of("dev"))
    margin = float(np.abs(test_logits[:, 1] - test_logits[:, 0]).min())
    dev_margin = float(np.abs(dev_logits[:, 1] - dev_logits[:, 0]).min())
    state = model.state_dict()
    values: Values = {}
    values |= discrete("test.accuracy", result.accuracy, margin > ROBUST_MARGIN)
    values |= discrete("test.macro_f1", result.macro_f1, margin > ROBUST_MARGIN)
    values |= discrete("dev.metric", result.dev_metric, dev_margin > ROBUST_MARGIN)
    values |= discrete("best_epoch", result.best_epoch, dev_margin > ROBUST_MARGIN)
    values |= vector_summary("test.logits", test_logits)
    values |= vector_summary("head.weight", state["head.weight"].numpy())
    values |= vector_summary("head.bias", state["head.bias"].numpy(), picks=2)
    emb = next(k for k in state if k.endswith("word_embeddings.weight"))
    values |= vector_summary("encoder.word_embeddings", state[emb].numpy())
    last = [k for k in state if k.startswith("encoder.") and k.endswith("output.dense.weight")][-1]
    values |= vector_summary("encoder.last_output_dense", state[last].numpy())
    total = math.sqrt(
        sum(float((p.double() ** 2).sum()) for k, p in state.items() if k.startswith("encoder."))
    )
    values["encoder.total_norm"] = smooth(total, total)
    return values, model


def compute_embedding(probe: Probe, task: Task, model: Any) -> Values:
    emb = embed_task(
        model, probe.tokenizer, task, FISHER, MAX_LENGTH, seed=SEED, probe_name=probe.fingerprint
    )
    return vector_summary("fisher", emb.vector, picks=6)


def compute_trivial(probe: Probe, tasks: list[Task]) -> Values:
    return vector_summary("t0", trivial_embedding_for_probe(probe, tasks, FISHER, seed=SEED).vector, picks=6)


def compute_textemb(probe: Probe, task: Task) -> Values:
    return vector_summary("textemb", text_embedding(probe, task.texts_of("train")), picks=6)


def compute_selector_scores(probe: Probe, target: Task, model: Any) -> Values:
    """Every feature-based selector on the fine-tuned checkpoint's features of the target, plus LogME on a
    features-only case; the selectors' own versions are recorded (a bump asks for new golden values)."""
    features = extract_target_features(model, probe.tokenizer, target.texts_of("train"), MAX_LENGTH)
    scores = score_features_flagged(FEATURE_SELECTORS, features, target.labels_of("train"), seed=SEED)
    fit = logme_score(features.features, target.labels_of("train"))
    rng = np.random.default_rng(5)  # a features-only case, independent of the encoder
    f = rng.normal(size=(60, 8))
    y = rng.integers(0, 3, size=60)
    f[:, 0] += y
    plain = logme_score(f, y)
    values: Values = {
        f"checkpoint.{name}": smooth(score.score, max(abs(score.score), 1e-3))
        for name, score in scores.items()
    }
    values.update(
        {f"checkpoint.{name}.flag": {"value": score.flag, "exact": True} for name, score in scores.items()}
    )
    values.update(
        {
            "selector_versions": {"value": dict(sorted(VERSIONS.items())), "exact": True},
            "checkpoint.logme.converged": {"value": fit.converged, "exact": True},
            "checkpoint.logme.iterations": {"value": fit.iterations, "info": True},
            "gaussian.logme": smooth(plain.score, abs(plain.score)),
            "gaussian.logme.converged": {"value": plain.converged, "exact": True},
        }
    )
    return values


@pytest.fixture(scope="module")
def finetuned(probe: Probe, source: Task, tmp_path_factory: pytest.TempPathFactory) -> tuple[Values, Any]:
    return compute_finetune(probe, source, tmp_path_factory.mktemp("golden-store"))


@pytest.fixture(scope="module")
def computed(probe: Probe, source: Task, target: Task, finetuned: tuple[Values, Any]) -> dict[str, Values]:
    values, model = finetuned
    return {
        "finetune": values,
        "embedding": compute_embedding(probe, source, model),
        "trivial-embedding": compute_trivial(probe, [source, target]),
        "textemb": compute_textemb(probe, target),
        "selector-score": compute_selector_scores(probe, target, model),
    }


# ---- comparison ------------------------------------------------------------------------------------------
def mismatches(expected: Values, actual: Values) -> list[str]:
    """Human-readable differences beyond tolerance (informational entries are not compared)."""
    out = []
    if set(expected) != set(actual):
        out.append(f"quantities differ: missing {sorted(set(expected) - set(actual))}, "
                   f"new {sorted(set(actual) - set(expected))}")  # fmt: skip
    for name in sorted(set(expected) & set(actual)):
        want, got = expected[name], actual[name]
        if want.get("info"):
            continue
        if want.get("exact"):
            if got.get("info") or got["value"] != want["value"]:
                out.append(f"{name}: {got['value']!r} != {want['value']!r} (exact)")
            continue
        allowed = RTOL * max(abs(want["scale"]), 1e-30)
        if not abs(got["value"] - want["value"]) <= allowed:
            out.append(f"{name}: {got['value']:.9g} != {want['value']:.9g} (allowed ±{allowed:.3g})")
    return out


def golden_path(stage: str) -> Path:
    return GOLDEN_DIR / f"{stage}.json"


def write_golden(stage: str, values: Values) -> None:
    GOLDEN_DIR.mkdir(exist_ok=True)
    payload = {
        "stage": stage,
        "version": STAGE_VERSIONS[stage],
        "about": "recomputed by tests/jobs/test_golden.py; regenerate with: "
        "pytest tests/jobs/test_golden.py --update-golden -n 0",
        "torch": torch.__version__,
        "values": values,
    }
    golden_path(stage).write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_golden(stage: str) -> dict[str, Any]:
    path = golden_path(stage)
    if not path.is_file():
        pytest.fail(
            f"no golden values for stage {stage!r}: run pytest tests/jobs/test_golden.py --update-golden -n 0"
        )
    return json.loads(path.read_text(encoding="utf-8"))


# ---- the tests -------------------------------------------------------------------------------------------
def test_every_stage_has_golden_values() -> None:
    assert set(STAGE_VERSIONS) == {
        "finetune",
        "embedding",
        "trivial-embedding",
        "textemb",
        "selector-score",
    }, "a new stage needs a golden case in tests/jobs/test_golden.py"


@pytest.mark.parametrize("stage", sorted(STAGE_VERSIONS))
def test_stage_matches_its_golden_values(
    stage: str, computed: dict[str, Values], request: pytest.FixtureRequest
) -> None:
    if request.config.getoption("--update-golden"):
        write_golden(stage, computed[stage])
        return
    problem = verdict(stage, load_golden(stage), computed[stage])
    assert problem is None, problem


def verdict(stage: str, golden: dict[str, Any], values: Values) -> str | None:
    """Why ``values`` do not pass the golden file of ``stage`` (``None`` when they do)."""
    if golden["version"] != STAGE_VERSIONS[stage]:
        return (
            f"stage {stage!r} is at version {STAGE_VERSIONS[stage]!r} but {golden_path(stage).name} was made "
            f"with version {golden['version']!r}: check the change is intended, then regenerate with "
            "`pytest tests/jobs/test_golden.py --update-golden -n 0`"
        )
    problems = mismatches(golden["values"], values)
    if problems:
        return (
            f"stage {stage!r} (version {STAGE_VERSIONS[stage]}) no longer gives its golden values: "
            f"bump keys.STAGE_VERSIONS[{stage!r}] (old artifacts would be stale) and regenerate; "
            + "; ".join(problems)
        )
    return None


def test_a_version_bump_asks_for_new_golden_values(
    computed: dict[str, Values], monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = load_golden("textemb")
    assert verdict("textemb", golden, computed["textemb"]) is None
    monkeypatch.setitem(STAGE_VERSIONS, "textemb", STAGE_VERSIONS["textemb"] + "-bumped")
    problem = verdict("textemb", golden, computed["textemb"])
    assert problem is not None and "--update-golden" in problem and "-bumped" in problem


# ---- the tolerance catches small real changes -------------------------------------------------------
def _scaled(fn: Callable[..., Any], factor: float) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs) * factor

    return wrapper


def test_one_more_warmup_step_trips_finetune(
    probe: Probe, source: Task, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training = importlib.import_module("jtask2vec.model.training")
    schedule = training.get_linear_schedule_with_warmup
    monkeypatch.setattr(
        training,
        "get_linear_schedule_with_warmup",
        lambda opt, warmup, total: schedule(opt, warmup + 1, total),
    )
    values, _ = compute_finetune(probe, source, tmp_path)
    assert mismatches(load_golden("finetune")["values"], values)


def test_a_one_percent_wider_head_init_trips_finetune(
    probe: Probe, source: Task, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modeling = importlib.import_module("jtask2vec.model.classifier")
    normal = torch.nn.init.normal_

    def wider(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, *args: Any, **kwargs: Any) -> Any:
        return normal(tensor, mean, std * 1.01, *args, **kwargs)

    monkeypatch.setattr(modeling.nn.init, "normal_", wider)
    values, _ = compute_finetune(probe, source, tmp_path)
    assert mismatches(load_golden("finetune")["values"], values)


def test_a_0_1_percent_fisher_normalisation_change_trips_both_embeddings(
    probe: Probe, source: Task, target: Task, finetuned: tuple[Values, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    embedding = importlib.import_module("jtask2vec.fisher.embedding")
    monkeypatch.setattr(embedding, "reduce_fisher", _scaled(embedding.reduce_fisher, 1.001))
    assert mismatches(load_golden("embedding")["values"], compute_embedding(probe, source, finetuned[1]))
    assert mismatches(load_golden("trivial-embedding")["values"], compute_trivial(probe, [source, target]))


def test_a_0_1_percent_change_of_pooling_trips_textemb(
    probe: Probe, target: Task, monkeypatch: pytest.MonkeyPatch
) -> None:
    textemb = importlib.import_module("jtask2vec.selection.textemb")
    monkeypatch.setattr(textemb, "pool", _scaled(textemb.pool, 1.001))
    assert mismatches(load_golden("textemb")["values"], compute_textemb(probe, target))


def test_a_0_1_percent_change_of_the_evidence_trips_logme(
    probe: Probe, target: Task, finetuned: tuple[Values, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. a normalisation by N + 1 instead of N. (Perturbing the singular values by 0.1 % moves the score
    by < 5e-5 relative: the maximised evidence is flat there, and invariant to the features' scale.)"""
    logme = importlib.import_module("jtask2vec.selection.logme")
    fits = logme.logme_fits

    def off(*args: Any, **kwargs: Any) -> list[Any]:
        return [dataclasses.replace(fit, evidence=fit.evidence * 1.001) for fit in fits(*args, **kwargs)]

    monkeypatch.setattr(logme, "logme_fits", off)
    assert mismatches(
        load_golden("selector-score")["values"], compute_selector_scores(probe, target, finetuned[1])
    )


def test_a_changed_hscore_trips_the_selector_scores(
    probe: Probe, target: Task, finetuned: tuple[Values, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    feature_based = importlib.import_module("jtask2vec.selection.feature_based")
    hscore = feature_based._SCORERS["hscore"]
    scaled = (lambda t, y, s: 1.001 * feature_based.SelectorScore.of(hscore[0](t, y, s)).score, True)
    monkeypatch.setitem(feature_based._SCORERS, "hscore", scaled)
    assert mismatches(
        load_golden("selector-score")["values"], compute_selector_scores(probe, target, finetuned[1])
    )
