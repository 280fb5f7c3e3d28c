"""Executors: how the independent jobs of a grid run (here, in-process; later, on a cluster).

An executor needs one method, ``map(fn, items) -> list`` (results in the order of ``items``). Jobs are
idempotent and publish their results atomically in the artifact store, so an executor may run them in
any order, in parallel, or again after a crash: whatever finished is reused, nothing half-written is seen.

Plugging in a distributed engine
--------------------------------
Write a class with the same ``map`` and pass it as ``executor=``. ``fn`` is a picklable callable (a
module-level function or a dataclass instance holding plain data plus the probe) and each item is a small
frozen dataclass, so both ship to workers as they are. With ray, for example::

    class RayExecutor:
        def __init__(self, num_cpus_per_job: float = 1.0):
            import ray
            self.ray = ray
            self.options = {"num_cpus": num_cpus_per_job}

        def map(self, fn, items):
            remote = self.ray.remote(**self.options)(fn)
            return self.ray.get([remote.remote(item) for item in items])

Workers must see the same store root (a shared file system or a synced bucket mount). Use processes (or
remote workers), not several threads: a fine-tune seeds torch's global RNG (dropout), which threads share,
so concurrent threads would make the numbers depend on scheduling. Anything exposing
``concurrent.futures``-style ``map`` (``ProcessPoolExecutor``, ``ray.util.multiprocessing.Pool``,
``dask.distributed.Client.map`` + gather) fits through :class:`PoolExecutor`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn`` on every item and returns the results in the order of ``items``.

    On a failed item it may raise at once (the finished items' artifacts are kept in the store).
    """

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


class LocalExecutor:
    """Sequential, in-process: item after item; the first exception stops the run."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]


class PoolExecutor:
    """Adapter for any pool with ``map(fn, iterable) -> iterable`` (``concurrent.futures`` executors...)."""

    def __init__(self, pool: Any) -> None:
        if not callable(getattr(pool, "map", None)):
            raise TypeError(f"{type(pool).__name__} has no map(fn, items) method")
        self.pool = pool

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        results: Iterable[R] = self.pool.map(fn, list(items))
        return list(results)
