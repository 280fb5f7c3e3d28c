"""Diagonal Fisher information of a fine-tuned encoder, done right and fast.

For a classifier ``p(y|x) = softmax(z(x; θ))`` and examples ``x_1..x_N`` (the model in eval mode: dropout
off), the estimators of ``diag F`` (one non-negative number per encoder parameter) are

- ``exact``:       ``F = (1/N) Σ_i Σ_y p(y|x_i) (∇θ log p(y|x_i))²``. Binary closed form:
                   ``F = (1/N) Σ_i p0 p1 (∇θ(z1 − z0))²`` (one per-example gradient, no sampling);
- ``montecarlo``:  ``F = (1/N) Σ_i (1/k) Σ_s (∇θ log p(y_is|x_i))²``, ``y_is ~ p(·|x_i)``, ``k = mc_samples``;
- ``empirical``:   ``F = (1/N) Σ_i (∇θ log p(y_i|x_i))²`` with the gold labels;
- ``batch-squared``: the legacy estimator of the TASK2VEC and Vu et al. (2020) code, **not a Fisher**:
                   ``(1/M) Σ_batches (∇θ (1/B) Σ_{i∈batch} CE(z_i, y_i))²`` over ``M`` batches of
                   ``batch_size`` examples (gold labels when given, as Vu et al.; otherwise labels sampled
                   from the model, as TASK2VEC's ``montecarlo``). Squaring a batch mean keeps the
                   cross-example products: kept to reproduce them and to measure the difference.

Per-example gradients come from one of three interchangeable paths (``method``):

- ``hooks`` (:mod:`.hooks`): module hooks on ``nn.Linear``/``nn.LayerNorm``/``nn.Embedding``; about the
  cost of one forward + backward; used by ``auto`` whenever every in-scope parameter lives in such a module;
- ``vmap`` (:mod:`.vmapped`): ``torch.func.vmap(grad(functional_call))``, for any encoder;
- ``loop`` (:mod:`.loop`): one unpadded example at a time, from the definitions: the reference.

All three agree to float64 round-off (tests). Sums are accumulated in float32 (float64 for a float64
model). Non-finite values raise :class:`~jtask2vec.errors.ProbeError`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from rich.progress import track
from transformers import PreTrainedTokenizerBase

from jtask2vec.config import FisherConfig
from jtask2vec.errors import ConfigError, DataError, ProbeError
from jtask2vec.fisher.forward import chunk_features, chunk_logits
from jtask2vec.fisher.hooks import HookFisher, UnsupportedModel
from jtask2vec.fisher.inputs import Chunk, collate, length_sorted_chunks, ordered_chunks, tokenize
from jtask2vec.fisher.loop import loop_fisher_sums
from jtask2vec.fisher.sampling import (
    backprop_terms,
    class_weights,
    mc_uniforms,
    sample_labels,
    select_examples,
)
from jtask2vec.fisher.scopes import layer_key, scope_parameters
from jtask2vec.fisher.vmapped import VmapFisher
from jtask2vec.model.classifier import EncoderClassifier

METHODS = ("auto", "hooks", "vmap", "loop")

__all__ = [
    "METHODS",
    "activation_fisher",
    "diagonal_fisher",
    "fisher_parameter_names",
    "layer_key",
]


class _EvalMode:
    """Eval mode (dropout off) and gradients enabled inside; every module's own mode restored after."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.modes = {m: m.training for m in self.model.modules()}
        self.model.eval()
        self.grad = torch.enable_grad()
        self.grad.__enter__()

    def __exit__(self, *exc) -> None:
        self.grad.__exit__(*exc)
        for module, mode in self.modes.items():
            module.training = mode


def _prepare(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    labels: np.ndarray | None,
    config: FisherConfig,
    max_length: int,
    seed: int,
) -> tuple[list[dict[str, list[int]]], np.ndarray | None, np.ndarray]:
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if len(labels) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(labels)} labels", field="labels")
    if config.estimator in ("empirical",) and labels is None:
        raise ConfigError(f"fisher.estimator={config.estimator!r} needs gold labels")
    picked = select_examples(len(texts), labels, config.max_examples, config.class_balanced, seed)
    tokenized = tokenize(tokenizer, [texts[i] for i in picked], max_length)
    empty = [int(i) for i, t in zip(picked, tokenized, strict=True) if not t["input_ids"]]
    if empty:
        raise DataError(f"text #{empty[0]} tokenises to nothing", field="texts")
    return tokenized, None if labels is None else labels[picked], picked


def fisher_parameter_names(model: EncoderClassifier, config: FisherConfig, probe_chunk: Chunk) -> list[str]:
    """Model-level names (``encoder.…``) of the in-scope parameters that get a gradient from the logits.

    ``probe_chunk`` (one example is enough) is pushed forward and backward once; parameters with no
    gradient (an unused pooler) are left out.
    """
    local = scope_parameters(model.encoder, config.scope, config.include_embeddings)
    if not local:
        raise ConfigError(f"fisher scope {config.scope!r} selects no parameter of this encoder")
    params = dict(model.named_parameters())
    names = [f"encoder.{n}" for n in local]
    logits = chunk_logits(model, probe_chunk)
    grads = torch.autograd.grad(logits.sum(), [params[n] for n in names], allow_unused=True)
    kept = [n for n, g in zip(names, grads, strict=True) if g is not None]
    if not kept:
        raise ProbeError("no encoder parameter in scope receives a gradient from the classifier")
    return kept


def _check_finite(result: dict[str, torch.Tensor]) -> None:
    for name, value in result.items():
        if not torch.isfinite(value).all():
            raise ProbeError(
                f"the Fisher of {name} is not finite (NaN/inf): the model's weights or logits are"
            )
        if (value < 0).any():
            raise ProbeError(f"the Fisher of {name} has negative entries (accumulation bug)")


def _progress(chunks: Iterable[Chunk], total: int, enabled: bool, what: str) -> Iterable[Chunk]:
    return track(chunks, total=total, description=what, disable=not enabled, transient=True)


def diagonal_fisher(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    labels: np.ndarray | None,
    config: FisherConfig,
    max_length: int,
    *,
    seed: int = 0,
    progress: bool = False,
    method: str = "auto",
) -> dict[str, torch.Tensor]:
    """``diag F`` per in-scope encoder parameter (model-level name -> tensor of the parameter's shape).

    See the module docstring for the estimators and ``method``. The sample: ``config.max_examples``
    examples drawn with ``seed`` (class-balanced if ``config.class_balanced``), processed in chunks of
    ``config.batch_size``. Returned on the CPU, float32 (float64 for a float64 model).
    """
    if method not in METHODS:
        raise ConfigError(f"unknown Fisher method {method!r}; choose one of {', '.join(METHODS)}")
    tokenized, labels, _ = _prepare(model, tokenizer, texts, labels, config, max_length, seed)
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    dtype = next(model.parameters()).dtype
    acc_dtype = torch.float64 if dtype == torch.float64 else torch.float32
    n = len(tokenized)
    uniforms = mc_uniforms(n, config.mc_samples, seed) if config.estimator == "montecarlo" else None
    n_chunks = -(-n // config.batch_size)

    with _EvalMode(model):
        names = fisher_parameter_names(model, config, collate(tokenized, np.array([0]), pad, device))
        if config.estimator == "batch-squared":
            sums = _batch_squared_sums(
                model, tokenized, labels, names, config, acc_dtype, pad, seed, progress
            )
            count = n_chunks
        elif method == "loop":
            sums = loop_fisher_sums(
                model, tokenized, labels, uniforms, config.estimator, names, acc_dtype, pad
            )
            count = n
        else:
            sums = None
            if method in ("auto", "hooks"):
                try:
                    sums = _hook_sums(
                        model, tokenized, labels, uniforms, names, config, acc_dtype, pad, progress
                    )
                except UnsupportedModel as exc:
                    if method == "hooks":
                        raise ConfigError(f"the hook path cannot handle this model: {exc}") from None
            if sums is None:
                fisher = VmapFisher(model, names, acc_dtype)
                chunks = length_sorted_chunks(tokenized, config.batch_size, pad, device)
                for chunk in _progress(chunks, n_chunks, progress, "Fisher (vmap)"):
                    fisher.add(chunk, _seeds(model, chunk, labels, uniforms, config.estimator))
                sums = fisher.sums
            count = n
    result = {name: (value / count).detach().cpu() for name, value in sums.items()}
    _check_finite(result)
    return result


def _seed_fn(labels: np.ndarray | None, uniforms: np.ndarray | None, estimator: str, chunk: Chunk):
    def seeds_of(logits: torch.Tensor) -> list[torch.Tensor]:
        logits = logits.detach()
        if not torch.isfinite(logits).all():
            raise ProbeError("the classifier's logits are not finite: cannot compute a Fisher")
        probs = torch.softmax(logits, dim=1)
        y = None if labels is None else torch.as_tensor(labels[chunk.index], device=logits.device)
        u = None if uniforms is None else torch.as_tensor(uniforms[chunk.index], device=logits.device)
        return backprop_terms(logits, class_weights(probs, estimator, y, u))

    return seeds_of


def _seeds(model, chunk, labels, uniforms, estimator) -> list[torch.Tensor]:
    with torch.no_grad():
        logits = chunk_logits(model, chunk)
    return _seed_fn(labels, uniforms, estimator, chunk)(logits)


def _hook_sums(model, tokenized, labels, uniforms, names, config, acc_dtype, pad, progress):
    device = next(model.parameters()).device
    fisher = HookFisher(model, names, acc_dtype)
    try:
        chunks = length_sorted_chunks(tokenized, config.batch_size, pad, device)
        total = -(-len(tokenized) // config.batch_size)
        for k, chunk in enumerate(_progress(chunks, total, progress, "Fisher")):
            fisher.add(chunk, _seed_fn(labels, uniforms, config.estimator, chunk))
            if k == 0 and fisher.touched != set(names):
                missing = sorted(set(names) - fisher.touched)
                raise UnsupportedModel(f"{missing[0]} gets a gradient the module hooks do not see")
    finally:
        fisher.close()
    return fisher.sums


def _batch_squared_sums(model, tokenized, labels, names, config, acc_dtype, pad, seed, progress):
    """``Σ_batches (∇θ mean_batch CE)²`` (the legacy estimator)."""
    device = next(model.parameters()).device
    params = dict(model.named_parameters())
    sums = {n: torch.zeros_like(params[n], dtype=acc_dtype) for n in names}
    uniforms = mc_uniforms(len(tokenized), 1, seed) if labels is None else None
    total = -(-len(tokenized) // config.batch_size)
    chunks = ordered_chunks(tokenized, config.batch_size, pad, device)
    for chunk in _progress(chunks, total, progress, "Fisher (batch-squared)"):
        logits = chunk_logits(model, chunk)
        if labels is not None:
            y = torch.as_tensor(labels[chunk.index], device=device)
        else:
            u = torch.as_tensor(uniforms[chunk.index], device=device)
            y = sample_labels(torch.softmax(logits.detach(), dim=1), u)[:, 0]
        loss = torch.nn.functional.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, [params[n] for n in names], allow_unused=True)
        for n, g in zip(names, grads, strict=True):
            if g is not None:
                sums[n] += g.to(acc_dtype) ** 2
    return sums


def activation_fisher(
    model: EncoderClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    labels: np.ndarray | None,
    config: FisherConfig,
    max_length: int,
    *,
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """Vu et al.'s activation Fisher at the pooled features ``h`` (the head's input): a hidden-size vector

    ``a = (1/N) Σ_i Σ_y w_iy (∂ log p(y|x_i)/∂h_i)²`` with the estimator's weights ``w`` (exact: ``p``;
    montecarlo: sample frequencies; empirical/batch-squared: gold labels). Note: for a binary linear head
    ``∂(z1 − z0)/∂h = w1 − w0`` does not depend on ``x``, so the exact value is
    ``mean_i(p0 p1) · (w1 − w0)²``: its direction is fixed by the head's weights.
    """
    estimator = "empirical" if config.estimator == "batch-squared" else config.estimator
    cfg = config.model_copy(update={"estimator": estimator})
    tokenized, labels, _ = _prepare(model, tokenizer, texts, labels, cfg, max_length, seed)
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    dtype = next(model.parameters()).dtype
    acc_dtype = torch.float64 if dtype == torch.float64 else torch.float32
    uniforms = mc_uniforms(len(tokenized), cfg.mc_samples, seed) if estimator == "montecarlo" else None
    total = torch.zeros(model.head.in_features, dtype=acc_dtype, device=device)
    with _EvalMode(model):
        chunks = length_sorted_chunks(tokenized, cfg.batch_size, pad, device)
        n_chunks = -(-len(tokenized) // cfg.batch_size)
        for chunk in _progress(chunks, n_chunks, progress, "activation Fisher"):
            with torch.no_grad():
                h = chunk_features(model, chunk)
            h = h.detach().requires_grad_(True)
            logits = model.head(model.dropout(h))
            seeds = _seed_fn(labels, uniforms, estimator, chunk)(logits)
            for j, seed_v in enumerate(seeds):
                (g,) = torch.autograd.grad((logits * seed_v).sum(), h, retain_graph=j < len(seeds) - 1)
                total += (g.to(acc_dtype) ** 2).sum(dim=0)
    result = (total / len(tokenized)).cpu()
    _check_finite({"pooled output": result})
    return result
