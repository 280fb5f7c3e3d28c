"""The run report: Tables 2-4 of the study, heatmaps, dendrogram, evaluation with intervals, a verdict
generated from the numbers, and the exact configuration, as ``report.md`` + self-contained ``report.html``.

Entry point: :func:`write_report`.
"""

from __future__ import annotations

from jtask2vec.report.writer import ReportPaths, write_report

__all__ = ["ReportPaths", "write_report"]
