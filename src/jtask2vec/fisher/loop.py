"""The reference: one example at a time, unpadded, straight from the definitions (slow, obviously right).

For example ``x`` with ``log p = log_softmax(z(x))``:

- exact:      ``Σ_y p(y|x) (∇θ log p(y|x))²``  (C gradients)
- montecarlo: ``(1/k) Σ_s (∇θ log p(y_s|x))²`` with ``y_s`` drawn from ``p(·|x)`` (k gradients)
- empirical:  ``(∇θ log p(y_gold|x))²``
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from jtask2vec.fisher.inputs import collate
from jtask2vec.fisher.sampling import sample_labels
from jtask2vec.model.classifier import EncoderClassifier


def loop_fisher_sums(
    model: EncoderClassifier,
    tokenized: Sequence[dict[str, list[int]]],
    labels: np.ndarray | None,
    uniforms: np.ndarray | None,
    estimator: str,
    names: list[str],
    acc_dtype: torch.dtype,
    pad_token_id: int,
) -> dict[str, torch.Tensor]:
    """``Σ_examples`` of the per-example diagonal Fisher terms (not yet divided by the count)."""
    params = dict(model.named_parameters())
    wrt = [params[n] for n in names]
    device = wrt[0].device
    sums = {n: torch.zeros_like(params[n], dtype=acc_dtype) for n in names}
    for i in range(len(tokenized)):
        chunk = collate(tokenized, np.array([i]), pad_token_id, device)
        log_p = torch.log_softmax(model(chunk.input_ids, chunk.attention_mask, chunk.token_type_ids), dim=1)[
            0
        ]
        probs = log_p.detach().exp()
        if estimator == "exact":
            terms = [(c, probs[c]) for c in range(len(probs))]
        elif estimator == "montecarlo":
            u = torch.as_tensor(uniforms[i : i + 1], dtype=probs.dtype, device=device)
            ys = sample_labels(probs[None], u)[0].tolist()
            terms = [(y, 1.0 / len(ys)) for y in ys]
        elif estimator == "empirical":
            terms = [(int(labels[i]), 1.0)]
        else:
            raise ValueError(f"the loop reference has no estimator {estimator!r}")
        for j, (c, weight) in enumerate(terms):
            grads = torch.autograd.grad(log_p[c], wrt, retain_graph=j < len(terms) - 1, allow_unused=True)
            for n, g in zip(names, grads, strict=True):
                if g is not None:
                    sums[n] += float(weight) * g.to(acc_dtype) ** 2
    return sums
