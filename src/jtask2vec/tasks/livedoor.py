"""livedoor news corpus (RONDHUIT, ldcc-20140209): any two categories as a topic task."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from jtask2vec.config.errors import did_you_mean
from jtask2vec.errors import ConfigError, DataError
from jtask2vec.tasks.loading import LOADERS, LoadedData, missing_data_error, register_loader
from jtask2vec.tasks.readers import read_text

CATEGORIES = (
    "dokujo-tsushin",
    "it-life-hack",
    "kaden-channel",
    "livedoor-homme",
    "movie-enter",
    "peachy",
    "smax",
    "sports-watch",
    "topic-news",
)


def check_options(options: Mapping[str, Any]) -> list[str]:
    """The livedoor options' problems, without reading the corpus (one message each)."""
    problems = []
    cats = tuple(options["categories"])
    if len(cats) != 2 or cats[0] == cats[1]:
        problems.append(
            f"loader 'livedoor', option 'categories' needs two different categories, got {list(cats)}"
        )
    if options["folder"] == "livedoor":  # the ldcc-20140209 release: its nine categories
        for cat in cats:
            if cat not in CATEGORIES:
                problems.append(
                    f"loader 'livedoor': no category {cat!r}{did_you_mean(cat, CATEGORIES)}; "
                    f"the categories are: {', '.join(CATEGORIES)}"
                )
    if options["text"] not in ("title+body", "body"):
        problems.append(
            f"loader 'livedoor', option 'text' must be 'title+body' or 'body', not {options['text']!r}"
        )
    if options["join"] not in ("newline", "space"):
        problems.append(
            f"loader 'livedoor', option 'join' must be 'newline' or 'space', not {options['join']!r}"
        )
    return problems


def _category_dir(data_dir: Path, folder: str, category: str) -> Path:
    for candidate in (data_dir / folder / "text" / category, data_dir / folder / category):
        if candidate.is_dir():
            return candidate
    for parent in (data_dir / folder / "text", data_dir / folder):
        present = sorted(p.name for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
        if present:  # the corpus is there, the category is not
            raise ConfigError(
                f"loader 'livedoor': no category folder {category!r}{did_you_mean(category, present)} in "
                f"{parent}; it has: {', '.join(present)}"
            )
    raise missing_data_error(
        LOADERS["livedoor"], data_dir / folder / "text" / category, f"livedoor category folder {category!r}"
    )


def parse_article(path: Path, text_part: str, join: str) -> tuple[str, str]:
    """(text, body) of one article file: title + body (or body only); URL and date lines are dropped."""
    lines = read_text(path).splitlines()
    if len(lines) < 3:
        raise DataError(
            "an article needs a URL line, a date line and a title line",
            path=path,
            line=len(lines) + 1,
            field="title",
        )
    if not lines[0].strip().startswith("http"):
        raise DataError(
            f"line 1 should be the article URL, found {lines[0][:40]!r}", path=path, line=1, field="url"
        )
    parts = lines[2:] if text_part == "title+body" else lines[3:]
    sep = "\n" if join == "newline" else " "
    text = sep.join(line.strip() for line in parts if line.strip())
    if not text:
        raise DataError(
            "empty text", path=path, line=3, field="title" if text_part == "title+body" else "body"
        )
    body = "\n".join(line.strip() for line in lines[3:] if line.strip())
    return text, body


@register_loader(
    "livedoor",
    source="livedoor news corpus (ldcc-20140209, RONDHUIT)",
    derives="topic: category A vs category B (default kaden-channel vs sports-watch)",
    official="https://www.rondhuit.com/download.html (ldcc-20140209.tar.gz)",
    download="livedoor",
    check=check_options,
)
def load_livedoor(
    data_dir: Path | None,
    categories: tuple[str, ...] = ("kaden-channel", "sports-watch"),
    folder: str = "livedoor",
    text: str = "title+body",
    join: str = "newline",
) -> LoadedData:
    """Every ``*.txt`` file except ``LICENSE.txt`` in the two category folders is one example.

    Label 0 = ``categories[0]``, 1 = ``categories[1]``. Lines 1-2 (URL, date) are dropped; ``text`` is
    ``"title+body"`` (line 3 on) or ``"body"`` (line 4 on). Blank lines are dropped, the others stripped and
    joined with ``"\\n"`` (``join="newline"``) or a space (``join="space"``). Files are read in name order.
    """
    cats = tuple(categories)
    assert data_dir is not None
    texts: list[str] = []
    labels: list[int] = []
    origins: list[tuple[str, int | None]] = []
    bodies: list[str] = []
    files: list[str] = []
    for label, cat in enumerate(cats):
        folder_path = _category_dir(data_dir, folder, cat)
        articles = sorted(p for p in folder_path.glob("*.txt") if p.name != "LICENSE.txt")
        if not articles:
            raise DataError("no article files (*.txt) in the category folder", path=folder_path)
        for p in articles:
            article, body = parse_article(p, text, join)
            texts.append(article)
            bodies.append(body or article)
            labels.append(label)
            origins.append((str(p), None))
        rel = folder_path.relative_to(data_dir) if folder_path.is_relative_to(data_dir) else folder_path
        files.append(f"{rel}/*.txt ({len(articles)} files, LICENSE.txt skipped)")
    notes = [
        "articles with identical bodies are grouped: they stay in one split (3 such pairs exist in "
        "dokujo-tsushin and topic-news, none in kaden-channel or sports-watch)",
        f"lines joined with {'a newline' if join == 'newline' else 'a space'}, blank lines dropped",
    ]
    if cats == ("kaden-channel", "sports-watch"):
        notes.append(
            "the study reports 1,771 examples for livedoor; this release gives 1,764 and the difference "
            "could not be traced (see the corpus SOURCE.md)"
        )
    return LoadedData(
        texts=texts,
        labels=np.asarray(labels, dtype=np.int64),
        label_names=(cats[0], cats[1]),
        source="livedoor news corpus ldcc-20140209 (RONDHUIT Co., Ltd.), https://www.rondhuit.com/download.html",
        licence="CC BY-ND 2.1 JP per article (credit per category in LICENSE.txt); "
        "do not redistribute modified texts",
        derivation=f"one example per article of {cats[0]} (0) and {cats[1]} (1); LICENSE.txt skipped; "
        f"URL and date lines dropped; text = {text.replace('+', ' + ')}",
        files=tuple(files),
        main_file=str(data_dir / folder),
        notes=notes,
        origins=origins,
        groups=bodies,
    )
