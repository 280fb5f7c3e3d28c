"""Typed configuration: every knob of a run, and the suite files (YAML) that bundle them.

A suite file is the whole recipe of a run: tasks, probe, training, Fisher, evaluation and seeds. Its
canonical JSON (``model_dump(mode="json")``) feeds the content hashes of the artifact store.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jtask2vec.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Strict):
    """How a task's examples are assigned to train/dev/test."""

    dev_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    seed: int = 0
    # Use the corpus's own train/dev/test assignment where the loader has one (jrte's usage column).
    use_corpus_split: bool = False

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> SplitConfig:
        if self.dev_fraction + self.test_fraction >= 1.0:
            raise ValueError("dev_fraction + test_fraction must be < 1")
        return self


class PartitionConfig(_Strict):
    """Take part ``index`` of ``parts`` disjoint stratified parts of the task (stand-in tasks)."""

    parts: int = Field(ge=2)
    index: int = Field(ge=0)
    seed: int = 0

    @model_validator(mode="after")
    def _index_in_range(self) -> PartitionConfig:
        if self.index >= self.parts:
            raise ValueError(f"partition index {self.index} must be < parts {self.parts}")
        return self


class TaskSpec(_Strict):
    """One task of a suite: a registered loader, its options, and how to cut it."""

    name: str = Field(min_length=1, description="unique name inside the suite, used in every table")
    loader: str = Field(description="registered loader id, e.g. 'jrte-pn', 'chabsa', 'livedoor', 'csv'")
    options: dict[str, Any] = Field(default_factory=dict, description="loader-specific options")
    split: SplitConfig = SplitConfig()
    partition: PartitionConfig | None = None
    max_examples: int | None = Field(None, gt=1, description="stratified subsample to this many examples")
    stand_in_for: str | None = Field(None, description="the study's task this one stands in for, if any")
    train_size: int | None = Field(
        None,
        gt=1,
        description="limited regime: a stratified subsample (seed split.seed) of this many train examples; "
        "dev and test unchanged. Overrides the suite's source_regime/target_regime for this task",
    )
    kind: str = Field("", description="task kind for the report (sentiment, nli, sts...); no effect on data")
    description: str = ""


class RegimeConfig(_Strict):
    """A data regime: how many training examples a task gets in one role (source or target)."""

    train_size: int | None = Field(
        None, gt=1, description="stratified subsample of the train split (seed: the task's split.seed)"
    )


class ProbeConfig(_Strict):
    """The probe network: a hub id, a local folder, or a built-in offline probe name."""

    name: str = "ja-imitator"
    pooling: Literal["auto", "cls", "mean"] = "auto"
    max_length: int = Field(128, gt=1)
    revision: str | None = None
    trust_remote_code: bool = False


class TrainingConfig(_Strict):
    """Fine-tuning settings (single task and transfer alike)."""

    # Defaults tuned for the offline probe (ja-imitator): they reach jrte-pn 0.92, chabsa 0.87-0.89 and
    # livedoor 0.99 test accuracy (3 seeds). For a BERT-base probe use e.g. 3 epochs at 2e-5 (suite `paper`).
    epochs: int = Field(5, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    head_learning_rate: float | None = Field(
        None,
        gt=0,
        description="learning rate of the fresh classification head (None: learning_rate); a pretrained "
        "encoder wants a small learning_rate, its randomly drawn head a larger one",
    )
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(128, ge=1)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    max_grad_norm: float | None = 1.0
    head_dropout: float = Field(0.1, ge=0, lt=1)
    train_subsample: int | None = Field(None, gt=1, description="stratified subsample of the train split")
    select_on: Literal["accuracy", "macro_f1"] = "macro_f1"
    # none: plain cross-entropy; balanced: each class weighted n / (k * n_c) from the training labels, so a
    # small imbalanced task (JCoLA 16 %, toxic 12 % minority) is not pulled to its majority class
    class_weight: Literal["none", "balanced"] = "none"
    # Word embeddings: frozen (no gradient, no optimizer state, not stored in the checkpoint) or trained.
    # Frozen suits a large-vocabulary probe (me5-small: 96M of 117.5M parameters are word embeddings,
    # and a Japanese task touches few of their rows); the Fisher never reads them (its scope excludes them).
    freeze_word_embeddings: bool = False
    # fp32; bf16 autocast (weights, optimizer and the Fisher stay float32); auto = bf16 where the CPU has
    # native bf16 (AVX512-BF16 / AMX) or the CUDA GPU supports it, else fp32. Keyed as written.
    precision: Literal["fp32", "bf16", "auto"] = "fp32"
    # A transfer's target fine-tune keeps only its metrics (no classifier is stored) unless asked.
    keep_transfer_checkpoints: bool = False


class FisherConfig(_Strict):
    """How task embeddings are computed from the fine-tuned probe."""

    estimator: Literal["exact", "montecarlo", "empirical", "batch-squared"] = "exact"
    scope: Literal["encoder", "layers", "all"] = "encoder"
    reduction: Literal["filter", "hidden", "activation"] = "hidden"
    include_embeddings: bool = False
    split: Literal["train", "dev", "test"] = "train"
    max_examples: int | None = Field(1000, gt=0)
    class_balanced: bool = False
    mc_samples: int = Field(1, ge=1)
    batch_size: int = Field(16, ge=1, description="examples per vmap chunk")
    save_raw: bool = False


DistanceName = Literal["cosine", "normalized-cosine", "rms-cosine", "asymmetric", "symmetric-kl"]
SelectorName = Literal[
    "random",
    "datasize",
    "textemb",
    "logme",
    "hscore",
    "hscore-shrinkage",
    "leep",
    "nce",
    "nleep",
    "gbc",
    "transrate",
    "knn",
]
# Every selector is on by default: the feature-based ones share one forward pass per (source, target, seed)
# and each scores a pair in about a second or less (bench/selector_speed.py).
ALL_SELECTORS: list[SelectorName] = list(SelectorName.__args__)


class EvaluationConfig(_Strict):
    distances: list[DistanceName] = [
        "cosine",
        "normalized-cosine",
        "rms-cosine",
        "asymmetric",
        "symmetric-kl",
    ]
    baselines: list[SelectorName] = ALL_SELECTORS
    # Features of the feature-based selectors: "last" = the head's input (pooled last layer); "mean" = mean
    # over the transformer layers of each layer's pooled output. LEEP/NCE use the head's probabilities.
    feature_layers: Literal["last", "mean"] = "last"
    bootstrap_samples: int = Field(2000, ge=100)
    confidence: float = Field(0.95, gt=0, lt=1)
    # "t" (default): Student-t interval over seeds; "bootstrap": percentile bootstrap over seeds (optionally
    # crossed with targets, resample_targets); "hierarchical": nested bootstrap over targets then seeds.
    # Measured coverage of nominal 95% intervals: see docs/method.md and jtask2vec.evaluation.intervals.
    ci_method: Literal["t", "bootstrap", "hierarchical"] = "t"
    resample_targets: bool = Field(False, description="also resample targets in the bootstrap")
    regret_ks: list[int] = [1, 3]
    asymmetric_alpha: float = Field(0.15, ge=0)


class ExecutorConfig(_Strict):
    """Where the jobs of a run execute. Never part of a store key: results do not depend on it."""

    kind: Literal["local", "ray"] = "local"
    # local: worker processes (1 = in this process, as a plain sequential run); "auto": see
    # jtask2vec.jobs.executors.auto_workers. ray: the CPUs of the local runtime it starts ("auto": all).
    workers: int | Literal["auto"] = Field("auto", description="worker processes, or 'auto'")
    # torch intra-op threads of every job, whatever the executor. torch's CPU kernels sum in a
    # thread-count-dependent order, so results are bit-identical across executors and worker counts for
    # the same value (not across values). 1: the offline probe scales better by processes than by threads.
    threads_per_job: int = Field(1, ge=1)
    address: str | None = Field(None, description="ray: None (local runtime), 'auto', or 'ray://host:port'")
    num_cpus_per_job: float = Field(1.0, ge=0)
    num_gpus_per_job: float = Field(0.0, ge=0)

    @field_validator("workers", mode="before")
    @classmethod
    def _positive_workers(cls, workers: Any) -> Any:
        text = str(workers).strip().lower()
        if text == "auto":
            return "auto"
        if isinstance(workers, bool) or not text.lstrip("-").isdigit() or int(text) < 1:
            raise ValueError(f"workers must be a number of processes, at least 1, or 'auto'; not {workers!r}")
        return int(text)


class Suite(_Strict):
    """A reproducible run: everything from data to report."""

    name: str
    summary: str = Field("", description="one short line for `jtask2vec suites`")
    description: str = ""
    tasks: list[TaskSpec] = Field(min_length=2)
    sources: list[str] | None = Field(None, description="candidate sources (task names); default: all tasks")
    targets: list[str] | None = Field(None, description="targets (task names); default: all tasks")
    probe: ProbeConfig = ProbeConfig()
    training: TrainingConfig = TrainingConfig()
    transfer_training: TrainingConfig | None = Field(
        None,
        description="settings for the target fine-tune of a transfer; each field not given is `training`'s",
    )
    fisher: FisherConfig = FisherConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    seeds: list[int] = Field([0], min_length=1)
    source_regime: RegimeConfig = Field(
        RegimeConfig(), description="data regime of every task as a source (its own fine-tune, embedding)"
    )
    target_regime: RegimeConfig = Field(
        RegimeConfig(),
        description="data regime of every task as a target (baseline and transfer fine-tunes, and what the "
        "selectors see of the target)",
    )
    device: str = Field("auto", description="'auto' (a CUDA GPU when present), 'cpu', 'cuda', 'cuda:1'...")
    executor: ExecutorConfig = ExecutorConfig()
    compare_with: list[str] = Field(
        default_factory=list,
        description="suites whose finished runs (in the same runs folder) the report sets side by side with "
        "this one, e.g. the natural-size run of an equal-size suite; changes no result",
    )

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthands(cls, raw: Any) -> Any:
        from jtask2vec.config.shorthands import expand_suite_shorthands

        return expand_suite_shorthands(raw, frozenset(TaskSpec.model_fields))

    @field_validator("tasks")
    @classmethod
    def _unique_names(cls, tasks: list[TaskSpec]) -> list[TaskSpec]:
        names = [t.name for t in tasks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"task names must be unique; repeated: {', '.join(dupes)} (a task is named after its loader "
                f"unless named: use the name as the key, e.g. `- ld-it-smax: {{loader: livedoor, categories: "
                f"[it-life-hack, smax]}}`, or add `name:`)"
            )
        reserved = [n for n in names if n.startswith("(")]
        if reserved:
            raise ValueError(f"task names may not start with '(' (reserved): {', '.join(reserved)}")
        return tasks

    @model_validator(mode="after")
    def _known_sources_targets(self) -> Suite:
        names = {t.name for t in self.tasks}
        for field in ("sources", "targets"):
            chosen = getattr(self, field)
            unknown = sorted(set(chosen or ()) - names)
            if unknown:
                raise ValueError(f"{field} names unknown tasks: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _transfer_recipe_over_training(self) -> Suite:
        """``transfer_training`` names what differs from ``training``: a block that sets only ``epochs``
        still freezes the word embeddings and keeps the precision when ``training`` does."""
        given = self.transfer_training
        if given is not None:
            merged = self.training.model_copy(update={k: getattr(given, k) for k in given.model_fields_set})
            object.__setattr__(self, "transfer_training", merged)
        return self

    @model_validator(mode="after")
    def _not_compared_with_itself(self) -> Suite:
        if self.name in self.compare_with:
            raise ValueError(f"compare_with names the suite itself ({self.name})")
        return self

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    @property
    def source_names(self) -> list[str]:
        return list(self.sources) if self.sources else self.task_names

    @property
    def target_names(self) -> list[str]:
        return list(self.targets) if self.targets else self.task_names

    @property
    def target_training(self) -> TrainingConfig:
        return self.transfer_training or self.training

    @property
    def has_target_regime(self) -> bool:
        """Whether targets are trained on other data than the same tasks as sources."""
        return self.source_regime != self.target_regime

    def role_spec(self, name: str, role: Literal["source", "target"]) -> TaskSpec:
        """Task ``name`` as loaded in ``role``: its own ``train_size`` if set, else the role's regime."""
        spec = self.task(name)
        regime = self.source_regime if role == "source" else self.target_regime
        if spec.train_size is not None or regime.train_size is None:
            return spec
        return spec.model_copy(update={"train_size": regime.train_size})

    def task(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t
        raise ConfigError(f"suite {self.name!r} has no task {name!r}; it has: {', '.join(self.task_names)}")


def builtin_suites() -> list[str]:
    """Names of the suites shipped with the package."""
    folder = resources.files("jtask2vec") / "suites"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def suite_source(name_or_path: str | Path) -> tuple[str, str]:
    """``(origin, YAML text)`` of a suite file or a built-in suite's name; origin is how messages name it."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if not path.is_file():
            raise ConfigError(f"{path}: suite file not found")
        return str(path), path.read_text(encoding="utf-8")
    resource = resources.files("jtask2vec") / "suites" / f"{name_or_path}.yaml"
    if not resource.is_file():
        raise ConfigError(
            f"unknown suite {str(name_or_path)!r}: not a file, and not a built-in suite "
            f"({', '.join(builtin_suites())})"
        )
    return f"built-in suite {name_or_path!r}", resource.read_text(encoding="utf-8")


def load_suite(
    name_or_path: str | Path, overrides: dict[str, Any] | None = None, *, flags: dict[str, str] | None = None
) -> Suite:
    """Load a suite from a YAML path or a built-in name, with optional dotted-key overrides.

    ``overrides`` maps dotted keys to values, e.g. ``{"probe.name": "tohoku-nlp/bert-base-japanese-v3"}``;
    ``flags`` names the option that set a key (``{"executor.workers": "--workers 0"}``) for error messages.
    Every problem is reported at once (:mod:`jtask2vec.config.errors`).
    """
    from jtask2vec.config.errors import problem_lines, suite_error

    origin, text = suite_source(name_or_path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: a suite file must be a mapping")
    if isinstance(raw.get("probe"), str):  # the shorthand first, so --set probe.max_length=... applies
        raw["probe"] = {"name": raw["probe"]}
    flags = {**{key: f"--set {key}={value}" for key, value in (overrides or {}).items()}, **(flags or {})}
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value, flags[key])
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        raise suite_error(origin, problem_lines(exc, Suite, origin, text, flags)) from None


def _set_dotted(raw: dict[str, Any], key: str, value: Any, flag: str) -> None:
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{flag}: {part!r} is not a mapping, so it has no key {parts[-1]!r}")
    node[parts[-1]] = value


def dump_suite(suite: Suite) -> str:
    """The suite as YAML, exactly as it will run (defaults filled in)."""
    return yaml.safe_dump(suite.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
