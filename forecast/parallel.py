"""Batched parallel execution: local joblib processes by default, a Dask cluster on request.

Work is split into a few contiguous batches per worker (not one task per series), each
batch runs with BLAS pinned to one thread, and results come back in input order, so the
output never depends on the number of workers.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, TypeVar

from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_limits

from forecast.errors import ConfigError
from forecast.progress import NULL, Reporter

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")

#: Batches per worker: enough to balance uneven series and show smooth progress, few
#: enough that scheduling overhead stays negligible.
BATCHES_PER_WORKER = 16


def effective_jobs(n_jobs: int) -> int:
    """Number of worker processes for an ``n_jobs`` setting, joblib-style.

    Parameters
    ----------
    n_jobs : int
        Workers; -1 means all cores, -2 all but one, and so on.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ConfigError
        When ``n_jobs`` is 0.
    """
    cores = os.cpu_count() or 1
    if n_jobs == 0:
        raise ConfigError(
            "The 'jobs' setting (--jobs, FORECAST_JOBS) must not be 0; use 1 for a single process, "
            "-1 for every core."
        )
    return max(1, cores + 1 + n_jobs) if n_jobs < 0 else n_jobs


def split_batches(items: Sequence[T], n_batches: int) -> list[Sequence[T]]:
    """Split ``items`` into contiguous, near-equal, non-empty slices.

    Parameters
    ----------
    items : sequence
        The work items.
    n_batches : int
        Most slices wanted; fewer when there are fewer items (values below 1 count as 1).

    Returns
    -------
    list of sequence
        Slices of ``items`` (same type) that concatenate back to ``items`` in order;
        their lengths differ by at most one. Empty when ``items`` is.
    """
    n = len(items)
    n_batches = max(1, min(n_batches, n))
    bounds = [round(i * n / n_batches) for i in range(n_batches + 1)]
    return [items[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def single_threaded(func: Callable[[A], R], arg: A) -> R:
    """``func(arg)`` with BLAS and OpenMP pools pinned to one thread.

    Workers run side by side, so threads inside each would only contend for the cores
    (and results would depend on the thread count).

    Parameters
    ----------
    func : callable
        Module-level function, so that it pickles to worker processes.
    arg : object
        Its one argument (a batch of series, a global model's fit job).

    Returns
    -------
    object
        What ``func`` returns.
    """
    with threadpool_limits(limits=1):
        return func(arg)


@contextmanager
def _dask_client(scheduler: str | None) -> Iterator[None]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError(
            "The dask backend needs the optional extra: pip install 'cnnt-forecast[dask]'."
        ) from None
    with Client(scheduler) as client, parallel_config(backend="dask", wait_for_workers_timeout=60):
        yield client


def run_batched(
    func: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    *,
    n_jobs: int = 1,
    backend: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    reporter: Reporter = NULL,
    stage: str = "working",
    batches_per_worker: int = BATCHES_PER_WORKER,
) -> list[R]:
    """Apply ``func`` to contiguous batches of ``items`` and concatenate results in order.

    Parameters
    ----------
    func
        Takes a batch (a slice of ``items``) and returns one result per item. Must be
        picklable (a module-level function or a ``functools.partial`` of one).
    items
        The work items, e.g. series.
    n_jobs
        Worker processes for the local backend; -1 means all cores.
    backend, scheduler
        ``"local"`` (joblib loky processes) or ``"dask"`` (a dask.distributed scheduler
        address such as ``tcp://10.0.0.5:8786``).
    reporter, stage
        Progress is reported per finished item under the ``stage`` name.
    batches_per_worker
        Batches per worker process (``n_jobs * batches_per_worker`` in all, fewer when
        there are fewer items): more balance uneven items and give smoother progress,
        fewer cost less scheduling. Batches do not change the results, only their timing.

    Returns
    -------
    list
        ``func`` results for every item, in the order of ``items``.
    """
    if len(items) == 0:
        return []
    jobs = effective_jobs(n_jobs)
    if backend == "local" and jobs == 1:
        out: list[R] = []
        with reporter.stage(stage, len(items)) as advance:
            for batch in split_batches(items, max(1, len(items) // 50)):
                out.extend(single_threaded(func, batch))
                advance(len(batch))
        return out
    batches = split_batches(items, jobs * batches_per_worker)
    tasks = (delayed(single_threaded)(func, b) for b in batches)
    results: list[R] = []
    with reporter.stage(stage, len(items)) as advance:
        if backend == "dask":
            with _dask_client(scheduler):
                gen = Parallel(n_jobs=-1, return_as="generator")(tasks)
                for res in gen:
                    results.extend(res)
                    advance(len(res))
        else:
            gen = Parallel(n_jobs=jobs, return_as="generator", backend="loky")(tasks)
            for res in gen:
                results.extend(res)
                advance(len(res))
    return results
