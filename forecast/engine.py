"""The forecasting engine: profile series, backtest candidates, choose, forecast, calibrate.

``run_engine(panel, config)`` is the one entry point. For every series it

1. cleans the values (interpolates gaps inside the span, records it) and assigns a
   *profile*: ``zero``, ``constant``, ``tiny``, ``intermittent``, ``short`` or ``regular``;
2. backtests the profile's candidate models on rolling origins (local models in worker
   batches; the global model once at the oldest origin), plus ensembles of them;
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
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.evaluation import conformal, metrics
from forecast.evaluation.backtest import (
    SeriesRun,
    SeriesTask,
    cutoffs,
    run_batch,
)
from forecast.evaluation.selection import (
    WindowSet,
    choose_per_series,
    choose_pooled,
    combine,
    ensemble_members,
    score_table,
)
from forecast.methods.global_gbm import GlobalGBM
from forecast.methods.global_runner import GlobalJob, run_global_jobs
from forecast.methods.registry import (
    ENSEMBLE_MEMBERS,
    ENSEMBLES,
    INTERMITTENT_MODELS,
    SHORT_MODELS,
    SPECS,
    ModelContext,
    resolve_models,
)
from forecast.panel import Panel
from forecast.parallel import effective_jobs, run_batched
from forecast.progress import NULL, Reporter

log = logging.getLogger(__name__)

Profile = Literal["zero", "constant", "tiny", "intermittent", "short", "regular"]
PROFILES: tuple[Profile, ...] = ("regular", "short", "intermittent", "tiny", "constant", "zero")

#: Share of zero values from which a series is treated as intermittent.
INTERMITTENT_ZEROS = 0.3
#: Panels at least this large get one backtest window under ``n_windows=None`` (auto):
#: pooled over hundreds of series, one window calibrates well and costs least.
AUTO_ONE_WINDOW = 500


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
        ensembles ``ens_median`` ...). Other profiles use their fixed fallback sets.
    n_windows
        Backtest windows; None chooses 1 for panels of 500+ series, else 3.
    step
        Periods between backtest origins; None means ``horizon``.
    selection
        ``pooled`` (one choice per profile) or ``per_series`` (shrunk towards pooled).
    shrinkage
        Prior weight, in windows, of the pooled score in ``per_series`` mode.
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
    selection: Literal["pooled", "per_series"] = "pooled"
    shrinkage: float = 4.0
    metric: Literal["mase", "rmsse", "smape"] = "mase"
    n_jobs: int = 1
    backend: Literal["local", "dask"] = "local"
    scheduler: str | None = None
    seed: int = 0
    cum_periods: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ConfigError(f"The horizon must be a positive integer; got {self.horizon}.")
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
        if self.selection not in ("pooled", "per_series"):
            raise ConfigError(f"Unknown selection {self.selection!r}; use pooled or per_series.")
        names = resolve_models(self.models)
        if not any(n in SPECS for n in names):
            raise ConfigError(
                "The candidate models must include at least one model besides ensembles; "
                f"got {', '.join(names)}."
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
        of the series' profile.
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
    """

    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    backtest_models: pd.DataFrame
    selection: pd.DataFrame
    leaderboard: pd.DataFrame
    cum_quantiles: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    fitted: dict[str, GlobalGBM] = field(default_factory=dict)


# --------------------------------------------------------------------------- profiling
@dataclass(frozen=True)
class _Series:
    index: int
    y: np.ndarray
    profile: Profile
    positive: bool
    nonnegative: bool
    filled: int


def _clean(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Linear interpolation of NaN inside the span (the panel already trimmed the ends)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values.astype(float), 0
    x = np.arange(len(values))
    out = values.astype(float).copy()
    out[bad] = np.interp(x[bad], x[~bad], values[~bad])
    return out, int(bad.sum())


def _profile(y: np.ndarray, m: int) -> Profile:
    if np.all(y == 0):
        return "zero"
    if np.all(y == y[0]):
        return "constant"
    if len(y) < 4:
        return "tiny"
    # Croston-type methods model positive demand sizes: negative values are not demand.
    if np.mean(y == 0) >= INTERMITTENT_ZEROS and (y >= 0).all():
        return "intermittent"
    if len(y) < max(2 * m, 8):
        return "short"
    return "regular"


def _season_pos_scale(y: np.ndarray, m: int) -> tuple[float, float]:
    """Absolute and squared seasonal-naive scale, with fallbacks so they are never 0
    unless the series is exactly 0."""
    s1 = metrics.seasonal_scale(y, m)
    s2 = metrics.seasonal_scale(y, m, power=2)
    if not np.isfinite(s1) or s1 <= 0:
        s1 = metrics.seasonal_scale(y, 1)
        s2 = metrics.seasonal_scale(y, 1, power=2)
    if not np.isfinite(s1) or s1 <= 0:
        level = float(np.mean(np.abs(y))) if len(y) else 0.0
        s1, s2 = 0.1 * level, (0.1 * level) ** 2
    return float(s1), float(s2)


# --------------------------------------------------------------------------- candidates
def _candidates(
    profile: Profile, regular_models: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(model names, ensemble names) for a profile."""
    if profile == "regular":
        models = tuple(n for n in regular_models if n in SPECS)
        ens = tuple(n for n in regular_models if n in ENSEMBLES)
        if not ens and "default" in regular_models:
            ens = ENSEMBLES
        return models, ens
    if profile == "short":
        return SHORT_MODELS, ("ens_median", "ens_mean")
    if profile == "intermittent":
        return INTERMITTENT_MODELS, ()
    return ("naive",), ()


def _resolve_regular(models: tuple[str, ...]) -> tuple[str, ...]:
    names = resolve_models(models)
    explicit = tuple(models)
    if any(str(m).strip().lower() == "default" for m in explicit):
        names = tuple(dict.fromkeys((*names, *ENSEMBLES)))
    return names


def _without_calendar_models(names: tuple[str, ...], notes: list[str]) -> tuple[str, ...]:
    """Leave out models that read the calendar (Tết regressors) when ``ds`` is an integer
    index: every fit would fail and the naive forecast would stand in under their name."""
    ctx = ModelContext(season_length=1, horizon=1)
    needs = [n for n in names if n in SPECS and SPECS[n].build(ctx).tags.needs_periods]
    for n in needs:
        notes.append(
            f"{SPECS[n].label} left out: it needs dates in ds (this input has an integer "
            "time index)."
        )
    kept = tuple(n for n in names if n not in needs)
    if needs and not any(n in SPECS for n in kept):
        raise ConfigError(
            f"{', '.join(SPECS[n].label for n in needs)} needs dates in ds (this input has "
            "an integer time index) and there is no other candidate model; add one, e.g. "
            "--models theta,ets."
        )
    return kept


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
    notes: list[str] = []
    regular_models = _resolve_regular(config.models)
    if panel.freq is None:
        regular_models = _without_calendar_models(regular_models, notes)
    n_windows = config.n_windows or (1 if len(panel) >= AUTO_ONE_WINDOW else 3)
    step = config.step or h

    series: list[_Series] = []
    for i, raw in enumerate(panel.values):
        y, filled = _clean(np.asarray(raw, dtype=float))
        if filled:
            notes.append(f"{panel.ids[i]}: {filled} missing period(s) interpolated")
        series.append(
            _Series(i, y, _profile(y, m), bool((y > 0).all()), bool((y >= 0).all()), filled)
        )

    # Candidate sets and backtest origins per series.
    plan: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    cuts: dict[int, tuple[int, ...]] = {}
    tasks: list[SeriesTask] = []
    for s in series:
        models, ens = _candidates(s.profile, regular_models)
        plan[s.index] = (models, ens)
        m_eff = m if s.profile == "regular" else 1
        min_train = max(2 * m, 8) if s.profile == "regular" else 3
        cuts[s.index] = cutoffs(len(s.y), h, n_windows, step, min_train)
        local = tuple(n for n in models if not SPECS[n].is_global)
        ctx = ModelContext(season_length=m_eff, horizon=h, seed=config.seed, positive=s.positive)
        tasks.append(SeriesTask(s.index, s.y, panel.periods(s.index), local, ctx, cuts[s.index]))

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
    fitted: dict[str, GlobalGBM] = {}
    for name in global_names:
        model = _run_global(name, panel, series, plan, cuts, runs, config, reporter, notes)
        if model is not None:
            fitted[name] = model

    result = _assemble(panel, series, plan, cuts, runs, config, notes, n_windows)
    return dataclasses.replace(result, fitted=fitted)


def _seed(root: int, label: str) -> int:
    """A stable per-purpose seed derived from the root seed (no global RNG)."""
    return int(np.random.SeedSequence([root, zlib.crc32(label.encode())]).generate_state(1)[0])


def _run_global(
    name: str,
    panel: Panel,
    series: list[_Series],
    plan: dict[int, tuple[tuple[str, ...], tuple[str, ...]]],
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    config: EngineConfig,
    reporter: Reporter,
    notes: list[str],
) -> GlobalGBM | None:
    """Fit the global model once on data up to each series' oldest origin (backtest) and
    once on all data (final), and store its forecasts in ``runs``; return the final model
    (None when it is not used or could not be fitted).

    When a fit fails (e.g. no series is longer than the horizon + 2), the naive forecast
    stands in for its users, as for local models, and a note says why.
    """
    h = config.horizon
    users = [s for s in series if name in plan[s.index][0]]
    if not users:
        return None
    # Train on regular and short series only: zeros and constants would teach it nothing.
    learners = [s for s in series if s.profile in ("regular", "short")] or users
    jobs = effective_jobs(config.n_jobs) if config.backend == "local" else 1
    spec = SPECS[name]
    ctx = ModelContext(season_length=panel.season_length, horizon=h, seed=_seed(config.seed, name))

    def periods_of(s: _Series, n: int) -> pd.PeriodIndex | None:
        p = panel.periods(s.index)
        return None if p is None else p[:n]

    has_periods = panel.freq is not None
    # Backtest fit: each learner truncated at its oldest origin (or h before its end).
    train, train_p = [], []
    for s in learners:
        c = cuts[s.index][0] if cuts[s.index] else len(s.y) - h
        if c >= 3:
            train.append(s.y[:c])
            train_p.append(periods_of(s, c))
    ctx_y, ctx_p, where = [], [], []
    for s in users:
        for j, c in enumerate(cuts[s.index]):
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
        # The two fits run side by side, one single-threaded worker each.
        outcomes = run_global_jobs([*bt_jobs, *final_jobs], jobs)
        advance(2)
    backtest, final = (outcomes[0], outcomes[1]) if bt_jobs else (None, outcomes[0])
    for s in users:
        runs[s.index].backtest[name] = np.array(
            [np.full(h, s.y[c - 1]) for c in cuts[s.index]]
        ).reshape(len(cuts[s.index]), h)
    if backtest is not None and backtest.forecasts is not None:
        for (idx, j), p in zip(where, backtest.forecasts, strict=True):
            runs[idx].backtest[name][j] = p
    elif backtest is not None:
        notes.append(
            f"{spec.label}: backtest fit failed ({backtest.error}); naive forecasts stand in"
        )
    for k, s in enumerate(users):
        runs[s.index].final[name] = (
            final.forecasts[k] if final.forecasts is not None else np.full(h, s.y[-1])
        )
    if final.forecasts is None:
        notes.append(f"{spec.label}: final fit failed ({final.error}); naive forecasts stand in")
    return final.model if isinstance(final.model, GlobalGBM) else None


def _assemble(
    panel: Panel,
    series: list[_Series],
    plan: dict[int, tuple[tuple[str, ...], tuple[str, ...]]],
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    config: EngineConfig,
    notes: list[str],
    n_windows: int,
) -> EngineResult:
    h, m, levels = config.horizon, panel.season_length, tuple(sorted(config.levels))
    n = len(series)
    chosen: list[str] = [""] * n
    reasons: list[str] = [""] * n
    yhat = np.zeros((n, h))
    scales = np.zeros(n)
    leader_rows: list[pd.DataFrame] = []
    group_errors: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # profile -> (scaled err, series)
    bt_frames: list[pd.DataFrame] = []
    bt_models_frames: list[pd.DataFrame] = []

    for profile in PROFILES:
        members_idx = [s.index for s in series if s.profile == profile]
        if not members_idx:
            continue
        models, ens = plan[members_idx[0]]
        # Under absolute error every forecast between 0 and the order size scores alike on
        # intermittent demand; squared error separates Croston, SBA, TSB and the mean.
        metric = "rmsse" if profile == "intermittent" and config.metric == "mase" else config.metric
        pos = {idx: k for k, idx in enumerate(members_idx)}
        # Stack backtest windows of the group.
        rows_series, actual, scale, scale2 = [], [], [], []
        fc: dict[str, list[np.ndarray]] = {name: [] for name in models}
        for idx in members_idx:
            y = series[idx].y
            for j, c in enumerate(cuts[idx]):
                rows_series.append(pos[idx])
                actual.append(y[c : c + h])
                s1, s2 = _season_pos_scale(y[:c], m if profile == "regular" else 1)
                scale.append(s1)
                scale2.append(s2)
                for name in models:
                    fc[name].append(runs[idx].backtest[name][j])
        ws = WindowSet(
            np.asarray(rows_series, dtype=int),
            np.asarray(actual, dtype=float).reshape(-1, h),
            np.asarray(scale, dtype=float),
            np.asarray(scale2, dtype=float),
            {name: np.asarray(v, dtype=float).reshape(-1, h) for name, v in fc.items()},
        )
        finals = {name: np.stack([runs[idx].final[name] for idx in members_idx]) for name in models}
        scores = score_table(ws)
        members = [name for name in models if name in ENSEMBLE_MEMBERS]
        for ens_name, ens_members in ensemble_members(scores, members, metric).items():
            if ens_name not in ens:
                continue
            rule = "median" if "median" in ens_name else "mean"
            ws.forecasts[ens_name] = combine([ws.forecasts[k] for k in ens_members], rule)
            finals[ens_name] = combine([finals[k] for k in ens_members], rule)
        scores = score_table(ws)
        labels = {k: _label(k, ws, members, scores, metric) for k in ws.forecasts}

        # Choose.
        names = list(ws.forecasts)
        if len(names) == 1:
            picks = [names[0]] * len(members_idx)
            why = [f"{profile} series: {_PROFILE_REASON[profile]}"] * len(members_idx)
        elif ws.n_rows == 0 or scores[metric].isna().all():
            # No window, or no finite score (MASE of a series that is all zeros in sample).
            default = _no_window_default(names)
            picks = [default] * len(members_idx)
            cause = "no backtest window fits" if ws.n_rows == 0 else "no finite backtest score"
            why = [f"{profile} series: {cause}; default {labels[default]}"] * len(members_idx)
        elif config.selection == "per_series":
            picks, why = choose_per_series(ws, names, metric, len(members_idx), config.shrinkage)
        else:
            best, why1 = choose_pooled(scores, metric)
            picks = [best] * len(members_idx)
            why = [f"{profile} series: {why1}"] * len(members_idx)
        for k, idx in enumerate(members_idx):
            chosen[idx] = labels[picks[k]]
            reasons[idx] = why[k]
            yhat[idx] = finals[picks[k]][k]
            scales[idx] = _season_pos_scale(series[idx].y, m if profile == "regular" else 1)[0]

        # Errors of the chosen forecasts, for calibration.
        pick_rows = np.array([picks[r] for r in ws.series]) if ws.n_rows else np.array([])
        chosen_fc = np.zeros_like(ws.actual)
        for name in set(pick_rows.tolist()):
            sel = pick_rows == name
            chosen_fc[sel] = ws.forecasts[name][sel]
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = (ws.actual - chosen_fc) / ws.scale[:, None]
        scaled[~np.isfinite(scaled)] = 0.0 if profile in ("zero", "constant") else np.nan
        group_errors[profile] = (scaled, ws.series)

        scores["profile"] = profile
        scores["label"] = scores["model"].map(labels)
        scores["selected"] = scores["model"].isin(set(picks))
        leader_rows.append(scores)

        # Backtest frames.
        if ws.n_rows:
            bt_cut = [c for idx in members_idx for c in cuts[idx]]
            bt_ids = [panel.ids[idx] for idx in members_idx for _ in cuts[idx]]
            bt_idx = [idx for idx in members_idx for _ in cuts[idx]]
            ds = np.concatenate(
                [
                    np.asarray(panel.labels(i)[c : c + h])
                    for i, c in zip(bt_idx, bt_cut, strict=True)
                ]
            )
            cut_lab = np.repeat(
                [np.asarray(panel.labels(i))[c - 1] for i, c in zip(bt_idx, bt_cut, strict=True)], h
            )
            base = pd.DataFrame(
                {
                    "unique_id": np.repeat(bt_ids, h),
                    "cutoff": cut_lab,
                    "ds": ds,
                    "y": ws.actual.reshape(-1),
                }
            )
            sel_frame = base.assign(yhat=chosen_fc.reshape(-1), scale=np.repeat(ws.scale, h))
            for lv, (off_lo, off_hi) in _crossfit_offsets(scaled, ws.series, levels).items():
                sel_frame[f"lo_{lv}"] = (chosen_fc + off_lo * ws.scale[:, None]).reshape(-1)
                sel_frame[f"hi_{lv}"] = (chosen_fc + off_hi * ws.scale[:, None]).reshape(-1)
            bt_frames.append(sel_frame.assign(_order=np.repeat(bt_idx, h)))
            wide = base.assign(scale=np.repeat(ws.scale, h))
            for name in ws.forecasts:
                wide[labels[name]] = ws.forecasts[name].reshape(-1)
            bt_models_frames.append(wide.assign(_order=np.repeat(bt_idx, h)))

    nonneg = np.array([s.nonnegative for s in series])
    lo, hi, coverage_rows = _calibrate_all(series, group_errors, yhat, scales, nonneg, levels)
    yhat_out = np.where(nonneg[:, None], np.maximum(yhat, 0.0), yhat)
    for lv in levels:  # keep the point inside after clipping
        lo[lv] = np.minimum(lo[lv], yhat_out)
        hi[lv] = np.maximum(hi[lv], yhat_out)

    forecasts = pd.DataFrame(
        {
            "unique_id": np.repeat(panel.ids, h),
            "ds": np.concatenate([np.asarray(panel.future(i, h)) for i in range(n)]),
            "yhat": yhat_out.reshape(-1),
        }
    )
    for lv in levels:
        forecasts[f"lo_{lv}"] = lo[lv].reshape(-1)
        forecasts[f"hi_{lv}"] = hi[lv].reshape(-1)
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
    leaderboard = pd.concat(leader_rows, ignore_index=True) if leader_rows else pd.DataFrame()
    if len(leaderboard):
        # Cross-fitted coverage describes the chosen forecasts only.
        leaderboard = leaderboard.merge(coverage_rows, on="profile", how="left")
        extra = [c for c in coverage_rows.columns if c != "profile"]
        leaderboard.loc[~leaderboard["selected"], extra] = np.nan
        cols = ["profile", "label", "model", "n_rows", "mase", "rmsse", "smape", "bias", "selected"]
        cols += [c for c in leaderboard.columns if c.startswith(("coverage_", "msis_"))]
        leaderboard = leaderboard[cols].sort_values(["profile", "mase", "model"], kind="stable")
        leaderboard = leaderboard.reset_index(drop=True)

    cum = _cum_quantiles(panel, series, group_errors, yhat_out, scales, nonneg, config)
    bt_cols = ["unique_id", "cutoff", "ds", "y", "yhat", "scale"]
    bt_cols += [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]
    backtest = _concat_ordered(bt_frames, bt_cols)
    backtest_models = _concat_ordered(bt_models_frames, None)
    return EngineResult(
        forecasts, backtest, backtest_models, selection, leaderboard, cum, tuple(notes)
    )


_PROFILE_REASON = {
    "zero": "every value is 0, forecast 0",
    "constant": "every value is the same, forecast that value",
    "tiny": "fewer than 4 observations, last value carried forward",
    "intermittent": "intermittent-demand candidates only",
    "short": "too short for seasonal models",
    "regular": "single candidate",
}


def _no_window_default(names: list[str]) -> str:
    for pref in ("ens_median", "theta", "naive"):
        if pref in names:
            return pref
    return names[0]


def _label(name: str, ws: WindowSet, members: list[str], scores: pd.DataFrame, metric: str) -> str:
    """Display label: ``AutoETS`` for models, ``Median(AutoETS, ...)`` for ensembles."""
    if name in SPECS:
        return SPECS[name].label
    chosen = ensemble_members(scores, members, metric).get(name, [])
    rule = "Median" if "median" in name else "Mean"
    return f"{rule}({', '.join(SPECS[k].label for k in chosen)})"


def _concat_ordered(frames: list[pd.DataFrame], cols: list[str] | None) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=cols or ["unique_id", "cutoff", "ds", "y"])
    out = pd.concat(frames, ignore_index=True).sort_values(
        ["_order", "cutoff", "ds"], kind="stable"
    )
    out = out.drop(columns="_order").reset_index(drop=True)
    return out[cols] if cols else out


def _fold(uid_index: np.ndarray) -> np.ndarray:
    """Deterministic 2-fold split of series for cross-fitted coverage."""
    return uid_index % 2


def _calibrate_all(
    series: list[_Series],
    group_errors: dict[str, tuple[np.ndarray, np.ndarray]],
    yhat: np.ndarray,
    scales: np.ndarray,
    nonneg: np.ndarray,
    levels: tuple[int, ...],
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], pd.DataFrame]:
    """Intervals per series from its profile's pooled errors (or all errors when the
    profile has too few), and cross-fitted coverage/MSIS of the selected forecasts."""
    h = yhat.shape[1]
    all_err = [e for e, _ in group_errors.values() if e.size]
    pooled_all = np.vstack(all_err) if all_err else np.zeros((0, h))
    lo = {lv: np.zeros_like(yhat) for lv in levels}
    hi = {lv: np.zeros_like(yhat) for lv in levels}
    cov_rows = []
    for profile, (err, rows) in group_errors.items():
        idx = np.array([s.index for s in series if s.profile == profile])
        finite = err[np.isfinite(err).all(axis=1)] if err.size else err
        source = err if len(finite) >= conformal.MIN_POOL else pooled_all
        cal = conformal.calibrate(source, levels)
        lower, upper = conformal.intervals(yhat[idx], scales[idx], cal, nonnegative=False)
        for lv in levels:
            lo[lv][idx] = np.where(nonneg[idx, None], np.maximum(lower[lv], 0.0), lower[lv])
            hi[lv][idx] = upper[lv]
        cov_rows.append(
            {"profile": profile, **_crossfit(err, _crossfit_offsets(err, rows, levels))}
        )
    return lo, hi, pd.DataFrame(cov_rows)


def _crossfit_offsets(
    err: np.ndarray, rows: np.ndarray, levels: tuple[int, ...]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Scaled interval offsets for every backtest row, calibrated on the *other* fold of
    series (NaN where that fold has too few errors).

    Honest out-of-sample intervals for the backtest: calibrating and scoring on the same
    errors would report the nominal coverage by construction.
    """
    folds = _fold(rows)
    ok = np.isfinite(err).all(axis=1) if err.size else np.zeros(0, bool)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for lv in levels:
        lo = np.full(err.shape, np.nan)
        hi = np.full(err.shape, np.nan)
        for f in (0, 1):
            train = err[(folds != f) & ok]
            if len(train) < 10:
                continue
            cal = conformal.calibrate(train, (lv,))
            lo[folds == f] = np.minimum(cal.lo[lv], 0.0)
            hi[folds == f] = np.maximum(cal.hi[lv], 0.0)
        out[lv] = (lo, hi)
    return out


def _crossfit(
    err: np.ndarray, offsets: dict[int, tuple[np.ndarray, np.ndarray]]
) -> dict[str, float]:
    """Coverage and MSIS (scaled) of the cross-fitted backtest intervals."""
    out: dict[str, float] = {}
    for lv, (lo, hi) in offsets.items():
        valid = np.isfinite(lo) & np.isfinite(err)
        a = 1 - lv / 100
        inside = (err >= lo) & (err <= hi)
        score = (hi - lo) + (2 / a) * ((lo - err) * (err < lo) + (err - hi) * (err > hi))
        out[f"coverage_{lv}"] = float(inside[valid].mean()) if valid.any() else np.nan
        out[f"msis_{lv}"] = float(score[valid].mean()) if valid.any() else np.nan
    return out


def _cum_quantiles(
    panel: Panel,
    series: list[_Series],
    group_errors: dict[str, tuple[np.ndarray, np.ndarray]],
    yhat: np.ndarray,
    scales: np.ndarray,
    nonneg: np.ndarray,
    config: EngineConfig,
) -> pd.DataFrame:
    """Quantiles of k-period sums of the forecasts, from cumulative backtest errors."""
    h = config.horizon
    per_year = {"M": 12, "Q": 4, "Y": 1, "W": 52, "D": 365}.get(
        panel.freq or "", panel.season_length
    )
    ks = config.cum_periods or tuple(
        sorted({max(1, round(per_year * f)) for f in (0.25, 0.5, 1.0)})
    )
    ks = tuple(k for k in ks if k <= h)
    if not ks:
        return pd.DataFrame(columns=["unique_id", "k", "q", "value"])
    all_err = [e for e, _ in group_errors.values() if e.size]
    pooled_all = np.vstack(all_err) if all_err else np.zeros((0, h))
    qs = np.asarray(conformal.CUM_QUANTILES)
    frames = []
    for profile, (err, _rows) in group_errors.items():
        idx = np.array([s.index for s in series if s.profile == profile])
        finite = err[np.isfinite(err).all(axis=1)] if err.size else err
        source = err if len(finite) >= conformal.MIN_POOL else pooled_all
        cq = conformal.cumulative_quantiles(source, ks)
        for k in ks:
            sums = yhat[idx, :k].sum(axis=1)
            vals = sums[:, None] + cq[k][None, :] * scales[idx, None]
            vals = np.where(nonneg[idx, None], np.maximum(vals, 0.0), vals)
            vals = np.maximum.accumulate(vals, axis=1)  # monotone in q
            frames.append(
                pd.DataFrame(
                    {
                        "unique_id": np.repeat([panel.ids[i] for i in idx], len(qs)),
                        "k": k,
                        "q": np.tile(qs, len(idx)),
                        "value": vals.reshape(-1),
                        "_order": np.repeat(idx, len(qs)),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True).sort_values(["_order", "k", "q"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def forecast_frame(
    df: pd.DataFrame,
    config: EngineConfig,
    *,
    freq: str | None = None,
    season_length: int | None = None,
    source: str = "input",
    reporter: Reporter = NULL,
) -> EngineResult:
    """Convenience: run the engine on a long ``unique_id, ds, y`` frame."""
    panel = Panel.from_long(df, freq=freq, season_length=season_length, source=source)
    return run_engine(panel, config, reporter=reporter)


__all__: Sequence[str] = ("EngineConfig", "EngineResult", "forecast_frame", "run_engine")
