"""The loader protocol: what a loader returns (`LoadedData`), how it is registered (`LoaderInfo`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jtask2vec.errors import ConfigError, DataError

# Corpus split values a loader may return. "trainval" = "train or dev, to be re-split by load_task".
CORPUS_SPLITS = ("train", "dev", "test", "trainval")


@dataclass
class LoadedData:
    """A corpus turned into a binary task, before any splitting.

    ``labels[i]`` in {0, 1} names ``label_names[labels[i]]``. ``corpus_splits`` (optional) is the corpus's
    own assignment (values in :data:`CORPUS_SPLITS`). ``origins[i]`` is ``(file, line)`` of example ``i``
    for error messages. ``main_file`` is the file errors about the task as a whole point to. ``groups``
    (optional) are keys that must stay together (default: identical inputs stay together: the text, or
    the ``(text, text_pair)`` pair). ``text_pairs`` (optional): the second text of each example of a
    sentence-pair task.
    """

    texts: list[str]
    labels: np.ndarray
    label_names: tuple[str, str]
    source: str
    licence: str
    derivation: str
    files: tuple[str, ...]
    main_file: str
    notes: list[str] = field(default_factory=list)
    corpus_splits: list[str] | None = None
    origins: list[tuple[str, int | None]] | None = None
    # Examples with the same group key are kept in one split/part (default key: the text itself).
    groups: list[str] | None = None
    text_pairs: list[str] | None = None


LoaderFunc = Callable[..., LoadedData]


@dataclass(frozen=True)
class LoaderInfo:
    """A registered loader: its id, what it reads and derives, its options, where to get the data."""

    name: str
    func: LoaderFunc
    source: str  # corpus name
    derives: str  # one-line description of the binary task
    official: str  # official place to get the data
    download: str | None = None  # name for `jtask2vec tasks download`, if automatic download exists
    has_corpus_split: bool = False
    needs_data_dir: bool = True
    # Checks of the (coerced) options that need no data: one message per problem (`jtask2vec suites FILE`).
    check: Callable[[Mapping[str, Any]], list[str]] | None = None

    @property
    def options(self) -> dict[str, Any]:
        """Option name -> default (``inspect.Parameter.empty`` for required options)."""
        params = inspect.signature(self.func).parameters
        return {k: p.default for k, p in params.items() if k != "data_dir"}

    def option_problems(self, options: Mapping[str, Any]) -> list[str]:
        """What is wrong with ``options``, without reading any data: unknown (with a "did you mean") or
        missing options, values of the wrong type, and the loader's own :attr:`check`."""
        from jtask2vec.config.errors import did_you_mean

        accepted = self.options
        problems = [
            f"loader {self.name!r} has no option {key!r}{did_you_mean(key, accepted)}; "
            f"its options are: {', '.join(accepted) or '(none)'}"
            for key in sorted(set(options) - set(accepted))
        ]
        missing = [k for k, v in accepted.items() if v is inspect.Parameter.empty and k not in options]
        if missing:
            problems.append(f"loader {self.name!r} needs option(s): {', '.join(missing)}")
        kwargs = {}
        for key, value in options.items():
            if key in accepted:
                try:
                    kwargs[key] = coerce_option(self.name, key, value, accepted[key])
                except ConfigError as exc:
                    problems.append(str(exc))
        if not problems and self.check is not None:
            defaults = {k: v for k, v in accepted.items() if v is not inspect.Parameter.empty}
            problems += self.check({**defaults, **kwargs})
        return problems

    def call(self, data_dir: Path | None, options: Mapping[str, Any]) -> LoadedData:
        """Run the loader with ``options`` coerced to the types of the defaults (CLI passes strings)."""
        problems = self.option_problems(options)
        if problems:
            raise ConfigError("; ".join(problems))
        accepted = self.options
        kwargs = {k: coerce_option(self.name, k, v, accepted[k]) for k, v in options.items()}
        return self.func(data_dir=data_dir, **kwargs)


LOADERS: dict[str, LoaderInfo] = {}


def register_loader(
    name: str,
    *,
    source: str,
    derives: str,
    official: str,
    download: str | None = None,
    has_corpus_split: bool = False,
    needs_data_dir: bool = True,
    check: Callable[[Mapping[str, Any]], list[str]] | None = None,
) -> Callable[[LoaderFunc], LoaderFunc]:
    """Decorator: register ``func(data_dir, **options) -> LoadedData`` under ``name``."""

    def deco(func: LoaderFunc) -> LoaderFunc:
        if name in LOADERS:
            raise ValueError(f"loader {name!r} registered twice")
        LOADERS[name] = LoaderInfo(
            name=name,
            func=func,
            source=source,
            derives=derives,
            official=official,
            download=download,
            has_corpus_split=has_corpus_split,
            needs_data_dir=needs_data_dir,
            check=check,
        )
        return func

    return deco


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce_option(loader: str, key: str, value: Any, default: Any) -> Any:
    """Coerce a (string) option value to the type of the loader's default.

    bool: true/false/yes/no/1/0; int/float: parsed; tuple/list defaults: comma-separated string -> tuple of
    strings; ``None`` or required defaults: left as given.
    """
    if not isinstance(value, str) or default is None or default is inspect.Parameter.empty:
        if isinstance(value, list):
            return tuple(value)
        return value
    try:
        if isinstance(default, bool):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (tuple, list)):
            return tuple(v.strip() for v in value.split(",") if v.strip())
    except ValueError:
        raise ConfigError(
            f"loader {loader!r}, option {key!r}: cannot read {value!r} as {type(default).__name__}"
        ) from None
    return value


def missing_data_error(info: LoaderInfo, path: Path, what: str) -> DataError:
    """The error for a corpus that is not where the loader looks: where it looked and where to get it."""
    hint = f"get it from {info.official}"
    if info.download:
        hint += f", or run `jtask2vec tasks download {info.download} --data-dir DIR`"
    return DataError(f"{what} not found (task loader {info.name!r})", path=path, hint=hint)
