"""Data directory resolution: flag > $JTASK2VEC_DATA > ../shared/data (cwd, then beside the checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jtask2vec.errors import DataError
from jtask2vec.tasks import data_dir as dd


@pytest.fixture
def no_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No env var; defaults point into an empty tmp folder (so the real checkout's data are not seen)."""
    monkeypatch.delenv(dd.ENV_VAR, raising=False)
    work = tmp_path / "work" / "project"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(dd, "default_candidates", lambda: [work / dd.DEFAULT_RELATIVE, tmp_path / "nowhere"])
    return work


def test_explicit_flag_wins_over_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    flag, env = tmp_path / "flag", tmp_path / "env"
    flag.mkdir()
    env.mkdir()
    monkeypatch.setenv(dd.ENV_VAR, str(env))
    assert dd.resolve_data_dir(flag) == flag
    assert dd.resolve_data_dir() == env


def test_missing_explicit_or_env_folder_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        dd.resolve_data_dir(tmp_path / "absent")
    assert err.value.path == str(tmp_path / "absent")
    monkeypatch.setenv(dd.ENV_VAR, str(tmp_path / "absent-env"))
    with pytest.raises(DataError, match="JTASK2VEC_DATA"):
        dd.resolve_data_dir()


def test_default_relative_to_cwd(no_defaults: Path) -> None:
    shared = no_defaults.parent / "shared" / "data"
    shared.mkdir(parents=True)
    assert dd.resolve_data_dir() == shared.resolve()


def test_no_data_dir_lists_where_it_looked(no_defaults: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        dd.resolve_data_dir()
    message = str(err.value)
    assert str((no_defaults / dd.DEFAULT_RELATIVE).resolve()) in message
    assert str(tmp_path / "nowhere") in message
    assert "--data-dir" in message


def test_real_default_candidates_include_cwd_and_checkout() -> None:
    cands = [p.resolve() for p in dd.default_candidates()]
    assert (Path.cwd() / ".." / "shared" / "data").resolve() in cands
    checkout = Path(dd.__file__).resolve().parents[3]  # src/jtask2vec/tasks/data_dir.py -> checkout
    assert (checkout.parent / "shared" / "data").resolve() in cands
