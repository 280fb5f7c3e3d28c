"""Figures of the report, drawn with matplotlib's Agg canvas (no display, no global pyplot state).

Each function returns the PNG bytes; the writer saves them under ``figures/`` and embeds them in the HTML.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import dendrogram, linkage
from scipy.spatial.distance import squareform

from jtask2vec.report.format import fmt

DPI = 110
ANNOTATE_MAX = 12  # write the value in each cell up to this many rows/columns


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. missing glyphs for non-Latin task names
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _size(n_rows: int, n_cols: int) -> tuple[float, float]:
    return (max(4.5, 1.0 + 0.85 * n_cols + 1.6), max(3.5, 1.0 + 0.55 * n_rows + 1.2))


def heatmap(
    matrix: pd.DataFrame,
    *,
    title: str,
    colorbar_label: str,
    decimals: int,
    cmap: str = "viridis",
    center: float | None = None,
    scale_from_off_diagonal: bool = False,
    xlabel: str = "",
    ylabel: str = "",
) -> bytes:
    """A labelled heatmap of ``matrix`` (NaN cells blank), values written in the cells when small.

    ``center``: a diverging colour scale centred there (e.g. 0 for gains). ``scale_from_off_diagonal``:
    take the colour range from the off-diagonal cells only, so near-identical similarities stay visible
    next to a diagonal of ones.
    """
    values = matrix.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=_size(n_rows, n_cols))
    ax = fig.add_subplot(1, 1, 1)
    finite = values[np.isfinite(values)]
    if scale_from_off_diagonal and n_rows == n_cols:
        mask = ~np.eye(n_rows, dtype=bool) & np.isfinite(values)
        if mask.any():
            finite = values[mask]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    colours = colormaps[cmap].with_extremes(bad="#e4e4e4")  # missing cells: light grey, never a value
    norm = None
    if center is not None:
        span = max(abs(vmin - center), abs(vmax - center)) or 1.0
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=colours, norm=norm, aspect="auto")
    else:
        image = ax.imshow(np.ma.masked_invalid(values), cmap=colours, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(n_cols), [str(c) for c in matrix.columns], rotation=40, ha="right")
    ax.set_yticks(range(n_rows), [str(i) for i in matrix.index])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(colorbar_label)
    if max(n_rows, n_cols) <= ANNOTATE_MAX:
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j]
                if not np.isfinite(v):
                    continue
                r, g, b, _ = image.cmap(image.norm(v))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # perceived luminance of the cell
                ax.text(
                    j,
                    i,
                    fmt(v, decimals, signed=center is not None),
                    ha="center",
                    va="center",
                    fontsize=7 if decimals > 3 else 8,
                    color="white" if dark else "black",
                )
    return _png(fig)


def task_dendrogram(distance: pd.DataFrame, *, title: str, method: str = "average") -> bytes:
    """Hierarchical clustering (scipy ``linkage``, ``method``) of a square symmetric distance matrix.

    The matrix is symmetrised as ``(D + D^T) / 2``, its diagonal set to 0 and negatives clipped to 0.
    """
    d = distance.to_numpy(dtype=float)
    d = (d + d.T) / 2.0
    np.fill_diagonal(d, 0.0)
    d = np.clip(np.nan_to_num(d, nan=float(np.nanmax(d)) if np.isfinite(d).any() else 0.0), 0.0, None)
    z = linkage(squareform(d, checks=False), method=method)
    n = len(distance)
    fig = Figure(figsize=(6.5, max(2.8, 0.45 * n + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    dendrogram(z, labels=[str(x) for x in distance.index], orientation="right", ax=ax, color_threshold=0)
    ax.set_xlabel("distance (linkage: " + method + ")")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def can_cluster(distance: pd.DataFrame) -> bool:
    """A dendrogram needs at least two tasks and at least one finite off-diagonal distance."""
    if len(distance) < 2:
        return False
    d = distance.to_numpy(dtype=float)
    return bool(np.isfinite(d[~np.eye(len(d), dtype=bool)]).any())
