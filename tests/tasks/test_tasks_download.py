"""`tasks download`: local archives served as file:// URLs; safe, atomic extraction into the loader layout."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures_tasks import write_chabsa, write_jrte, write_livedoor
from jtask2vec.cli.app import app
from jtask2vec.errors import DataError
from jtask2vec.tasks import load_task, task_spec
from jtask2vec.tasks.download import SOURCES, download, extract_archive

runner = CliRunner()


def _tar_of(folder: Path, arcname: str, target: Path) -> str:
    with tarfile.open(target, "w:gz") as tf:
        tf.add(folder, arcname=arcname)
    return target.as_uri()


def test_official_sources_are_https_and_pinned() -> None:
    assert set(SOURCES) == {"jrte", "livedoor", "chabsa"}
    assert all(u.startswith("https://") for s in SOURCES.values() for u in s.urls)
    assert all("fa164496" in u for u in SOURCES["jrte"].urls)
    assert SOURCES["livedoor"].urls[0].endswith("ldcc-20140209.tar.gz")
    assert SOURCES["chabsa"].urls[0].endswith("chABSA-dataset.zip")


def test_livedoor_tar_gz_via_cli_then_loads(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_livedoor(src, per_category=6)
    url = _tar_of(src / "livedoor" / "text", "text", tmp_path / "ldcc-20140209.tar.gz")
    data = tmp_path / "data"
    result = runner.invoke(app, ["tasks", "download", "livedoor", "--data-dir", str(data), "--url", url])
    assert result.exit_code == 0, result.output
    assert (data / "livedoor" / "text" / "kaden-channel" / "LICENSE.txt").is_file()
    assert [p.name for p in data.iterdir()] == ["livedoor"]  # no staging left behind
    assert len(load_task(task_spec("livedoor"), data)) == 12
    again = runner.invoke(app, ["tasks", "download", "livedoor", "--data-dir", str(data), "--url", url])
    assert again.exit_code == 2 and "already exists" in again.output


def test_chabsa_zip_and_jrte_plain_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    folder = write_chabsa(src)
    archive = tmp_path / "chABSA-dataset.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"chABSA-dataset/{p.name}")
    data = tmp_path / "data"
    download("chabsa", data, urls=[archive.as_uri()])
    assert len(load_task(task_spec("chabsa", split={"dev_fraction": 0, "test_fraction": 0.3}), data)) == 10
    jrte = write_jrte(src)
    download("jrte", data, urls=[(jrte / "pn.tsv").as_uri(), (jrte / "rhr.tsv").as_uri()])
    assert (data / "jrte" / "pn.tsv").read_bytes() == (jrte / "pn.tsv").read_bytes()


def test_path_traversal_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name in ("text/kaden-channel/a.txt", "../escaped.txt"):
            info = tarfile.TarInfo(name)
            payload = b"http://x\n2012\ntitle\nbody\n"
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    data = tmp_path / "data"
    with pytest.raises(DataError, match="unsafe path"):
        download("livedoor", data, urls=[archive.as_uri()])
    assert not (tmp_path / "escaped.txt").exists() and not (data / "escaped.txt").exists()
    assert list(data.iterdir()) == []


def test_zip_with_absolute_path_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "abs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("/etc/evil.json", "{}")
    with pytest.raises(DataError, match="unsafe path"):
        extract_archive(archive, tmp_path / "out")


def test_wrong_layout_or_failed_fetch_leaves_no_folder(tmp_path: Path) -> None:
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tf:
        info = tarfile.TarInfo("readme.md")
        tf.addfile(info, io.BytesIO(b""))
    data = tmp_path / "data"
    with pytest.raises(DataError, match="expected layout"):
        download("livedoor", data, urls=[other.as_uri()])
    result = runner.invoke(
        app,
        ["tasks", "download", "chabsa", "--data-dir", str(data), "--url", (tmp_path / "nope.zip").as_uri()],
    )
    assert result.exit_code == 2 and "cannot download" in result.output
    assert list(data.iterdir()) == []


def test_force_replaces_an_existing_corpus(tmp_path: Path) -> None:
    src = write_jrte(tmp_path / "src")
    data = tmp_path / "data"
    (data / "jrte").mkdir(parents=True)
    (data / "jrte" / "stale.txt").write_text("old", encoding="utf-8")
    download("jrte", data, urls=[(src / "pn.tsv").as_uri()], force=True)
    assert sorted(p.name for p in (data / "jrte").iterdir()) == ["pn.tsv"]


def test_download_needs_an_explicit_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JTASK2VEC_DATA", raising=False)
    result = runner.invoke(app, ["tasks", "download", "jrte"])
    assert result.exit_code == 2 and "--data-dir" in result.output
