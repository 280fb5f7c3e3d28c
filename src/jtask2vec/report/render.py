"""A tiny document model (headings, paragraphs, tables, figures, code) and its two renderings.

The report is built once as a list of blocks; :func:`to_markdown` and :func:`to_html` render the same
blocks, so ``report.md`` and ``report.html`` always say the same thing. The HTML is self-contained:
inline CSS, figures as base64 ``data:`` URIs, no scripts, no external links.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    level: int  # 1..4
    text: str

    @property
    def anchor(self) -> str:
        slug = re.sub(r"[^\w\- ]", "", self.text.lower(), flags=re.UNICODE).strip()
        return re.sub(r"[\s]+", "-", slug)


@dataclass(frozen=True)
class Paragraph:
    text: str
    note: bool = False  # a small-print note (captions, footnotes)


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Cell:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    numeric: list[bool] = field(default_factory=list)  # right-align these columns; default: all but first
    matrix: bool = False  # a task × task matrix: in HTML its column headers may wrap, to stay narrow

    def aligned_right(self, j: int) -> bool:
        return self.numeric[j] if self.numeric else j > 0


@dataclass(frozen=True)
class Figure:
    filename: str  # relative to the report, e.g. "figures/heatmap_cosine.png"
    caption: str
    png: bytes


@dataclass(frozen=True)
class Code:
    text: str
    language: str = ""


Block = Heading | Paragraph | Bullets | Table | Figure | Code


def cells(values: list[str]) -> list[Cell]:
    return [Cell(v) for v in values]


# ---- markdown ----------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*<>|])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def md_escape(text: str) -> str:
    """Backslash-escape characters that markdown would read as markup.

    ``[`` and ``]`` stay (the report defines no link references, so ``[a, b]`` is plain text), and so does
    an intraword ``_`` (``table4_gain`` can't open emphasis in CommonMark).
    """
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def markdown_table(table: Table) -> str:
    """A GitHub-flavoured markdown table (no ``tabulate`` needed)."""
    n = len(table.header)
    lines = ["| " + " | ".join(md_escape(h) for h in table.header) + " |"]
    lines.append("| " + " | ".join("---:" if table.aligned_right(j) else ":---" for j in range(n)) + " |")
    for row in table.rows:
        texts = []
        for cell in row:
            text = md_escape(cell.text).replace("\n", " ")
            texts.append(f"**{text}**" if cell.bold and text else text)
        lines.append("| " + " | ".join(texts) + " |")
    return "\n".join(lines)


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + md_escape(block.text))
        elif isinstance(block, Paragraph):
            text = md_escape(block.text)
            out.append(f"*{text}*" if block.note else text)
        elif isinstance(block, Bullets):
            out.append("\n".join("- " + md_escape(item) for item in block.items))
        elif isinstance(block, Table):
            if block.caption:
                out.append("**" + md_escape(block.caption) + "**")
            out.append(markdown_table(block))
        elif isinstance(block, Figure):
            out.append(f"![{md_escape(block.caption)}]({block.filename})\n\n*{md_escape(block.caption)}*")
        elif isinstance(block, Code):
            fence = "```"
            while fence in block.text:
                fence += "`"
            out.append(f"{fence}{block.language}\n{block.text.rstrip()}\n{fence}")
        else:  # pragma: no cover - exhaustive
            raise TypeError(type(block))
    return "\n\n".join(out) + "\n"


# ---- HTML --------------------------------------------------------------------------------------------

CSS = """
body { font-family: -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Noto Sans CJK JP", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; color: #1d1d1f; line-height: 1.5; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .15em; margin-top: 2em; }
h3 { margin-top: 1.5em; }
p.note { font-size: .88em; color: #555; }
nav.toc { background: #f6f6f8; padding: .6em 1.2em; border-radius: 6px; font-size: .92em; }
nav.toc ul { margin: .3em 0; }
.table-wrap { overflow-x: auto; margin: .6em 0 1.2em; }
table { border-collapse: collapse; font-size: .86em; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3em 0; }
th, td { border: 1px solid #d0d0d7; padding: .28em .6em; vertical-align: top; }
th, td.num { white-space: nowrap; }
table.matrix { font-size: .8em; }
table.matrix th, table.matrix td { padding: .22em .4em; }
table.matrix th { white-space: normal; overflow-wrap: anywhere; min-width: 4.2em; max-width: 6.5em; }
table.matrix td:first-child { white-space: nowrap; }
th { background: #eef0f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafc; }
td.best { font-weight: 700; background: #e3f4e1; }
figure { margin: 1em 0 1.6em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .88em; color: #555; }
pre { background: #f6f6f8; padding: .8em 1em; overflow-x: auto; font-size: .82em; border-radius: 6px; }
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def html_table(table: Table) -> str:
    parts = [
        '<div class="table-wrap"><table class="matrix">'
        if table.matrix
        else '<div class="table-wrap"><table>'
    ]
    if table.caption:
        parts.append(f"<caption>{_esc(table.caption)}</caption>")
    head = "".join(
        f'<th class="num">{_esc(h)}</th>' if table.aligned_right(j) else f"<th>{_esc(h)}</th>"
        for j, h in enumerate(table.header)
    )
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>")
    for row in table.rows:
        tds = []
        for j, cell in enumerate(row):
            classes = [c for c, on in (("num", table.aligned_right(j)), ("best", cell.bold)) if on]
            attr = f' class="{" ".join(classes)}"' if classes else ""
            tds.append(f"<td{attr}>{_esc(cell.text)}</td>")
        parts.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def to_html(blocks: list[Block], title: str) -> str:
    """A complete, self-contained HTML page with a table of contents of the level-2 headings."""
    body: list[str] = []
    toc = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f'<h{block.level} id="{_esc(block.anchor)}">{_esc(block.text)}</h{block.level}>')
            if block.level == 1 and toc:
                items = "".join(f'<li><a href="#{_esc(h.anchor)}">{_esc(h.text)}</a></li>' for h in toc)
                body.append(f'<nav class="toc"><strong>Contents</strong><ul>{items}</ul></nav>')
        elif isinstance(block, Paragraph):
            body.append(
                f'<p class="note">{_esc(block.text)}</p>' if block.note else f"<p>{_esc(block.text)}</p>"
            )
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{_esc(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            body.append(html_table(block))
        elif isinstance(block, Figure):
            data = base64.b64encode(block.png).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(block.caption)}">'
                f"<figcaption>{_esc(block.caption)}</figcaption></figure>"
            )
        elif isinstance(block, Code):
            body.append(f"<pre><code>{_esc(block.text.rstrip())}</code></pre>")
        else:  # pragma: no cover - exhaustive
            raise TypeError(type(block))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
