"""Reading files the way users have them, streamed, with errors that name the file, line and field.

Delimited files are read one physical line at a time (memory bounded by the longest record, whatever the
file size). Every record must have as many fields as the header (or, without a header, as the first
record): a record that does not is an error naming its line, or, with ``bad_rows="skip"``, counted in
:class:`BadRows` and reported by the loader. A record never silently absorbs the lines after it:

- ``quoting="none"`` (TSV default): quotes are ordinary characters; one line is one record;
- ``quoting="minimal"`` (CSV default): RFC 4180 double quotes, parsed strictly (a stray quote after a
  closing one is an error); a quoted field may span lines only with ``multiline=True``, otherwise an
  unclosed quote is an error at the line where it opens.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jtask2vec.errors import ConfigError, DataError

QUOTING = ("minimal", "none")
BAD_ROWS = ("error", "skip")
# Python's csv module refuses fields over 128 KiB by default; a review or an article may be longer.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


@dataclass
class BadRows:
    """Records that did not parse and were skipped (``bad_rows="skip"``): ``(file, line, reason)``."""

    rows: list[tuple[str, int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def note(self) -> str | None:
        """One line for the provenance notes (``None`` when nothing was skipped)."""
        if not self.rows:
            return None
        shown = "; ".join(f"{Path(f).name}:{line} ({why})" for f, line, why in self.rows[:5])
        more = f"; and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
        return f"{len(self.rows)} malformed rows skipped (bad_rows=skip): {shown}{more}"


def _open_error(path: Path, what: str, exc: OSError) -> DataError:
    if isinstance(exc, FileNotFoundError):
        return DataError(f"{what} not found", path=path)
    if isinstance(exc, IsADirectoryError):
        return DataError(f"{what} is a folder, not a file", path=path)
    return DataError(f"cannot read {what}: {exc.strerror}", path=path)


def _decoder(path: Path, encoding: str) -> codecs.IncrementalDecoder:
    name = encoding.lower().replace("_", "-")
    if name in {"utf-8", "utf8"}:
        name = "utf-8-sig"  # a BOM at the start is skipped
    try:
        return codecs.getincrementaldecoder(name)(errors="strict")
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}", path=path, field="encoding") from None


AUTO_ENCODING = "auto"
_CHUNK = 1 << 20


def _decodes(handle, encoding: str) -> str | None:
    """The first few characters if the whole stream decodes strictly with ``encoding``, else None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    head = ""
    try:
        while True:
            block = handle.read(_CHUNK)
            text = decoder.decode(block, final=not block)
            if len(head) < 4096:
                head += text[:4096]
            if not block:
                return head
            if encoding != "utf-8" and any(c in text for c in "\x00\x01\x02\x03\x04\x05\x06\x07\x08"):
                return None  # control characters: a binary file or another encoding, not text in it
    except UnicodeDecodeError:
        return None


def resolve_encoding(path: Path, encoding: str) -> tuple[str, str | None]:
    """``encoding`` as given, or for ``"auto"`` the detected one and a note for the provenance.

    Detection reads the whole file: UTF-8 when it decodes as UTF-8 (a leading BOM is named in the note and
    skipped); else CP932 (Shift-JIS as Windows and Excel write it) when it decodes as CP932 without
    control characters. Anything else is read as UTF-8, so the error names the first undecodable byte.
    A file starting with a UTF-16 BOM is read as UTF-16. Both UTF-8 and CP932 cannot hold: CP932 text
    with Japanese characters is practically never valid UTF-8, so the guess is unambiguous.
    """
    if encoding.lower() != AUTO_ENCODING:
        return encoding, None
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise _open_error(path, "file", exc) from None
    with handle:
        start = handle.read(4)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "encoding: UTF-16 (detected from its byte-order mark)"
        handle.seek(0)
        if _decodes(handle, "utf-8") is not None:
            if start.startswith(codecs.BOM_UTF8):
                return "utf-8", "encoding: UTF-8 with BOM (detected; the BOM is skipped)"
            return "utf-8", None
        handle.seek(0)
        if _decodes(handle, "cp932") is not None:
            return "cp932", "encoding: CP932 (Shift-JIS) detected, the file is not valid UTF-8"
    return "utf-8", None


def iter_lines(path: Path, encoding: str = "utf-8", what: str = "file") -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` of the decoded file, streamed; the line keeps its ``\\n`` (not its ``\\r``).

    Lines end at ``\\n`` only (a lone ``\\r`` is an ordinary character); ``\\r\\n`` counts as ``\\n``.
    An undecodable byte is a :class:`DataError` naming its line and byte offset.
    """
    decoder = _decoder(path, encoding)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise _open_error(path, what, exc) from None
    with handle:
        offset = 0
        number = 0
        pending = ""
        while True:
            raw = handle.readline()
            try:
                pending += decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                bad = raw[exc.start] if exc.start < len(raw) else 0
                kind = binary_kind(path)
                if kind is not None:
                    raise DataError(
                        f"{kind}, not a text file",
                        path=path,
                        hint="save it as CSV or TSV (UTF-8) and read that file",
                    ) from None
                raise DataError(
                    f"not valid {encoding} text (byte 0x{bad:02x} at offset {offset + exc.start})",
                    path=path,
                    line=number + 1 + raw[: exc.start].count(b"\n"),
                    field="encoding",
                    hint="re-save the file as UTF-8 or pass the right encoding option",
                ) from None
            offset += len(raw)
            # A multi-byte encoding (UTF-16) may decode one binary line into several text lines or none.
            while "\n" in pending:
                head, pending = pending.split("\n", 1)
                number += 1
                yield number, (head[:-1] if head.endswith("\r") else head) + "\n"
            if not raw:
                break
        if pending:
            yield number + 1, pending


def read_text(path: Path, encoding: str = "utf-8", what: str = "file") -> str:
    """The whole file decoded (for small files); errors as in :func:`iter_lines`."""
    return "".join(line for _, line in iter_lines(path, encoding, what))


def _records_plain(
    path: Path, lines: Iterator[tuple[int, str]], delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    for number, line in lines:
        yield number, line.rstrip("\n").split(delimiter)


def _records_quoted(
    path: Path, lines: Iterator[tuple[int, str]], delimiter: str, multiline: bool
) -> Iterator[tuple[int, list[str]]]:
    last = [0]  # number of the last line the csv reader consumed

    def feed() -> Iterator[str]:
        for number, line in lines:
            last[0] = number
            yield line

    reader = csv.reader(feed(), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, strict=True)
    while True:
        first = last[0] + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise DataError(
                    "a quoted field is never closed (unbalanced double quote)",
                    path=path,
                    line=first,
                    hint="fix the quote, or read the file with quoting=none",
                ) from None
            through = f" (the record runs to line {last[0]})" if last[0] > first else ""
            raise DataError(f"malformed row{through}: {exc}", path=path, line=first) from None
        if last[0] != first and not multiline:
            raise DataError(
                f"a quoted field spans lines {first}-{last[0]} (an unclosed double quote?)",
                path=path,
                line=first,
                hint="fix the quote, read the file with quoting=none, or allow line breaks in quoted "
                "fields with multiline=true",
            )
        yield first, row


def iter_rows(
    path: Path,
    *,
    delimiter: str,
    quoting: str = "minimal",
    header: bool = True,
    encoding: str = "utf-8",
    multiline: bool = False,
    bad_rows: str = "error",
    skipped: BadRows | None = None,
) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header (or ``None``) and an iterator of ``(line_number, row)`` over the data rows, streamed.

    ``line_number`` is 1-based, the record's first line. Blank lines are skipped. Every row has the
    header's number of fields: another count is a DataError, or with ``bad_rows="skip"`` the row is
    left out and recorded in ``skipped``.
    """
    if quoting not in QUOTING:
        raise ConfigError(f"option 'quoting' must be 'minimal' or 'none', not {quoting!r}")
    if bad_rows not in BAD_ROWS:
        raise ConfigError(f"option 'bad_rows' must be 'error' or 'skip', not {bad_rows!r}")
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise ConfigError(
            f"option 'delimiter' must be one character other than a quote or newline, not {delimiter!r}"
        )
    if bad_rows == "skip" and skipped is None:
        raise ValueError("bad_rows='skip' needs a BadRows collector")
    lines = iter_lines(path, encoding)
    if quoting == "none":
        records = _records_plain(path, lines, delimiter)
    else:
        records = _records_quoted(path, lines, delimiter, multiline)
    data = ((n, r) for n, r in records if r and not all(not c.strip() for c in r))
    first = next(data, None)
    if first is None:
        if not header:
            return None, iter(())
        raise DataError("file is empty (no header row)", path=path, line=1)
    width = len(first[1])

    def checked(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        for number, row in rows:
            if len(row) != width:
                what = "the header has" if header else "the first row has"
                reason = f"{len(row)} fields, {what} {width}"
                if bad_rows == "skip":
                    skipped.rows.append((str(path), number, reason))
                    continue
                raise DataError(
                    f"row has {reason}",
                    path=path,
                    line=number,
                    hint="fix the row, or skip malformed rows with bad_rows=skip",
                )
            yield number, row

    if not header:

        def with_first() -> Iterator[tuple[int, list[str]]]:
            yield first
            yield from data

        return None, checked(with_first())
    return [c.strip() for c in first[1]], checked(data)


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
            hint=delimiter_hint(header),
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


# The first bytes of files people rename to .csv: (magic, what it is).
_BINARY_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF", "a PDF document"),
)


def binary_kind(path: Path) -> str | None:
    """What a binary file is, from its first bytes, when it is a kind people rename to .csv."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return None
    return next((what for magic, what in _BINARY_MAGIC if head.startswith(magic)), None)


def delimiter_hint(header: list[str]) -> str | None:
    """A hint when the header is one field that holds another delimiter (a TSV read as CSV ...)."""
    if len(header) != 1:
        return None
    for char, name, loader in (("\t", "tab", "tsv"), (";", "semicolon", None), (",", "comma", "csv")):
        if char in header[0]:
            via = f"the {loader} loader, or " if loader else ""
            return f"the header is one field with {name}s in it: read the file with {via}delimiter={char!r}"
    return None
