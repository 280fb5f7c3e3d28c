"""Console tables that fit the terminal (80 columns and up): numbers never squeezed into broken cells.

:func:`print_fitted` measures each column at its natural width and, when the whole table is wider than
the console, prints the data columns in as many consecutive tables as needed (the label columns repeat
in each); a legend is wrapped between its entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

_BORDER = 3  # a rich column costs its text plus one space each side and one rule


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "right"


def _width(text: str) -> int:
    return max((len(line) for line in str(text).splitlines()), default=0)


def column_groups(labels: int, widths: Sequence[int], available: int) -> list[list[int]]:
    """Indices of the data columns in consecutive groups, each group fitting ``available`` characters
    beside the first ``labels`` columns (``widths`` holds every column, labels first)."""
    fixed = sum(w + _BORDER for w in widths[:labels]) + 1
    groups: list[list[int]] = [[]]
    used = fixed
    for index in range(labels, len(widths)):
        cost = widths[index] + _BORDER
        if groups[-1] and used + cost > available:
            groups.append([])
            used = fixed
        groups[-1].append(index)
        used += cost
    return groups


def print_fitted(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    labels: int = 1,
    legend: str = "",
) -> None:
    """Print ``rows`` under ``columns`` (the first ``labels`` are row labels) in tables that fit."""
    widths = [max([_width(c.header)] + [_width(row[i]) for row in rows]) for i, c in enumerate(columns)]
    groups = column_groups(labels, widths, console.width)
    for number, group in enumerate(groups, start=1):
        part = f" ({number}/{len(groups)})" if len(groups) > 1 else ""
        console.print(title + part, style="italic", highlight=False, markup=False)
        table = Table()
        for index in [*range(labels), *group]:
            column = columns[index]
            table.add_column(
                column.header, justify=column.justify, no_wrap=index < labels, min_width=widths[index]
            )
        for row in rows:
            table.add_row(*(row[i] for i in [*range(labels), *group]))
        console.print(table)
    if legend:
        console.print(wrap_entries(legend, console.width), highlight=False, markup=False, soft_wrap=True)


def wrap_entries(text: str, width: int, separator: str = ", ") -> str:
    """``text`` broken into lines of at most ``width`` characters between its ``separator``-joined
    entries (an entry such as ``t2v:skl = task2vec:symmetric-kl`` is never split)."""
    lines: list[str] = []
    tail = separator.rstrip()  # ends every line but the last
    for entry in text.split(separator):
        if lines and len(lines[-1]) + len(separator) + len(entry) + len(tail) <= width:
            lines[-1] += separator + entry
        else:
            if lines:
                lines[-1] += tail
            lines.append(entry if not lines else "  " + entry)
    return "\n".join(lines)
