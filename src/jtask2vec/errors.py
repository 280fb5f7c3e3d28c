"""Errors the user can act on. The CLI prints them as one line, never as a traceback."""

from __future__ import annotations

from pathlib import Path


class Jtask2vecError(Exception):
    """Base class for every error that is the user's to fix (bad input, missing data, bad config)."""


class DataError(Jtask2vecError):
    """Bad or missing input data, located as precisely as possible (file, line, field)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.hint = hint
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path
            if line is not None:
                where += f":{line}"
        if field is not None:
            where += f" [field {field!r}]" if where else f"field {field!r}"
        text = f"{where}: {message}" if where else message
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class ConfigError(Jtask2vecError):
    """An invalid suite file or option."""


class ProbeError(Jtask2vecError):
    """A probe network that cannot be loaded or used."""


class StoreError(Jtask2vecError):
    """The artifact store cannot do what was asked (a claim timed out, an artifact is missing...)."""
