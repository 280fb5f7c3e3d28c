"""A Rakuten-sized file is streamed: peak memory does not grow with the file (measured in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_SRC = Path(__file__).resolve().parents[2] / "src"

MEASURE = """
import json, resource, sys
from pathlib import Path
from jtask2vec.tasks import load_task, task_spec
task = load_task(task_spec("rakuten-travel", max_examples=3000, split={"seed": 1}), Path(sys.argv[1]))
print(json.dumps({"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "n": len(task),
                  "counts": task.class_counts(), "notes": list(task.provenance.notes)}))
"""


def _write(data_dir: Path, rows: int) -> Path:
    folder = data_dir / "rakuten-travel" / "2019"
    folder.mkdir(parents=True)
    path = folder / "reviews.tsv"
    filler = "とても快適な滞在でした。スタッフの対応も丁寧で、また利用したいと思います。" * 2
    with path.open("w", encoding="utf-8") as out:
        out.write("施設番号\t投稿日時\tコメント\tサービス\t総合\n")
        block = []
        for i in range(rows):
            r = (5, 4, 3, 2, 1)[i % 5]
            quote = '"' if i % 7 == 0 else ""  # reviews opening a quote must not swallow the next lines
            block.append(f"{i}\t2019-01-01 10:00:00\t{quote}宿{i}。{filler}\t{r}\t{r}\n")
            if len(block) == 10_000:
                out.write("".join(block))
                block = []
        out.write("".join(block))
    return path


def _measure(data_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{REPO_SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(data_dir)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_300_mb_file_is_sampled_in_bounded_memory(tmp_path: Path) -> None:
    small = _write(tmp_path / "small", 6_000)
    big = _write(tmp_path / "big", 1_200_000)
    assert big.stat().st_size > 250e6
    base = _measure(tmp_path / "small")
    large = _measure(tmp_path / "big")
    assert base["n"] == large["n"] == 3000
    assert large["counts"] == {"negative": 1500, "positive": 1500}
    assert any("of 960000 labelled reviews drawn while streaming" in n for n in large["notes"])
    grown_mb = (large["rss_kb"] - base["rss_kb"]) / 1024
    # reading the file whole would take > 600 MB (bytes + decoded text); streaming stays flat
    assert grown_mb < 64, (
        f"peak memory grew by {grown_mb:.0f} MB for a {big.stat().st_size / 1e6:.0f} MB file"
    )
    assert small.stat().st_size < 2e6
