"""`jtask2vec embed | similarity`: TASK2VEC embeddings of a suite's tasks, and their distance matrices.

Both reuse the fine-tuned checkpoints and embeddings cached in ``<runs-dir>/store`` (kind ``embedding``,
keyed by checkpoint key + FisherConfig + code version), computing only what is missing. Outputs:
``<runs-dir>/<suite>/embeddings.csv``; ``similarity-<distance>-seed<S>.csv`` (rows ``a``, columns ``b``,
lower = closer) with a heatmap ``.png`` beside it, and for ``cosine`` also the cosine *similarity*.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from jtask2vec.cli.app import (
    AddressOption,
    DataDirOption,
    ExecutorOption,
    NoProgressOption,
    RunsDirOption,
    SetOption,
    SuiteOption,
    WorkersOption,
    app,
    console,
    suite_from_options,
)
from jtask2vec.config import Suite
from jtask2vec.errors import ConfigError
from jtask2vec.store.artifacts import atomic_write_bytes, atomic_write_text

DistanceOption = Annotated[
    str,
    typer.Option(
        "--distance",
        "-d",
        help="cosine, normalized-cosine, rms-cosine, asymmetric or symmetric-kl (lower = closer).",
    ),
]


def _embeddings(cfg: Suite, data_dir: Path | None, runs_dir: Path, progress: bool, trivial: bool):
    """The pipeline, the task vectors and (with ``trivial``) t0 per seed, computing what is missing."""
    from jtask2vec.pipeline import pipeline_session

    with pipeline_session(cfg, runs_dir, data_dir, progress=progress) as pipe:
        embeddings = pipe.embeddings()
        trivial_by_seed = {seed: pipe.trivial_embedding(seed) for seed in pipe.suite.seeds} if trivial else {}
    return pipe, embeddings, trivial_by_seed


def heatmap_png(matrix: pd.DataFrame, title: str) -> bytes:
    """A labelled heatmap of ``matrix`` (matplotlib, Agg backend) as PNG bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(matrix)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * n, 1.0 + 0.6 * n))
    image = ax.imshow(matrix.to_numpy(), cmap="viridis_r")
    ax.set_xticks(range(n), [str(c) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(i) for i in matrix.index])
    ax.set_xlabel(str(matrix.columns.name or "b"))
    ax.set_ylabel(str(matrix.index.name or "a"))
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{matrix.iat[i, j]:.3g}", ha="center", va="center", fontsize=7, color="w")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="distance (lower = closer)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return buffer.getvalue()


@app.command("embed")
def embed_command(
    suite: SuiteOption = "demo",
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Embed every task of the suite (per seed) by the diagonal Fisher of its fine-tuned probe."""
    cfg = suite_from_options(suite, set_, workers, executor, address)
    pipe, embeddings, _ = _embeddings(cfg, data_dir, runs_dir, not no_progress, trivial=False)
    fisher = pipe.suite.fisher
    rows = [
        {
            "task": name,
            "seed": seed,
            "dimension": len(vector),
            "l2_norm": float(np.linalg.norm(vector)),
            "mean": float(np.mean(vector)),
            "store_key": pipe.embedding_key(name, seed),
        }
        for (name, seed), vector in embeddings.items()
    ]
    frame = pd.DataFrame(rows)
    atomic_write_text(Path(runs_dir) / pipe.suite.name / "embeddings.csv", frame.to_csv(index=False))
    table = Table(
        title=f"{pipe.suite.name}: TASK2VEC embeddings ({fisher.estimator} Fisher, scope {fisher.scope}, "
        f"reduction {fisher.reduction})"
    )
    for column in ("task", "seed", "dim", "‖v‖₂", "mean", "store key"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["task"], str(r["seed"]), str(r["dimension"]), f"{r['l2_norm']:.3g}", f"{r['mean']:.3g}",
            r["store_key"],
        )  # fmt: skip
    console.print(table)


@app.command("similarity")
def similarity_command(
    suite: SuiteOption = "demo",
    distance: DistanceOption = "normalized-cosine",
    data_dir: DataDirOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    set_: SetOption = None,
    no_progress: NoProgressOption = False,
    workers: WorkersOption = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Distance matrix between the suite's task embeddings: CSV + heatmap per seed (lower = closer)."""
    from jtask2vec.fisher.distances import DISTANCES, cosine_similarity_matrix, distance_matrix

    if distance not in DISTANCES:
        raise ConfigError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")
    cfg = suite_from_options(suite, set_, workers, executor, address)
    pipe, embeddings, trivial_by_seed = _embeddings(
        cfg, data_dir, runs_dir, not no_progress, trivial=distance == "asymmetric"
    )
    out = Path(runs_dir) / pipe.suite.name
    alpha = pipe.suite.evaluation.asymmetric_alpha
    for seed in pipe.suite.seeds:
        vectors = {name: embeddings[(name, seed)] for name in pipe.suite.task_names}
        matrix = distance_matrix(vectors, distance, trivial=trivial_by_seed.get(seed), alpha=alpha)
        stem = f"similarity-{distance}-seed{seed}"
        atomic_write_text(out / f"{stem}.csv", matrix.to_csv())
        atomic_write_bytes(
            out / f"{stem}.png", heatmap_png(matrix, f"{pipe.suite.name}: {distance} (seed {seed})")
        )
        if distance == "cosine":
            similarity = cosine_similarity_matrix(vectors)
            atomic_write_text(out / f"similarity-cosine-similarity-seed{seed}.csv", similarity.to_csv())
        table = Table(title=f"{distance} distance, seed {seed} (rows a, columns b; lower = closer)")
        table.add_column("a \\ b")
        for b in matrix.columns:
            table.add_column(str(b), justify="right")
        for a in matrix.index:
            table.add_row(str(a), *(f"{matrix.loc[a, b]:.4f}" for b in matrix.columns))
        console.print(table)
        console.print(f"wrote {out / stem}.csv and .png")
