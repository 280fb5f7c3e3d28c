"""Cache-key audit: perturb every field of a suite and check exactly which stages' artifact keys change.

A stale cache hit is a silent wrong result; a key that changes for nothing is only wasted work. Every leaf
field of :class:`~jtask2vec.config.Suite` must appear in ``EXPECTED`` (or ``NOT_PERTURBED`` with the
reason), so a new config field cannot be forgotten by the keys.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel

from jtask2vec.config import Suite, TaskSpec
from jtask2vec.jobs import keys
from jtask2vec.jobs.graph import build_suite_graph
from jtask2vec.model.probes import load_probe
from jtask2vec.tasks.registry import load_task

BASE: dict[str, Any] = {
    "name": "audit",
    "tasks": [
        {"name": "a", "loader": "synthetic", "options": {"n": 60, "seed": 1, "style": "hotel"}},
        {"name": "b", "loader": "synthetic", "options": {"n": 60, "seed": 2, "style": "food"}},
        {"name": "c", "loader": "synthetic", "options": {"n": 60, "seed": 3, "style": "news"}},
    ],
    "probe": {"name": "tiny-random-bert", "max_length": 32},
    "seeds": [0, 1],
}

ALL = frozenset(keys.STAGE_VERSIONS)
DATA = ALL  # a task's data reaches every stage (fine-tunes, embeddings, t0's sample, TextEmb, scores)
TRAINING = frozenset({"finetune", "embedding", "selector-score"})  # checkpoints and what reads them
FISHER = frozenset({"embedding", "trivial-embedding"})
NONE: frozenset[str] = frozenset()

# dotted field -> (new value, stages whose keys must change; all others must not)
EXPECTED: dict[str, tuple[Any, frozenset[str]]] = {
    "name": ("other", NONE),
    "description": ("words", NONE),
    "summary": ("a line", NONE),
    "tasks.0.name": ("a2", frozenset({"finetune", "embedding", "selector-score"})),
    "tasks.0.options": ({"n": 61, "seed": 1, "style": "hotel"}, DATA),
    "tasks.0.split.dev_fraction": (0.2, DATA),
    "tasks.0.split.test_fraction": (0.3, DATA),
    "tasks.0.split.seed": (7, DATA),
    "tasks.0.partition": ({"parts": 2, "index": 1}, DATA),
    "tasks.0.max_examples": (40, DATA),
    "tasks.0.stand_in_for": ("x", NONE),
    "tasks.0.train_size": (20, DATA),
    "tasks.0.kind": ("nli", NONE),
    "tasks.0.description": ("words", NONE),
    "sources": (["a", "b"], frozenset({"finetune", "selector-score"})),  # fewer transfer cells / pairs
    "targets": (["a", "b"], frozenset({"finetune", "selector-score"})),
    "probe.name": ("tiny-random-bert:1", ALL),
    "probe.pooling": ("mean", ALL),
    "probe.max_length": (24, ALL),
    "training.epochs": (2, TRAINING),
    "training.learning_rate": (1e-4, TRAINING),
    "training.head_learning_rate": (1e-2, TRAINING),
    "training.batch_size": (8, TRAINING),
    "training.eval_batch_size": (64, TRAINING),
    "training.warmup_ratio": (0.2, TRAINING),
    "training.weight_decay": (0.0, TRAINING),
    "training.max_grad_norm": (None, TRAINING),
    "training.head_dropout": (0.2, TRAINING),
    "training.train_subsample": (20, TRAINING),
    "training.select_on": ("accuracy", TRAINING),
    "training.freeze_word_embeddings": (True, TRAINING),
    "training.precision": ("bf16", TRAINING),
    "training.class_weight": ("balanced", TRAINING),
    "training.keep_transfer_checkpoints": (True, frozenset({"finetune"})),  # the transfers' own keys only
    "transfer_training": ({"epochs": 2}, frozenset({"finetune"})),  # only target fine-tunes of the grid
    "fisher.estimator": ("montecarlo", FISHER),
    "fisher.scope": ("layers", FISHER),
    "fisher.reduction": ("filter", FISHER),
    "fisher.include_embeddings": (True, FISHER),
    "fisher.split": ("dev", FISHER),
    "fisher.max_examples": (10, FISHER),
    "fisher.class_balanced": (True, FISHER),
    "fisher.mc_samples": (3, FISHER),
    "fisher.batch_size": (4, FISHER),  # numerically the same up to rounding: keyed to be safe
    "fisher.save_raw": (True, FISHER),  # the artifact holds different files
    "evaluation.distances": (["cosine"], frozenset({"trivial-embedding"})),  # no asymmetric: no t0
    "evaluation.baselines": (["random"], frozenset({"textemb", "selector-score"})),
    "evaluation.feature_layers": ("mean", frozenset({"selector-score"})),
    "evaluation.bootstrap_samples": (500, NONE),
    "evaluation.confidence": (0.9, NONE),
    "evaluation.ci_method": ("t", NONE),
    "evaluation.resample_targets": (True, NONE),
    "evaluation.regret_ks": ([1, 2], NONE),
    "evaluation.asymmetric_alpha": (0.3, NONE),
    "seeds": ([0, 2], frozenset(ALL - {"textemb"})),
    "device": ("cpu", NONE),
    # sources capped: every task's own fine-tune, embedding, t0's sample and TextEmb change; the targets'
    # fine-tunes start from other checkpoints
    "source_regime.train_size": (30, DATA),
    # targets limited: their fine-tunes, their own embeddings (new), TextEmb of their version, LogME
    "target_regime.train_size": (30, frozenset({"finetune", "embedding", "textemb", "selector-score"})),
    # where jobs run never changes what they compute
    "compare_with": (["paper-offline"], NONE),
    "executor.kind": ("ray", NONE),
    "executor.workers": (2, NONE),
    "executor.threads_per_job": (2, NONE),  # last-bit differences only, like the device
    "executor.address": ("auto", NONE),
    "executor.num_cpus_per_job": (2.0, NONE),
    "executor.num_gpus_per_job": (1.0, NONE),
}

NOT_PERTURBED = {
    "tasks.0.loader": "another loader needs other options; it reaches keys only through the data hash",
    "tasks.0.split.use_corpus_split": "the synthetic loader has no corpus split; data hash as above",
    "probe.revision": "ignored by the tiny probe; a hub probe's fingerprint is name@revision",
    "probe.trust_remote_code": "does not change weights; a hub probe's fingerprint covers the revision",
}


def _leaf_fields(model: type[BaseModel], prefix: str) -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        nested = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        models = [a for a in nested if issubclass(a, BaseModel)]
        if path in ("tasks", "transfer_training", "tasks.0.partition"):
            models = []  # covered as a whole (list of specs / optional blocks)
        if models:
            out.extend(_leaf_fields(models[0], f"{path}."))
        else:
            out.append(path)
    return out


def _set(raw: dict[str, Any], dotted: str, value: Any) -> None:
    node: Any = raw
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _keys_of(raw: dict[str, Any]) -> dict[str, set[str]]:
    suite = Suite.model_validate(raw)
    tasks = {name: load_task(suite.role_spec(name, "source"), None) for name in suite.task_names}
    targets = None
    if suite.has_target_regime:
        targets = {name: load_task(suite.role_spec(name, "target"), None) for name in suite.target_names}
    planned = build_suite_graph(suite, tasks, load_probe(suite.probe), targets).graph.artifact_keys()
    return {stage: planned.get(stage, set()) for stage in keys.STAGE_VERSIONS}


@pytest.fixture(scope="module")
def base_keys() -> dict[str, set[str]]:
    return _keys_of(BASE)


def test_every_suite_field_is_audited() -> None:
    fields = set(_leaf_fields(Suite, "")) - {"tasks"}
    fields |= set(_leaf_fields(TaskSpec, "tasks.0."))
    covered = set(EXPECTED) | set(NOT_PERTURBED)
    assert fields - covered == set(), "config fields that no key audit covers"


def test_base_plan_has_every_stage(base_keys: dict[str, set[str]]) -> None:
    assert all(base_keys[stage] for stage in keys.STAGE_VERSIONS), base_keys
    # 3 tasks x 2 seeds fine-tunes (baselines share them), 6 transfers per seed
    assert len(base_keys["finetune"]) == 2 * (3 + 6)


@pytest.mark.parametrize("field", sorted(EXPECTED))
def test_perturbing_a_field_changes_exactly_the_expected_keys(
    field: str, base_keys: dict[str, set[str]]
) -> None:
    value, expected = EXPECTED[field]
    raw = copy.deepcopy(BASE)
    _set(raw, field, value)
    perturbed = _keys_of(raw)
    changed = {stage for stage in keys.STAGE_VERSIONS if perturbed[stage] != base_keys[stage]}
    assert changed == set(expected), f"{field}: changed {sorted(changed)}, expected {sorted(expected)}"


def test_bumping_a_stage_version_changes_only_that_stage_and_its_dependents(
    monkeypatch: pytest.MonkeyPatch, base_keys: dict[str, set[str]]
) -> None:
    for stage, dependents in (
        ("finetune", {"finetune", "embedding", "selector-score"}),
        ("embedding", {"embedding"}),
        ("trivial-embedding", {"trivial-embedding"}),
        ("textemb", {"textemb"}),
        ("selector-score", {"selector-score"}),
    ):
        with monkeypatch.context() as patch:
            patch.setitem(keys.STAGE_VERSIONS, stage, "bumped")
            after = _keys_of(BASE)
        changed = {s for s in keys.STAGE_VERSIONS if after[s] != base_keys[s]}
        assert changed == dependents, stage
