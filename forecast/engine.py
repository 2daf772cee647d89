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
from forecast.evaluation.profiles import PROFILE_REASON, PROFILES, SeriesInfo
from forecast.evaluation.selection import (
    WindowSet,
    choose_per_series,
    choose_pooled,
    ensemble_members,
    score_table,
    validate_per_series,
)
from forecast.global_stage import end_lags, run_global
from forecast.methods.base import GlobalForecaster
from forecast.methods.registry import ENSEMBLE_MEMBERS, SPECS, ModelContext, resolve_models
from forecast.panel import Panel
from forecast.parallel import effective_jobs, run_batched
from forecast.progress import NULL, Reporter

#: Panels at least this large get one backtest window under ``n_windows=None`` (auto):
#: pooled over hundreds of series, one window calibrates well and costs least.
AUTO_ONE_WINDOW = 500

Plan = dict[int, tuple[tuple[str, ...], tuple[str, ...]]]


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


#: A candidate not fitted on more than this share of a profile's backtest windows (too
#: short at the early origins, numerical failures) is left out of its choice: its score
#: would mostly be that of the naive stand-in.
MAX_UNFITTED = 0.5


@dataclass
class _Group:
    """One profile's series, backtest windows and the choice made for them."""

    profile: str
    members: list[int]
    windows: WindowSet
    unfitted: dict[str, np.ndarray]
    finals: dict[str, np.ndarray]
    final_lost: dict[str, np.ndarray]
    labels: dict[str, str]
    scores: pd.DataFrame
    picks: list[str]
    reasons: list[str]
    member_lists: dict[str, list[str]]
    #: The candidate of each backtest row when it differs from its series' final choice:
    #: per-series choice made without that row's window (``auto`` selection), so the
    #: errors that calibrate the intervals are those of a choice that had not seen them.
    row_picks: list[str] | None = None
    #: Per held-out window index, each series' candidate chosen without it (``auto``
    #: adopting per-series choice); None when every choice is the series' final one.
    fold_picks: dict[int, list[str]] | None = None

    def series_label(self, k: int) -> str:
        """Label of series ``k``'s forecast as issued: ``Naive`` for the naive stand-in,
        an ensemble without the members whose fit on the full series failed."""
        pick = self.picks[k]
        if self.final_lost[pick][k]:
            return "Naive"
        members = self.member_lists.get(pick, [])
        kept = [name for name in members if not self.final_lost[name][k]]
        if len(kept) == len(members):
            return self.labels[pick]
        rule = "Median" if "median" in pick else "Mean"
        return f"{rule}({', '.join(SPECS[name].label for name in kept)})"

    def chosen_backtest(self) -> tuple[np.ndarray, np.ndarray]:
        """Backtest forecasts of each row's chosen candidate, shape (R, h), and the rows
        where it was not fitted (naive stand-in), shape (R,)."""
        if self.row_picks is not None:
            return self._rows_of(np.array(self.row_picks))
        return self.final_backtest()

    def final_backtest(self) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`chosen_backtest`, for every row the series' final choice."""
        return self._rows_of(self._series_picks(self.picks))

    def fold_backtest(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`chosen_backtest`, for every row the choice made without window
        ``j`` (the final choice where there is no such choice)."""
        picks = self.fold_picks.get(j, self.picks) if self.fold_picks else self.picks
        return self._rows_of(self._series_picks(picks))

    def _series_picks(self, picks: list[str]) -> np.ndarray:
        ws = self.windows
        return np.array([picks[r] for r in ws.series]) if ws.n_rows else np.array([])

    def _rows_of(self, pick_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ws = self.windows
        out = np.zeros_like(ws.actual)
        stand_in = np.zeros(ws.n_rows, dtype=bool)
        for name in set(pick_rows.tolist()):
            sel = pick_rows == name
            out[sel] = ws.forecasts[name][sel]
            stand_in[sel] = self.unfitted[name][sel]
        return out, stand_in


def _combine_fitted(
    forecasts: dict[str, np.ndarray], unfitted: dict[str, np.ndarray], chosen: list[str], rule: str
) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise combination of the members fitted on each row (of all of them, stand-ins
    included, where none was), and the rows where none was.

    ``forecasts[k]`` has shape (R, h) and ``unfitted[k]`` shape (R,): backtest windows or,
    for the final forecasts, series.
    """
    stack = np.stack([forecasts[k] for k in chosen])
    mask: np.ndarray = np.stack([unfitted[k] for k in chosen])  # (k, R)
    none: np.ndarray = np.all(mask, axis=0)
    masked = np.where(mask[:, :, None] & ~none[None, :, None], np.nan, stack)
    out: np.ndarray = (
        np.nanmedian(masked, axis=0) if rule == "median" else np.nanmean(masked, axis=0)
    )
    return out, none


def _metric_for(profile: str, metric: str) -> str:
    """The error a profile's choice is made on."""
    # Under absolute error every forecast between 0 and the order size scores alike on
    # intermittent demand; squared error separates Croston, SBA, TSB and the mean.
    return "rmsse" if profile == "intermittent" and metric == "mase" else metric


def _kept_candidates(
    models: tuple[str, ...], unfitted: dict[str, np.ndarray], profile: str, notes: list[str]
) -> list[str]:
    """Candidates fitted on enough windows to be compared, so that some windows have all
    of them fitted: those unfitted on more than ``MAX_UNFITTED`` of the windows leave, then
    the one unfitted on most windows, one at a time, until a window has all the rest."""
    n_rows = len(next(iter(unfitted.values()))) if unfitted else 0
    if n_rows == 0:
        return list(models)
    kept = [n for n in models if unfitted[n].mean() <= MAX_UNFITTED] or [
        min(models, key=lambda n: (int(unfitted[n].sum()), models.index(n)))
    ]
    while len(kept) > 1 and np.any([unfitted[n] for n in kept], axis=0).all():
        kept.remove(max(kept, key=lambda n: (int(unfitted[n].sum()), kept.index(n))))
    for name in models:
        if name not in kept:
            notes.append(
                f"{SPECS[name].label} left out of the choice for {profile} series: not "
                f"fitted on {int(unfitted[name].sum())} of {n_rows} backtest windows"
            )
    return kept


def _selection_groups(
    profile: str,
    idx: list[int],
    plan: Plan,
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    lags: list[int],
    notes: list[str],
) -> list[tuple[str | None, list[int]]]:
    """The groups a profile's choice is made in: ``(None, idx)``, or the series the global
    models could be backtested on and, apart, those they could not.

    On one calendar a series that ends before the panel's last period has all its global
    windows left unscored (their future is in the other series' training data, see
    :func:`end_lags`). Its windows then hold no candidate that the global models can be
    compared with, so in one group it adds nothing to the choice, which the other series
    make for it, and nothing to the calibration of its intervals. A data set that stopped
    earlier than the rest (a province that stopped reporting, a discontinued product, a
    collection of series from several sources) would be forecast by a model never
    checked on it. Such series choose apart, among the candidates fitted on their windows.
    """

    def global_names(i: int) -> list[str]:
        return [n for n in plan[i][0] if SPECS[n].is_global]

    def unscored(i: int) -> bool:
        failed = runs[i].failed
        return all(n in failed and bool(failed[n].all()) for n in global_names(i))

    early = [i for i in idx if lags[i] > 0 and cuts[i] and global_names(i) and unscored(i)]
    gone = set(early)
    rest = [i for i in idx if i not in gone]
    scored_elsewhere = any(cuts[i] and global_names(i) and not unscored(i) for i in rest)
    if not early or not scored_elsewhere:
        return [(None, idx)]
    labels = sorted({SPECS[n].label for i in early for n in global_names(i)})
    notes.append(
        f"{len(early)} {profile} series end before the panel's last period, so "
        f"{', '.join(labels)} could not be backtested on them: they are chosen for apart "
        f"(early-ending {profile}), among the candidates fitted on their windows"
    )
    return [(None, rest), (f"early-ending {profile}", early)]


def _crossfit_folds(
    series: np.ndarray, window: np.ndarray, usable: np.ndarray
) -> np.ndarray | None:
    """Two folds of the rows for choosing members on one and scoring on the other: by
    series (odd and even), else by window when there is one series; None when neither
    gives both folds usable rows."""
    for folds in (calibration.fold(series), window % 2):
        if all((usable & (folds == f)).any() for f in (0, 1)):
            return folds
    return None


def _group(
    profile: str,
    members: list[int],
    series: list[SeriesInfo],
    plan: Plan,
    cuts: dict[int, tuple[int, ...]],
    runs: list[SeriesRun],
    config: EngineConfig,
    m: int,
    notes: list[str],
    group: str | None = None,
) -> _Group:
    """Stack a profile's backtest windows, add its ensembles, and choose.

    ``group`` names the series in notes, reasons and the leaderboard when they are a part
    of the profile (see :func:`_selection_groups`); the profile's name otherwise.

    Candidates are compared on the windows where all of them were fitted (per-series
    choice: on each candidate's own fitted windows); an ensemble's window combines the
    members fitted there, and its final forecast the members whose fit on the whole
    series succeeded; the best-three ensembles take their members from the other half of
    the series (or of the windows, for one series), so that picking the members and
    scoring their combination never use the same windows.
    """
    h = config.horizon
    models, ens = plan[members[0]]
    metric = _metric_for(profile, config.metric)
    who = group or profile
    rows, window, actual, scale, scale2 = [], [], [], [], []
    fc: dict[str, list[np.ndarray]] = {name: [] for name in models}
    lost: dict[str, list[bool]] = {name: [] for name in models}
    for k, idx in enumerate(members):
        s = series[idx]
        for j, c in enumerate(cuts[idx]):
            rows.append(k)
            window.append(j)
            actual.append(s.y[c : c + h])
            s1, s2 = profiles.scales(s.y[:c], s.season(m))
            scale.append(s1)
            scale2.append(s2)
            for name in models:
                fc[name].append(runs[idx].backtest[name][j])
                failed = runs[idx].failed.get(name)
                lost[name].append(bool(failed[j]) if failed is not None else False)
    n_rows = len(rows)
    all_unfitted = {name: np.asarray(v, dtype=bool) for name, v in lost.items()}
    kept = _kept_candidates(models, all_unfitted, who, notes)
    ws = WindowSet(
        np.asarray(rows, dtype=int),
        np.asarray(actual, dtype=float).reshape(-1, h),
        np.asarray(scale, dtype=float),
        np.asarray(scale2, dtype=float),
        {name: np.asarray(fc[name], dtype=float).reshape(-1, h) for name in kept},
    )
    unfitted = {name: all_unfitted[name] for name in kept}
    common = ~np.any([unfitted[n] for n in kept], axis=0) if n_rows else np.zeros(0, bool)
    if n_rows and not common.any():  # a single candidate unfitted everywhere
        common = np.ones(n_rows, dtype=bool)
    finals = {name: np.stack([runs[idx].final[name] for idx in members]) for name in kept}
    final_lost = {
        name: np.array([name in runs[idx].final_failed for idx in members]) for name in kept
    }
    scores = score_table(ws.subset(common))
    ens_members = [name for name in kept if name in ENSEMBLE_MEMBERS]
    member_lists: dict[str, list[str]] = {}
    folds = _crossfit_folds(ws.series, np.asarray(window, dtype=int), common)
    buildable = ensemble_members(scores, ens_members, metric)
    for ens_name in ens:
        if ens_name not in buildable:
            need = 4 if ens_name.endswith("3") else 2
            notes.append(
                f"{ens_name} left out for {who} series: {len(ens_members)} ensemble "
                f"member(s) among the fitted candidates, it needs at least {need}"
            )
    for ens_name, chosen in buildable.items():
        if ens_name not in ens:
            continue
        rule = "median" if "median" in ens_name else "mean"
        bt, none = _combine_fitted(ws.forecasts, unfitted, chosen, rule)
        if ens_name.endswith("3"):
            if folds is None:
                notes.append(
                    f"{ens_name} left out of the choice for {who} series: too few "
                    "backtest windows to choose its members on other windows than it is "
                    "scored on"
                )
                continue
            for f in (0, 1):
                other = ws.subset(common & (folds != f))
                pick = ensemble_members(score_table(other), ens_members, metric)[ens_name]
                part, part_none = _combine_fitted(ws.forecasts, unfitted, pick, rule)
                bt[folds == f], none[folds == f] = part[folds == f], part_none[folds == f]
        ws.forecasts[ens_name] = bt
        unfitted[ens_name] = none
        finals[ens_name], final_lost[ens_name] = _combine_fitted(finals, final_lost, chosen, rule)
        member_lists[ens_name] = chosen
    scored = ws.subset(common)
    scores = score_table(scored)
    labels = {k: _label(k, ens_members, scores, metric) for k in ws.forecasts}

    names, n = list(ws.forecasts), len(members)
    row_picks: list[str] | None = None
    fold_picks: dict[int, list[str]] | None = None
    if len(names) == 1:
        picks, why = [names[0]] * n, [f"{who} series: {PROFILE_REASON[profile]}"] * n
    elif scored.n_rows == 0 or scores[metric].isna().all():
        # No window, or no finite score (MASE of a series that is all zeros in sample).
        default = profiles.no_window_default(names)
        cause = "no backtest window fits" if scored.n_rows == 0 else "no finite backtest score"
        picks, why = [default] * n, [f"{who} series: {cause}; default {labels[default]}"] * n
    else:
        picks, why, row_picks, fold_picks = _choose(
            who, ws, unfitted, np.asarray(window, dtype=int), common, names, n, config, metric
        )
    why = [
        w + _final_note(picks[k], k, final_lost, member_lists, labels) for k, w in enumerate(why)
    ]
    scores = scores.assign(
        profile=who,
        label=scores["model"].map(labels),
        selected=scores["model"].isin(set(picks)),
    )
    return _Group(
        profile,
        members,
        ws,
        unfitted,
        finals,
        final_lost,
        labels,
        scores,
        picks,
        why,
        member_lists,
        row_picks,
        fold_picks,
    )


def _choose(
    who: str,
    ws: WindowSet,
    unfitted: dict[str, np.ndarray],
    window: np.ndarray,
    common: np.ndarray,
    names: list[str],
    n: int,
    config: EngineConfig,
    metric: str,
) -> tuple[list[str], list[str], list[str] | None, dict[int, list[str]] | None]:
    """Each series' candidate and reason, and (``auto`` adopting per-series choice) each
    backtest row's candidate chosen without its window and, per window, every series'
    candidate chosen without it."""
    own = WindowSet(
        ws.series,
        ws.actual,
        ws.scale,
        ws.scale2,
        {k: np.where(unfitted[k][:, None], np.nan, f) for k, f in ws.forecasts.items()},
    )
    if config.selection == "per_series":
        picks, why = choose_per_series(own, names, metric, n, config.shrinkage)
        return picks, why, None, None
    prefer = "ens_mean" if "ens_mean" in ws.forecasts else None
    scored = ws.subset(common)
    best, why1 = choose_pooled(score_table(scored), metric, scored, prefer)
    check = (
        validate_per_series(own, window, common, names, metric, n, prefer)
        if config.selection == "auto"
        else None
    )
    if check is None or check.shrinkage is None or check.row_picks is None:
        reason = f"{who} series: {why1}"
        if check is not None:
            reason += (
                f"; per-series choice not adopted: held-out {metric.upper()} "
                f"{check.pooled + check.gap:.3f} against {check.pooled:.3f} pooled "
                f"(standard error {check.se:.3f}, {check.n_series} series)"
            )
        return [best] * n, [reason] * n, None, None
    picks, own_why = choose_per_series(own, names, metric, n, check.shrinkage)
    why = [
        f"{who} series: {w}; per-series choice adopted: held-out {metric.upper()} "
        f"{check.pooled + check.gap:.3f} against {check.pooled:.3f} pooled (standard error "
        f"{check.se:.3f}, {check.n_series} series)"
        for w in own_why
    ]
    # A row no rule chose for (its window held out with no other row to learn from) keeps
    # its series' final choice.
    row_picks = [
        names[c] if c >= 0 else picks[k]
        for c, k in zip(check.row_picks.tolist(), ws.series.tolist(), strict=True)
    ]
    folds = {j: [names[c] for c in index.tolist()] for j, index in (check.fold_picks or {}).items()}
    return picks, why, row_picks, folds


def _final_note(
    pick: str,
    k: int,
    final_lost: dict[str, np.ndarray],
    member_lists: dict[str, list[str]],
    labels: dict[str, str],
) -> str:
    """What the reason should add when the chosen forecast of series ``k`` is not all the
    chosen candidate's own: its fit on the whole series (or a member's) failed."""
    if pick in member_lists:
        gone = [labels.get(m, SPECS[m].label) for m in member_lists[pick] if final_lost[m][k]]
        if gone and not final_lost[pick][k]:
            return (
                f"; {', '.join(gone)} failed on the full series and left this series' combination"
            )
    if final_lost[pick][k]:
        return "; its fit on the full series failed: naive forecast used"
    return ""


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


def _label(name: str, members: list[str], scores: pd.DataFrame, metric: str) -> str:
    """Display label: ``AutoETS`` for models, ``Median(AutoETS, ...)`` for ensembles."""
    if name in SPECS:
        return SPECS[name].label
    chosen = ensemble_members(scores, members, metric).get(name, [])
    rule = "Median" if "median" in name else "Mean"
    return f"{rule}({', '.join(SPECS[k].label for k in chosen)})"


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
