"""Benchmark: a reduced ``paper-offline`` run with 1 worker, N workers (and Ray), each on a fresh store.

The suite: ``paper-offline`` (five tasks, the offline probe ja-imitator) with every task subsampled to
``--examples`` examples and ``--seeds`` seeds; every expensive job runs (fine-tunes, transfer grid,
embeddings, t0, TextEmb, LogME), the report is not written. Each setting runs in a fresh temporary runs
folder, so nothing is reused; the evaluation tables of every setting must be byte-identical to the first
(printed as ``identical=``). Prints the wall time of each setting, ``ray_overhead=<t_ray/t_pool>`` when
ray is installed (the Ray runtime is started before the clock, as a cluster would be), and last
``parallel_speedup=<t_1/t_N>``.

    python bench/grid.py [--examples 400] [--seeds 1] [--workers 2] [--threads 1] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from jtask2vec.config import Suite, load_suite
from jtask2vec.pipeline import run_suite

COMPARED = ("evaluation.csv", "distances.csv", "scores.csv")


def differing(tables: dict[str, bytes], reference: dict[str, bytes]) -> str:
    """``identical=True``, or the tables that differ from the first setting's."""
    names = [name for name in COMPARED if tables[name] != reference[name]]
    return "identical=True" if not names else f"identical=False differ={','.join(names)}"


def reduced_suite(examples: int, seeds: int, executor: dict) -> Suite:
    suite = load_suite("paper-offline")
    tasks = [spec.model_copy(update={"max_examples": examples}) for spec in suite.tasks]
    return Suite.model_validate(
        {
            **suite.model_dump(mode="json"),
            "name": "bench-grid",
            "tasks": [t.model_dump(mode="json") for t in tasks],
            "seeds": list(range(seeds)),
            "device": "cpu",
            "executor": executor,
        }
    )


def timed_run(suite: Suite, data_dir: str | None) -> tuple[float, dict[str, bytes]]:
    with tempfile.TemporaryDirectory(prefix="bench-grid-") as runs:
        started = time.perf_counter()
        results = run_suite(suite, runs, data_dir, progress=False, report=False)
        seconds = time.perf_counter() - started
        folder = Path(runs) / "tables"
        results.save(folder)
        return seconds, {name: (folder / name).read_bytes() for name in COMPARED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400, help="examples per task (stratified)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="N of the parallel run")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per job, every run")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run even if ray is installed")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    settings = {
        "workers=1": {"workers": 1, "threads_per_job": args.threads},
        f"workers={args.workers}": {"workers": args.workers, "threads_per_job": args.threads},
    }
    ray = None
    if not args.no_ray:
        try:
            import ray
        except ImportError:
            print("ray not installed: no Ray run", file=sys.stderr)
    times: dict[str, float] = {}
    reference: dict[str, bytes] | None = None
    for name, executor in settings.items():
        times[name], tables = timed_run(reduced_suite(args.examples, args.seeds, executor), args.data_dir)
        reference = reference or tables
        assert reference is not None
        same = differing(tables, reference)
        print(f"{name} threads_per_job={args.threads} seconds={times[name]:.1f} {same}")
    if ray is not None:
        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        print(f"ray_start_seconds={time.perf_counter() - started:.1f}")
        executor = {"kind": "ray", "num_cpus_per_job": 1, "threads_per_job": args.threads}
        try:
            seconds, tables = timed_run(reduced_suite(args.examples, args.seeds, executor), args.data_dir)
        finally:
            ray.shutdown()
        print(f"ray num_cpus={args.workers} seconds={seconds:.1f} {differing(tables, reference)}")
        print(f"ray_overhead={seconds / times[f'workers={args.workers}']:.3f}")
    print(f"parallel_speedup={times['workers=1'] / times[f'workers={args.workers}']:.3f}")


if __name__ == "__main__":
    main()
