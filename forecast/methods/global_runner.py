"""Fit global models in worker processes: the backtest fit and the final fit side by side.

A global model is fitted twice per run: once on data up to the backtest origins and once
on all data. The two fits are independent, so with two or more workers they run at the
same time, each in its own process with OpenMP/BLAS pinned to one thread. That uses the
cores as well as one two-thread fit after another would on an idle machine, and far
better on a busy one, where threads of one fit wait on each other at every tree level.
Results do not depend on the number of workers: every fit is single-threaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from forecast.evaluation.backtest import CODE_ERRORS, MODEL_FAILURES
from forecast.methods.base import GlobalForecaster
from forecast.parallel import single_threaded


@dataclass(frozen=True)
class GlobalJob:
    """One fit of a global model and the forecasts to make with it.

    Parameters
    ----------
    model
        The unfitted estimator (built in the caller, so whatever the caller's registry
        builds is what the worker fits).
    train, train_periods
        Training series and their calendars (None for an integer time index).
    origins, origin_periods
        Series to forecast from the end of (e.g. truncated at backtest origins).
    horizon
        Steps to forecast.
    """

    model: GlobalForecaster
    train: list[np.ndarray]
    train_periods: list[pd.PeriodIndex] | None
    origins: list[np.ndarray]
    origin_periods: list[pd.PeriodIndex] | None
    horizon: int


@dataclass(frozen=True)
class GlobalOutcome:
    """The fitted model and its forecasts, shape (len(origins), horizon), or why the fit
    failed (``model`` and ``forecasts`` are then None)."""

    model: GlobalForecaster | None
    forecasts: np.ndarray | None
    error: str | None = None


def run_global_job(job: GlobalJob) -> GlobalOutcome:
    """Fit a copy of ``job.model`` and forecast (in the calling process).

    Parameters
    ----------
    job : GlobalJob
        What to fit and where to forecast from.

    Returns
    -------
    GlobalOutcome
        The fitted model and its forecasts, or, when the fit or the forecasts fail with
        one of the errors models raise on awkward data, why (the caller falls back).
    """
    model = clone(job.model)
    try:
        model.fit(job.train, periods=job.train_periods)
    except CODE_ERRORS:
        raise
    except MODEL_FAILURES as exc:
        return GlobalOutcome(None, None, f"{type(exc).__name__}: {exc}")
    if not job.origins:
        return GlobalOutcome(model, np.zeros((0, job.horizon)))
    try:
        preds = model.forward(job.origins, periods=job.origin_periods, h=job.horizon)
    except CODE_ERRORS:
        raise
    except MODEL_FAILURES as exc:
        return GlobalOutcome(None, None, f"forecasting: {type(exc).__name__}: {exc}")
    return GlobalOutcome(model, np.stack([p.mean for p in preds]))


def _run_pinned(job: GlobalJob) -> GlobalOutcome:
    return single_threaded(run_global_job, job)


def run_global_jobs(jobs: list[GlobalJob], n_jobs: int) -> list[GlobalOutcome]:
    """Run ``jobs`` in up to ``n_jobs`` single-threaded worker processes, results in order.

    With one worker (or one job) they run in this process, one after another.
    """
    if n_jobs <= 1 or len(jobs) <= 1:
        return [_run_pinned(j) for j in jobs]
    return list(
        Parallel(n_jobs=min(n_jobs, len(jobs)), backend="loky")(
            delayed(_run_pinned)(j) for j in jobs
        )
    )
