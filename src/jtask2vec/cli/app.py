"""The typer application and the shared options. Commands live beside it, one module per area."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from jtask2vec.cli.crash import (
    DEBUG_KEY,
    current_runs_dir,
    forget_run_folder,
    log_folder,
    remember_runs_dir,
    remember_suite,
    summary_line,
    write_crash_log,
)
from jtask2vec.config import Suite, load_suite
from jtask2vec.errors import ConfigError, Jtask2vecError
from jtask2vec.suite_check import check_suite

console = Console()
err_console = Console(stderr=True)
INTERRUPTED = "interrupted; finished jobs are stored; run the same command to resume"


class _UserErrorsAsOneLine(TyperGroup):
    """Errors as one line instead of a traceback: a :class:`Jtask2vecError` (bad input, config) exits 2;
    any other exception exits 1 and names the log file holding its traceback. ``--debug``: tracebacks."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        forget_run_folder()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # typer's own: exit codes, usage errors
            raise
        except KeyboardInterrupt:
            if ctx.meta.get(DEBUG_KEY):
                raise
            err_console.print(INTERRUPTED, highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        except Jtask2vecError as exc:
            if ctx.meta.get(DEBUG_KEY):
                raise
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            if ctx.meta.get(DEBUG_KEY):
                raise
            log = write_crash_log(exc, log_folder())
            err_console.print(
                f"[bold red]unexpected error:[/] {escape(summary_line(exc))} "
                f"(traceback in {escape(str(log))}; --debug shows it here)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_UserErrorsAsOneLine,
    name="jtask2vec",
    help="Which source task to transfer from, for Japanese text classification (TASK2VEC).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error instead of one line.")
    ] = False,
) -> None:
    """Which source task to transfer from, for Japanese text classification (TASK2VEC)."""
    ctx.meta[DEBUG_KEY] = debug


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="JTASK2VEC_DATA",
        help="Folder holding the corpora (default: ../shared/data when it exists).",
        show_default=False,
    ),
]
SuiteOption = Annotated[str, typer.Option("--suite", "-s", help="Built-in suite name or a suite YAML file.")]
RunsDirOption = Annotated[
    Path,
    typer.Option(
        "--runs-dir",
        envvar="JTASK2VEC_RUNS",
        help="Where runs, artifacts and reports go.",
        callback=remember_runs_dir,
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a suite field, e.g. --set probe.name=tiny-random-bert (repeatable).",
    ),
]
NoProgressOption = Annotated[bool, typer.Option("--no-progress", help="Hide progress bars.")]
WorkersOption = Annotated[
    str | None,
    typer.Option(
        "--workers",
        help="Worker processes: N, or auto (one per CPU core, at most 8; 1 on a GPU); 1 = in this process.",
        show_default=False,
    ),
]
ExecutorOption = Annotated[
    str | None,
    typer.Option("--executor", help="Where jobs run: local (worker processes) or ray.", show_default=False),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Ray cluster to join: auto (after `ray start`) or ray://host:port.",
        show_default=False,
    ),
]


def parse_overrides(values: list[str] | None) -> dict[str, object]:
    """``["probe.name=x", "seeds=[0,1]"]`` -> ``{"probe.name": "x", "seeds": [0, 1]}`` (YAML values)."""
    overrides: dict[str, object] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set probe.name=tiny-random-bert")
        try:
            overrides[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {item!r}: value is not valid YAML ({exc})") from None
    return overrides


def suite_from_options(
    suite: str,
    overrides: list[str] | None,
    workers: str | None = None,
    executor: str | None = None,
    address: str | None = None,
    *,
    writes: bool = True,
) -> Suite:
    """The suite with its ``--set`` overrides, then the executor options (``--workers`` ...) applied (its
    name also tells where a crash log of the command goes), checked as deeply as it can be without data;
    with ``writes``, the command's ``--runs-dir`` is checked to be writable before any work."""
    values = parse_overrides(overrides)
    flags: dict[str, str] = {}
    for flag, key, value in (
        ("--workers", "workers", workers),
        ("--executor", "kind", executor),
        ("--address", "address", address),
    ):
        if value is not None:
            values[f"executor.{key}"] = value
            flags[f"executor.{key}"] = f"{flag} {value}"
    cfg = load_suite(suite, values, flags=flags)
    flags = {**{key: f"--set {key}={value}" for key, value in values.items()}, **flags}
    check_suite(cfg, suite, flags)
    warn_about_workers(cfg, flags.get("executor.workers", f"executor.workers {cfg.executor.workers}"))
    runs_dir = current_runs_dir()
    if writes and runs_dir is not None:
        check_writable(runs_dir)
    remember_suite(cfg.name)
    return cfg


def warn_about_workers(cfg: Suite, setting: str) -> None:
    """One warning line when more local worker processes are asked for than there are CPU cores."""
    from jtask2vec.jobs.executors import available_cores

    workers, cores = cfg.executor.workers, available_cores()
    if cfg.executor.kind == "local" and isinstance(workers, int) and workers > cores:
        err_console.print(
            f"[yellow]warning:[/] {escape(setting)}: {workers} worker processes on {cores} CPU core(s) "
            "compete for them and run slower; --workers auto starts one per core",
            highlight=False,
            soft_wrap=True,
        )


def check_writable(folder: Path) -> None:
    """One clear line, before any work, when ``folder`` (the runs folder) cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"{folder}: the runs folder cannot be written ({reason}); pass --runs-dir with a writable folder"
        ) from None
