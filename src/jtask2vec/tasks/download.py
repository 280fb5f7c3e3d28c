"""Explicit download of the corpora from their official sources (``jtask2vec tasks download NAME``).

Never called implicitly: loaders only read. A download fetches each URL into a staging folder inside the
data directory, extracts archives there safely (no absolute paths, no ``..``, no links or devices), checks
that the layout the loaders read is present, and only then renames the staging folder into place, so an
interrupted download leaves nothing half-written under the final name.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jtask2vec.errors import DataError

_JRTE_RAW = (
    "https://raw.githubusercontent.com/megagonlabs/jrte-corpus/fa164496fccfa393cd400cd86b96efeea62d69d2"
)


@dataclass(frozen=True)
class DownloadSource:
    """An official source: URLs, the folder (under the data directory) the loaders read, a layout check."""

    name: str
    folder: str
    urls: tuple[str, ...]
    expect: str  # a glob (relative to the folder) that must match after extraction
    licence: str


SOURCES: dict[str, DownloadSource] = {
    "jrte": DownloadSource(
        name="jrte",
        folder="jrte",
        urls=tuple(f"{_JRTE_RAW}/{p}" for p in ("data/pn.tsv", "data/rhr.tsv", "LICENSE.txt", "README.md")),
        expect="pn.tsv",
        licence="CC BY-NC-SA 4.0, non-commercial research use (see README.md)",
    ),
    "livedoor": DownloadSource(
        name="livedoor",
        folder="livedoor",
        urls=("https://www.rondhuit.com/download/ldcc-20140209.tar.gz",),
        expect="text/*/*.txt",
        licence="CC BY-ND 2.1 JP per article",
    ),
    "chabsa": DownloadSource(
        name="chabsa",
        folder="chabsa",
        urls=("https://s3-ap-northeast-1.amazonaws.com/dev.tech-sketch.jp/chakki/public/chABSA-dataset.zip",),
        expect="**/*_ann.json",
        licence="CC BY 4.0 (TIS Inc. / chakki-works)",
    ),
}

_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def _is_archive(name: str) -> bool:
    return name.lower().endswith(_ARCHIVE_SUFFIXES)


def _safe_member(name: str, archive: Path) -> PurePosixPath:
    """The member path, or a DataError when it is absolute or climbs out with ``..``."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise DataError(
            f"unsafe path in archive: {name!r} (absolute or '..'); nothing was extracted", path=archive
        )
    return p


def extract_archive(archive: Path, dest: Path) -> None:
    """Extract ``archive`` (zip or tar) into ``dest``, refusing unsafe members before writing anything."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _safe_member(info.filename, archive)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DataError(f"archive holds a symbolic link: {info.filename!r}", path=archive)
                zf.extractall(dest)
        else:
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for m in members:
                    _safe_member(m.name, archive)
                    if not (m.isfile() or m.isdir()):
                        raise DataError(f"archive holds a link or special file: {m.name!r}", path=archive)
                tf.extractall(dest, members=members, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DataError(f"not a readable archive: {exc}", path=archive) from None


def _fetch(url: str, target: Path, progress: Callable[[str, int, int | None], None] | None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, target.open("wb") as out:
            total = resp.headers.get("Content-Length")
            size = int(total) if total and total.isdigit() else None
            done = 0
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(url, done, size)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(f"cannot download {url}: {reason}", path=target.name) from None


def download(
    name: str,
    data_dir: Path,
    urls: list[str] | tuple[str, ...] | None = None,
    force: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Path:
    """Fetch source ``name`` (or ``urls`` instead of the official ones) into ``data_dir/<folder>``.

    Archives (``.zip``, ``.tar.gz``...) are extracted; other files are stored under their URL's base
    name. Returns the final folder. ``force`` replaces an existing folder (after the new one is complete).
    """
    if name not in SOURCES:
        raise DataError(f"no download source {name!r}; known: {', '.join(sorted(SOURCES))}")
    source = SOURCES[name]
    data_dir.mkdir(parents=True, exist_ok=True)
    final = data_dir / source.folder
    if final.exists() and not force:
        raise DataError("already exists; pass --force to replace it", path=final)
    staging = Path(tempfile.mkdtemp(prefix=f".{source.folder}.partial-", dir=data_dir))
    try:
        content = staging / "content"
        content.mkdir()
        fetched = staging / "fetched"
        fetched.mkdir()
        for url in urls or source.urls:
            base = PurePosixPath(urllib.parse.urlparse(url).path).name or "download"
            target = fetched / base
            _fetch(url, target, progress)
            if _is_archive(base):
                extract_archive(target, content)
            else:
                shutil.copyfile(target, content / base)
        if not any(content.glob(source.expect)):
            raise DataError(
                f"the download does not hold the expected layout ({source.folder}/{source.expect}); "
                "nothing was installed",
                path=final,
            )
        if final.exists():
            old = staging / "old"
            os.replace(final, old)
        os.replace(content, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
