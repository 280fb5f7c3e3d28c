"""The fast path: per-example squared gradients from module hooks, at about the cost of one backward.

For a module ``y = f(x; θ)`` applied to example ``i``'s tokens ``t`` and the backpropagated
``g_it = ∂(v_i·z_i)/∂y_it``, the per-example gradient is (as in BackPACK's BatchGrad / Opacus' grad
samplers)

- ``nn.Linear``:    ``∇W_i = Σ_t g_it x_itᵀ`` (``einsum('bto,bti->boi')``), ``∇b_i = Σ_t g_it``;
- ``nn.LayerNorm``: ``∇γ_i = Σ_t g_it ⊙ x̂_it`` (``x̂`` the normalised input), ``∇β_i = Σ_t g_it``;
- ``nn.Embedding``: ``∇E_i[r] = Σ_{t: id_it = r} g_it`` (rows of ``padding_idx`` get none, as in torch).

The squares are summed over examples at once, so only one layer's ``B × out × in`` is alive at a time.
A parameter used by several calls (ALBERT's layers share one set of weights) has per-example gradients
summed over its calls *before* squaring (a per-parameter ``B × shape`` buffer, squared after the
backward). One forward and one ``torch.autograd.grad`` back to the embedding outputs per seed; the
weight gradients of the plain backward are never formed (autograd computes only what the requested
inputs need), so the extra work is the per-example einsum.

Parameters of other module types, or used outside their module (e.g. tied through ``F.linear``), are
not seen by the hooks: :class:`UnsupportedModel` is raised and the caller falls back to ``vmap``.
"""

from __future__ import annotations

from collections import defaultdict

import torch
import torch.nn.functional as F
from torch import nn

from jtask2vec.fisher.forward import chunk_logits
from jtask2vec.fisher.inputs import Chunk
from jtask2vec.model.classifier import EncoderClassifier

SUPPORTED = (nn.Linear, nn.LayerNorm, nn.Embedding)


class UnsupportedModel(Exception):
    """The hook path cannot compute this model's per-example gradients (use the vmap path)."""


class HookFisher:
    """Accumulates ``Σ_i (∇θ v_i·z(x_i))²`` over chunks for the parameters ``names`` (model-level names)."""

    def __init__(self, model: EncoderClassifier, names: list[str], acc_dtype: torch.dtype) -> None:
        self.model = model
        self.acc_dtype = acc_dtype
        wanted = set(names)
        self.owned: dict[nn.Module, list[tuple[str, str]]] = {}
        for mod_name, module in model.named_modules():
            for local, _ in module.named_parameters(recurse=False):
                full = f"{mod_name}.{local}" if mod_name else local
                if full not in wanted:
                    continue
                if not isinstance(module, SUPPORTED):
                    raise UnsupportedModel(f"{full} belongs to a {type(module).__name__}")
                self.owned.setdefault(module, []).append((local, full))
        params = dict(model.named_parameters())
        self.sums = {n: torch.zeros_like(params[n], dtype=acc_dtype) for n in names}
        self.touched: set[str] = set()
        self._uses: dict[str, int] = defaultdict(int)
        self._buffers: dict[str, torch.Tensor] = {}
        self._roots: list[torch.Tensor] = []
        self._batch = 0
        self._handles = []
        for module in model.encoder.modules():
            if module in self.owned or isinstance(module, nn.Embedding):
                self._handles.append(module.register_forward_hook(self._forward_hook))

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ---- hooks -------------------------------------------------------------------------------------
    def _forward_hook(self, module: nn.Module, inputs: tuple, output: torch.Tensor):
        x = inputs[0]
        for _, full in self.owned.get(module, ()):
            self._uses[full] += 1
        replaced = None
        if isinstance(module, nn.Embedding):
            if not output.requires_grad:  # frozen table: still a root for the backward
                output = replaced = output.detach().requires_grad_(True)
            if output.shape[0] == 1 and self._batch > 1:
                # position ids are a (1, T) buffer broadcast over the batch: expand, so that the
                # backward brings one gradient per example instead of their sum
                output = replaced = output.expand(self._batch, *output.shape[1:])
                x = x.expand(self._batch, *x.shape[1:])
            self._roots.append(output)
        if module in self.owned and output.shape[0] != self._batch:
            raise UnsupportedModel(f"{type(module).__name__} output {tuple(output.shape)} is not per example")
        if module in self.owned and output.requires_grad:
            saved = x.detach()
            output.register_hook(lambda g, module=module, saved=saved: self._backward_hook(module, saved, g))
        return replaced

    def _backward_hook(self, module: nn.Module, x: torch.Tensor, g: torch.Tensor) -> None:
        if isinstance(module, nn.Embedding):
            self._embedding(module, x, g)
            return
        batch = g.shape[0]
        g = g.reshape(batch, -1, g.shape[-1]).to(self.acc_dtype)
        per: dict[str, torch.Tensor] = {}
        if isinstance(module, nn.Linear):
            xs = x.reshape(batch, -1, x.shape[-1]).to(self.acc_dtype)
            per["weight"] = torch.einsum("bto,bti->boi", g, xs)
            per["bias"] = g.sum(dim=1)
        else:  # LayerNorm over the last dimension(s)
            shape = module.normalized_shape
            x_hat = F.layer_norm(x.to(self.acc_dtype), shape, None, None, module.eps)
            per["weight"] = (g * x_hat.reshape(g.shape)).sum(dim=1).reshape(batch, *shape)
            per["bias"] = g.sum(dim=1).reshape(batch, *shape)
        for local, full in self.owned[module]:
            self._accumulate(full, per[local])

    def _accumulate(self, full: str, per_example: torch.Tensor) -> None:
        self.touched.add(full)
        if self._uses[full] == 1:
            self.sums[full] += per_example.square_().sum(dim=0)
        elif full in self._buffers:
            self._buffers[full] += per_example
        else:
            self._buffers[full] = per_example

    def _embedding(self, module: nn.Embedding, ids: torch.Tensor, g: torch.Tensor) -> None:
        if module not in self.owned:
            return
        ((_, full),) = self.owned[module]
        self.touched.add(full)
        batch = ids.shape[0]
        ids = ids.reshape(batch, -1)
        g = g.reshape(batch, ids.shape[1], -1).to(self.acc_dtype)
        shared = self._uses[full] > 1
        if shared and full not in self._buffers:
            self._buffers[full] = torch.zeros(
                (batch, *module.weight.shape), dtype=self.acc_dtype, device=g.device
            )
        for b in range(batch):
            rows, inverse = torch.unique(ids[b], return_inverse=True)
            per_row = torch.zeros((len(rows), g.shape[2]), dtype=self.acc_dtype, device=g.device)
            per_row.index_add_(0, inverse, g[b])
            if module.padding_idx is not None:
                per_row[rows == module.padding_idx] = 0
            if shared:
                self._buffers[full][b].index_add_(0, rows, per_row)
            else:
                self.sums[full].index_add_(0, rows, per_row.square_())

    # ---- driving -----------------------------------------------------------------------------------
    def add(self, chunk: Chunk, seeds_of) -> torch.Tensor:
        """One forward of ``chunk``; ``seeds_of(logits)`` gives the seeds ``v`` (each ``(B, C)``); one
        backward per seed. Returns the logits."""
        self._uses.clear()
        self._roots = []
        self._batch = len(chunk)
        try:
            logits = chunk_logits(self.model, chunk)
            if not self._roots:
                raise UnsupportedModel("the encoder has no nn.Embedding input to backpropagate to")
            seeds = seeds_of(logits)
            for j, seed in enumerate(seeds):
                total = (logits * seed.to(logits.dtype)).sum()
                torch.autograd.grad(total, self._roots, retain_graph=j < len(seeds) - 1, allow_unused=True)
                for full, buffer in self._buffers.items():
                    self.sums[full] += buffer.square_().sum(dim=0)
                self._buffers = {}
        finally:
            self._roots = []
        return logits.detach()
