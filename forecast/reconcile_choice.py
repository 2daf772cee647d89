"""Choosing a reconciliation method by backtest (the ``auto`` setting).

**Choosing a method** (:func:`choose_method`, setting ``auto``): each backtest window's
base forecasts are reconciled with every method and scored against the actuals by MASE per
level. ``mint_shrink`` and ``wls_var`` take their errors from the *other* windows, so no
method sees the actuals it is scored on. ``auto`` keeps ``mint_shrink`` (:data:`AUTO_DEFAULT`)
unless another coherent method scores lower in **every** window by more than one standard
error of the difference, and then takes the first of those in the order of preference
``mint_shrink, wls_var, bottom_up, top_down``; the reason, the per-window scores and the
margins are kept with the run.

Why not simply the lowest mean: the comparison is unfair to MinT and noisy. (1) With two
12-month windows MinT is judged with one window's errors and used with two; one window's
errors hold one draw of each node's bias, and on the demo hold-out MinT scored 0.721 and
0.746 with either window alone against 0.686 with both. (2) Its score depends on which
error periods it saw: the odd and the even months of the same window gave scores 0.08
apart (demo, 2024-12 cut), more than the differences between methods. (3) The demo's
backtest windows are event years (the 2022-23 slump) whose biases do not carry over.
Equal information is not to be had inside a backtest of two windows: scoring a window with
its own errors in the matrix leaks its actuals (MinT 0.32 against 1.14 for base), halves
of a window showed no usable learning curve, the engine keeps no in-sample one-step errors,
and more windows bring older, unlike years (with four, MinT did worse on the hold-out,
0.780, than with two). So ``auto`` keeps the method the literature finds most reliable
(Wickramasuriya, Athanasopoulos & Hyndman 2019, JASA) and asks the evidence against it to
be consistent over windows and larger than the noise of its error estimate, as the
one-standard-error rule of cross-validation does (Hastie, Tibshirani & Friedman 2009,
sec. 7.10). Of several methods that pass, the first by preference is taken rather than the
lowest mean, which would favour the noisiest (``top_down`` had the lowest backtest mean in
five of the nine hold-outs in the README, and was the worst method in one and tied worst in
another).

Measured with ``bench/holdout.py`` (held-out mean MASE over levels, full pipeline with the
default models of the day; lowest-mean rule -> this rule, and the best method): demo cut
2024-12 top_down 0.735 -> mint_shrink 0.667 (best; 0.757 -> 0.686 with the six-member
models before); cut 2023-12 top_down 1.125 -> wls_var 1.081 (best); cut 2024-06 wls_var
0.719 both (best mint_shrink 0.710); cut 2024-12 with four windows wls_var 0.746 both
(best); demo generator seed 7, cut 2024-12 top_down 0.908 -> wls_var 0.803 (best
bottom_up 0.797), cut 2023-12 top_down 1.012 (best) -> wls_var 1.014; seed 11, cut 2024-12
wls_var 0.669 both (best mint_shrink 0.637: MinT lost both windows clearly and still won);
seed 3, a 3-province hierarchy, cut 2024-06 bottom_up 0.610 -> mint_shrink 0.613 (best
top_down 0.607); on this cut and on seed 7's 2023-12 cut this rule did slightly worse than
the lowest mean.
Where MinT's matrix was unstable it lost every window by 0.1 to 1.3 and was replaced. The
cost: on seasonal-naive fixtures with independent noise (demo
hierarchy, 6 cuts x 2 noise levels x 2 or 3 windows), where the diagonal ``wls_var`` suits
the errors, keeping MinT on weaker evidence raised the mean regret against the best method
from 0.024 to 0.037 (MASE about 1.1-2.1). The split costs two more MinT solves per window,
and only when some method is lower than MinT in every window (``choose_method`` on the demo:
13 s against 6 s before, on a loaded VM). A window where MinT itself fell back to
``wls_struct`` (too few errors) is no evidence against it: with one backtest window, or
windows shorter than :data:`MIN_RESIDUALS`, ``auto`` keeps MinT.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.errors import InvalidParameterError
from forecast.evaluation import metrics
from forecast.hierarchy import SEASON, Hierarchy
from forecast.reconcile import (
    _USES_ERRORS,
    BACKTEST_COLUMNS,
    COHERENT_METHODS,
    MIN_RESIDUALS,
    _check_columns,
    _check_method,
    _fill_base,
    _points,
    as_periods,
    residual_matrix,
    to_wide,
)
from forecast.results import ACCURACY_BASE_COLUMNS

CHOICE_COLUMNS = (
    "method",
    "method_used",
    "window",
    "level",
    "n_series",
    "mase",
    "rmsse",
    "margin",
    "chosen",
)
#: What ``auto`` keeps unless another method is consistently better (:func:`choose_method`).
AUTO_DEFAULT = "mint_shrink"


@dataclass(frozen=True)
class _Window:
    """One backtest window as :func:`choose_method` scores it."""

    cutoff: str
    yhat: np.ndarray  # base forecasts, every node
    actual: np.ndarray
    scale: np.ndarray  # MASE scale per node, history up to the cutoff
    scale_sq: np.ndarray
    resid: np.ndarray | None  # errors of the other windows (main structure)


def choose_method(
    hierarchy: Hierarchy,
    backtest: pd.DataFrame,
    *,
    methods: tuple[str, ...] = COHERENT_METHODS,
    default: str | None = AUTO_DEFAULT,
    folds: pd.DataFrame | None = None,
) -> tuple[str, pd.DataFrame]:
    """Pick the reconciliation method by backtest accuracy, keeping ``default`` unless beaten.

    Each window (``cutoff``) of the backtest is reconciled with ``base`` and every method in
    ``methods``; the error-based methods (``mint_shrink``, ``wls_var``) get their errors from
    the other windows' periods outside this one (overlapping windows share periods), so no
    method sees the actuals it is scored on. Accuracy is the MASE of
    each node (mean absolute error over the window's periods, scaled by the mean absolute
    seasonal difference of the node's history up to the cutoff), averaged over the nodes of
    each level and then over levels, so every level weighs the same; per window, and pooled
    over windows. A node is scored only on the periods where ``backtest`` has its base
    forecast: a node without one in a window (too short for it, e.g. a product launched
    months before the cutoff) is filled for the reconciliation (bottoms 0, aggregates the
    sum of their bottoms), and every method would otherwise be judged on that filler.

    The rule: ``default`` (:data:`AUTO_DEFAULT`, ``mint_shrink``) is kept unless another
    method is better in **every** window by more than one standard error of the difference;
    of the methods that are, the first in the order of preference
    (:data:`COHERENT_METHODS`) wins. The comparison cannot
    judge MinT on the information it will have (see the module docstring), so the default
    carries the burden of proof the literature gives it, and the evidence against it must
    be consistent over windows and larger than the noise of the error estimate. The standard
    error comes from split halves: the errors the window's estimate was made from are split
    into odd and even periods (each half keeps every window and alternate horizons), the
    difference is scored again with each half, and ``se = |d_odd - d_even| / 2`` (the spread
    of two half-size estimates, scaled to a full-size one by ``1/sqrt(2)``). Methods that use
    no errors have no such noise; the split is only made for a method that scores below
    ``default`` in every window, and only when the estimate used at least
    :data:`MIN_RESIDUALS` periods (below that the error-based methods fell back to
    ``wls_struct``, which uses no errors).

    Parameters
    ----------
    hierarchy
        The run's hierarchy (actuals come from its history).
    backtest
        ``node_id, cutoff, period, y, yhat`` for the selected model of every node.
    methods
        Coherent candidates (default all four).
    default
        The method kept unless beaten as above; None picks the lowest pooled mean MASE
        (no default, no margins).
    folds
        ``node_id, fold, cutoff, period, y, yhat``: per held-out window (``fold``, its
        cutoff), the forecasts on the other windows of the models chosen without it
        (:attr:`forecast.engine.EngineResult.backtest_folds`). Given when a node's model
        differs from window to window (per-series choice made without each window): a
        window's error-based methods then get their errors from the models that forecast
        it, not from the models other windows chose. None: ``backtest``'s other windows.

    Returns
    -------
    method
        The pick.
    table
        Columns :data:`CHOICE_COLUMNS`, one row per method (``base`` included as the
        reference): ``window == "all"`` rows give the pooled MASE per level and
        ``level == "all"`` their mean; one row per window (``window`` = its cutoff,
        ``level == "all"``) gives that window's mean over levels and, for a method that
        scored below ``default`` in every window, ``margin`` = the standard error it had to
        clear.
        ``chosen`` marks the pick.

    Raises
    ------
    InvalidParameterError
        ``base`` or an unknown name in ``methods``; ``default`` not among ``methods``.
    """
    for m in methods:
        _check_method(m)
        if m == "base":
            raise InvalidParameterError(
                "The 'methods' parameter of choose_method must list coherent methods "
                f"{COHERENT_METHODS}; 'base' is always reported as the reference."
            )
    if default is not None and default not in methods:
        raise InvalidParameterError(
            f"The 'default' parameter of choose_method must be one of methods {methods} or "
            f"None. Got {default!r} instead."
        )
    _check_columns(backtest, BACKTEST_COLUMNS, "backtest")
    h = hierarchy
    backtest = backtest.assign(period=as_periods(backtest["period"], h.freq))
    if folds is not None:
        _check_columns(folds, ("fold", *BACKTEST_COLUMNS), "folds")
        folds = folds.assign(period=as_periods(folds["period"], h.freq))
    ids = h.nodes["node_id"].to_numpy()
    actual_all = h.matrix(ids, outside=0.0)
    actual_span = h.matrix(ids)  # NaN outside each node's span: the scales' history
    level_of = h.nodes["level"].to_numpy()
    everyone = ("base", *methods)
    windows: list[_Window] = []
    for cutoff in sorted(backtest["cutoff"].unique()):
        in_window = backtest["cutoff"] == cutoff
        window = backtest[in_window]
        periods = pd.PeriodIndex(sorted(window["period"].unique()), freq=h.freq)
        # Other windows' errors on this window's periods (windows overlap when the step
        # is shorter than the horizon) are errors on the very actuals it is scored on.
        if folds is None:
            others = backtest[~in_window & ~backtest["period"].isin(periods)]
        else:
            mine = folds[folds["fold"] == cutoff]
            others = mine[(mine["cutoff"] != cutoff) & ~mine["period"].isin(periods)]
        cols = h.periods.get_indexer(periods)
        scale, scale_sq = _scales(actual_span, h, pd.Period(cutoff, h.freq))
        base = to_wide(window, "yhat", ids, periods)
        actual = np.where(cols >= 0, actual_all[:, np.clip(cols, 0, None)], np.nan)
        windows.append(
            _Window(
                str(cutoff),
                _fill_base(h, base, []),
                # Scored only where the base had a forecast: a node without one (too short
                # for this window) is filled for the reconciliation, and the filler is no
                # forecast to compare methods or report accuracy on.
                np.where(np.isnan(base), np.nan, actual),
                scale,
                scale_sq,
                residual_matrix(h, others) if len(others) else None,
            )
        )
    # per method: per-window node MASE and RMSSE, and what each window's run used
    mase = {m: np.empty((len(windows), len(ids))) for m in everyone}
    rmsse = {m: np.empty((len(windows), len(ids))) for m in everyone}
    used: dict[str, list[str]] = {m: [] for m in everyone}
    for j, w in enumerate(windows):
        for m in everyone:
            points, outcome = _points(h, w.yhat, m, w.resid)
            mase[m][j], rmsse[m][j] = _node_scores(points, w)
            used[m].append(outcome.used)
    per_window = pd.DataFrame(
        {
            m: [_mean_over_levels(mase[m][j], level_of) for j in range(len(windows))]
            for m in everyone
        }
    )
    # A window where the default fell back (too few errors for its matrix: wls_struct) did
    # not score the default at all, so it is no evidence against it.
    evidence = per_window.copy()
    if default is not None:
        evidence.loc[[u != default for u in used[default]], default] = np.nan
    margin = pd.DataFrame(np.nan, index=per_window.index, columns=list(everyone))
    if default is not None:
        splits = [_HalfSplit(h, w, level_of) for w in windows]
        order = {m: i for i, m in enumerate(COHERENT_METHODS)}
        for m in sorted(methods, key=lambda m: order.get(m, len(order))):
            # Only a method lower in every window can replace the default, and only it
            # needs margins (each costs two more reconciliations per window); the first by
            # preference that clears them wins, so the rest need none.
            if m == default or not _beats(evidence, margin, m, default):
                continue
            both = (evidence[m].notna() & evidence[default].notna()).to_numpy()
            for k in np.flatnonzero(both).tolist():
                margin.at[k, m] = splits[k].margin(m, default)
            if _beats(evidence, margin, m, default):
                break

    rows = []
    for m in everyone:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no actuals in any window -> NaN
            node_mase = np.nanmean(mase[m], axis=0)
            node_rmsse = np.nanmean(rmsse[m], axis=0)
        frame = pd.DataFrame({"level": level_of, "mase": node_mase, "rmsse": node_rmsse})
        per_level = frame.groupby("level", sort=False).agg(
            n_series=("mase", "count"), mase=("mase", "mean"), rmsse=("rmsse", "mean")
        )
        per_level = per_level.reset_index()
        overall = pd.DataFrame(
            {
                "level": ["all"],
                "n_series": [int(per_level["n_series"].sum())],
                "mase": [per_level["mase"].mean()],
                "rmsse": [per_level["rmsse"].mean()],
            }
        )
        pooled = pd.concat([per_level, overall], ignore_index=True)
        pooled.insert(0, "window", "all")
        pooled.insert(0, "method_used", "+".join(sorted(set(used[m]))))
        pooled.insert(0, "method", m)
        by_window = pd.DataFrame(
            {
                "method": m,
                "method_used": used[m],
                "window": [w.cutoff for w in windows],
                "level": "all",
                "n_series": [int(np.isfinite(mase[m][j]).sum()) for j in range(len(windows))],
                "mase": per_window[m].to_numpy(),
                "rmsse": [_mean_over_levels(rmsse[m][j], level_of) for j in range(len(windows))],
                "margin": margin[m].to_numpy(),
            }
        )
        rows.extend([pooled, by_window])
    table = pd.concat(rows, ignore_index=True)
    pooled_mean = table[(table["window"] == "all") & (table["level"] == "all")]
    pooled_mean = pooled_mean.set_index("method")["mase"]
    chosen = auto_pick(evidence, margin, pooled_mean, methods, default)
    table["chosen"] = table["method"] == chosen
    out = table[list(CHOICE_COLUMNS)]
    # What choice_reason needs to describe the rule that was applied.
    out.attrs["default"] = default
    out.attrs["evidence_windows"] = (
        int(evidence[default].notna().sum()) if default is not None else len(windows)
    )
    return chosen, out


def auto_pick(
    per_window: pd.DataFrame,
    margin: pd.DataFrame,
    pooled: pd.Series,
    methods: tuple[str, ...],
    default: str | None,
) -> str:
    """The rule of :func:`choose_method` on its scores.

    Parameters
    ----------
    per_window
        Mean MASE over levels, one row per window, one column per method.
    margin
        Same shape: the standard error a method must clear to beat ``default`` in that
        window; NaN counts as 0 (no error-estimate noise, or not needed).
    pooled
        Pooled mean MASE over levels by method.
    methods
        Candidates, in any order (preference and ties follow :data:`COHERENT_METHODS`).
    default
        Kept unless another candidate is better in every window with both scores by more
        than its margin; of those that are, the first in the order of preference. None:
        the lowest pooled mean.

    Returns
    -------
    str
        The pick; ``methods[0]`` when no candidate has a finite score.
    """
    order = {m: i for i, m in enumerate(COHERENT_METHODS)}

    def best(candidates: list[str]) -> str:
        finite = [m for m in candidates if np.isfinite(pooled.get(m, np.nan))]
        return min(finite, key=lambda m: (pooled[m], order.get(m, len(order))))

    if not any(np.isfinite(pooled.get(m, np.nan)) for m in methods):
        return methods[0]
    if default is None:
        return best(list(methods))
    # Of several methods that beat the default, the first by preference, not the lowest
    # mean: their differences rest on the same few windows, and the lowest of several noisy
    # means favours the noisiest method (top_down's score hangs on a few top series).
    winners = [m for m in methods if m != default and _beats(per_window, margin, m, default)]
    return min(winners, key=lambda m: order.get(m, len(order))) if winners else default


def _beats(per_window: pd.DataFrame, margin: pd.DataFrame, m: str, default: str) -> bool:
    """Is ``m`` better than ``default`` by more than its margin in every scored window?"""
    both = per_window[m].notna() & per_window[default].notna()
    if not both.any():
        return False
    lead = per_window.loc[both, default] - per_window.loc[both, m]
    return bool((lead > margin.loc[both, m].fillna(0.0)).all())


def _node_scores(points: np.ndarray, w: _Window) -> tuple[np.ndarray, np.ndarray]:
    """MASE and RMSSE of every node over one window."""
    err = np.abs(points - w.actual)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nodes without actuals -> NaN
        return (
            np.nanmean(err, axis=1) / w.scale,
            np.sqrt(np.nanmean(err**2, axis=1) / w.scale_sq),
        )


def _mean_over_levels(values: np.ndarray, level_of: np.ndarray) -> float:
    """Mean over levels of the mean over each level's nodes (NaN nodes left out)."""
    return float(pd.Series(values).groupby(level_of, sort=False).mean().mean())


class _HalfSplit:
    """One window scored with the error estimate made from each half of its errors.

    The margin of :func:`choose_method`: ``|d_odd - d_even| / 2`` for the lead ``d`` of a
    method over the default. It is 0 when neither uses backtest errors, or when the window's
    estimate had fewer than :data:`MIN_RESIDUALS` periods (the error-based methods then fell
    back to ``wls_struct``, which uses none). Half scores are cached per method.
    """

    def __init__(self, h: Hierarchy, w: _Window, level_of: np.ndarray) -> None:
        self._h, self._w, self._level_of = h, w, level_of
        self._cache: dict[str, tuple[float, float]] = {}

    def margin(self, method: str, default: str) -> float:
        resid = self._w.resid
        if resid is None or resid.shape[1] < MIN_RESIDUALS:
            return 0.0
        # A method that uses no errors scores the same with both halves: it cancels.
        a = self._scores(method) if method in _USES_ERRORS else (0.0, 0.0)
        b = self._scores(default) if default in _USES_ERRORS else (0.0, 0.0)
        return abs((a[0] - b[0]) - (a[1] - b[1])) / 2.0

    def _scores(self, method: str) -> tuple[float, float]:
        if method not in self._cache:
            w = self._w
            assert w.resid is not None
            scores = []
            for half in (w.resid[:, 0::2], w.resid[:, 1::2]):
                points, _ = _points(self._h, w.yhat, method, half, min_residuals=2)
                scores.append(_mean_over_levels(_node_scores(points, w)[0], self._level_of))
            self._cache[method] = (scores[0], scores[1])
        return self._cache[method]


def choice_reason(method: str, table: pd.DataFrame) -> str:
    """One line for the run record: the pick, why, its mean MASE, and the others'.

    Parameters
    ----------
    method, table
        As returned by :func:`choose_method` (the table's ``attrs`` say which default the
        rule kept and in how many windows it could be scored).
    """
    default = table.attrs.get("default")
    pooled = table[(table["window"] == "all") & (table["level"] == "all")]
    overall = pooled.set_index("method")["mase"]
    by_window = table[table["window"] != "all"]
    n_windows = by_window["window"].nunique()
    n_evidence = int(table.attrs.get("evidence_windows", n_windows))
    ruled = default is not None and default in overall.index and n_windows > 0
    details: dict[str, str] = {}
    if ruled:
        wide = by_window.pivot(index="window", columns="method", values="mase")
        margins = by_window.pivot(index="window", columns="method", values="margin")
        for m in overall.index:
            if m in ("base", default):
                continue
            lead = wide[default] - wide[m]
            details[m] = f", lower in {int((lead > 0).sum())} of {n_windows}"
            if margins[m].notna().any():
                beyond = int((lead > margins[m].fillna(0.0)).sum())
                details[m] += f" ({beyond} by more than the margin)"
    others = "; ".join(
        f"{m} {v:.3f}{details.get(m, '')}" for m, v in overall.items() if m != method
    )
    if not ruled:
        why = ""
    elif n_evidence == 0:
        why = (
            f" (the default: in no window were there errors enough to score {default} "
            "itself, so no window could count against it)"
        )
    elif method == default:
        why = (
            f" (the default; no method was lower in all {n_evidence} window(s) "
            "by more than one standard error)"
        )
    else:
        why = (
            f" (the first of {', '.join(COHERENT_METHODS)} lower than {default} in all "
            f"{n_evidence} window(s) by more than one standard error)"
        )
    text = (
        f"{method} chosen by backtest{why}: mean MASE over levels {overall[method]:.3f} ({others})"
    )
    if "base" in overall and overall[method] > overall["base"]:
        text += "; the base forecasts (not coherent) scored better in the backtest"
    return text


def accuracy_table(table: pd.DataFrame, method: str) -> pd.DataFrame:
    """Rows of the accuracy table (:data:`forecast.results.ACCURACY_BASE_COLUMNS`; the
    interval columns come from the engine's backtest) for ``base`` and ``method``.

    From the pooled rows of :func:`choose_method`'s table. ``model`` is ``"selected"``;
    ``stage`` is ``base`` or ``reconciled``; metrics this module does not compute are NaN.

    Parameters
    ----------
    table
        :func:`choose_method`'s per-window, per-level scores.
    method
        The reconciliation method whose rows join the ``base`` ones.

    Returns
    -------
    DataFrame
        One row per level and stage, columns ``ACCURACY_BASE_COLUMNS``.
    """
    sel = table[
        table["method"].isin(["base", method])
        & (table["level"] != "all")
        & (table["window"] == "all")
    ]
    out = pd.DataFrame(
        {
            "level": sel["level"].to_numpy(),
            "model": "selected",
            "stage": np.where(sel["method"] == "base", "base", "reconciled"),
            "n_series": sel["n_series"].to_numpy(),
            "mase": sel["mase"].to_numpy(),
            "rmsse": sel["rmsse"].to_numpy(),
        }
    )
    for col in ACCURACY_BASE_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    return out[list(ACCURACY_BASE_COLUMNS)]


def _scales(actual: np.ndarray, h: Hierarchy, cutoff: pd.Period) -> tuple[np.ndarray, np.ndarray]:
    """MASE and RMSSE scales of every node up to ``cutoff``, as the engine scales a series
    (:func:`forecast.evaluation.profiles.scales`): mean |seasonal difference| and its
    square over the node's own span (``actual`` is NaN outside it: the zeros before a late
    start are no sales history), else the lag-1 difference, else a tenth of the level."""
    m = SEASON[h.freq]
    end = h.periods.get_loc(cutoff) + 1 if cutoff in h.periods else 0
    hist = actual[:, :end]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows -> NaN

        def lagged(k: int, power: int) -> np.ndarray:
            if hist.shape[1] <= k:
                return np.full(len(hist), np.nan)
            return np.nanmean(np.abs(hist[:, k:] - hist[:, :-k]) ** power, axis=1)

        level = np.nanmean(np.abs(hist), axis=1) if hist.shape[1] else np.full(len(hist), np.nan)
        scale, scale_sq = metrics.fallback_scales(
            (lagged(m, 1), lagged(m, 2)), (lagged(1, 1), lagged(1, 2)), level
        )
    scale = np.where(scale > 0, scale, np.nan)
    scale_sq = np.where(scale_sq > 0, scale_sq, np.nan)
    return scale, scale_sq


__all__ = [
    "AUTO_DEFAULT",
    "CHOICE_COLUMNS",
    "accuracy_table",
    "auto_pick",
    "choice_reason",
    "choose_method",
]
