"""The general path: per-example gradients with ``torch.func`` (``vmap(grad(functional_call))``).

Works for any encoder whose ops have batching rules. Per chunk of B examples it materialises B gradients
of the in-scope parameters (memory ``B × #params``: ``FisherConfig.batch_size`` bounds it, and
chunks are further split to keep them under :data:`MEMORY_BUDGET`). The encoder
runs with a ready 4-D additive mask and eager attention (see :mod:`jtask2vec.fisher.inputs`).
"""

from __future__ import annotations

import torch
from torch.func import functional_call, grad, vmap

from jtask2vec.fisher.forward import FunctionalClassifier
from jtask2vec.fisher.inputs import Chunk, additive_mask, eager_attention
from jtask2vec.model.classifier import EncoderClassifier

MEMORY_BUDGET = 1 << 30  # bytes of per-example gradients alive at once


class VmapFisher:
    """Accumulates ``Σ_i (∇θ v_i·z(x_i))²`` over chunks for the parameters ``names``."""

    def __init__(self, model: EncoderClassifier, names: list[str], acc_dtype: torch.dtype) -> None:
        self.model = model
        self.wrapper = FunctionalClassifier(model)
        self.names = names
        self.acc_dtype = acc_dtype
        params = dict(model.named_parameters())
        self.sums = {n: torch.zeros_like(params[n], dtype=acc_dtype) for n in names}

        def seeded_output(theta, input_ids, mask2d, mask4d, token_type_ids, seed):
            named = {f"model.{n}": p for n, p in theta.items()}
            types = None if token_type_ids is None else token_type_ids[None]
            logits = functional_call(
                self.wrapper, named, (input_ids[None], mask2d[None], mask4d[None], types)
            )
            return (logits[0] * seed).sum()

        self._grad = grad(seeded_output)
        # B per-example gradients are materialised at once: keep them under ~MEMORY_BUDGET bytes
        numel = sum(params[n].numel() for n in names)
        self.sub_batch = max(1, MEMORY_BUDGET // max(1, 2 * numel * params[names[0]].element_size()))

    def add(self, chunk: Chunk, seeds: list[torch.Tensor]) -> None:
        """Add chunk ``chunk``'s terms, ``vmap``-ing at most :attr:`sub_batch` examples at a time."""
        params = dict(self.model.named_parameters())
        theta = {n: params[n].detach() for n in self.names}
        dtype = params[self.names[0]].dtype
        mask4d = additive_mask(chunk.attention_mask, dtype)
        types = chunk.token_type_ids
        per_example_grads = vmap(self._grad, in_dims=(None, 0, 0, 0, None if types is None else 0, 0))
        step = self.sub_batch
        # no_grad: torch.func.grad still differentiates inside, but no outer graph is built through
        # the out-of-scope parameters (which still require grad)
        with eager_attention(self.model.encoder), torch.no_grad():
            for seed in seeds:
                for lo in range(0, len(chunk), step):
                    part = slice(lo, lo + step)
                    grads = per_example_grads(
                        theta,
                        chunk.input_ids[part],
                        chunk.attention_mask[part],
                        mask4d[part],
                        None if types is None else types[part],
                        seed[part].to(dtype),
                    )
                    for n in self.names:
                        g = grads[n].to(self.acc_dtype)
                        self.sums[n] += (g * g).sum(dim=0)
