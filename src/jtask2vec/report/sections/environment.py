"""Reproducibility: the exact suite configuration, the recorded environment, the files beside the report."""

from __future__ import annotations

from typing import Any

import numpy as np

from jtask2vec.config import dump_suite
from jtask2vec.report.format import fmt_seconds, readable
from jtask2vec.report.render import Block, Code, Heading, Paragraph, Table, cells
from jtask2vec.results import RunResults

BIT_IDENTICAL_NOTE = (
    "Results are bit-identical only on the same hardware and library build: the same device, CPU "
    "instruction set, torch/CUDA/cuDNN versions and thread counts as above. Elsewhere expect differences "
    "of float rounding (and, through them, occasionally a different tie or early-stopping epoch)."
)


def provenance_section(results: RunResults, files: list[str]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Reproducibility")]
    card = results.environment.get("probe_card") if results.environment else None
    if card:
        blocks.append(Heading(3, f"Probe: {results.environment.get('probe', results.suite.probe.name)}"))
        blocks.append(
            Table(["field", "value"], [cells([k, v]) for k, v in card.items()], numeric=[False, False])
        )
    blocks.append(Heading(3, "Suite (exact configuration)"))
    blocks.append(Code(dump_suite(results.suite), "yaml"))
    blocks.append(Heading(3, "Environment"))
    env = flatten(results.environment)
    if env:
        blocks.append(Table(["key", "value"], [cells([k, v]) for k, v in env], numeric=[False, False]))
        blocks.append(Paragraph(BIT_IDENTICAL_NOTE, note=True))
    else:
        blocks.append(Paragraph("No environment was recorded for this run."))
    blocks.append(Heading(3, "Files"))
    blocks.append(
        Paragraph(
            "Beside this report: every result table in long format as CSV and results.json (suite and "
            "environment); the pivoted Tables 2-4 as CSV (the mean, and the standard deviation in "
            "*_std.csv); the figures as PNG under figures/. Data hashes of the tasks are in Table 1. "
            "CSV files: " + ", ".join(files) + "."
        )
    )
    return blocks


def flatten(env: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for key, value in env.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += flatten(value, name + ".")
            continue
        if isinstance(value, list | tuple):
            text = ", ".join(readable(v) for v in value)
        elif isinstance(value, float):
            text = f"{value:.6g}"
            low = name.lower()
            if ("second" in low or "wall" in low or low.endswith("_s")) and np.isfinite(value):
                text += f" ({fmt_seconds(value)})"
        else:
            text = readable(value)
        out.append((name, text))
    return out
