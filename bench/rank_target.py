"""Benchmark: `rank --zoo` end to end for a user's 1,000-row CSV, with the default three target seeds.

Builds a zoo from a suite once (``--suite``, default ``demo``: the offline probe ja-imitator; the build is
cached in ``OUT/runs``), writes a CSV of ``--rows`` rows drawn from the JCoLA train file (``sentence``,
``label``; a task the demo zoo does not hold, so nothing is left out), and times ranking it against the zoo
in a fresh runs folder each time (so the target's fine-tunes and embeddings are really computed).
The last line is ``rank_seconds=<t>`` (goal: < 180 s on 2 CPU cores); ``rank_cpu_seconds`` (this process and
its worker processes) tells the work apart from the waiting on a loaded machine.

    python bench/rank_target.py --out /tmp/rank-bench
    python bench/rank_target.py --out /tmp/rank-bench --seeds 1 --rows 500
"""

from __future__ import annotations

import argparse
import csv
import resource
import time
import uuid
from pathlib import Path

from jtask2vec.config import load_suite
from jtask2vec.tasks.data_dir import resolve_data_dir
from jtask2vec.zoo import TargetOptions, Zoo, build_zoo, rank_zoo_target


def write_target(data_dir: Path, out: Path, rows: int) -> Path:
    """The first ``rows`` rows of JCoLA's in-domain train file as a plain ``text,label`` CSV."""
    path = out / f"target-{rows}.csv"
    source = data_dir / "jcola" / "in_domain_train-v1.0.tsv"
    with source.open(encoding="utf-8") as fh, path.open("w", encoding="utf-8", newline="") as dest:
        reader = csv.DictReader(fh, delimiter="\t")
        writer = csv.writer(dest)
        writer.writerow(["text", "label"])
        for i, row in enumerate(reader):
            if i == rows:
                break
            writer.writerow([row["sentence"], row["label"]])
    return path


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="work folder (zoo, runs, target CSV)")
    parser.add_argument("--suite", default="demo")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    data_dir = resolve_data_dir(args.data_dir)
    zoo_dir = args.out / f"zoo-{args.suite}"
    started = time.perf_counter()
    if zoo_dir.exists():
        zoo = Zoo.load(zoo_dir)
    else:
        zoo = build_zoo(load_suite(args.suite), zoo_dir, runs_dir=args.out / "runs", data_dir=data_dir)
    print(f"zoo_seconds={time.perf_counter() - started:.1f} (0 when reused)")
    target = write_target(data_dir, args.out, args.rows)
    runs = args.out / f"rank-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    cpu = _cpu_seconds()
    ranking = rank_zoo_target(
        zoo, target, options=TargetOptions(), seeds=list(range(args.seeds)), runs_dir=runs, data_dir=data_dir
    )
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    facts = ranking.target["fine_tune"]
    print(f"rows={args.rows} seeds={args.seeds} zoo_seeds={ranking.zoo_seeds} sources={len(ranking.table)}")
    print(f"target accuracy={facts['accuracy']:.3f} majority={facts['majority_class']['accuracy']:.3f}")
    print(ranking.recommendation_line())
    print(f"rank_cpu_seconds={cpu:.1f} (this process and its finished workers)")
    print(f"rank_seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
