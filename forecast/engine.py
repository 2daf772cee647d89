"""The forecasting engine: profile series, backtest candidates, choose, forecast, calibrate.

``run_engine(panel, config)`` is the one entry point. For every series it

1. cleans the values (interpolates gaps inside the span, records it) and assigns a
   *profile*: ``zero``, ``constant``, ``tiny``, ``intermittent``, ``short`` or ``regular``;
2. backtests the profile's candidate models on rolling origins (local models in worker
   batches; a global model fitted once, on data up to the oldest origin), plus ensembles
   of them;
3. chooses the candidate with the lowest pooled backtest error within the profile
   (or per series with shrinkage), and records why;
4. forecasts ``horizon`` steps with the chosen candidate;
5. calibrates 80%/95% (configurable) intervals from the pooled backtest errors of the
   chosen candidate (split conformal), and quantiles of k-period sums.

Outputs are plain DataFrames in :class:`EngineResult`, ordered by series then time, and
independent of the number of workers.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from forecast.config import Settings
from forecast.errors import ConfigError
from forecast.evaluation import calibration, profiles
from forecast.evaluation.backtest import SeriesRun, SeriesTask, cutoffs, run_batch
from forecast.evaluation.profiles import PROFILES, SeriesInfo
from forecast.global_stage import end_lags, run_global
from forecast.methods.base import GlobalForecaster
from forecast.methods.registry import SPECS, ModelContext, resolve_models
from forecast.panel import Panel
from forecast.parallel import effective_jobs, run_batched
from forecast.profile_choice import Plan, _Group, _group, _metric_for, _selection_groups
from forecast.progress import NULL, Reporter

#: Panels at least this large get one backtest window under ``n_windows=None`` (auto):
#: pooled over hundreds of series, one window calibrates well and costs least.
AUTO_ONE_WINDOW = 500


def configured_models(settings: Settings) -> tuple[str, ...]:
    """The ``models`` setting, checked; an unknown name's error says where the setting was
    made (the config file or ``FORECAST_MODELS``).

    Raises
    ------
    ConfigError
        A name no model or ensemble has.
    """
    try:
        resolve_models(settings.models)
    except ConfigError as exc:
        origin = settings.origins.get("models", "the default")
        raise ConfigError(f"{exc} The names come from {origin}.") from None
    return settings.models


@dataclass(frozen=True)
class EngineConfig:
    """Settings of one engine run.

    Parameters
    ----------
    horizon
        Periods to forecast.
    levels
        Interval levels in percent.
    models
        Candidate models for regular series (names from the registry, ``default``,
        ensembles ``ens_median`` ...). Other profiles use their fixed fallback sets,
        narrowed to the named models as :func:`profiles.candidates` says.
    n_windows
        Backtest windows; None chooses 1 for panels of 500+ series, else 3.
    step
        Periods between backtest origins; None means ``horizon``.
    selection
        ``auto`` (the default: one choice per profile, unless choosing per series, shrunk
        towards it, does better on held-out backtest windows; see
        :func:`selection.validate_per_series`), ``pooled`` (one choice per profile) or
        ``per_series`` (shrunk towards pooled by ``shrinkage``).
    shrinkage
        Prior weight, in windows, of the pooled relative errors in ``per_series`` mode
        (``auto`` validates its own values; see :func:`selection.choose_per_series`).
    metric
        Backtest error that drives the choice: ``mase``, ``rmsse`` or ``smape``.
    n_jobs, backend, scheduler
        Parallel execution (see :mod:`forecast.parallel`).
    seed
        Root seed; the global model's seed derives from it.
    cum_periods
        Lengths k of the k-period sums to calibrate (default: 3, 6, 12 months worth).
    """

    horizon: int
    levels: tuple[int, ...] = (80, 95)
    models: tuple[str, ...] = ("default",)
    n_windows: int | None = None
    step: int | None = None
    selection: Literal["pooled", "per_series", "auto"] = "auto"
    shrinkage: float = 4.0
    metric: Literal["mase", "rmsse", "smape"] = "mase"
    n_jobs: int = 1
    backend: Literal["local", "dask"] = "local"
    scheduler: str | None = None
    seed: int = 0
    cum_periods: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.horizon, bool) or not isinstance(self.horizon, int | np.integer):
            raise ConfigError(f"The horizon must be a positive integer; got {self.horizon!r}.")
        if self.horizon < 1:
            raise ConfigError(f"The horizon must be a positive integer; got {self.horizon}.")
        if self.cum_periods is not None and any(
            isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1
            for k in self.cum_periods
        ):
            raise ConfigError(
                "Every cumulative period length must be a positive integer; "
                f"got {list(self.cum_periods)}."
            )
        if not 0 <= self.shrinkage < np.inf:
            raise ConfigError(f"The shrinkage must be a finite 0 or more; got {self.shrinkage}.")
        if any(not 0 < lv < 100 for lv in self.levels):
            raise ConfigError(
                "Every interval level must be between 0 and 100 (exclusive); "
                f"got {list(self.levels)}."
            )
        if self.n_windows is not None and self.n_windows < 1:
            raise ConfigError(f"Backtest windows must be at least 1; got {self.n_windows}.")
        if self.step is not None and self.step < 1:
            raise ConfigError(f"The backtest step must be at least 1; got {self.step}.")
        if self.metric not in ("mase", "rmsse", "smape"):
            raise ConfigError(
                f"Unknown selection metric {self.metric!r}; use mase, rmsse or smape."
            )
        if self.selection not in ("pooled", "per_series", "auto"):
            raise ConfigError(
                f"Unknown selection {self.selection!r}; use pooled, per_series or auto."
            )
        names = resolve_models(self.models)
        if not any(n in SPECS for n in names):
            raise ConfigError(
                "The candidate models must include at least one model besides ensembles; "
                f"got {', '.join(names) or 'none'}."
            )


@dataclass(frozen=True)
class EngineResult:
    """What the engine produced.

    Attributes
    ----------
    forecasts
        ``unique_id, ds, yhat, lo_<L>, hi_<L>... , model`` for every series and step.
    backtest
        ``unique_id, cutoff, ds, y, yhat, scale, lo_<L>, hi_<L>...`` of the chosen
        candidate on every window (``cutoff`` is the last training period; ``scale`` the
        seasonal-naive error of the training part; bounds cross-fitted: calibrated on the
        other half of the series).
    backtest_models
        ``unique_id, cutoff, ds, y, scale`` and one column per candidate (display label)
        of the series' profile; candidates left out of a profile's choice (not fitted on
        most windows) are absent, and the notes say why. Where a model could not be
        fitted at an origin its column is NaN (an ensemble's, where none of its members
        was).
    selection
        ``unique_id, profile, model, reason, n_windows, n_obs``.
    leaderboard
        Pooled backtest scores: ``profile, model, n_rows, mase, rmsse, smape, bias,
        selected`` plus cross-fitted ``coverage_<L>`` and ``msis_<L>`` for selected rows.
    cum_quantiles
        ``unique_id, k, q, value``: quantile ``q`` of the sum of the first ``k`` forecasts.
    notes
        Things worth knowing (interpolated gaps, model failures).
    fitted
        Final fitted global models by name (e.g. ``gbm``), for the run registry.
    backtest_final, backtest_folds
        None unless some series adopted per-series choice (``auto`` selection), whose
        backtest rows then hold, each, the choice made without its window. Then
        ``backtest_final`` (``unique_id, cutoff, ds, y, yhat``) holds every series' final
        choice on every window, the errors of the forecasts as issued; and
        ``backtest_folds`` (``unique_id, fold, cutoff, ds, y, yhat``), for each held-out
        window (``fold``, its cutoff), the choice made without it on the series' other
        windows: the errors that choice is known by when that window is forecast.
        Points clipped at 0 as in ``backtest``.
    closed
        ``unique_id, ds`` of the forecasts set to 0 because the series never sold in
        that season position (seasonal zeros); reconciliation keeps them at 0.
    """

    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    backtest_models: pd.DataFrame
    selection: pd.DataFrame
    leaderboard: pd.DataFrame
    cum_quantiles: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    fitted: dict[str, GlobalForecaster] = field(default_factory=dict)
    backtest_final: pd.DataFrame | None = None
    backtest_folds: pd.DataFrame | None = None
    closed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["unique_id", "ds"]))


# --------------------------------------------------------------------------- engine
def run_engine(panel: Panel, config: EngineConfig, *, reporter: Reporter = NULL) -> EngineResult:
    """Backtest, choose, forecast and calibrate every series of ``panel``.

    Parameters
    ----------
    panel
        Regular series (see :class:`forecast.panel.Panel`).
    config
        Engine settings.
    reporter
        Progress of the long stages.

    Returns
    -------
    EngineResult
    """
    h, m = config.horizon, panel.season_length
    input_notes = list(panel.notes)
    panel, trimmed = profiles.trim_leading_zeros(panel)
    series, notes = profiles.prepare(panel)
    notes[:0] = input_notes + trimmed
    longest = max((len(v) for v in panel.values), default=0)
    if h > longest:
        notes.append(
            f"the horizon ({h}) is longer than the longest series ({longest} values): "
            "forecasts further ahead than the data reaches back rest on little evidence"
        )
    regular_models = profiles.resolve_regular(config.models)
    named = profiles.named_models(config.models)
    if panel.freq is None:
        regular_models = profiles.without_calendar_models(regular_models, notes)
    n_windows = config.n_windows or (1 if len(panel) >= AUTO_ONE_WINDOW else 3)
    step = config.step or h

    # Candidate sets and backtest origins per series.
    plan: Plan = {}
    cuts: dict[int, tuple[int, ...]] = {}
    tasks: list[SeriesTask] = []
    for s in series:
        models, ens = profiles.candidates(s.profile, regular_models, named)
        plan[s.index] = (models, ens)
        cuts[s.index] = cutoffs(len(s.y), h, n_windows, step, min_train(s.profile, m))
        local = tuple(n for n in models if not SPECS[n].is_global)
        ctx = ModelContext(
            season_length=s.season(m), horizon=h, seed=config.seed, positive=s.positive
        )
        tasks.append(SeriesTask(s.index, s.y, panel.periods(s.index), local, ctx, cuts[s.index]))
    notes.extend(_window_notes(cuts, series, n_windows, h, m, asked=config.n_windows is not None))
    for profile in dict.fromkeys(s.profile for s in series):
        if (note := profiles.fixed_set_note(profile, named)) is not None:
            notes.append(note)

    runs: list[SeriesRun] = run_batched(
        functools.partial(run_batch, h=h),
        tasks,
        n_jobs=config.n_jobs,
        backend=config.backend,
        scheduler=config.scheduler,
        reporter=reporter,
        stage="Backtesting local models",
    )
    for r in runs:
        notes.extend(f"{panel.ids[r.index]}: {msg}" for msg in r.failures)

    global_names = sorted({n for ms, _ in plan.values() for n in ms if SPECS[n].is_global})
    fitted: dict[str, GlobalForecaster] = {}
    for name in global_names:
        jobs = effective_jobs(config.n_jobs) if config.backend == "local" else 1
        model = run_global(
            name,
            panel,
            series,
            plan,
            cuts,
            runs,
            horizon=config.horizon,
            n_jobs=jobs,
            seed=_seed(config.seed, name),
            reporter=reporter,
            notes=notes,
        )
        if model is not None:
            fitted[name] = model

    result = _assemble(panel, series, plan, cuts, runs, config, notes)
    return dataclasses.replace(result, fitted=fitted)


def _seed(root: int, label: str) -> int:
    """A stable per-purpose seed derived from the root seed (no global RNG)."""
    return int(np.random.SeedSequence([root, zlib.crc32(label.encode())]).generate_state(1)[0])


def min_train(profile: str, m: int) -> int:
    """Fewest values a backtest window of a ``profile`` series trains on: two seasons (and
    8) for ``regular`` series, whose models are seasonal; 3 for the others."""
    return max(2 * m, 8) if profile == "regular" else 3


def window_fix(series: Sequence[SeriesInfo], h: int, m: int, *, options: bool = False) -> str:
    """What would give some series a backtest window at horizon ``h``: a shorter horizon
    when one fits some series (the longest that does), else more history (or, for a
    series just long enough for seasonal models, a shorter season). ``options`` names the
    command-line options instead of the settings.
    """
    if not series:
        return "add history"
    # A horizon only a constant or all-zero series can be scored at backtests nothing.
    informative = [s for s in series if s.profile not in ("zero", "constant")] or series
    room = max(len(s.y) - min_train(s.profile, m) for s in informative)
    if 1 <= room < h:
        return f"use {'--horizon' if options else 'a horizon of'} {room} or less, or add history"
    longest = max(informative, key=lambda s: len(s.y))
    need = min_train(longest.profile, m)
    season = "--season-length" if options else "a season length"
    shorter = f", or {season} under {m}" if longest.profile == "regular" and m > 4 else ""
    return (
        f"add history: a window of the longest series ({len(longest.y)} values) needs "
        f"{need} values to train on and {h} to score, {need + h} in all{shorter}"
    )


def panel_window_fix(panel: Panel, h: int, *, options: bool = False) -> str:
    """:func:`window_fix` for the series of ``panel`` as the engine sees them (leading
    zeros trimmed, profiled)."""
    series, _ = profiles.prepare(profiles.trim_leading_zeros(panel)[0])
    return window_fix(series, h, panel.season_length, options=options)


def _window_notes(
    cuts: dict[int, tuple[int, ...]],
    series: list[SeriesInfo],
    n_windows: int,
    h: int,
    m: int,
    *,
    asked: bool,
) -> list[str]:
    """Say when the series allow fewer backtest windows than were asked for, or none."""
    most = max((len(c) for c in cuts.values()), default=0)
    longest = max((len(s.y) for s in series), default=0)
    if most == 0 and series:
        return [
            f"no backtest window: at horizon {h} no series is long enough (the longest has "
            f"{longest} values; a window needs {h} to score after at least "
            f"{max(2 * m, 8)} to train, 3 for short series), so models are chosen by "
            f"default rules and intervals are a random walk's; to backtest, "
            + window_fix(series, h, m)
        ]
    if asked and most < n_windows:
        return [
            f"backtest windows: {n_windows} asked for, the longest series allow {most} "
            "(older windows would train on too few values)"
        ]
    return []


def _window_rows(g: _Group, panel: Panel, cuts: dict[int, tuple[int, ...]], h: int) -> pd.DataFrame:
    """One row per backtest row of ``g`` and step: ``unique_id, cutoff, ds, y, scale`` and
    ``_order`` (the series' panel index, for :func:`_concat_ordered`)."""
    ws = g.windows
    idx = [i for i in g.members for _ in cuts[i]]
    cut = [c for i in g.members for c in cuts[i]]
    ds = np.concatenate(
        [np.asarray(panel.labels(i)[c : c + h]) for i, c in zip(idx, cut, strict=True)]
    )
    cut_label = [np.asarray(panel.labels(i))[c - 1] for i, c in zip(idx, cut, strict=True)]
    return pd.DataFrame(
        {
            "unique_id": np.repeat([panel.ids[i] for i in idx], h),
            "cutoff": np.repeat(cut_label, h),
            "ds": ds,
            "y": ws.actual.reshape(-1),
            "scale": np.repeat(ws.scale, h),
            "_order": np.repeat(idx, h),
        }
    )


def _backtest_frames(
    g: _Group,
    base: pd.DataFrame,
    point: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chosen candidate's backtest as issued (``point`` and cross-fitted ``bounds``,
    see :func:`calibration.crossfit_bounds`) and every candidate's, on ``base``'s rows
    (:func:`_window_rows`)."""
    selected = base.assign(yhat=point.reshape(-1))
    for lv, (lo, hi) in bounds.items():
        selected[f"lo_{lv}"] = lo.reshape(-1)
        selected[f"hi_{lv}"] = hi.reshape(-1)
    # NaN where a candidate was not fitted: its naive stand-in is not the model's forecast.
    wide = base.assign(
        **{
            g.labels[name]: np.where(g.unfitted[name][:, None], np.nan, f).reshape(-1)
            for name, f in g.windows.forecasts.items()
        }
    )
    return selected, wide


def _choice_frames(
    g: _Group, base: pd.DataFrame, cuts: dict[int, tuple[int, ...]], nonneg: np.ndarray, h: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The final choice's backtest and, per held-out window, the other windows' backtest
    of the choice made without it (see :attr:`EngineResult.backtest_folds`), on
    ``base``'s rows (:func:`_window_rows`); points clipped at 0 where ``nonneg`` (per
    row), as in the backtest as issued."""
    ws = g.windows
    window = np.array([j for i in g.members for j in range(len(cuts[i]))], dtype=int)
    cut_label = base["cutoff"].to_numpy()[::h]

    def clipped(points: np.ndarray) -> np.ndarray:
        return np.where(nonneg[:, None], np.maximum(points, 0.0), points).reshape(-1)

    final = base.assign(yhat=clipped(g.final_backtest()[0]))
    folds = []
    for j in np.unique(window).tolist():
        # The held-out window's cutoff is the series' own (series may end apart).
        held = pd.Series(cut_label[window == j], index=ws.series[window == j])
        rows = np.repeat(window != j, h) & np.repeat(np.isin(ws.series, held.index), h)
        fold_of = np.repeat(held.reindex(ws.series).to_numpy(), h)
        part = base.assign(fold=fold_of, yhat=clipped(g.fold_backtest(j)[0]))[rows]
        folds.append(part)
    return final, pd.concat(folds, ignore_index=True) if folds else base.iloc[:0]


def _assemble(
    panel: Panel,
    series: list[SeriesInfo],
    plan: Plan,
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    config: EngineConfig,
    notes: list[str],
) -> EngineResult:
    h, m, levels = config.horizon, panel.season_length, tuple(sorted(config.levels))
    n = len(series)
    chosen, reasons = [""] * n, [""] * n
    yhat, scales = np.zeros((n, h)), np.zeros(n)
    members: dict[str, np.ndarray] = {}
    group_errors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    score_rows: list[dict[str, object]] = []
    nan_scores = {f"{k}_{lv}": np.nan for lv in levels for k in ("coverage", "msis")}
    leader, bt_frames, bt_model_frames = [], [], []
    # (group, its backtest rows, their non-negativity): the choice frames, built only if some
    # group adopted per-series choice (on large panels they are as big as the backtest).
    scored_groups: list[tuple[_Group, pd.DataFrame, np.ndarray]] = []
    lags = end_lags(panel)
    for profile in PROFILES:
        in_profile = [s.index for s in series if s.profile == profile]
        if not in_profile:
            continue
        for group, idx in _selection_groups(profile, in_profile, plan, cuts, runs, lags, notes):
            key = group or profile
            g = _group(profile, idx, series, plan, cuts, runs, config, m, notes, group)
            for k, i in enumerate(idx):
                pick = g.picks[k]
                # Labelled as issued: the naive stand-in as such, an ensemble by its members.
                chosen[i] = g.series_label(k)
                reasons[i] = g.reasons[k]
                yhat[i] = g.finals[pick][k]
                scales[i] = profiles.scales(series[i].y, series[i].season(m))[0]
            ws = g.windows
            bt, stand_in = g.chosen_backtest()
            with np.errstate(divide="ignore", invalid="ignore"):
                scaled = (ws.actual - bt) / ws.scale[:, None]
            scaled[~np.isfinite(scaled)] = 0.0 if profile in ("zero", "constant") else np.nan
            scaled[stand_in] = np.nan  # the naive stand-in's errors are not the model's
            members[key] = np.asarray(idx)
            group_errors[key] = (scaled, ws.series)
            leader.append(g.scores)
            row: dict[str, object] = {"profile": key, **nan_scores}
            if ws.n_rows:
                # Backtest bounds built as the issued ones (point clipped at 0 for
                # non-negative series, bounds around it), so the table and the leaderboard's
                # coverage and MSIS describe the intervals users get.
                off = calibration.crossfit_offsets(scaled, ws.series, levels)
                top = max(levels)
                dom = calibration.dominant_series(scaled, ws.series, top)
                if dom is not None and profile not in ("zero", "constant"):
                    notes.append(
                        f"{key} series: the {top}% intervals of all {len(idx)} are "
                        f"{dom[1]:.1f}x as wide as without the backtest errors of "
                        f"{panel.ids[idx[dom[0]]]!r} alone; if its history has a one-off "
                        "break (a level shift, a unit change), correct it or forecast that "
                        "series in a file of its own"
                    )
                if profile not in ("zero", "constant") and all(
                    np.isnan(lo_).all() for lo_, _ in off.values()
                ):
                    notes.append(
                        f"{key} series: backtest coverage and MSIS left empty, too few "
                        f"windows ({ws.n_rows}) to calibrate each half of the series on the "
                        f"other (each half needs {calibration.MIN_CROSSFIT})"
                    )
                # Clipped as at each origin: by the training part's sign, not the whole series'.
                rows_nonneg = np.array(
                    [bool((series[i].y[:c] >= 0).all()) for i in idx for c in cuts[i]]
                )
                point, bounds = calibration.crossfit_bounds(bt, ws.scale, off, rows_nonneg)
                usable = np.isfinite(scaled) & np.isfinite(ws.actual)
                row.update(calibration.bound_scores(ws.actual, bounds, ws.scale, usable))
                rows_frame = _window_rows(g, panel, cuts, h)
                sel, wide = _backtest_frames(g, rows_frame, point, bounds)
                bt_frames.append(sel)
                bt_model_frames.append(wide)
                scored_groups.append((g, rows_frame, rows_nonneg))
            score_rows.append(row)

    nonneg = np.array([s.nonnegative for s in series])
    # Clipped before the bounds are built around it: bounds around a point below 0 would
    # be clipped to [0, 0], shown as certain where a declining series is least so.
    yhat = np.where(nonneg[:, None], np.maximum(yhat, 0.0), yhat)
    # Months a seasonal product never sold in are forecast 0, not a smoothing model's
    # small carry-over; the interval keeps its upper bound (a first sale there is possible).
    closed = np.array([profiles.closed_positions(s.y, m, h) for s in series]).reshape(n, h)
    yhat = np.where(closed, 0.0, yhat)
    lo, hi = calibration.panel_intervals(members, group_errors, yhat, scales, nonneg, levels)
    coverage = pd.DataFrame(score_rows, columns=["profile", *nan_scores])
    forecasts = pd.DataFrame(
        {
            "unique_id": np.repeat(panel.ids, h),
            "ds": np.concatenate([np.asarray(panel.future(i, h)) for i in range(n)]),
            "yhat": yhat.reshape(-1),
        }
    )
    for lv in levels:  # keep the point inside after clipping
        forecasts[f"lo_{lv}"] = np.minimum(lo[lv], yhat).reshape(-1)
        forecasts[f"hi_{lv}"] = np.maximum(hi[lv], yhat).reshape(-1)
    forecasts["model"] = np.repeat(chosen, h)
    selection = pd.DataFrame(
        {
            "unique_id": list(panel.ids),
            "profile": [s.profile for s in series],
            "model": chosen,
            "reason": reasons,
            "n_windows": [len(cuts[s.index]) for s in series],
            "n_obs": [len(s.y) for s in series],
        }
    )
    ks = calibration.cumulative_periods(panel.freq, m, h, config.cum_periods)
    cum = calibration.cumulative_frame(panel.ids, members, group_errors, yhat, scales, nonneg, ks)
    bt_cols = ["unique_id", "cutoff", "ds", "y", "yhat", "scale"]
    bt_cols += [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]
    choice: tuple[pd.DataFrame, pd.DataFrame] | None = None
    if any(g.fold_picks is not None for g, _, _ in scored_groups):
        frames = [
            _choice_frames(g, rows, cuts, nonneg_rows, h) for g, rows, nonneg_rows in scored_groups
        ]
        choice = (
            _concat_ordered([f for f, _ in frames], bt_cols[:5]),
            _concat_ordered([f for _, f in frames], ["unique_id", "fold", *bt_cols[1:5]], ["fold"]),
        )
    return EngineResult(
        forecasts,
        _concat_ordered(bt_frames, bt_cols),
        _concat_ordered(bt_model_frames, None),
        selection,
        _leaderboard(leader, coverage, config.metric),
        cum,
        tuple(notes),
        backtest_final=choice[0] if choice else None,
        backtest_folds=choice[1] if choice else None,
        closed=forecasts.loc[closed.reshape(-1), ["unique_id", "ds"]].reset_index(drop=True),
    )


def _leaderboard(rows: list[pd.DataFrame], coverage: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Pooled scores of every candidate per profile, best first by the error the profile's
    choice was made on (see :func:`_metric_for`); cross-fitted coverage on chosen rows."""
    if not rows:
        return pd.DataFrame()
    lb = pd.concat(rows, ignore_index=True).merge(coverage, on="profile", how="left")
    extra = [c for c in coverage.columns if c != "profile"]
    lb.loc[~lb["selected"], extra] = np.nan
    cols = ["profile", "label", "model", "n_rows", "mase", "rmsse", "smape", "bias", "selected"]
    cols += [c for c in lb.columns if c.startswith(("coverage_", "msis_"))]
    key = [
        lb.at[i, _metric_for(str(p), metric)] for i, p in zip(lb.index, lb["profile"], strict=True)
    ]
    lb = lb[cols].assign(_key=key).sort_values(["profile", "_key", "model"], kind="stable")
    lb = lb.drop(columns="_key")
    return lb.reset_index(drop=True)


def _concat_ordered(
    frames: list[pd.DataFrame], cols: list[str] | None, first: Sequence[str] = ()
) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=cols or ["unique_id", "cutoff", "ds", "y"])
    out = pd.concat(frames, ignore_index=True).sort_values(
        ["_order", *first, "cutoff", "ds"], kind="stable"
    )
    out = out.drop(columns="_order").reset_index(drop=True)
    return out[cols] if cols else out


def forecast_frame(
    df: pd.DataFrame,
    config: EngineConfig,
    *,
    freq: str | None = None,
    season_length: int | None = None,
    source: str = "input",
    reporter: Reporter = NULL,
) -> EngineResult:
    """Run the engine on a long ``unique_id, ds, y`` frame (what ``predict-csv`` does).

    Parameters
    ----------
    df
        One row per series and period: ``unique_id``, ``ds`` (dates or an integer index)
        and ``y``.
    config
        Engine settings.
    freq
        Pandas frequency of ``ds`` (``MS``, ``QS``...); inferred when None.
    season_length
        Periods per season; from the frequency when None.
    source
        Name of the input in messages and notes (a file name).
    reporter
        Progress of the long stages.

    Returns
    -------
    EngineResult

    Raises
    ------
    DataError
        The frame breaks the long-table contract (see :meth:`Panel.from_long`).
    ConfigError
        Unknown or unusable models in ``config``.
    """
    panel = Panel.from_long(df, freq=freq, season_length=season_length, source=source)
    return run_engine(panel, config, reporter=reporter)


__all__: Sequence[str] = ("EngineConfig", "EngineResult", "forecast_frame", "run_engine")
