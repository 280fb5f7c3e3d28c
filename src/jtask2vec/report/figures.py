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
from matplotlib.patches import Patch
from mpl_toolkits.axes_grid1 import make_axes_locatable
from scipy.cluster.hierarchy import dendrogram

from jtask2vec.report.clustering import LINKAGE_METHOD, can_cluster, task_linkage
from jtask2vec.report.format import fmt

__all__ = ["can_cluster", "cd_diagram", "heatmap", "kind_palette", "task_dendrogram"]

DPI = 110
ANNOTATE_MAX = 16  # write the value in each cell up to this many rows/columns
ANNOTATE_LARGE_FONT_MAX = 10  # above this many rows/columns, the values in a smaller font


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. missing glyphs for non-Latin task names
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _size(n_rows: int, n_cols: int) -> tuple[float, float]:
    """Inches: roomy cells for a few tasks; narrower ones for many, so that a 14-task matrix embedded at
    the page's width (about 1100 px) keeps its cell values legible."""
    if max(n_rows, n_cols) > ANNOTATE_LARGE_FONT_MAX:
        return (2.6 + 0.56 * n_cols, 1.6 + 0.36 * n_rows)
    return (max(4.5, 1.0 + 0.85 * n_cols + 1.6), max(3.5, 1.0 + 0.55 * n_rows + 1.2))


def kind_palette(kinds: list[str]) -> dict[str, tuple[float, float, float, float]]:
    """A distinct colour per kind (tab10, then tab20), in the given order: pass every kind of the run in
    one fixed order so that a kind has the same colour in every figure."""
    names = list(dict.fromkeys(kinds))
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {k: cmap(i % cmap.N) for i, k in enumerate(names)}


NO_KIND = (1.0, 1.0, 1.0, 0.0)  # a task without a kind: no colour in the band


def _band(ax, kinds: list[str | None], palette: dict, *, vertical: bool) -> None:
    """A strip of kind colours, one cell per task, on its own thin axes."""
    colours = np.array([[palette.get(k, NO_KIND) if k else NO_KIND for k in kinds]])
    ax.imshow(colours.transpose(1, 0, 2) if vertical else colours, aspect="auto")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _kind_legend(ax, palette: dict, x: float = 1.02) -> None:
    """The kinds' colours, to the right of ``ax`` (``x`` in its axes fraction), top-aligned."""
    handles = [Patch(facecolor=c, label=k) for k, c in palette.items()]
    ax.legend(
        handles=handles,
        title="task kind",
        loc="upper left",
        bbox_to_anchor=(x, 1.0),
        frameon=False,
        fontsize=8,
        title_fontsize=8,
    )


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
    row_kinds: list[str | None] | None = None,
    col_kinds: list[str | None] | None = None,
    kind_order: list[str] | None = None,
) -> bytes:
    """A labelled heatmap of ``matrix`` (NaN cells blank), values written in the cells when small.

    ``center``: a diverging colour scale centred there (e.g. 0 for gains). ``scale_from_off_diagonal``:
    take the colour range from the off-diagonal cells only, so near-identical similarities stay visible
    next to a diagonal of ones. ``row_kinds``/``col_kinds``: the kind of each row/column task, drawn as a
    colour band left of the rows and above the columns, with a legend (no band when no task has a kind);
    ``kind_order``: every kind of the run, which fixes the colours (default: order of appearance).
    """
    values = matrix.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=_size(n_rows, n_cols))
    ax = fig.add_subplot(1, 1, 1)
    divider = make_axes_locatable(ax)
    finite = values[np.isfinite(values)]
    if scale_from_off_diagonal and n_rows == n_cols:
        mask = ~np.eye(n_rows, dtype=bool) & np.isfinite(values)
        if mask.any():
            finite = values[mask]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    colours = colormaps[cmap].with_extremes(bad="#e4e4e4")  # missing cells: light grey, never a value
    if center is not None:
        span = max(abs(vmin - center), abs(vmax - center)) or 1.0
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=colours, norm=norm, aspect="auto")
    else:
        image = ax.imshow(np.ma.masked_invalid(values), cmap=colours, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(n_cols), [str(c) for c in matrix.columns], rotation=40, ha="right")
    ax.set_xlabel(xlabel)
    title_ax = ax
    kinds_seen = [k for k in [*(row_kinds or []), *(col_kinds or [])] if k]
    palette = kind_palette([*(kind_order or []), *kinds_seen]) if kinds_seen else {}
    if row_kinds is not None and any(row_kinds):
        band = divider.append_axes("left", size=0.16, pad=0.04)
        _band(band, row_kinds, palette, vertical=True)
        band.set_yticks(range(n_rows), [str(i) for i in matrix.index])
        band.set_ylabel(ylabel)
        ax.set_yticks([])
    else:
        ax.set_yticks(range(n_rows), [str(i) for i in matrix.index])
        ax.set_ylabel(ylabel)
    if col_kinds is not None and any(col_kinds):
        band = divider.append_axes("top", size=0.16, pad=0.04)
        _band(band, col_kinds, palette, vertical=False)
        title_ax = band
    title_ax.set_title(title, fontsize=10)
    cax = divider.append_axes("right", size=0.18, pad=0.12)
    bar = fig.colorbar(image, cax=cax)
    bar.set_label(colorbar_label)
    if palette:
        _kind_legend(cax, palette, x=6.0)  # clear of the colour bar's tick labels and label
    if max(n_rows, n_cols) <= ANNOTATE_MAX:
        small = max(n_rows, n_cols) > ANNOTATE_LARGE_FONT_MAX
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
                    fontsize=7 if small or decimals > 3 else 8,
                    color="white" if dark else "black",
                )
    return _png(fig)


def task_dendrogram(
    distance: pd.DataFrame,
    *,
    title: str,
    method: str = LINKAGE_METHOD,
    kinds: list[str | None] | None = None,
    kind_order: list[str] | None = None,
) -> bytes:
    """Hierarchical clustering (:func:`jtask2vec.report.clustering.task_linkage`) of a square distance
    matrix, leaves labelled with the tasks (coloured by ``kinds``, one per row, with a legend), top to bottom
    in leaf order (the row order of the clustered heatmaps)."""
    z = task_linkage(distance, method)
    n = len(distance)
    fig = Figure(figsize=(6.5, max(2.8, 0.45 * n + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    names = [str(x) for x in distance.index]
    dendrogram(z, labels=names, orientation="right", ax=ax, color_threshold=0)
    ax.invert_yaxis()  # first leaf on top, as the first row of a heatmap
    ax.set_xlabel("distance (linkage: " + method + ")")
    ax.set_title(title, fontsize=10)
    if kinds is not None and any(kinds):
        kind_of = dict(zip(names, kinds, strict=True))
        palette = kind_palette([*(kind_order or []), *(k for k in kinds if k)])
        for label in ax.get_yticklabels():
            kind = kind_of.get(label.get_text())
            if kind:
                label.set_color(palette[kind])
                label.set_fontweight("bold")
        _kind_legend(ax, palette)
    return _png(fig)


def cd_diagram(
    mean_ranks: dict[str, float], critical_difference: float, cliques: list[list[str]], title: str
) -> bytes:
    """A critical-difference diagram (Demšar 2006): each selector's mean rank over targets on an axis (rank
    1, the best, on the left), labels alternating to the left and right margins, a bar of the critical
    difference, and a thick line under every group of selectors whose ranks lie within it."""
    order = sorted(mean_ranks, key=lambda s: (mean_ranks[s], s))
    k = len(order)
    step = 0.32
    half = (k + 1) // 2
    n_rows = max(half, k - half)
    fig = Figure(figsize=(8.0, 1.6 + step * n_rows + 0.12 * len(cliques)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    lo, hi = 1.0, float(max(k, 2))
    left, right = lo - 0.25 * (hi - lo), hi + 0.25 * (hi - lo)
    ax.set_xlim(left - 0.02 * (hi - lo), right + 0.02 * (hi - lo))
    ax.plot([lo, hi], [0, 0], color="black", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.08], color="black", lw=1)
        ax.text(r, 0.14, str(r), ha="center", va="bottom", fontsize=8)
    cd_end = min(lo + critical_difference, hi)
    ax.plot([lo, cd_end], [0.55, 0.55], color="black", lw=2)
    ax.text(
        (lo + cd_end) / 2, 0.62, f"CD = {fmt(critical_difference, 2)}", ha="center", va="bottom", fontsize=8
    )
    bottom = -step * (n_rows + 1) - 0.12 * len(cliques)
    for i, name in enumerate(order):
        x = mean_ranks[name]
        on_left = i < half
        row = i if on_left else k - 1 - i
        y = -0.1 * (len(cliques) + 1) - step * (row + 1)
        edge = left if on_left else right
        ax.plot([x, x, edge], [0, y, y], color="0.3", lw=0.8)
        label = f"{name} ({fmt(x, 2)})"
        ax.text(edge, y, label, ha="right" if on_left else "left", va="center", fontsize=8,
                clip_on=False)  # fmt: skip
    for j, group in enumerate(cliques):
        ranks = [mean_ranks[s] for s in group]
        y = -0.1 * (j + 1)
        ax.plot([min(ranks) - 0.03, max(ranks) + 0.03], [y, y], color="black", lw=3, solid_capstyle="round")
    ax.set_ylim(bottom - 0.1, 0.9)
    ax.set_title(title, fontsize=9)
    return _png(fig)
