"""The diagonal Fisher: fast paths against the per-example reference, in float64 on tiny models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from jtask2vec.config import FisherConfig
from jtask2vec.errors import ProbeError
from jtask2vec.fisher import activation_fisher, diagonal_fisher
from jtask2vec.fisher.hooks import HookFisher
from jtask2vec.fisher.inputs import collate, tokenize
from jtask2vec.fisher.vmapped import VmapFisher
from jtask2vec.model.classifier import EncoderClassifier

TEXTS = [
    "駅の前の店は美味しい。",
    "部屋が狭い",
    "今日は良い天気ですね。本当に良い。",
    "朝食が高い！",
    "風呂",
    "新しい宿で、夕食も安い。",
]
LABELS = np.array([1, 0, 1, 0, 0, 1])
MAX_LEN = 48


def make_model(probe, num_labels: int = 2, seed: int = 0) -> EncoderClassifier:
    torch.manual_seed(seed)
    model = EncoderClassifier(probe.fresh_encoder(), probe.pooling, num_labels=num_labels).double()
    with torch.no_grad():  # a head large enough that p is far from 1/2
        model.head.weight.normal_(0, 0.5)
        model.head.bias.normal_(0, 0.5)
    return model


def assert_fisher_close(got: dict, want: dict, rtol: float = 1e-6) -> None:
    assert list(got) == list(want)
    scale = max(float(v.abs().max()) for v in want.values())
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=rtol, atol=1e-12 * scale, msg=name)


def fisher(model, tokenizer, config: FisherConfig, method: str, texts=TEXTS, labels=LABELS, seed: int = 0):
    return diagonal_fisher(model, tokenizer, texts, labels, config, MAX_LEN, seed=seed, method=method)


@pytest.fixture(scope="module")
def bert(tiny_probe):
    return make_model(tiny_probe), tiny_probe.tokenizer


@pytest.mark.parametrize("estimator", ["exact", "montecarlo", "empirical"])
@pytest.mark.parametrize("method", ["vmap", "hooks"])
def test_fast_paths_equal_the_loop(bert, estimator, method):
    model, tok = bert
    config = FisherConfig(estimator=estimator, batch_size=4, mc_samples=3)
    assert_fisher_close(fisher(model, tok, config, method), fisher(model, tok, config, "loop"))


@pytest.mark.parametrize("method", ["vmap", "hooks"])
def test_fast_paths_with_embedding_tables(bert, method):
    model, tok = bert
    config = FisherConfig(estimator="exact", scope="all", batch_size=3)
    got = fisher(model, tok, config, method)
    assert "encoder.embeddings.word_embeddings.weight" in got
    assert "encoder.embeddings.position_embeddings.weight" in got
    assert_fisher_close(got, fisher(model, tok, config, "loop"))


@pytest.mark.parametrize("method", ["vmap", "hooks"])
def test_three_classes_equal_the_loop(tiny_probe, method):
    model = make_model(tiny_probe, num_labels=3)
    labels = np.array([0, 1, 2, 0, 1, 2])
    for estimator in ("exact", "montecarlo", "empirical"):
        config = FisherConfig(estimator=estimator, batch_size=4, mc_samples=2)
        got = fisher(model, tiny_probe.tokenizer, config, method, labels=labels)
        assert_fisher_close(got, fisher(model, tiny_probe.tokenizer, config, "loop", labels=labels))


def explicit_expectation(model, tokenizer, texts) -> dict[str, torch.Tensor]:
    """``(1/N) Σ_x Σ_y p(y|x) (∇θ log p(y|x))²`` written out with autograd, no helper of the package."""
    model.eval()
    params = {n: p for n, p in model.named_parameters() if n.startswith("encoder.") and "word_emb" not in n}
    params = {n: p for n, p in params.items() if "position_emb" not in n and "token_type_emb" not in n}
    out = {n: torch.zeros_like(p) for n, p in params.items()}
    for text in texts:
        enc = tokenizer([text], return_tensors="pt", truncation=True, max_length=MAX_LEN)
        log_p = torch.log_softmax(
            model(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids")), 1
        )[0]
        for y in range(log_p.shape[0]):
            grads = torch.autograd.grad(log_p[y], list(params.values()), retain_graph=True, allow_unused=True)
            for (n, _), g in zip(params.items(), grads, strict=True):
                if g is not None:
                    out[n] += log_p[y].exp().detach() * g**2 / len(texts)
    return out


def test_binary_closed_form_equals_the_expectation_over_y(bert):
    model, tok = bert
    got = fisher(model, tok, FisherConfig(estimator="exact", batch_size=4), "hooks", labels=None)
    want = explicit_expectation(model, tok, TEXTS)
    assert_fisher_close(got, {n: want[n] for n in got})


def test_montecarlo_approaches_exact(bert):
    model, tok = bert
    exact = fisher(model, tok, FisherConfig(estimator="exact"), "hooks")
    flat = torch.cat([v.reshape(-1) for v in exact.values()])
    errors = []
    for k in (1, 30, 100_000):
        mc = fisher(model, tok, FisherConfig(estimator="montecarlo", mc_samples=k), "hooks", seed=3)
        diff = torch.cat([(mc[n] - exact[n]).reshape(-1) for n in exact])
        errors.append(float(diff.norm() / flat.norm()))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05, errors


def test_batch_squared_differs_from_exact(bert):
    model, tok = bert
    exact = fisher(model, tok, FisherConfig(estimator="exact"), "hooks")
    legacy = fisher(model, tok, FisherConfig(estimator="batch-squared", batch_size=6), "auto")
    a = torch.cat([v.reshape(-1) for v in exact.values()])
    b = torch.cat([v.reshape(-1) for v in legacy.values()])
    scale = float(b.sum() / a.sum())
    shape = float((b / b.sum() - a / a.sum()).norm() / (a / a.sum()).norm())
    log_gap = float((torch.log(b / b.sum() + 1e-30) - torch.log(a / a.sum() + 1e-30)).abs().median())
    print(
        f"batch-squared vs exact: total mass x{scale:.3g}, shape difference {shape:.3f}, "
        f"median |log ratio| {log_gap:.3f}"
    )
    assert abs(np.log(scale)) > np.log(2)  # a different scale ...
    # ... and not proportional (on this random tiny model every example's gradient points nearly the
    # same way, so the direction differs little: about 0.6% here; the scale differs ~70x)
    assert shape > 1e-3 and log_gap > 1e-2


def test_batch_squared_with_batches_of_one_is_the_empirical_fisher(bert):
    model, tok = bert
    legacy = fisher(model, tok, FisherConfig(estimator="batch-squared", batch_size=1), "auto")
    assert_fisher_close(legacy, fisher(model, tok, FisherConfig(estimator="empirical"), "loop"))


@pytest.mark.parametrize("engine", [HookFisher, VmapFisher])
def test_padding_does_not_change_the_fisher(bert, engine):
    model, tok = bert
    model.eval()
    tokenized = tokenize(tok, TEXTS[:2], MAX_LEN)
    names = [n for n, _ in model.named_parameters() if n.startswith("encoder.encoder.")]
    seed = [torch.tensor([[-0.5, 0.5]], dtype=torch.float64)]
    results = []
    for extra in (0, 7, 20):
        chunk = collate(tokenized, np.array([1]), tok.pad_token_id, torch.device("cpu"))
        pad_ids = torch.full((1, extra), tok.pad_token_id)
        chunk.input_ids = torch.cat([chunk.input_ids, pad_ids], 1)
        chunk.attention_mask = torch.cat([chunk.attention_mask, torch.zeros_like(pad_ids)], 1)
        if chunk.token_type_ids is not None:
            chunk.token_type_ids = torch.cat([chunk.token_type_ids, torch.zeros_like(pad_ids)], 1)
        acc = engine(model, names, torch.float64)
        with torch.enable_grad():
            acc.add(chunk, (lambda logits, s=seed: s) if engine is HookFisher else seed)
        if engine is HookFisher:
            acc.close()
        results.append(acc.sums)
    assert_fisher_close(results[1], results[0])
    assert_fisher_close(results[2], results[0])


def test_dropout_is_off_and_modes_are_restored(tiny_probe):
    torch.manual_seed(0)
    model = EncoderClassifier(tiny_probe.fresh_encoder(), tiny_probe.pooling, dropout=0.5).double()
    seen = []
    handles = [
        m.register_forward_pre_hook(lambda m, _: seen.append(m.training))
        for m in model.modules()
        if isinstance(m, torch.nn.Dropout)
    ]
    config = FisherConfig(estimator="exact", batch_size=3)
    model.train()
    first = fisher(model, tiny_probe.tokenizer, config, "hooks")
    second = fisher(model, tiny_probe.tokenizer, config, "hooks")
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    third = fisher(model, tiny_probe.tokenizer, config, "hooks")
    assert not model.training
    for h in handles:
        h.remove()
    assert seen and not any(seen)
    assert_fisher_close(first, third, rtol=1e-12)
    assert_fisher_close(second, third, rtol=1e-12)


def test_entries_are_non_negative_and_finite(bert):
    model, tok = bert
    for method in ("hooks", "vmap"):
        result = fisher(model, tok, FisherConfig(estimator="exact"), method)
        for value in result.values():
            assert torch.isfinite(value).all() and (value >= 0).all()


def test_non_finite_weights_give_a_clear_error(tiny_probe):
    model = make_model(tiny_probe)
    with torch.no_grad():
        model.encoder.encoder.layer[0].output.dense.weight[0, 0] = float("nan")
    with pytest.raises(ProbeError, match="not finite"):
        fisher(model, tiny_probe.tokenizer, FisherConfig(estimator="exact"), "hooks")


def test_scopes_exclude_head_unused_pooler_and_embedding_tables(tiny_probe):
    config = BertConfig(
        vocab_size=len(tiny_probe.tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, pad_token_id=tiny_probe.tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = EncoderClassifier(BertModel(config, add_pooling_layer=True), "cls").double()
    tok = tiny_probe.tokenizer
    default = fisher(model, tok, FisherConfig(), "auto")
    assert not any(n.startswith("head.") or ".pooler." in n for n in default)
    assert not any("_embeddings." in n for n in default)
    assert "encoder.embeddings.LayerNorm.weight" in default
    layers = fisher(model, tok, FisherConfig(scope="layers"), "auto")
    assert all(".layer." in n for n in layers)
    everything = fisher(model, tok, FisherConfig(scope="all"), "auto")
    assert "encoder.embeddings.word_embeddings.weight" in everything
    assert not any(".pooler." in n for n in everything)


def test_class_balanced_sample_and_cap(bert):
    from jtask2vec.fisher.sampling import select_examples

    labels = np.array([0] * 10 + [1] * 3)
    picked = select_examples(13, labels, None, True, seed=1)
    assert sorted(np.bincount(labels[picked])) == [3, 3]
    assert len(select_examples(13, labels, 5, False, seed=1)) == 5
    assert list(select_examples(13, labels, 5, False, seed=1)) == list(
        select_examples(13, labels, 5, False, 1)
    )
    model, tok = bert
    capped = fisher(model, tok, FisherConfig(estimator="exact", max_examples=2), "hooks")
    full = fisher(model, tok, FisherConfig(estimator="exact"), "hooks")
    assert not torch.allclose(
        capped["encoder.embeddings.LayerNorm.weight"], full["encoder.embeddings.LayerNorm.weight"]
    )


def test_activation_fisher(bert):
    model, tok = bert
    got = activation_fisher(model, tok, TEXTS, LABELS, FisherConfig(estimator="exact"), MAX_LEN)
    with torch.no_grad():
        enc = tok(TEXTS, return_tensors="pt", padding=True, truncation=True, max_length=MAX_LEN)
        model.eval()
        p = torch.softmax(model(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids")), 1)
        w = model.head.weight
        want = (p[:, 0] * p[:, 1]).mean() * (w[1] - w[0]) ** 2
    torch.testing.assert_close(got, want, rtol=1e-9, atol=0)
    empirical = activation_fisher(model, tok, TEXTS, LABELS, FisherConfig(estimator="empirical"), MAX_LEN)
    with torch.no_grad():
        q = p[torch.arange(len(TEXTS)), 1 - torch.as_tensor(LABELS)]
        want_emp = (q**2).mean() * (w[1] - w[0]) ** 2
    torch.testing.assert_close(empirical, want_emp, rtol=1e-9, atol=0)


def test_vmap_sub_batches_under_a_memory_budget(bert, monkeypatch):
    import jtask2vec.fisher.vmapped as vmapped

    model, tok = bert
    config = FisherConfig(estimator="exact", batch_size=6)
    whole = fisher(model, tok, config, "vmap")
    monkeypatch.setattr(vmapped, "MEMORY_BUDGET", 1)  # one example per vmap call
    assert_fisher_close(fisher(model, tok, config, "vmap"), whole)
