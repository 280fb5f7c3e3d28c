"""Run a job graph on an executor: each job as soon as the jobs it needs are done, not stage by stage.

- Jobs whose artifact is in the store are done before anything starts (a re-run resumes).
- Ready jobs are dispatched in the graph's priority order, at most ``executor.slots`` at a time.
- A failed job is reported in one line (its task, seed and the worker's error); the jobs that do not
  need it run on; the jobs that need it (transitively) are skipped. At the end :class:`JobsFailed`
  lists every failure; the workers' tracebacks go to ``failure_log`` when given.
- A worker process that dies is a failure of the job it was running, named with its exit code or signal;
  the executor starts a new worker and runs the other jobs that were in flight again
  (:mod:`jtask2vec.jobs.worker_pool`; Ray does this itself).
- Results do not depend on the order: every job seeds itself and reads only the artifacts it needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from jtask2vec.errors import Jtask2vecError
from jtask2vec.jobs.executors import Executor, Outcome
from jtask2vec.jobs.graph import STAGES, Job, JobId, job_id
from jtask2vec.store.artifacts import ArtifactStore, atomic_write_text


class JobsProgress(Protocol):
    """What the scheduler tells a progress display (see :class:`jtask2vec.jobs.progress.OverallProgress`)."""

    def plan_jobs(self, stage: str, total: int) -> None: ...

    def job_done(self, stage: str, description: str) -> None: ...

    def log(self, message: str) -> None: ...


class JobsFailed(Jtask2vecError):
    """Some jobs failed; every other job that could run has finished and is in the store."""

    def __init__(self, failures: list[Outcome], skipped: list[Job], log: Path | None = None) -> None:
        self.failures = failures
        self.skipped = skipped
        lines = [f"{len(failures)} job(s) failed:"]
        lines += [f"  {failure_line(f)}" for f in failures]
        if skipped:
            names = ", ".join(job.label for job in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            lines.append(f"  skipped {len(skipped)} job(s) that need them: {names}")
        lines.append(
            "  finished jobs are stored; fix the cause and run again to resume"
            + (f" (tracebacks: {log})" if log is not None else "")
        )
        super().__init__("\n".join(lines))


def failure_line(outcome: Outcome) -> str:
    return f"{outcome.job.label}: {outcome.error}"


def run_jobs(
    jobs: Sequence[Job],
    store: ArtifactStore,
    make_executor: Callable[[int], Executor],
    *,
    progress: JobsProgress | None = None,
    on_done: Callable[[Job], None] | None = None,
    failure_log: Path | None = None,
) -> None:
    """Run every job of ``jobs`` (in priority order) whose artifact is not in ``store``.

    ``make_executor(n)`` is called once, only when ``n`` > 0 jobs have to run. ``on_done(job)`` is called
    in this process for every job that is done, stored before the run or finished by it.
    Raises :class:`JobsFailed` after the run when any job failed.
    """
    planned: dict[JobId, Job] = {}
    for job in jobs:
        planned.setdefault(job_id(job), job)
    done = {jid for jid in planned if store.exists(*jid)}
    for jid in planned:
        for need in planned[jid].needs:
            if need not in planned:
                if not store.exists(*need):
                    raise ValueError(f"{planned[jid].label} needs {need}: neither planned nor stored")
                done.add(need)
    for jid in planned:
        if jid in done and on_done is not None:
            on_done(planned[jid])
    waiting = [job for jid, job in planned.items() if jid not in done]
    if not waiting:
        return
    if progress is not None:
        counts = Counter(job.stage for job in waiting)
        for stage in sorted(counts, key=lambda s: STAGES.index(s) if s in STAGES else len(STAGES)):
            progress.plan_jobs(stage, counts[stage])

    failures: list[Outcome] = []
    blocked: set[JobId] = set()  # failed or skipped
    skipped: list[Job] = []
    in_flight: set[JobId] = set()
    executor = make_executor(len(waiting))
    try:
        while waiting or in_flight:
            still: list[Job] = []
            for job in waiting:
                if any(need in blocked for need in job.needs):
                    blocked.add(job_id(job))
                    skipped.append(job)
                elif len(in_flight) < executor.slots and all(need in done for need in job.needs):
                    executor.submit(job)
                    in_flight.add(job_id(job))
                else:
                    still.append(job)
            if len(still) < len(waiting) and not in_flight:
                waiting = still  # only skips happened: look again before waiting on nothing
                continue
            waiting = still
            if not in_flight:
                raise RuntimeError(f"jobs wait on each other: {', '.join(j.label for j in waiting)}")
            for outcome in executor.wait():
                jid = job_id(outcome.job)
                in_flight.discard(jid)
                if outcome.error is None:
                    done.add(jid)
                    if on_done is not None:
                        on_done(outcome.job)
                else:
                    failures.append(outcome)
                    blocked.add(jid)
                    if progress is not None:
                        progress.log(f"[red]failed[/] {failure_line(outcome)}")
                if progress is not None:
                    progress.job_done(outcome.job.stage, outcome.job.label)
    except KeyboardInterrupt:  # Ctrl-C: finished jobs are in the store; stop the others now
        abort = getattr(executor, "abort", None)
        if abort is not None:
            abort()
        raise
    finally:
        executor.close()
    if not failures and failure_log is not None:
        failure_log.unlink(missing_ok=True)  # the failures of an earlier run are resolved
    if failures:
        if failure_log is not None:
            text = "\n".join(f"== {failure_line(f)}\n{f.details}" for f in failures)
            atomic_write_text(failure_log, text)
        raise JobsFailed(failures, skipped, failure_log)
