"""Benchmark: the exact diagonal Fisher against one plain batched forward+backward over the same examples.

Each measurement runs in its own subprocess (fresh peak-memory counter): ``backward`` (mean cross-entropy,
forward + backward over all parameters, in chunks of ``--batch-size``), ``exact`` (``diagonal_fisher``,
exact estimator, default method = hook path), ``vmap`` (the torch.func path) and ``loop`` (the per-example
reference). Peak memory is the rise of the process's peak RSS (``resource.ru_maxrss``) during the call.
Ratios use CPU time (``time.process_time``; with ``--threads 1`` it is the compute, whatever else loads
the machine); wall times are printed too. The last line is ``exact_over_backward=<ratio>``.

    python bench/fisher.py --model ja-imitator
    python bench/fisher.py --model bert-base --examples 32 --length 128 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build(model_name: str, examples: int, length: int, seed: int):
    import numpy as np
    import torch
    from transformers import BertConfig, BertModel

    from jtask2vec.model.classifier import EncoderClassifier
    from jtask2vec.model.probes import load_probe
    from jtask2vec.model.probes.tiny import _tiny_charset

    torch.manual_seed(seed)
    if model_name == "bert-base":
        probe = load_probe("tiny-random-bert")
        tok = probe.tokenizer
        config = BertConfig(
            vocab_size=len(tok), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
            intermediate_size=3072, max_position_embeddings=512, pad_token_id=tok.pad_token_id,
        )  # fmt: skip
        encoder, pooling = BertModel(config, add_pooling_layer=False), "cls"
    else:
        probe = load_probe(model_name)
        tok, encoder, pooling = probe.tokenizer, probe.fresh_encoder(), probe.pooling
    model = EncoderClassifier(encoder, pooling).eval()
    rng = np.random.default_rng(seed)
    chars = [c for c in _tiny_charset() if c.strip()]
    texts = [
        "".join(rng.choice(chars, size=int(rng.integers(length // 2, length - 2)))) for _ in range(examples)
    ]
    labels = rng.integers(0, 2, size=examples)
    return model, tok, texts, labels


def measure(args) -> dict:
    import numpy as np
    import torch

    from jtask2vec.config import FisherConfig
    from jtask2vec.fisher import diagonal_fisher
    from jtask2vec.model.classifier import encode_texts

    torch.set_num_threads(args.threads)
    model, tok, texts, labels = build(args.model, args.examples, args.length, args.seed)
    config = FisherConfig(estimator="exact", batch_size=args.batch_size, max_examples=None)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu_start = time.perf_counter(), time.process_time()
    if args.only == "backward":
        model.zero_grad()
        for i in range(0, len(texts), args.batch_size):
            batch = encode_texts(tok, texts[i : i + args.batch_size], args.length)
            logits = model(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
            y = torch.as_tensor(np.asarray(labels[i : i + args.batch_size]))
            torch.nn.functional.cross_entropy(logits, y).backward()
    else:
        method = {"exact": "auto", "vmap": "vmap", "loop": "loop"}[args.only]
        diagonal_fisher(model, tok, texts, labels, config, args.length, method=method)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "what": args.only,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_rise_mb": (peak - rss_before) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="ja-imitator", help="ja-imitator, tiny-random-bert or bert-base")
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], help="measurements to skip: vmap, loop")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args)))
        return
    results = {}
    base = [sys.executable, __file__, *sys.argv[1:]]
    for what in ("backward", "exact", "vmap", "loop"):
        if what in args.skip:
            continue
        out = subprocess.run([*base, "--only", what], check=True, capture_output=True, text=True).stdout
        results[what] = json.loads(out.strip().splitlines()[-1])
        r = results[what]
        print(
            f"{what:>9}: wall {r['seconds']:8.2f} s   cpu {r['cpu_seconds']:8.2f} s   "
            f"peak RSS +{r['peak_rss_rise_mb']:7.1f} MB",
            flush=True,
        )
    print(
        f"model={args.model} examples={args.examples} length={args.length} batch_size={args.batch_size} "
        f"threads={args.threads}"
    )
    base_cpu = results["backward"]["cpu_seconds"]
    print(f"(ratios of CPU time: {args.threads} thread(s), robust to other load on the machine)")
    for what in ("vmap", "loop"):
        if what in results:
            print(f"{what}_over_backward={results[what]['cpu_seconds'] / base_cpu:.2f}")
    print(f"exact_over_backward={results['exact']['cpu_seconds'] / base_cpu:.2f}")


if __name__ == "__main__":
    main()
