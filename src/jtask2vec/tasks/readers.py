"""Reading files the way users have them, with errors that name the file, line and field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from jtask2vec.errors import DataError


def read_text(path: Path, encoding: str = "utf-8", what: str = "file") -> str:
    """The whole file decoded; a missing file or undecodable byte is a :class:`DataError` with its line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{what} not found", path=path) from None
    except IsADirectoryError:
        raise DataError(f"{what} is a folder, not a file", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read {what}: {exc.strerror}", path=path) from None
    if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode(encoding)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}", path=path, field="encoding") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not valid {encoding} text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
            field="encoding",
            hint="re-save the file as UTF-8 or pass the right encoding option",
        ) from None


def iter_rows(
    path: Path,
    *,
    delimiter: str,
    quoting: str = "minimal",
    header: bool = True,
    encoding: str = "utf-8",
) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header (or ``None``) and an iterator of ``(line_number, row)`` over the data rows.

    ``quoting``: ``"minimal"`` (CSV-style double quotes) or ``"none"`` (quotes are ordinary characters,
    as in the jrte TSV files). Blank lines are skipped; ``line_number`` is 1-based, the record's first line.
    """
    text = read_text(path, encoding)
    q = csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=q, strict=False)

    def records() -> Iterator[tuple[int, list[str]]]:
        start = 1
        try:
            for row in reader:
                line = start
                start = reader.line_num + 1
                if not row or all(not c.strip() for c in row):
                    continue
                yield line, row
        except csv.Error as exc:
            raise DataError(f"malformed row: {exc}", path=path, line=start) from None

    it = records()
    if not header:
        return None, it
    first = next(it, None)
    if first is None:
        raise DataError("file is empty (no header row)", path=path, line=1)
    return [c.strip() for c in first[1]], it


def column_index(header: list[str] | None, column: str | int, path: Path) -> int:
    """Index of ``column`` (a header name, or a 0-based index when the file has no header)."""
    if header is None:
        try:
            return int(column)
        except ValueError:
            raise DataError(
                "the file has no header row, so columns are 0-based numbers",
                path=path,
                field=str(column),
            ) from None
    if isinstance(column, int) or (isinstance(column, str) and column not in header and column.isdigit()):
        idx = int(column)
        if idx < len(header):
            return idx
    if column not in header:
        raise DataError(
            f"missing column; the header has: {', '.join(header)}",
            path=path,
            line=1,
            field=str(column),
        )
    return header.index(str(column))


def cell(row: list[str], idx: int, path: Path, line: int, field: str) -> str:
    """``row[idx]``, or a DataError naming the missing field."""
    if idx >= len(row):
        raise DataError(
            f"row has {len(row)} fields, so field #{idx} is missing", path=path, line=line, field=field
        )
    return row[idx]


def check_text(text: str, path: Path | str, line: int | None, field: str) -> str:
    """The text, or a DataError when it is empty (after stripping white space)."""
    if not text.strip():
        raise DataError("empty text", path=path, line=line, field=field)
    return text
