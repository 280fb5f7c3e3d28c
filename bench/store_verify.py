"""Benchmark: what verifying a store artifact costs, on a BERT-base-sized (440 MB) safetensors file.

Publishes one artifact holding a 440 MB ``model.safetensors`` (random float32 weights) into a temporary
store, then times (1) the publication (fsync + SHA-256 of the file + rename), (2) the first
``open`` of a fresh process (size check + SHA-256) and (3) a later ``open`` (sizes only). CPU time
(``time.process_time``) and wall time are printed; the last line is ``sha256_seconds=<cpu seconds>``.

    python bench/store_verify.py
    python bench/store_verify.py --megabytes 1300   # BERT-large
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    import jtask2vec.store.artifacts as store_module
    from jtask2vec.store.artifacts import ArtifactStore

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=440)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = ArtifactStore(Path(tmp) / "store")
        weights = np.random.default_rng(0).standard_normal(args.megabytes * 2**20 // 4, dtype=np.float32)

        def publish():
            with store.staging("finetune", "bench") as stage:
                save_file({"w": weights}, str(stage / "model.safetensors"))

        _, wall, cpu = timed(publish)
        print(
            f"publish ({args.megabytes} MB, write+fsync+SHA-256+rename): {wall:.2f} s wall, {cpu:.2f} s cpu"
        )
        store_module._VERIFIED.clear()  # as a fresh process
        folder, wall, cpu = timed(lambda: store.open("finetune", "bench"))
        assert folder is not None
        print(f"first open in a process (sizes + SHA-256): wall {wall:.3f} s, cpu {cpu:.3f} s")
        sha_cpu = cpu
        _, wall, cpu = timed(lambda: [store.open("finetune", "bench") for _ in range(1000)])
        print(f"later open (sizes only): {wall / 1000 * 1e6:.1f} µs per call")
        print(f"sha256_seconds={sha_cpu:.3f}")


if __name__ == "__main__":
    main()
