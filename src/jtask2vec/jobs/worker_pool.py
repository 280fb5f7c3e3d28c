"""Local worker processes (``--workers N``) that survive the death of one of them and die with their parent.

- **A worker that dies** (killed, out of memory, a segfault, ``os._exit``) breaks a
  ``concurrent.futures`` pool: every job in flight fails with ``BrokenProcessPool``. Each worker reports
  the job it starts (a queue to this process), so the job that was running in the dead worker is known:
  it alone fails, as one :class:`Outcome` naming the worker's exit code or signal. A new pool starts and
  the innocent jobs that were in flight run again there (each at most :data:`MAX_REQUEUES` times).
- **Workers die with their parent**, whatever killed it (``kill -9`` included): on Linux each worker asks
  the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog
  thread exits the worker once its parent pid has changed.
- **Ctrl-C reaches this process only**: workers are spawned with SIGINT blocked (no traceback from each),
  and the scheduler :meth:`~ProcessExecutor.abort` s them; their unfinished jobs leave nothing in the store.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from jtask2vec.errors import ConfigError
from jtask2vec.jobs.executors import Outcome, Work, available_cores, guarded, one_line, torch_threads

MAX_REQUEUES = 3  # an innocent job sent back this often after pool crashes fails with the crash
WATCHDOG_SECONDS = 1.0
PR_SET_PDEATHSIG = 1

_WORKER_INPUTS: Any = None
_WORKER_THREADS = 1
_STARTED: Any = None  # queue of (worker pid, job number) to the parent


def die_with_parent(parent: int) -> None:
    """Make this process end when process ``parent`` (its parent) ends, however it ends."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent:  # the parent died before the request above: nobody would tell us
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="jtask2vec-parent-watchdog", daemon=True).start()


def _init_worker(inputs: Any, threads: int, started: Any, parent: int) -> None:
    global _WORKER_INPUTS, _WORKER_THREADS, _STARTED
    die_with_parent(parent)
    _WORKER_INPUTS, _WORKER_THREADS, _STARTED = inputs, threads, started


def _run_in_worker(work: Work, job: Any, number: int) -> Outcome:
    _STARTED.put((os.getpid(), number))
    with torch_threads(_WORKER_THREADS):
        return guarded(work, job, _WORKER_INPUTS)


def exit_description(code: int | None) -> str:
    """``exit code 137`` or ``killed by SIGKILL`` (a negative ``multiprocessing`` exit code)."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ctrl-C held back until the block is done (then raised): a worker process being spawned is
    registered with the pool before this process may stop, and it keeps SIGINT blocked (inherited), so
    Ctrl-C never interrupts a worker; this process stops them (:meth:`ProcessExecutor.abort`)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    caught: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)
    if caught:
        raise KeyboardInterrupt


class ProcessExecutor:
    """``workers`` spawned processes, each with ``threads`` torch threads (default
    ``max(1, cores // workers)``); the inputs are sent once to each worker. See the module's docstring for
    what happens when a worker dies."""

    def __init__(self, work: Work, inputs: Any, workers: int, threads: int | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}")
        self.work, self.inputs, self.slots = work, inputs, workers
        self.threads = threads if threads is not None else max(1, available_cores() // workers)
        self._context = multiprocessing.get_context("spawn")
        self._pending: dict[Future, tuple[int, Any]] = {}  # future -> (job number, job)
        self._numbers = 0
        self._requeued: dict[int, int] = {}
        self._running: dict[int, int] = {}  # worker pid -> job number it started last
        self._start_pool()

    def _start_pool(self) -> None:
        self._started = self._context.SimpleQueue()
        self.pool = ProcessPoolExecutor(
            max_workers=self.slots,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(self.inputs, self.threads, self._started, os.getpid()),
        )
        self._running = {}

    def submit(self, job: Any) -> None:
        self._numbers += 1
        self._send(self._numbers, job)

    def _send(self, number: int, job: Any) -> None:
        with _sigint_deferred():
            self._pending[self.pool.submit(_run_in_worker, self.work, job, number)] = (number, job)

    def abort(self) -> None:
        """Stop now (Ctrl-C): cancel what has not started and end the worker processes."""
        for future in self._pending:
            future.cancel()
        for process in list((getattr(self.pool, "_processes", None) or {}).values()):
            process.terminate()

    def _drain_started(self) -> None:
        """Read the workers' "job started" notes (a pipe: left unread, it would fill and block them)."""
        while not self._started.empty():
            pid, number = self._started.get()
            self._running[pid] = number

    def wait(self) -> list[Outcome]:
        done, _ = wait_futures(list(self._pending), return_when=FIRST_COMPLETED)
        self._drain_started()
        outcomes, broken = [], False
        for future in done:
            number, job = self._pending.pop(future)
            try:
                outcomes.append(future.result())
            except BrokenProcessPool:
                broken = True
                self._pending[future] = (number, job)  # sorted out below, with the jobs still in flight
            except Exception as exc:  # the job could not be sent (unpicklable)
                outcomes.append(Outcome(job, one_line(exc), "".join(traceback.format_exception(exc))))
        if broken:
            outcomes += self._recover()
        return outcomes

    def _recover(self) -> list[Outcome]:
        """The pool broke: fail the jobs that ran in dead workers, start a new pool, resend the others."""
        processes = dict(getattr(self.pool, "_processes", None) or {})
        self.pool.shutdown(wait=True, cancel_futures=True)  # joins every worker: their exit codes are set
        self._drain_started()
        self._started.close()
        dead = {
            pid: p.exitcode
            for pid, p in processes.items()
            if p.exitcode not in (0, -signal.SIGTERM)  # the pool terminates the survivors
        }
        culprits = {self._running[pid]: (pid, code) for pid, code in dead.items() if pid in self._running}
        pending, self._pending = self._pending, {}
        self._start_pool()
        outcomes: list[Outcome] = []
        for future, (number, job) in sorted(pending.items(), key=lambda item: item[1][0]):
            if future.done() and not future.cancelled() and future.exception() is None:
                outcomes.append(future.result())  # finished just before the crash
            elif number in culprits:
                pid, code = culprits[number]
                line = f"its worker process died ({exit_description(code)})"
                details = f"worker process {pid} died ({exit_description(code)}) while running this job\n"
                outcomes.append(Outcome(job, line, details))
            elif self._requeued.get(number, 0) >= MAX_REQUEUES:
                what = ", ".join(f"pid {p}: {exit_description(c)}" for p, c in dead.items()) or "unknown"
                line = f"the worker pool broke {MAX_REQUEUES + 1} times while this job ran ({what})"
                outcomes.append(Outcome(job, line, line + "\n"))
            else:  # innocent: run it again in the new pool
                self._requeued[number] = self._requeued.get(number, 0) + 1
                self._send(number, job)
        return outcomes

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._pending = {}
