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
"""

from __future__ import annotations

import argparse
import copy
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

from jtask2vec.classify import tokenize
from jtask2vec.config import ProbeConfig, TaskSpec, TrainingConfig
from jtask2vec.modeling import EncoderClassifier
from jtask2vec.probes import load_probe
from jtask2vec.training import train_classifier


def load_bench_task(data_dir: str | None):
    """Real jrte-pn if possible, else a synthetic task; returns (task, description)."""
    try:
        from jtask2vec.data_dir import resolve_data_dir
        from jtask2vec.tasks import load_task

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
    from jtask2vec.data_dir import resolve_data_dir
    from jtask2vec.tasks import load_task
    from jtask2vec.training import finetune

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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.accuracy:
        return accuracy_run(args)

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
