"""Which examples enter the Fisher (cap, class balance) and the labels the estimators use.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same sample and the
same Monte-Carlo labels, whichever computation path (hooks, vmap, loop) runs.
"""

from __future__ import annotations

import numpy as np
import torch

from jtask2vec.errors import ConfigError, DataError


def select_examples(
    n: int, labels: np.ndarray | None, max_examples: int | None, class_balanced: bool, seed: int
) -> np.ndarray:
    """Indices of the examples to use, in a seeded random order.

    - ``class_balanced``: ``m = min(smallest class count, max_examples // C)`` examples of each class
      (``C`` = number of classes present), so every class weighs the same.
    - otherwise: all examples, or a uniform random ``max_examples`` of them.
    """
    rng = np.random.default_rng(seed)
    if n == 0:
        raise DataError("no examples to compute the Fisher on")
    if class_balanced:
        if labels is None:
            raise ConfigError("fisher.class_balanced needs the task's labels")
        labels = np.asarray(labels)
        classes = np.unique(labels)
        per_class = min(int((labels == c).sum()) for c in classes)
        if max_examples is not None:
            per_class = min(per_class, max(1, max_examples // len(classes)))
        picked = np.concatenate(
            [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False) for c in classes]
        )
        return rng.permutation(picked)
    order = rng.permutation(n)
    return order if max_examples is None else order[:max_examples]


def mc_uniforms(n: int, samples: int, seed: int) -> np.ndarray:
    """``(n, samples)`` uniforms in [0, 1): example ``i``'s Monte-Carlo label ``s`` is the inverse CDF of
    ``p(y|x_i)`` at ``u[i, s]`` (:func:`sample_labels`). Drawn once, so every path sees the same labels."""
    return np.random.default_rng([seed, 0x4D43]).random((n, samples))


def sample_labels(probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """``y[i, s] = #{c : cumsum(p_i)[c] <= u[i, s]}``: a class drawn from ``p_i``; shapes (B, C), (B, k)."""
    cdf = probs.cumsum(dim=1)[:, :-1]  # (B, C-1); the last entry (1) is never exceeded
    return (uniforms[:, :, None] >= cdf[:, None, :].to(uniforms.dtype)).sum(dim=2)


def class_weights(
    probs: torch.Tensor, estimator: str, labels: torch.Tensor | None, uniforms: torch.Tensor | None
) -> torch.Tensor:
    """``(B, C)`` weights ``w[i, c]`` of the per-example terms ``(∇θ log p(c|x_i))²``.

    - exact: ``w = p(c|x)`` (the expectation over the model's own predictive distribution);
    - montecarlo: ``w = n_c / k`` (the fraction of the ``k`` sampled labels equal to ``c``);
    - empirical: ``w = 1[c = gold label]``.
    """
    num_classes = probs.shape[1]
    if estimator == "exact":
        return probs
    if estimator == "montecarlo":
        if uniforms is None:
            raise ValueError("montecarlo needs uniforms")
        y = sample_labels(probs, uniforms)
        counts = torch.nn.functional.one_hot(y, num_classes).sum(dim=1).to(probs.dtype)
        return counts / y.shape[1]
    if estimator == "empirical":
        if labels is None:
            raise ConfigError("the empirical Fisher needs gold labels")
        return torch.nn.functional.one_hot(labels.long(), num_classes).to(probs.dtype)
    raise ConfigError(f"unknown Fisher estimator {estimator!r}")


def backprop_terms(logits: torch.Tensor, weights: torch.Tensor) -> list[torch.Tensor]:
    """Seeds ``v`` (each ``(B, C)``, detached) with ``Σ_c w_ic (∇θ log p(c|x_i))² = Σ_v (∇θ v_i·z_i)²``.

    ``∇θ log p(c|x) = Jᵀ(e_c − p)`` with ``J = ∂z/∂θ``, so term ``c`` is ``v = √w_c (e_c − p)``: C
    per-example gradients of a linear function of the logits. For two classes ``e_0 − p = −p_1 (−1, 1)``
    and ``e_1 − p = p_0 (−1, 1)``: every term is along ``∇θ(z_1 − z_0)`` and they collapse into ONE seed
    ``v = √(w_0 p_1² + w_1 p_0²) · (−1, 1)``; for the exact Fisher ``w = p`` gives the closed form
    ``p_0 p_1 (∇θ(z_1 − z_0))²``.
    """
    probs = torch.softmax(logits.detach(), dim=1)
    num_classes = probs.shape[1]
    if num_classes == 2:
        scale = (weights[:, 0] * probs[:, 1] ** 2 + weights[:, 1] * probs[:, 0] ** 2).clamp_min(0).sqrt()
        direction = torch.tensor([-1.0, 1.0], dtype=probs.dtype, device=probs.device)
        return [scale[:, None] * direction]
    eye = torch.eye(num_classes, dtype=probs.dtype, device=probs.device)
    return [weights[:, c, None].clamp_min(0).sqrt() * (eye[c] - probs) for c in range(num_classes)]
