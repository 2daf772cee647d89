"""Rolling-origin backtest of local models, one series at a time (run in worker batches).

For a series of length ``n``, window ``j`` trains on the first ``n - h - j * step`` values
and forecasts the next ``h``; windows whose training part is too short are skipped. A
model's automatic structure search (ETS form, CES season type) runs once, at the oldest
origin; later origins and the final fit re-estimate the parameters of that structure.
That keeps the backtest honest (no origin sees data after it) and makes the final fit
cheap.

A fit that fails at an origin (too short for the model there, or a numerical failure) is
recorded: the naive forecast fills its row so that every table stays complete, and
``SeriesRun.failed`` marks the row, so the engine scores and combines the model only
where it was fitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecast.errors import ModelError
from forecast.methods.base import BaseForecaster
from forecast.methods.registry import SPECS, ModelContext

#: Errors a third-party model may raise on awkward data. They are caught per model and
#: series, recorded, and the naive forecast stands in, so one bad fit never sinks a run.
#: The models' own checks (a series too short for the model at an early origin, a
#: non-finite forecast) raise subclasses of these and are treated the same way.
MODEL_FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError)
#: Subclasses of those that mean the code is wrong, not the data: they propagate (as the
#: adapters' ``PROGRAMMING_ERRORS`` do), so that a bug cannot pass as naive forecasts in a
#: run that exits 0. An ``IndexError`` is not caught at all, for the same reason.
CODE_ERRORS = (NotImplementedError, RecursionError)


def cutoffs(n: int, h: int, n_windows: int, step: int, min_train: int) -> tuple[int, ...]:
    """Training lengths of the backtest windows of a length-``n`` series, oldest first.

    Every window has ``h`` actuals after its cutoff; windows with fewer than ``min_train``
    training values are dropped.
    """
    cands = (n - h - j * step for j in range(n_windows))
    return tuple(sorted(c for c in cands if c >= max(1, min_train)))


@dataclass(frozen=True)
class SeriesTask:
    """One series' backtest-and-forecast job for the local models."""

    index: int
    y: np.ndarray
    periods: pd.PeriodIndex | None
    models: tuple[str, ...]
    context: ModelContext
    cutoffs: tuple[int, ...]


@dataclass
class SeriesRun:
    """Forecasts of every local model for one series.

    ``backtest[name]`` has shape ``(len(cutoffs), h)``; ``final[name]`` shape ``(h,)``;
    ``failed[name]`` (``len(cutoffs)``,) is True where the fit failed and the naive
    forecast fills the row (absent: no failure); ``final_failed`` names the models whose
    fit on the whole series failed (their ``final`` is the naive forecast).
    """

    index: int
    backtest: dict[str, np.ndarray] = field(default_factory=dict)
    final: dict[str, np.ndarray] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    failed: dict[str, np.ndarray] = field(default_factory=dict)
    final_failed: set[str] = field(default_factory=set)


def _naive(y: np.ndarray, h: int) -> np.ndarray:
    return np.full(h, y[-1] if len(y) else 0.0)


def _fit_predict(
    model: BaseForecaster, y: np.ndarray, periods: pd.PeriodIndex | None, h: int
) -> np.ndarray:
    pred = model.fit(y, periods=periods).predict(h).mean
    if pred.shape != (h,) or not np.isfinite(pred).all():
        raise ModelError(f"non-finite or mis-shaped forecast (shape {pred.shape}, {h} expected)")
    return pred


def run_series(task: SeriesTask, h: int) -> SeriesRun:
    """Backtest and final forecasts of ``task.models`` on one series."""
    run = SeriesRun(task.index)
    ctx = task.context
    # The form a model takes from the data (multiplicative Theta, ETS on logs) follows
    # what was known at each origin: a zero after the cutoff must not change that window.
    positive = [bool((task.y[:c] > 0).all()) for c in task.cutoffs]
    for name in task.models:
        bases: dict[bool, BaseForecaster] = {}
        for flag in sorted({*positive, ctx.positive}):
            built = SPECS[name].build(replace(ctx, positive=flag))
            if not isinstance(built, BaseForecaster):
                raise ModelError(f"{name} is a global model; it cannot be backtested per series")
            bases[flag] = built
        # Structure found at the oldest origin, reused later by the same form only.
        structures: dict[bool, dict[str, object]] = {}
        rows, failed = [], []
        for c, flag in zip(task.cutoffs, positive, strict=True):
            base = bases[flag]
            found = structures.get(flag)
            model = base if found is None else clone(base).set_params(**found)
            periods = task.periods[:c] if task.periods is not None else None
            try:
                rows.append(_fit_predict(model, task.y[:c], periods, h))
                failed.append(False)
                if found is None:
                    structures[flag] = model.fitted_structure()
            except CODE_ERRORS:
                raise
            except MODEL_FAILURES as exc:
                run.failures.append(f"{name} at origin {c}: {type(exc).__name__}: {exc}")
                rows.append(_naive(task.y[:c], h))
                failed.append(True)
        run.backtest[name] = np.array(rows).reshape(len(task.cutoffs), h)
        if any(failed):
            run.failed[name] = np.array(failed)
        base, found = bases[ctx.positive], structures.get(ctx.positive)
        model = base if found is None else clone(base).set_params(**found)
        try:
            run.final[name] = _fit_predict(clone(model), task.y, task.periods, h)
        except CODE_ERRORS:
            raise
        except MODEL_FAILURES as exc:
            run.failures.append(f"{name} on full series: {type(exc).__name__}: {exc}")
            run.final[name] = _naive(task.y, h)
            run.final_failed.add(name)
    return run


def run_batch(tasks: list[SeriesTask], h: int) -> list[SeriesRun]:
    """Worker entry point: run every task of a batch (module-level, so it pickles)."""
    return [run_series(t, h) for t in tasks]
