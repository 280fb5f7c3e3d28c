"""Benchmark: examples/s of our fine-tuning loop vs Hugging Face ``Trainer``, same model/data/batch/length.

Fine-tunes the offline probe (ja-imitator) + a fresh head on one task: real jrte-pn when the data directory
and its loader are there, else a synthetic task. Both loops train the same fresh ``EncoderClassifier``
(same initial weights) for the same examples, epochs, batch size, max length, AdamW + linear warmup/decay
and clipping. Ours: length-bucketed batches + dynamic padding. Trainer: ``DataCollatorWithPadding``
(dynamic padding), with the ``random`` and the ``group_by_length`` train sampling strategies. Prints
wall-clock examples/s and ``ours_over_trainer=<ratio>`` (vs the default Trainer). ``Trainer`` needs
``accelerate``.

    python bench/finetune.py [--threads 1] [--examples 1500] [--epochs 1] [--repeats 2]

With ``--accuracy`` it instead runs the full ``finetune`` (train, dev selection, test) of the offline probe on
the real tasks (jrte-pn, chabsa, livedoor kaden-channel vs sports-watch) with ``TrainingConfig`` defaults
(or ``--acc-epochs`` / ``--lr``) and prints test accuracy against the targets (0.90, 0.85, 0.98):

    python bench/finetune.py --accuracy [--acc-epochs 5] [--lr 1e-3] [--seed 0]

With ``--me5`` it times training at me5-small's size (issue 18): a random-init BERT of me5-small's shape
(12 layers, hidden 384, 12 heads, FF 1536, 512 positions; a ``--me5-vocab`` of 32,000 word pieces instead
of 250,002: word embeddings are looked up and frozen, so the vocabulary changes memory, not speed) with
frozen word embeddings, on real texts (ids from the offline probe's tokenizer). Each figure against its
baseline in the same run, interleaved, best of ``--repeats``:

- ``me5_examples_per_second``: training examples/s with ``precision: auto`` (bf16 on a CPU with native
  bf16), batch 32 x 64 tokens; ``me5_fp32_examples_per_second`` the fp32 baseline;
- ``me5_bf16_speedup``: bf16 autocast over fp32;
- ``bucketing_speedup``: length-bucketed batches with dynamic padding over shuffled batches padded to
  ``max_length`` (128), on livedoor's texts (``bucketing_speedup_chabsa``: on chABSA's sentences);
- ``me5_peak_rss_gb`` (in a fresh process, the full 250,002-piece vocabulary: probe + its fine-tuned copy,
  a real ``finetune`` with dev/test scoring) and ``me5_checkpoint_mb`` (its delta checkpoint).

    python bench/finetune.py --me5 [--threads 1] [--repeats 2]
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
from torch import nn

from jtask2vec.config import ProbeConfig, TaskSpec, TrainingConfig
from jtask2vec.model.classifier import EncoderClassifier
from jtask2vec.model.predict import tokenize
from jtask2vec.model.probes import load_probe
from jtask2vec.model.training import train_classifier


def load_bench_task(data_dir: str | None):
    """Real jrte-pn if possible, else a synthetic task; returns (task, description)."""
    try:
        from jtask2vec.tasks import load_task
        from jtask2vec.tasks.data_dir import resolve_data_dir

        folder = resolve_data_dir(data_dir)
        return load_task(TaskSpec(name="jrte-pn", loader="jrte-pn"), folder), f"jrte-pn from {folder}"
    except Exception as exc:  # no data or no loader: fall back, and say so
        from jtask2vec.tasks.synthetic import make_synthetic_task

        why = str(exc).splitlines()[0][:100]
        return make_synthetic_task("synthetic", n=4000, seed=0, sentences=(2, 4)), f"synthetic ({why})"


class TrainerModel(nn.Module):
    """``EncoderClassifier`` with the ``labels -> loss`` interface ``Trainer`` expects."""

    def __init__(self, classifier: EncoderClassifier) -> None:
        super().__init__()
        self.classifier = classifier
        self.loss = nn.CrossEntropyLoss()

    def forward(self, input_ids, attention_mask, labels=None, token_type_ids=None):
        logits = self.classifier(input_ids, attention_mask)
        return {"loss": self.loss(logits, labels), "logits": logits}


def run_ours(model, tokenizer, ids, labels, config: TrainingConfig) -> float:
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        train_classifier(
            model, tokenizer, ids, labels, [], np.zeros(0), config, np.random.default_rng(0), progress=False
        )
    return time.perf_counter() - start


def run_trainer(model, tokenizer, ids, labels, config: TrainingConfig, group_by_length: bool) -> float:
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    dataset = [{"input_ids": x, "labels": int(y)} for x, y in zip(ids, labels, strict=True)]
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=config.batch_size,
            num_train_epochs=config.epochs,
            learning_rate=config.learning_rate,
            warmup_steps=round(config.warmup_ratio * config.epochs * -(-len(ids) // config.batch_size)),
            weight_decay=config.weight_decay,
            max_grad_norm=config.max_grad_norm or 0.0,
            lr_scheduler_type="linear",
            train_sampling_strategy="group_by_length" if group_by_length else "random",
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to=[],
            disable_tqdm=True,
            use_cpu=True,
            dataloader_num_workers=0,
            seed=0,
        )
        trainer = Trainer(
            model=TrainerModel(model),
            args=args,
            train_dataset=dataset,
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        start = time.perf_counter()
        trainer.train()
        return time.perf_counter() - start


ACCURACY_TARGETS = {
    "jrte-pn": (TaskSpec(name="jrte-pn", loader="jrte-pn"), 0.90),
    "chabsa": (TaskSpec(name="chabsa", loader="chabsa"), 0.85),
    "livedoor": (
        TaskSpec(
            name="livedoor", loader="livedoor", options={"categories": ["kaden-channel", "sports-watch"]}
        ),
        0.98,
    ),
}


def accuracy_run(args: argparse.Namespace) -> int:
    """Full fine-tunes on the real tasks: accuracy, macro-F1, time, and whether each meets its target."""
    from jtask2vec.jobs.stages import finetune
    from jtask2vec.tasks import load_task
    from jtask2vec.tasks.data_dir import resolve_data_dir

    folder = resolve_data_dir(args.data_dir)
    probe = load_probe(ProbeConfig(name="ja-imitator", max_length=args.max_length))
    updates = {
        k: v for k, v in {"epochs": args.acc_epochs, "learning_rate": args.lr}.items() if v is not None
    }
    config = TrainingConfig().model_copy(update=updates)
    print(f"probe {probe.name}, max_length {probe.max_length}; {config!r}")
    missed = 0
    for name, (spec, target) in ACCURACY_TARGETS.items():
        task = load_task(spec, folder)
        r = finetune(task, probe, config, args.seed, progress=False)
        ok = r.accuracy >= target
        missed += not ok
        print(
            f"{name}: accuracy={r.accuracy:.4f} (target {target:.2f}: {'ok' if ok else 'MISSED'}) "
            f"macro_f1={r.macro_f1:.4f} balanced_accuracy={r.balanced_accuracy:.4f} "
            f"best_epoch={r.best_epoch} n_train={r.n_train} "
            f"train_seconds={r.train_seconds:.0f} examples/s={r.examples_per_second:.0f}",
            flush=True,
        )
    return 1 if missed else 0


# ---- me5-small's size -----------------------------------------------------------------------------------
def me5_shaped(vocab: int, seed: int = 0):
    """A random-init BERT of multilingual-e5-small's shape."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=vocab, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return BertModel(config, add_pooling_layer=False).eval()


def real_texts(name: str, data_dir: str | None) -> list[str]:
    from jtask2vec.tasks import load_task
    from jtask2vec.tasks.data_dir import resolve_data_dir

    options = {"categories": ["kaden-channel", "sports-watch"]} if name == "livedoor" else {}
    task = load_task(TaskSpec(name=name, loader=name, options=options), resolve_data_dir(data_dir))
    return [str(x) for x in task.texts]


def padded_to(ids: list[dict], length: int) -> list[dict]:
    """Each input padded with [PAD] ids to ``length`` (attention mask 0 there): the no-bucketing baseline."""
    out = []
    for x in ids:
        n = len(x["input_ids"])
        out.append(
            {
                "input_ids": list(x["input_ids"]) + [0] * (length - n),
                "attention_mask": [1] * n + [0] * (length - n),
            }
        )
    return out


def time_training(model, tokenizer, ids, labels, config: TrainingConfig, *, shuffled: bool = False) -> float:
    """Seconds to train a copy of ``model`` on ``ids`` (``shuffled``: shuffled batches, no bucketing)."""
    from jtask2vec.model import training

    model = copy.deepcopy(model)
    if config.freeze_word_embeddings:
        training.freeze_word_embeddings(model.encoder)
    real = training.bucketed_batches
    if shuffled:
        training.bucketed_batches = lambda lengths, size, rng: [  # type: ignore[assignment]
            b for b in np.array_split(rng.permutation(len(lengths)), -(-len(lengths) // size))
        ]
    try:
        return run_ours(model, tokenizer, ids, labels, config)
    finally:
        training.bucketed_batches = real


def me5_run(args: argparse.Namespace) -> int:
    probe = load_probe(ProbeConfig(name="ja-imitator", max_length=512))
    tok = probe.tokenizer
    encoder = me5_shaped(args.me5_vocab)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = EncoderClassifier(encoder, "mean")
    print(f"me5-shaped BERT, vocab {args.me5_vocab} (real: 250002), threads {args.threads}, "
          f"cpu bf16 native: {training_cpu_bf16()}", flush=True)  # fmt: skip
    texts = real_texts("chabsa", args.data_dir)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(texts), size=args.me5_examples, replace=False)
    ids = tokenize(tok, [texts[i] for i in pick], 64)
    labels = rng.integers(0, 2, size=len(ids))
    base = TrainingConfig(epochs=1, batch_size=32, freeze_word_embeddings=True)
    configs = {p: base.model_copy(update={"precision": p}) for p in ("fp32", "auto")}
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, config in configs.items():
            t = time_training(model, tok, ids, labels, config)
            best[name] = min(best.get(name, math.inf), t)
            print(f"  {name}: {len(ids) / t:.2f} examples/s", flush=True)
    rates = {k: len(ids) / v for k, v in best.items()}
    bf16 = TrainingConfig(epochs=1, batch_size=16, freeze_word_embeddings=True, precision="auto")
    speedups = {}
    for corpus in ("livedoor", "chabsa"):
        texts = real_texts(corpus, args.data_dir)
        pick = np.random.default_rng(1).choice(len(texts), size=args.bucket_examples, replace=False)
        ids = tokenize(tok, [texts[i] for i in pick], 128)
        lens = [len(x["input_ids"]) for x in ids]
        labels = np.random.default_rng(1).integers(0, 2, size=len(ids))
        t_bucket, t_pad = math.inf, math.inf
        for _ in range(args.repeats):
            t_bucket = min(t_bucket, time_training(model, tok, ids, labels, bf16))
            t_pad = min(t_pad, time_training(model, tok, padded_to(ids, 128), labels, bf16, shuffled=True))
        speedups[corpus] = t_pad / t_bucket
        print(f"  {corpus}: median length {np.median(lens):.0f} tokens (max_length 128, "
              f"{np.mean(np.array(lens) >= 128):.0%} truncated); bucketed {t_bucket:.1f}s, "
              f"padded {t_pad:.1f}s",
              flush=True)  # fmt: skip
    rss = me5_memory(args)
    print(f"me5_peak_rss_gb={rss['rss_gb']:.2f}")
    print(f"me5_checkpoint_mb={rss['checkpoint_mb']:.1f}")
    print(f"me5_fp32_examples_per_second={rates['fp32']:.2f}")
    print(f"me5_examples_per_second={rates['auto']:.2f}")
    print(f"me5_bf16_speedup={rates['auto'] / rates['fp32']:.2f}")
    print(f"bucketing_speedup_chabsa={speedups['chabsa']:.2f}")
    print(f"bucketing_speedup={speedups['livedoor']:.2f}")
    return 0


def training_cpu_bf16() -> bool:
    from jtask2vec.model.training import cpu_has_native_bf16

    return cpu_has_native_bf16()


def me5_memory(args: argparse.Namespace) -> dict:
    """Peak RSS of a fresh process running one real fine-tune at me5-small's full size, and the size of
    the delta checkpoint the ``finetune`` stage writes for it."""
    import json
    import subprocess

    code = f"""
import json, os, resource, tempfile, torch
torch.set_num_threads({args.threads})
from pathlib import Path
import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from finetune import me5_shaped
from jtask2vec.config import ProbeConfig, TrainingConfig
from jtask2vec.jobs.graph import from_pretrained
from jtask2vec.model.probes import Probe, load_probe
from jtask2vec.jobs.stages import finetuned_folder, publish_finetune
from jtask2vec.store.artifacts import ArtifactStore
from jtask2vec.tasks.synthetic import make_synthetic_task
tok = load_probe(ProbeConfig(name="ja-imitator", max_length=64)).tokenizer
probe = Probe("me5-shaped", me5_shaped(250002), tok, "mean", 64, "bench-me5-shaped")
task = make_synthetic_task("bench", n=240, seed=0)
config = TrainingConfig(
    epochs=1, batch_size=32, freeze_word_embeddings=True, precision="auto", train_subsample=64
)
with tempfile.TemporaryDirectory() as root:
    store = ArtifactStore(root)
    job = from_pretrained(task, 0, config, probe)
    publish_finetune(store, job, task, probe)
    folder = finetuned_folder(store, job.key)
    size = sum(p.stat().st_size for p in Path(folder).iterdir())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({{"rss_gb": rss, "checkpoint_mb": size / 1e6}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--examples", type=int, default=1500, help="training examples per epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--accuracy", action="store_true", help="full fine-tunes on the real tasks instead")
    parser.add_argument("--acc-epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--me5", action="store_true", help="time training at me5-small's size instead")
    parser.add_argument("--me5-vocab", type=int, default=32000)
    parser.add_argument("--me5-examples", type=int, default=64)
    parser.add_argument("--bucket-examples", type=int, default=48)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.accuracy:
        return accuracy_run(args)
    if args.me5:
        return me5_run(args)

    task, origin = load_bench_task(args.data_dir)
    probe = load_probe(ProbeConfig(name="ja-imitator", max_length=args.max_length))
    idx = task.indices("train")[: args.examples]
    ids = tokenize(probe.tokenizer, [task.texts[i] for i in idx], probe.max_length)
    labels = task.labels[idx]
    config = TrainingConfig(epochs=args.epochs, batch_size=args.batch_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        initial = EncoderClassifier(probe.fresh_encoder(), probe.pooling, dropout=config.head_dropout)
    n = len(ids) * args.epochs
    mean_len = float(np.mean([len(x) for x in ids]))
    print(f"task: {origin}; {len(ids)} examples x {args.epochs} epoch(s), mean length {mean_len:.1f} tokens")
    print(
        f"probe: {probe.name}; batch {args.batch_size}; max_length {probe.max_length}; threads {args.threads}"
    )

    runners = {"ours": lambda m: run_ours(m, probe.tokenizer, ids, labels, config)}
    try:
        import accelerate  # noqa: F401

        runners["trainer"] = lambda m: run_trainer(m, probe.tokenizer, ids, labels, config, False)
        runners["trainer_group_by_length"] = lambda m: run_trainer(
            m, probe.tokenizer, ids, labels, config, True
        )
    except ImportError:
        print("Trainer: unavailable (the `accelerate` package is not installed); only our loop is timed")
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.repeats):  # interleaved, so background load hits all loops alike
        for name, run in runners.items():
            times[name].append(run(copy.deepcopy(initial)))
    rates = {name: n / statistics.median(ts) for name, ts in times.items()}
    for name, rate in rates.items():
        print(f"{name}: {rate:.0f} examples/s (median of {args.repeats}; {times[name]})")
    if "trainer" in rates:
        print(f"ours_over_trainer={rates['ours'] / rates['trainer']:.2f}")
        print(f"ours_over_trainer_group_by_length={rates['ours'] / rates['trainer_group_by_length']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
