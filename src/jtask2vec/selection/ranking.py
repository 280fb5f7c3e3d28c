"""One verb: :func:`rank_sources` turns ``{source: score}`` into a readable :class:`Ranking`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Ranking:
    """Candidate sources, best first (score descending; ties and NaN scores: by name, NaN last)."""

    entries: tuple[tuple[str, float], ...]
    target: str | None = None
    selector: str | None = None

    @property
    def sources(self) -> list[str]:
        return [s for s, _ in self.entries]

    @property
    def best(self) -> str:
        if not self.entries:
            raise ValueError("empty ranking")
        return self.entries[0][0]

    def top(self, k: int) -> list[str]:
        return self.sources[:k]

    def __len__(self) -> int:
        return len(self.entries)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"rank": range(1, len(self) + 1), "source": self.sources, "score": [v for _, v in self.entries]}
        )

    def __str__(self) -> str:
        title = []
        if self.selector:
            title.append(f"selector {self.selector}")
        if self.target:
            title.append(f"target {self.target}")
        rows = [("rank", "source", "score")] + [
            (str(i), s, f"{v:.6g}") for i, (s, v) in enumerate(self.entries, start=1)
        ]
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        lines = [", ".join(title)] if title else []
        for n, r in enumerate(rows):
            lines.append(f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}".rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def rank_sources(
    scores: Mapping[str, float], *, target: str | None = None, selector: str | None = None
) -> Ranking:
    """Sort sources by score, highest first; equal scores by source name, NaN scores last."""

    def key(item: tuple[str, float]) -> tuple[bool, float, str]:
        value = float(item[1])
        return (math.isnan(value), -value if not math.isnan(value) else 0.0, item[0])

    entries = tuple(sorted(((s, float(v)) for s, v in scores.items()), key=key))
    return Ranking(entries=entries, target=target, selector=selector)
