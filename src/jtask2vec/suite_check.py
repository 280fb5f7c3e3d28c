"""A suite checked as deeply as `run` would check it, without reading data or loading a model.

:func:`check_suite` finds every problem at once: unknown loaders (with a "did you mean"), unknown,
missing or ill-typed loader options and each loader's own option checks (livedoor categories ...),
offline probe names that do not exist, probe folders that are not there, repeated seeds. `jtask2vec
suites FILE` and every command that loads a suite run it before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jtask2vec.config import Suite, suite_source
from jtask2vec.config.errors import did_you_mean, dotted, flag_for, suite_error, yaml_line
from jtask2vec.tasks.registry import COMMON_OPTIONS, LOADERS

# Probes built into the package (jtask2vec.model.probes.load_probe); tiny-random-bert also as
# tiny-random-bert:SEED.
OFFLINE_PROBES = ("ja-imitator", "tiny-random-bert")


def probe_problem(name: str) -> str | None:
    """What is wrong with a probe name that is certain to fail, if anything (hub ids are not looked up)."""
    if name in OFFLINE_PROBES:
        return None
    if name.startswith("tiny-random-bert:"):
        seed = name.split(":", 1)[1]
        return None if seed.isdigit() else f"probe {name!r}: the seed after ':' must be a whole number"
    path = Path(name).expanduser()
    if path.is_dir():
        return None
    if name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1:
        return (
            f"probe {name!r}: no such folder (a probe is {', '.join(OFFLINE_PROBES)}, a folder or a hub id)"
        )
    hint = did_you_mean(name, OFFLINE_PROBES)
    if hint and "/" not in name:
        return f"probe {name!r}: not a built-in probe{hint}"
    return None


def suite_problems(suite: Suite) -> list[tuple[tuple[str | int, ...], str]]:
    """``(location in the suite, message)`` for every problem :func:`check_suite` knows to look for."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    problem = probe_problem(suite.probe.name)
    if problem:
        problems.append((("probe", "name"), problem))
    for i, task in enumerate(suite.tasks):
        info = LOADERS.get(task.loader)
        if info is None:
            problems.append(
                (
                    ("tasks", i, "loader"),
                    f"task {task.name!r}: unknown loader {task.loader!r}"
                    f"{did_you_mean(task.loader, LOADERS)}; "
                    f"registered: {', '.join(sorted(LOADERS))}",
                )
            )
            continue
        options = {k: v for k, v in task.options.items() if k not in COMMON_OPTIONS}
        for message in info.option_problems(options):
            problems.append((("tasks", i, "options"), f"task {task.name!r}: {message}"))
    if len(suite.seeds) != len(set(suite.seeds)):
        problems.append((("seeds",), f"seeds must be distinct, got {suite.seeds}"))
    return problems


def check_suite(
    suite: Suite, name_or_path: str | Path | None = None, flags: Mapping[str, str] | None = None
) -> None:
    """Raise one :class:`~jtask2vec.errors.ConfigError` listing every problem of ``suite``: with the line
    of its YAML file when ``name_or_path`` is given, or the flag that set the value (``flags``: dotted key
    -> the flag as typed, as for :func:`~jtask2vec.config.load_suite`)."""
    problems = suite_problems(suite)
    if not problems:
        return
    origin, text = suite_source(name_or_path) if name_or_path is not None else (f"suite {suite.name!r}", None)
    lines = []
    for loc, message in problems:
        flag = flag_for(dotted(loc), flags or {})
        if flag is not None:
            lines.append(f"{flag}: {message}")
            continue
        line = yaml_line(text, loc)
        lines.append(f"{origin}:{line}: {message}" if line is not None else f"{origin}: {message}")
    raise suite_error(origin, lines)
