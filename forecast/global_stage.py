"""The engine's global-model stage: one model fitted across all series, twice.

A global model (:mod:`forecast.methods.global_gbm`, ``global_knn``, ``global_mlp``) is
fitted once on every series cut back to the oldest backtest origin, which gives its
backtest forecasts, and once on all data, which gives its final forecasts. With two
workers or more the two fits run side by side, else one after the other in this process
(:func:`forecast.methods.global_runner.run_global_jobs`).
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from forecast.evaluation.backtest import SeriesRun
from forecast.evaluation.profiles import SeriesInfo
from forecast.methods.base import GlobalForecaster
from forecast.methods.global_runner import GlobalJob, run_global_jobs
from forecast.methods.registry import SPECS, ModelContext
from forecast.panel import Panel
from forecast.progress import Reporter


def run_global(
    name: str,
    panel: Panel,
    series: list[SeriesInfo],
    plan: dict[int, tuple[tuple[str, ...], tuple[str, ...]]],
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    *,
    horizon: int,
    n_jobs: int,
    seed: int,
    reporter: Reporter,
    notes: list[str],
) -> GlobalForecaster | None:
    """Fit the global model ``name`` once on data up to the oldest backtest origin
    (backtest) and once on all data (final), and store its forecasts in ``runs``.

    When a fit fails (e.g. no series is longer than the horizon + 2), the naive forecast
    stands in for its users, as for local models, and a note says why.

    Parameters
    ----------
    name
        Registry name of a global model (``gbm``, ``knn``, ``mlp``).
    panel, series
        The panel and its cleaned, profiled series.
    plan
        Candidate models and ensembles per series position.
    cuts
        Backtest training lengths per series position.
    runs
        Per-series results of the local backtest; the model's rows are added in place.
    horizon
        Steps to forecast.
    n_jobs
        Workers, already resolved to a count (:func:`forecast.parallel.effective_jobs`;
        a joblib-style -1 here means one process): 2 or more fit the two side by side.
    seed
        The model's seed.
    reporter
        Progress of the two fits.
    notes
        The run's notes; what failed or was left unscored is appended.

    Returns
    -------
    GlobalForecaster or None
        The final model; None when no series uses it or its final fit failed.
    """
    h = horizon
    users = [s for s in series if name in plan[s.index][0]]
    if not users:
        return None
    # Train on regular and short series only: zeros and constants would teach it nothing.
    learners = [s for s in series if s.profile in ("regular", "short")] or users
    spec = SPECS[name]
    ctx = ModelContext(season_length=panel.season_length, horizon=h, seed=seed)

    def periods_of(s: SeriesInfo, n: int) -> pd.PeriodIndex | None:
        p = panel.periods(s.index)
        return None if p is None else p[:n]

    has_periods = panel.freq is not None
    # Backtest fit: every learner truncated as far back from its end as the oldest origin
    # of the regular users (of any user when none is regular), so a series with fewer
    # windows does not feed the later values of its span (the future of the oldest
    # window) into the fit. Series are aligned at their ends: where they end together
    # (one calendar) that is one cutoff date; competition panels such as M3 end at
    # unrelated dates. Short series need only 3 training values and so may have windows
    # older than that cutoff: those are left unscored for this model rather than
    # forecast by a fit that saw their future, or allowed to starve every learner.
    with_cuts = [s for s in users if cuts[s.index]]
    anchor = [s for s in with_cuts if s.profile == "regular"] or with_cuts
    back = max((len(s.y) - cuts[s.index][0] for s in anchor), default=h)
    lag = end_lags(panel)
    train, train_p = [], []
    for s in learners:
        c = len(s.y) - back
        if c >= 3:
            train.append(s.y[:c])
            train_p.append(periods_of(s, c))
    ctx_y, ctx_p, where = [], [], []
    older = 0
    for s in users:
        for j, c in enumerate(cuts[s.index]):
            if len(s.y) - c + lag[s.index] > back:
                older += 1
                continue
            ctx_y.append(s.y[:c])
            ctx_p.append(periods_of(s, c))
            where.append((s.index, j))
    final_jobs = [
        GlobalJob(
            spec.build(ctx),  # type: ignore[arg-type]
            [s.y for s in learners],
            [panel.periods(s.index) for s in learners] if has_periods else None,
            [s.y for s in users],
            [panel.periods(s.index) for s in users] if has_periods else None,
            h,
        )
    ]
    bt_jobs = (
        [
            GlobalJob(
                spec.build(ctx),  # type: ignore[arg-type]
                train,
                train_p if has_periods else None,
                ctx_y,
                ctx_p if has_periods else None,
                h,
            )
        ]
        if train
        else []
    )
    with reporter.stage(f"Global model {spec.label}", 2) as advance:
        # With two or more workers the two fits run side by side, one single-threaded
        # worker each; with one they run one after the other in this process.
        outcomes = run_global_jobs([*bt_jobs, *final_jobs], n_jobs)
        advance(2)
    backtest, final = (outcomes[0], outcomes[1]) if bt_jobs else (None, outcomes[0])
    for s in users:
        n_cuts = len(cuts[s.index])
        runs[s.index].backtest[name] = np.array(
            [np.full(h, s.y[c - 1]) for c in cuts[s.index]]
        ).reshape(n_cuts, h)
        runs[s.index].failed[name] = np.ones(n_cuts, dtype=bool)
    if older:
        notes.append(
            f"{spec.label}: {older} backtest window(s) of short or early-ending series "
            "older than its backtest fit's cutoff left unscored"
        )
    if backtest is not None and backtest.forecasts is not None:
        lost = 0
        for (idx, j), p in zip(where, backtest.forecasts, strict=True):
            if np.isfinite(p).all():
                runs[idx].backtest[name][j] = p
                runs[idx].failed[name][j] = False
            else:
                lost += 1
        if lost:
            notes.append(f"{spec.label}: {lost} backtest forecast(s) not finite; left unscored")
    elif backtest is not None:
        notes.append(f"{spec.label}: backtest fit failed ({backtest.error}); left unscored")
    elif where:
        notes.append(f"{spec.label}: no series long enough to fit at the backtest origin")
    for s in users:
        if not runs[s.index].failed[name].any():
            del runs[s.index].failed[name]
    bad = 0
    for k, s in enumerate(users):
        naive = np.full(h, s.y[-1])
        if final.forecasts is not None and np.isfinite(final.forecasts[k]).all():
            runs[s.index].final[name] = final.forecasts[k]
            continue
        runs[s.index].final[name] = naive
        runs[s.index].final_failed.add(name)
        bad += final.forecasts is not None
    if final.forecasts is None:
        notes.append(f"{spec.label}: final fit failed ({final.error}); naive forecasts stand in")
    elif bad:
        notes.append(f"{spec.label}: {bad} final forecast(s) not finite; naive stands in")
    return final.model


#: Share of series ending on the panel's last period from which the panel is read as one
#: calendar (sales to one date) rather than a collection ending at unrelated dates (M3).
ONE_CALENDAR = 0.5


def end_lags(panel: Panel) -> list[int]:
    """Periods between each series' end and the panel's last period, where the series
    share one calendar; else 0 (series aligned at their ends).

    On one calendar, a series that ends early has backtest windows whose cutoffs precede
    the global models' backtest cut: the other series' values up to that cut are those
    windows' future (a shock common to all would reach them).
    """
    if panel.freq is None or not len(panel):
        return [0] * len(panel)
    ends = np.array(
        [
            cast(pd.Period, p).ordinal + len(v) - 1
            for p, v in zip(panel.starts, panel.values, strict=True)
        ]
    )
    last = int(ends.max())
    if np.mean(ends == last) < ONE_CALENDAR:
        return [0] * len(panel)
    return [int(last - e) for e in ends]


__all__ = ["ONE_CALENDAR", "end_lags", "run_global"]
