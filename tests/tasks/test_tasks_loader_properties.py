"""Property-based tests of the file loaders (csv, tsv, jsonl, rakuten-travel).

Whatever the bytes, a loader either parses the file correctly (every written row comes back exactly once,
in order, with its label) or raises a one-line :class:`DataError` naming the file; never a silent merge,
split or drop of rows, and never another exception.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from jtask2vec.errors import DataError
from jtask2vec.tasks import LOADERS

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LABELS = st.sampled_from(["pos", "neg"])
# Any character but surrogates; the tests below restrict it where a format cannot represent one.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
QUOTY_TEXT = st.text(st.sampled_from("\"'ab良い,\t \r;\\x"), min_size=1, max_size=12)
TEXT = st.one_of(ANY_TEXT, QUOTY_TEXT).filter(lambda t: bool(t.strip()))


@contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _load(loader: str, data_dir: Path | None, **options: object):
    return LOADERS[loader].call(data_dir, options)


def _expected(rows: list[tuple[str, str]]) -> tuple[list[str], list[int]]:
    return [t for t, _ in rows], [int(y == "pos") for _, y in rows]


def _check_error(err: DataError, path: Path) -> None:
    assert "\n" not in str(err)
    assert err.path is not None and Path(err.path).name == path.name


# ---- round trips of correctly written files ---------------------------------------------------------
@SETTINGS
@given(
    rows=st.lists(st.tuples(TEXT.filter(lambda t: not set(t) & set("\t\n")), LABELS), min_size=1, max_size=25)
)
def test_tsv_without_quote_processing_round_trips(rows: list[tuple[str, str]]) -> None:
    with folder() as d:
        path = d / "d.tsv"
        path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows), encoding="utf-8")
        data = _load("tsv", None, path=str(path), positive="pos", negative="neg")
        texts, labels = _expected(rows)
        assert data.texts == texts and data.labels.tolist() == labels
        assert [line for _, line in data.origins] == list(range(2, len(rows) + 2))


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(TEXT.filter(lambda t: not set(t) & set("\t\n\r")), LABELS), min_size=1, max_size=25
    )
)
def test_rakuten_tsv_round_trips(rows: list[tuple[str, str]]) -> None:
    with folder() as d:
        (d / "rakuten-travel").mkdir()
        lines = ["コメント\t総合"] + [f"{t}\t{5 if y == 'pos' else 1}" for t, y in rows]
        (d / "rakuten-travel" / "r.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        data = _load("rakuten-travel", d)
        texts, labels = _expected(rows)
        assert data.texts == texts and data.labels.tolist() == labels


@SETTINGS
@given(
    rows=st.lists(st.tuples(TEXT, LABELS), min_size=1, max_size=25),
    delimiter=st.sampled_from([",", ";", "|", "\t"]),
)
@example(rows=[("ok", "neg"), ('一行目\n"二"行目,', "pos"), ("x\r\ny", "neg")], delimiter=",")
def test_csv_written_by_a_csv_writer_round_trips(rows: list[tuple[str, str]], delimiter: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)  # \r\n line ends: fields with \r or \n are quoted
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    multiline = any(set(t) & set("\r\n") for t, _ in rows)
    with folder() as d:
        path = d / "d.csv"
        path.write_text(buf.getvalue(), encoding="utf-8", newline="")
        options = {"path": str(path), "positive": "pos", "negative": "neg", "delimiter": delimiter}
        if multiline and any("\n" in t for t, _ in rows):
            with pytest.raises(DataError) as err:  # line breaks in quoted fields need multiline=true
                _load("csv", None, **options)
            _check_error(err.value, path)
            assert err.value.line is not None
        data = _load("csv", None, multiline=True, **options)
        texts, labels = _expected(rows)
        # a line ends at \n; \r\n inside a quoted field reads as \n (universal newlines)
        assert data.texts == [t.replace("\r\n", "\n") for t in texts] and data.labels.tolist() == labels


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(TEXT, LABELS, st.sampled_from(["", " ", "\t", "  \n"]), st.sampled_from(["", " "])),
        min_size=1,
        max_size=25,
    )
)
def test_jsonl_round_trips_with_labels_stripped(rows: list[tuple[str, str, str, str]]) -> None:
    with folder() as d:
        path = d / "d.jsonl"
        lines = [json.dumps({"text": t, "label": f"{a}{y}{b}"}, ensure_ascii=False) for t, y, a, b in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        data = _load("jsonl", None, path=str(path), positive="pos", negative="neg")
        assert data.texts == [t for t, *_ in rows]
        assert data.labels.tolist() == [int(y == "pos") for _, y, *_ in rows]


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.text(st.sampled_from("ホテル良い悪いabc 漢字、。\"'"), min_size=1, max_size=15), LABELS),
        min_size=1,
        max_size=20,
    ),
    encoding=st.sampled_from(["shift_jis", "cp932", "euc-jp", "utf-16", "utf-8-sig", "utf-8"]),
)
def test_tsv_in_other_encodings_round_trips(rows: list[tuple[str, str]], encoding: str) -> None:
    assume(all(t.strip() for t, _ in rows))
    with folder() as d:
        path = d / "d.tsv"
        path.write_bytes(("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows)).encode(encoding))
        data = _load("tsv", None, path=str(path), positive="pos", negative="neg", encoding=encoding)
        assert data.texts == [t for t, _ in rows]


def test_huge_fields_round_trip() -> None:
    big = "長" * 300_000  # beyond the csv module's default 128 KiB field limit
    with folder() as d:
        for loader, sep in (("csv", ","), ("tsv", "\t")):
            path = d / f"d.{loader}"
            path.write_text(f"text{sep}label\n{big}{sep}pos\n小{sep}neg\n", encoding="utf-8")
            data = _load(loader, None, path=str(path))
            assert data.texts == [big, "小"]


# ---- broken files: a correct parse or one clear error, never a merge ----------------------------------
RAW_CELL = st.text(st.sampled_from("\"'a良,\t ;\r\x00"), max_size=6)


@SETTINGS
@given(
    cells=st.lists(st.tuples(RAW_CELL, LABELS, st.booleans()), min_size=1, max_size=20),
    loader=st.sampled_from(["csv", "tsv", "tsv-quoted"]),
)
def test_raw_rows_never_merge(cells: list[tuple[str, str, bool]], loader: str) -> None:
    """Rows written without any escaping: each line is one row, or the loader says which line is bad."""
    sep = "," if loader == "csv" else "\t"
    options = {"quoting": "minimal"} if loader == "tsv-quoted" else {}
    with folder() as d:
        path = d / "d.txt"
        lines = [f"text{sep}label"] + [
            f"{t}{sep}{y}" + (f"{sep}extra" if extra else "") for t, y, extra in cells
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
        try:
            data = _load(
                loader.split("-")[0], None, path=str(path), positive="pos", negative="neg", **options
            )
        except DataError as err:
            _check_error(err, path)
            return
        assert [line for _, line in data.origins] == list(range(2, len(cells) + 2))  # one row per line
        assert data.labels.tolist() == [int(y == "pos") for _, y, _ in cells]
        if loader == "tsv":
            assert data.texts == [t for t, _, _ in cells]  # quotes are text


@SETTINGS
@given(
    blob=st.binary(max_size=200),
    loader=st.sampled_from(["csv", "tsv", "jsonl", "rakuten-travel"]),
    head=st.sampled_from([b"", b"text,label\n", b"text\tlabel\n", "コメント\t総合\n".encode()]),
)
def test_random_bytes_parse_or_fail_with_one_line(blob: bytes, loader: str, head: bytes) -> None:
    with folder() as d:
        if loader == "rakuten-travel":
            (d / "rakuten-travel").mkdir()
            path = d / "rakuten-travel" / "r.tsv"
        else:
            path = d / f"d.{loader}"
        path.write_bytes(head + blob)
        options = {} if loader == "rakuten-travel" else {"path": str(path)}
        try:
            data = _load(loader, d if loader == "rakuten-travel" else None, **options)
        except DataError as err:
            _check_error(err, path)
            return
        assert len(data.texts) == len(data.labels) == len(data.origins)
        lines = [line for _, line in data.origins]
        assert lines == sorted(set(lines))  # each source row at most once, in order
