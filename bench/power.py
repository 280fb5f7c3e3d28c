"""Benchmark: wall and CPU time of the power simulation (``jtask2vec power``) for a zoo-sized design.

The design of ``ja-zoo`` (11 targets, 10 sources each, 3 seeds, 5 distances, 12 other selectors) with the
stated noise levels; ``--sims`` null grids and as many with the effect, every claim type on the four headline
metrics. Prints seconds per simulated scenario pair and the total.

    python bench/power.py [--sims 200] [--targets 11] [--others 12]
"""

from __future__ import annotations

import argparse
import time

from jtask2vec.evaluation.power import Design, power_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--targets", type=int, default=11)
    parser.add_argument("--others", type=int, default=12)
    args = parser.parse_args()
    design = Design(n_targets=args.targets, n_others=args.others)
    wall, cpu = time.perf_counter(), time.process_time()
    rows = power_table(design, sims=args.sims)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{len(rows)} claims, {args.sims} sims: wall {wall:.1f} s, CPU {cpu:.1f} s "
        f"({cpu / args.sims:.3f} s/sim)"
    )


if __name__ == "__main__":
    main()
