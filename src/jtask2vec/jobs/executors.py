"""Executors: where the jobs of the graph run. In this process, in a local pool of worker processes, or
on a Ray cluster.

An executor runs ``work(job, inputs)`` (a module-level function, :func:`jtask2vec.jobs.stages.run_job` for
the pipeline) for the jobs the scheduler submits, at most ``slots`` at a time, and reports each finished
job as an :class:`Outcome`: no exception ever crosses a process boundary, a failure is its one-line
message plus the worker's traceback. ``inputs`` (the tasks, the probe, the store root) ship once per
worker process (pool initializer) or once per cluster (``ray.put``), not with every job. The local pool
(:class:`ProcessExecutor`) lives in :mod:`jtask2vec.jobs.worker_pool`: a dead worker fails its own job only.

Use processes (or Ray workers), never several threads: a fine-tune seeds torch's global RNG (dropout),
which threads share. Workers see the same store root: on a cluster, a shared file system.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from jtask2vec.errors import ConfigError

Work = Callable[[Any, Any], None]


@dataclass(frozen=True)
class Outcome:
    """A finished job: ``error`` is None on success, else one line; ``details`` the worker's traceback."""

    job: Any
    error: str | None = None
    details: str = ""
    seconds: float = 0.0


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def guarded(work: Work, job: Any, inputs: Any) -> Outcome:
    """Run ``work(job, inputs)`` and turn any exception into a failed :class:`Outcome` (picklable)."""
    started = time.perf_counter()
    try:
        work(job, inputs)
    except Exception as exc:
        return Outcome(job, one_line(exc), traceback.format_exc(), time.perf_counter() - started)
    return Outcome(job, None, "", time.perf_counter() - started)


@runtime_checkable
class Executor(Protocol):
    """Runs submitted jobs; :meth:`wait` blocks until at least one has finished and returns those."""

    slots: int  # how many jobs may be in flight at once

    def submit(self, job: Any) -> None: ...

    def wait(self) -> list[Outcome]: ...

    def close(self) -> None: ...


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch intra-op threads and ``threads`` BLAS/OpenMP threads for numpy
    and scipy (LogME, H-score... ; threadpoolctl), both restored after. A job's numbers depend on both
    (sums in a thread-count-dependent order), so every executor runs every job under the same limits."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


class InProcessExecutor:
    """One job at a time, in this process (``--workers 1``): exactly the sequential run."""

    slots = 1

    def __init__(self, work: Work, inputs: Any, threads: int = 1) -> None:
        self.work, self.inputs, self.threads = work, inputs, threads
        self._done: list[Outcome] = []

    def submit(self, job: Any) -> None:
        with torch_threads(self.threads):
            self._done.append(guarded(self.work, job, self.inputs))

    def wait(self) -> list[Outcome]:
        done, self._done = self._done, []
        return done

    def close(self) -> None:
        self._done = []


# ---- Ray -------------------------------------------------------------------------------------------------
_RAY_INPUTS: dict[str, Any] = {}


def _run_on_ray(work: Work, job: Any, token: str, boxed_inputs: list, threads: int) -> Outcome:
    """A Ray task: the inputs come boxed in a list so that Ray does not fetch them for every job; each
    worker process fetches them once (``token`` identifies them)."""
    import ray

    if token not in _RAY_INPUTS:
        _RAY_INPUTS.clear()
        _RAY_INPUTS[token] = ray.get(boxed_inputs[0])
    with torch_threads(threads):
        return guarded(work, job, _RAY_INPUTS[token])


class RayExecutor:
    """Jobs as Ray tasks (``--executor ray``), ``num_cpus``/``num_gpus`` each; completions via ``ray.wait``.

    ``address``: None starts a local Ray runtime for the run (``num_cpus`` = ``workers`` when given);
    ``"auto"`` joins the cluster started with ``ray start``; ``"ray://host:port"`` a remote cluster. A
    runtime this executor started is shut down by :meth:`close`; one that was running is left alone.
    """

    def __init__(
        self,
        work: Work,
        inputs: Any,
        *,
        address: str | None = None,
        num_cpus_per_job: float = 1.0,
        num_gpus_per_job: float = 0.0,
        workers: int | None = None,
        threads: int = 1,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "executor 'ray' needs the ray extra: pip install 'jtask2vec[ray]' (or pip install ray)"
            ) from None
        import uuid

        self.ray = ray
        self.started_runtime = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
            if address is None and workers is not None:
                options["num_cpus"] = workers
            try:
                ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address!r}" if address else "a local Ray runtime"
                raise ConfigError(f"cannot start or join {where}: {one_line(exc)}") from None
            self.started_runtime = True
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        self.slots = max(1, int(cpus // max(num_cpus_per_job, 1e-9))) if num_cpus_per_job > 0 else 1
        self.remote = ray.remote(num_cpus=num_cpus_per_job, num_gpus=num_gpus_per_job, max_retries=0)(
            _run_on_ray
        )
        self.work = work
        self.token = uuid.uuid4().hex
        self.inputs_ref = ray.put(inputs)
        self.threads = threads
        self._pending: dict[Any, Any] = {}

    def submit(self, job: Any) -> None:
        ref = self.remote.remote(self.work, job, self.token, [self.inputs_ref], self.threads)
        self._pending[ref] = job

    def wait(self) -> list[Outcome]:
        ready, _ = self.ray.wait(list(self._pending), num_returns=1)
        outcomes = []
        for ref in ready:
            job = self._pending.pop(ref)
            try:
                outcomes.append(self.ray.get(ref))
            except Exception as exc:  # the worker died (a crash, out of memory) before returning
                errors = self.ray.exceptions
                died = tuple(getattr(errors, n, ()) for n in ("WorkerCrashedError", "OutOfMemoryError"))
                if isinstance(exc, died):  # Ray starts a new worker; the other jobs run on
                    line = f"its Ray worker process died ({type(exc).__name__})"
                    outcomes.append(Outcome(job, line, f"{line}\n{exc}\n"))
                    continue
                cause = getattr(exc, "cause", None) or exc
                outcomes.append(Outcome(job, one_line(cause), str(exc)))
        return outcomes

    def close(self) -> None:
        for ref in self._pending:
            self.ray.cancel(ref, force=True)
        self._pending = {}
        if self.started_runtime:
            self.ray.shutdown()


# ---- from the suite's settings ---------------------------------------------------------------------------
MAX_AUTO_WORKERS = 8


def auto_workers(device: str = "cpu", threads_per_job: int = 1) -> int:
    """``workers: auto``: as many workers as the available CPU cores hold at ``threads_per_job`` threads
    each (at most :data:`MAX_AUTO_WORKERS`); 1 when the jobs run on a GPU (they would share it)."""
    if device != "cpu":
        import torch

        if device.startswith("cuda") or (device == "auto" and torch.cuda.is_available()):
            return 1
    return max(1, min(available_cores() // threads_per_job, MAX_AUTO_WORKERS))


def worker_count(settings: Any, device: str = "cpu") -> int | None:
    """The number of local worker processes the suite's executor settings give (``None`` for Ray: the
    cluster decides)."""
    if settings.kind == "ray":
        return None if settings.workers == "auto" else int(settings.workers)
    if settings.workers == "auto":
        return auto_workers(device, settings.threads_per_job)
    return int(settings.workers)


def make_executor(
    settings: Any, work: Work, inputs: Any, device: str = "cpu", at_most: int | None = None
) -> Executor:
    """The executor of an :class:`jtask2vec.config.ExecutorConfig` (``settings``); a local pool gets no
    more workers than ``at_most`` jobs to run."""
    if settings.kind == "ray":
        return RayExecutor(
            work,
            inputs,
            address=settings.address,
            num_cpus_per_job=settings.num_cpus_per_job,
            num_gpus_per_job=settings.num_gpus_per_job,
            workers=None if settings.workers == "auto" else settings.workers,
            threads=settings.threads_per_job,
        )
    threads = settings.threads_per_job
    workers = worker_count(settings, device) or 1
    workers = min(workers, at_most) if at_most is not None else workers
    if workers == 1:
        return InProcessExecutor(work, inputs, threads)
    from jtask2vec.jobs.worker_pool import ProcessExecutor

    return ProcessExecutor(work, inputs, workers, threads)


def __getattr__(
    name: str,
) -> Any:  # ``from jtask2vec.jobs.executors import ProcessExecutor`` (it lives apart)
    if name == "ProcessExecutor":
        from jtask2vec.jobs.worker_pool import ProcessExecutor

        return ProcessExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
