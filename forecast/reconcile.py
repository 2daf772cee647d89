"""Coherent forecasts across the hierarchy: an adapter around hierarchicalforecast.

Methods (``Settings.reconcile``):

``base``
    No change (the reference; not coherent).
``bottom_up``
    Aggregates are sums of the bottom forecasts (``hierarchicalforecast.methods.BottomUp``).
``top_down``
    Forecast proportions (``TopDownSparse("forecast_proportions")``) down one spanning tree
    of the grouped structure: ``national/total/total`` -> market -> CNNT group -> category
    (national) -> region -> province. The national category series are the largest and
    smoothest, and they are the nodes the destination split hangs from; the remaining
    aggregates (e.g. ``province/total/export``) are sums of the disaggregated bottoms.
``mint_shrink``
    MinT (trace minimisation) with a shrinkage estimate of the base forecasts' error
    matrix, from the backtest errors ``e = y - yhat`` of the selected models (all rolling
    windows and horizons; multi-step errors stand in for one-step in-sample residuals).
    The matrix is the *uncentred* second moment ``E[e e']`` (the mean-squared-error matrix
    whose trace MinT minimises, Wickramasuriya et al. 2019, eq. for W1): multi-step
    errors are biased (a level shift shows in all 12 months of a window), and centring them
    as a covariance does (hierarchicalforecast's ``MinTrace("mint_shrink")``) throws that
    bias away. Errors are scaled by each node's root mean square, the resulting
    correlation matrix is shrunk towards the identity with the Ledoit-Wolf intensity
    (``sklearn.covariance.ledoit_wolf``, ``assume_centered=True``), and scaled back, so the
    target is the diagonal of mean squared errors as in Schäfer-Strimmer. A node without
    an error in some window (its history starts later) counts 0 there; a node without
    usable errors gets the imputed variance of ``wls_var`` below. On the demo data with
    the last 12 months held out this scored mean MASE over levels 0.720 against 0.788 for
    hierarchicalforecast's covariance and 0.790 for the base forecasts; in ``auto``'s
    backtest comparison 1.131 against 1.148 and 1.160.
``wls_var``
    MinT with a diagonal covariance: each node weighted by the inverse variance of its
    backtest errors (the weights of hierarchicalforecast's ``MinTrace("wls_var")``; the
    weighted least squares is solved here so that nodes without errors can be imputed,
    see below). It needs no cross-node estimate, so it is the method for hierarchies too
    large for a dense matrix; on the demo hold-out it scored 0.800 (base 0.790), because
    the gains of reconciliation there come from the correlated, biased errors that only
    ``mint_shrink`` uses.

**Non-negativity.** Sales cannot be negative: base forecasts are clipped at 0 before
reconciling, and any reconciled bottom value below 0 is set to 0 and every aggregate is
re-summed from the bottoms (``S @ b``), which keeps coherence exact. The periods passed
as ``zeros`` (the engine's ``closed``: season positions a product never sold in, forecast
0) are set to 0 the same way, so that MinT or WLS does not spread a share of an
aggregate's adjustment into them (a product "selling" out of season). hierarchicalforecast's
own ``nonnegative=True`` solves one quadratic program per period; on the demo hierarchy it
takes ~35 s against ~1 s, for a difference confined to near-zero series.

**Fallbacks (recorded in** :attr:`Reconciliation.fallback` **).** ``wls_var`` does not
need every node's errors: a node with fewer than 2 errors, or errors all exactly 0, gets
the median relative error variance of the other nodes times its own forecast level squared
(a near-zero variance would pin it to its base forecast; falling back for the whole
hierarchy threw away every other node's errors, and with two backtest windows that
happened in every window of ``auto``'s comparison). ``mint_shrink`` uses the same imputed
variances and falls back to ``wls_var`` if its system cannot be solved. Both fall back to
``wls_struct`` (structural weights, which need no residuals) when there are fewer than
:data:`MIN_RESIDUALS` residual periods. ``top_down`` falls back to ``bottom_up`` when the
spanning tree is incomplete (nodes left out for mixed units).

**Large hierarchies.** Dense MinT builds (nodes x nodes) matrices and solves a system the
size of the aggregates, which grows with the cube of the hierarchy: about a second for the
demo's 1,819 nodes, minutes and gigabytes beyond a few thousand. Above
:data:`DENSE_MAX_NODES` nodes, ``wls_var`` and ``wls_struct`` (diagonal covariance, the
same weights as hierarchicalforecast's dense ``MinTrace``) are solved with sparse matrices:
``(S' W^-1 S) b = S' W^-1 y`` by conjugate gradients (:func:`_wls_sparse`), which agrees
with the dense result to about 1e-9. ``mint_shrink`` has no sparse form; it falls back to
``wls_var`` with the reason recorded.

**Destinations.** The main structure is reconciled first. Each reconciled
``national/category/export`` forecast is then split over its destinations in proportion to
their (clipped) base forecasts (``TopDownSparse`` with the top fixed), and the group and
total destination nodes are sums of those, so both structures agree exactly.

**Intervals.** Each node keeps the width of its own calibrated base interval, moved to the
reconciled point and rescaled by the reconciliation ratio: with base point ``b``,
reconciled point ``r`` and ``s = clip(r / b, 0.5, 2)`` (``s = 1`` when ``b <= 0``),
``lo' = r - s (b - lo)`` and ``hi' = r + s (hi - b)``. The ratio keeps relative width when a
forecast is scaled (sales errors grow with level); the bounds stop a near-zero base from
collapsing or exploding an interval. Bounds are then clipped at 0 and made nested
(``lo_95 <= lo_80 <= yhat <= hi_80 <= hi_95``). :func:`reconcile_cum_quantiles` applies the
same rule to quantiles of cumulative sums.

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

import logging
import re
import warnings
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd
from hierarchicalforecast.methods import BottomUpSparse, TopDownSparse
from scipy import sparse
from scipy.sparse import linalg as spla
from sklearn.covariance import ledoit_wolf

from forecast.errors import InvalidParameterError
from forecast.evaluation import metrics
from forecast.hierarchy import SEASON, Hierarchy, Structure
from forecast.results import ACCURACY_BASE_COLUMNS

log = logging.getLogger(__name__)

Method = Literal["base", "bottom_up", "top_down", "mint_shrink", "wls_var"]
METHODS: tuple[str, ...] = get_args(Method)
#: Coherent methods in ``auto``'s order of preference (:func:`choose_method`): MinT with the
#: full shrunk error matrix, its diagonal special case, then the single-level methods,
#: bottom-up (keeps every bottom forecast) before top-down (keeps only the top's).
COHERENT_METHODS: tuple[str, ...] = ("mint_shrink", "wls_var", "bottom_up", "top_down")
#: Fewest residual periods (windows x horizon) for a shrinkage covariance.
MIN_RESIDUALS = 10
#: Most nodes (main structure) reconciled with dense MinT; larger ones use sparse solvers.
DENSE_MAX_NODES = 5000
BASE_COLUMNS = ("node_id", "period", "yhat")
BACKTEST_COLUMNS = ("node_id", "cutoff", "period", "y", "yhat")
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
#: Methods whose weights are estimated from backtest errors.
_USES_ERRORS = frozenset({"mint_shrink", "wls_var"})

_SCALE_BOUNDS = (0.5, 2.0)
_INTERVAL = re.compile(r"^lo_(\d+)$")


@dataclass(frozen=True)
class Reconciliation:
    """Reconciled forecasts and how they were made.

    Parameters
    ----------
    forecasts
        Every node of the hierarchy: ``node_id, period, yhat``, ``lo_L, hi_L`` per
        interval level, ``model`` (the base model of the node).
    method
        Method asked for.
    method_used
        Method that produced the numbers (differs after a fallback).
    fallback
        Why ``method_used`` differs from ``method``; None when it does not.
    n_negative_base
        Base point forecasts below 0 that were clipped to 0 before reconciling.
    n_clipped
        Reconciled bottom values below 0 set to 0 (aggregates re-summed).
    notes
        Further remarks (base forecasts filled in, ...).
    """

    forecasts: pd.DataFrame
    method: str
    method_used: str
    fallback: str | None = None
    n_negative_base: int = 0
    n_clipped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for the run record, e.g. ``mint_shrink -> wls_struct (too few ...)``."""
        if self.fallback is None:
            return self.method
        return f"{self.method} -> {self.method_used} ({self.fallback})"


# --------------------------------------------------------------------------------------
# Public API


def reconcile(
    hierarchy: Hierarchy,
    base: pd.DataFrame,
    *,
    method: str,
    backtest: pd.DataFrame | None = None,
    zeros: pd.DataFrame | None = None,
) -> Reconciliation:
    """Make base forecasts coherent across the hierarchy.

    Parameters
    ----------
    hierarchy
        From :func:`forecast.hierarchy.build_hierarchy`.
    base
        Base forecasts: ``node_id, period, yhat``, optional ``lo_L, hi_L`` pairs and
        ``model``; one row per node and forecast period. Missing rows are filled (bottoms
        with 0, aggregates with the sum of their bottoms) and counted in the notes.
    method
        ``base``, ``bottom_up``, ``top_down``, ``mint_shrink`` or ``wls_var``.
    backtest
        Backtest forecasts ``node_id, cutoff, period, y, yhat``; their errors estimate
        the MinT covariance (required for a true ``mint_shrink``; without them it falls
        back to ``wls_struct``).
    zeros
        ``node_id, period`` of bottom forecasts that must stay 0 whatever the method
        (season positions a product never sold in); other nodes' rows are ignored.

    Returns
    -------
    Reconciliation

    Raises
    ------
    InvalidParameterError
        Unknown method, or ``base`` lacking columns or rows.
    """
    _check_method(method)
    _check_columns(base, BASE_COLUMNS, "base")
    levels = interval_levels(base)
    base = base.assign(period=as_periods(base["period"], hierarchy.freq))
    ids = hierarchy.nodes["node_id"].to_numpy()
    periods = pd.PeriodIndex(sorted(base["period"].unique()), freq=hierarchy.freq)
    notes: list[str] = []
    unknown = ~base["node_id"].isin(ids)
    if unknown.any():
        notes.append(
            f"{int(unknown.sum())} base forecast row(s) for nodes outside the "
            "hierarchy were ignored."
        )
    yhat = _fill_base(hierarchy, to_wide(base, "yhat", ids, periods), notes)
    resid = None if backtest is None else residual_matrix(hierarchy, backtest)
    points, outcome = _points(
        hierarchy, yhat, method, resid, zeros=_zero_mask(zeros, ids, periods, hierarchy.freq)
    )
    frame = pd.DataFrame(
        {
            "node_id": np.repeat(ids, len(periods)),
            "period": np.tile(periods, len(ids)),
            "yhat": points.ravel(),
        }
    )
    bounds = {c: to_wide(base, c, ids, periods) for lv in levels for c in (f"lo_{lv}", f"hi_{lv}")}
    if method != "base":
        bounds = adjust_intervals(yhat, points, bounds, levels)
    for col, values in bounds.items():
        frame[col] = values.ravel()
    model = (
        base.drop_duplicates("node_id").set_index("node_id")["model"]
        if "model" in base.columns
        else pd.Series(dtype=object)
    )
    frame["model"] = frame["node_id"].map(model).fillna("").to_numpy()
    return Reconciliation(
        frame,
        method,
        outcome.used,
        outcome.fallback,
        outcome.n_negative,
        outcome.n_clipped,
        tuple(notes),
    )


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


def interval_levels(frame: pd.DataFrame) -> tuple[int, ...]:
    """Interval levels present as ``lo_L``/``hi_L`` column pairs, ascending."""
    found = [int(m.group(1)) for c in frame.columns if (m := _INTERVAL.match(str(c)))]
    return tuple(sorted(lv for lv in found if f"hi_{lv}" in frame.columns))


def adjust_intervals(
    base_point: np.ndarray,
    point: np.ndarray,
    bounds: dict[str, np.ndarray],
    levels: tuple[int, ...],
) -> dict[str, np.ndarray]:
    """Move base interval bounds to reconciled points (see the module docstring).

    Parameters
    ----------
    base_point, point
        Base and reconciled point forecasts, same shape.
    bounds
        ``lo_L``/``hi_L`` arrays of the base intervals, same shape.
    levels
        Interval levels, any order.

    Returns
    -------
    dict
        Adjusted bounds: at least 0, nested, containing the point.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base_point > 0, point / base_point, 1.0)
    s = np.clip(np.nan_to_num(ratio, nan=1.0), *_SCALE_BOUNDS)
    out: dict[str, np.ndarray] = {}
    inner_lo, inner_hi = point, point
    for lv in sorted(levels):
        below = np.clip(base_point - bounds[f"lo_{lv}"], 0.0, None)
        above = np.clip(bounds[f"hi_{lv}"] - base_point, 0.0, None)
        lo = np.clip(point - s * below, 0.0, None)
        hi = point + s * above
        # Nesting: each wider level contains the narrower one and the point.
        lo = np.fmin(lo, inner_lo)
        hi = np.fmax(hi, inner_hi)
        out[f"lo_{lv}"], out[f"hi_{lv}"] = lo, hi
        inner_lo, inner_hi = lo, hi
    return out


def reconcile_cum_quantiles(
    cum_quantiles: pd.DataFrame, base: pd.DataFrame, forecasts: pd.DataFrame
) -> pd.DataFrame:
    """Move quantiles of cumulative sums from base to reconciled forecasts.

    Parameters
    ----------
    cum_quantiles
        ``node_id, k, q, value``: quantile ``q`` of the sum of the first ``k`` base
        forecast periods.
    base, forecasts
        Base and reconciled forecasts (``node_id, period, yhat``).

    Returns
    -------
    DataFrame
        Same columns; values shifted and rescaled like :func:`adjust_intervals` (with the
        sums of the first ``k`` points), clipped at 0 and non-decreasing in ``q``.
    """
    _check_columns(cum_quantiles, ("node_id", "k", "q", "value"), "cum_quantiles")
    b = _cum_points(base).rename("b")
    r = _cum_points(forecasts).rename("r")
    out = cum_quantiles.join(b, on=["node_id", "k"]).join(r, on=["node_id", "k"])
    bp, rp = out["b"].to_numpy(), out["r"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.clip(np.nan_to_num(np.where(bp > 0, rp / bp, 1.0), nan=1.0), *_SCALE_BOUNDS)
    value = out["value"].to_numpy()
    moved = np.where(np.isnan(rp), value, rp + s * (value - bp))
    out["value"] = np.clip(moved, 0.0, None)
    out = out.sort_values(["node_id", "k", "q"], kind="mergesort")
    out["value"] = out.groupby(["node_id", "k"], sort=False)["value"].cummax()
    return out[list(cum_quantiles.columns)].reset_index(drop=True)


def residual_matrix(hierarchy: Hierarchy, backtest: pd.DataFrame) -> np.ndarray:
    """Backtest errors ``y - yhat`` of the main structure's nodes.

    Parameters
    ----------
    hierarchy
        The hierarchy the backtest's nodes belong to.
    backtest
        ``node_id, cutoff, period, y, yhat`` rows.

    Returns
    -------
    ndarray
        Shape (n_nodes, n_obs), rows in ``hierarchy.structure.node_ids`` order, one column
        per (cutoff, period); NaN where a node has no backtest row.
    """
    _check_columns(backtest, BACKTEST_COLUMNS, "backtest")
    err = backtest.assign(e=backtest["y"] - backtest["yhat"])
    wide = err.pivot_table(
        index="node_id", columns=["cutoff", "period"], values="e", aggfunc="first", dropna=False
    )
    wide = wide.reindex(hierarchy.structure.node_ids).to_numpy(dtype=float)
    # pivot_table keeps every (cutoff, period) pair, most of them outside their window
    return wide[:, np.isfinite(wide).any(axis=0)]


# --------------------------------------------------------------------------------------
# Point reconciliation


@dataclass(frozen=True)
class _Outcome:
    used: str
    fallback: str | None = None
    n_negative: int = 0
    n_clipped: int = 0


def _points(
    h: Hierarchy,
    yhat: np.ndarray,
    method: str,
    resid: np.ndarray | None,
    min_residuals: int = MIN_RESIDUALS,
    zeros: np.ndarray | None = None,
) -> tuple[np.ndarray, _Outcome]:
    """Reconciled points for every node (rows in ``h.nodes`` order); bottoms where
    ``zeros`` (same shape as ``yhat``) is True are set to 0 before the aggregates are summed.

    ``min_residuals`` lowers the :data:`MIN_RESIDUALS` floor only for :func:`choose_method`'s
    split-half noise estimate, whose halves exist to measure the estimate's variability.
    """
    if method == "base":
        return yhat.copy(), _Outcome("base")
    st = h.structure
    n_main = len(st.node_ids)
    n_negative = int((yhat < 0).sum())
    clipped = np.clip(yhat, 0.0, None)
    main = clipped[:n_main]
    if method == "bottom_up":
        out = BottomUpSparse().fit_predict(S=st.S, y_hat=main)["mean"]
        used, fallback = "bottom_up", None
    elif method == "top_down":
        out, fallback = _top_down(st, main, h.nodes.iloc[:n_main])
        used = "top_down" if fallback is None else "bottom_up"
    else:
        out, used, fallback = _mint(st, main, resid, method, min_residuals)
    bottoms = np.asarray(out)[st.n_aggregates :]
    # Count material negatives only; -1e-12 from a projection's rounding is not one.
    tol = 1e-9 * (1.0 + np.abs(main[st.n_aggregates :]).max(axis=1, keepdims=True))
    n_clipped = int((bottoms < -tol).sum())
    bottoms = np.clip(bottoms, 0.0, None)
    # A season position a product never sold in stays 0 (the engine's ``closed``):
    # MinT or WLS would hand it a share of an aggregate's adjustment.
    if zeros is not None:
        bottoms[zeros[st.n_aggregates : n_main]] = 0.0
    points = np.empty_like(clipped)
    points[:n_main] = st.S @ bottoms  # exact coherence, whatever the method's rounding
    if h.destinations is not None:
        points[n_main:] = _split_destinations(h, points[:n_main], clipped)
    return points, _Outcome(used, fallback, n_negative, n_clipped)


def _zero_mask(
    zeros: pd.DataFrame | None, ids: np.ndarray, periods: pd.PeriodIndex, freq: str
) -> np.ndarray | None:
    """``zeros``' pairs as a (node x period) mask in ``ids``/``periods`` order."""
    if zeros is None or zeros.empty:
        return None
    _check_columns(zeros, ("node_id", "period"), "zeros")
    rows = pd.Index(ids).get_indexer(zeros["node_id"])
    cols = periods.get_indexer(as_periods(zeros["period"], freq))
    keep = (rows >= 0) & (cols >= 0)
    mask = np.zeros((len(ids), len(periods)), dtype=bool)
    mask[rows[keep], cols[keep]] = True
    return mask


def _wls_sparse(S: sparse.csr_matrix, y_hat: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Reconciled forecasts ``S b`` of weighted least squares with diagonal weights ``w``.

    Solves ``(S' W^-1 S) b = S' W^-1 y`` for every column of ``y_hat`` by conjugate
    gradients with a Jacobi preconditioner, touching only the non-zeros of ``S``.
    """
    S = sparse.csr_matrix(S, dtype=np.float64)
    inv_w = 1.0 / w
    n_bottom = S.shape[1]
    normal = spla.LinearOperator(
        (n_bottom, n_bottom), matvec=lambda v: S.T @ (inv_w * (S @ v)), dtype=np.float64
    )
    diag = S.multiply(S).T @ inv_w
    precond = spla.LinearOperator((n_bottom, n_bottom), matvec=lambda v: v / diag, dtype=np.float64)
    bottoms = np.empty((n_bottom, y_hat.shape[1]))
    for j in range(y_hat.shape[1]):
        rhs = S.T @ (inv_w * y_hat[:, j])
        x, info = spla.cg(normal, rhs, rtol=1e-12, atol=0.0, maxiter=20 * n_bottom, M=precond)
        if info != 0:
            raise np.linalg.LinAlgError(f"conjugate gradients did not converge ({info})")
        bottoms[:, j] = x
    return np.asarray(S @ bottoms)


def _wls_weights(
    st: Structure, kind: str, resid: np.ndarray | None, y_hat: np.ndarray | None = None
) -> np.ndarray:
    """Diagonal covariance of ``wls_struct`` / ``wls_var``.

    ``wls_struct``: the number of bottoms under each node. ``wls_var``: each node's mean
    squared backtest error over the errors it has, plus 2e-8 (as hierarchicalforecast's
    ``MinTrace("wls_var")`` computes it for complete residuals). A node with fewer than 2
    errors, or errors all exactly 0, has no usable estimate: it gets the median relative
    error of the other nodes times its own forecast level squared, instead of a near-zero
    variance that would pin it to its base forecast, or a fallback of the whole hierarchy.
    """
    if kind == "wls_struct" or resid is None:
        return np.asarray(st.S.sum(axis=1), dtype=np.float64).ravel()
    return _error_variances(resid, y_hat)


def _error_variances(resid: np.ndarray, y_hat: np.ndarray | None) -> np.ndarray:
    """Mean squared backtest error per node, imputed where unusable, plus 2e-8."""
    n_finite = np.isfinite(resid).sum(axis=1)
    mse = np.nansum(resid**2, axis=1) / np.maximum(n_finite, 1)
    usable = (n_finite >= 2) & (mse > 0)
    if y_hat is not None and usable.any() and not usable.all():
        level = np.abs(y_hat).mean(axis=1)
        known = usable & (level > 0)
        if known.any():
            rel = float(np.median(mse[known] / level[known] ** 2))
            mse = np.where(usable, mse, rel * level**2)
    return mse + 2e-8


def _mint(
    st: Structure,
    y_hat: np.ndarray,
    resid: np.ndarray | None,
    kind: str = "mint_shrink",
    min_residuals: int = MIN_RESIDUALS,
) -> tuple[np.ndarray, str, str | None]:
    n_nodes = st.S.shape[0]
    large = n_nodes > DENSE_MAX_NODES
    notes: list[str] = []
    if large and kind == "mint_shrink":
        notes.append(
            f"{n_nodes:,} nodes are too many for a dense MinT covariance "
            f"(limit {DENSE_MAX_NODES:,}); wls_var, solved sparse"
        )
        kind = "wls_var"
    var_problem = _wls_var_problem(resid, min_residuals)
    if kind == "mint_shrink" and var_problem is None:
        assert resid is not None
        try:
            return _mint_shrink(st.S, y_hat, resid), kind, None
        except np.linalg.LinAlgError as exc:
            log.warning("mint_shrink failed, using wls_var", exc_info=True)
            notes.append(f"the shrunk error matrix could not be used ({exc}); wls_var")
        kind = "wls_var"
    reason = var_problem
    if reason is None:
        out = _wls_solve(st.S, y_hat, _wls_weights(st, "wls_var", resid, y_hat), large)
        if np.isfinite(out).all():
            return out, "wls_var", "; ".join(notes) or None
        reason = "the variance estimate gave non-finite forecasts"
    notes.append(reason)
    out = _wls_solve(st.S, y_hat, _wls_weights(st, "wls_struct", None), large)
    return out, "wls_struct", "; ".join(notes)


def _wls_solve(S: sparse.csr_matrix, y_hat: np.ndarray, w: np.ndarray, large: bool) -> np.ndarray:
    """``S b`` with ``b`` the weighted least-squares bottoms (diagonal weights ``w``).

    Small hierarchies solve the normal equations directly; large ones by conjugate
    gradients on the sparse matrix (:func:`_wls_sparse`), which agrees to about 1e-9.
    """
    if large:
        return _wls_sparse(S, y_hat, w)
    dense = S.toarray()
    weighted = dense.T / w
    return dense @ np.linalg.solve(weighted @ dense, weighted @ y_hat)


def _wls_var_problem(resid: np.ndarray | None, min_residuals: int = MIN_RESIDUALS) -> str | None:
    """Why backtest errors cannot weight the nodes, or None."""
    if resid is None:
        return "no backtest residuals"
    if resid.shape[1] < min_residuals:
        return f"too few residual periods ({resid.shape[1]} < {min_residuals})"
    return None


def _mint_shrink(S: sparse.csr_matrix, y_hat: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """MinT with the shrunk uncentred error matrix (see the module docstring)."""
    dense = S.toarray()
    sd = np.sqrt(_error_variances(resid, y_hat))
    z = np.nan_to_num(resid / sd[:, None], nan=0.0)
    corr, _ = ledoit_wolf(z.T, assume_centered=True)
    corr[np.diag_indices_from(corr)] = 1.0  # target: the diagonal of mean squared errors
    w = corr * np.outer(sd, sd)
    w_inv_s = np.linalg.solve(w, dense)
    bottoms = np.linalg.solve(dense.T @ w_inv_s, w_inv_s.T @ y_hat)
    out = dense @ bottoms
    if not np.isfinite(out).all():
        raise np.linalg.LinAlgError("non-finite reconciled forecasts")
    return out


def _tree_levels(nodes: pd.DataFrame) -> list[list[str]]:
    """Levels of the top-down spanning tree, by depth (see the module docstring)."""
    present = list(dict.fromkeys(nodes["level"]))
    markets = [m for m in ("domestic", "export") if f"national/total/{m}" in present]
    depths = [["national/total/total"]] if "national/total/total" in present else []
    for geo, product in (
        ("national", "total"),
        ("national", "group"),
        ("national", "category"),
        ("region", "category"),
        ("province", "category"),
    ):
        names = [f"{geo}/{product}/{m}" for m in markets if f"{geo}/{product}/{m}" in present]
        if names:
            depths.append(names)
    return depths


def _top_down(
    st: Structure, y_hat: np.ndarray, nodes: pd.DataFrame
) -> tuple[np.ndarray, str | None]:
    level = nodes["level"].to_numpy()
    depths = _tree_levels(nodes)
    rows_by_depth = [np.flatnonzero(np.isin(level, names)) for names in depths]
    bottom_rows = np.arange(st.n_aggregates, len(st.node_ids))
    if len(depths) < 2 or not np.array_equal(rows_by_depth[-1], bottom_rows):
        reason = "the top-down tree does not reach every bottom series from the top"
        return BottomUpSparse().fit_predict(S=st.S, y_hat=y_hat)["mean"], reason
    rows = np.concatenate(rows_by_depth)
    tree_S = st.S[rows]
    starts = np.cumsum([0] + [len(r) for r in rows_by_depth])
    tags = {str(i): np.arange(starts[i], starts[i + 1]) for i in range(len(depths))}
    try:
        out = TopDownSparse("forecast_proportions").fit_predict(
            S=tree_S, y_hat=y_hat[rows], tags=tags
        )["mean"]
    except ValueError as exc:  # not strictly hierarchical (nodes dropped for mixed units)
        return BottomUpSparse().fit_predict(S=st.S, y_hat=y_hat)["mean"], (
            f"top-down tree unusable: {exc}"
        )
    full = np.empty_like(y_hat)
    full[st.n_aggregates :] = out[-len(bottom_rows) :]
    full[: st.n_aggregates] = 0.0  # recomputed from the bottoms by the caller
    return full, None


def _split_destinations(h: Hierarchy, main_points: np.ndarray, clipped: np.ndarray) -> np.ndarray:
    """Destination-only nodes: reconciled category exports split by base proportions."""
    dest = h.destinations
    assert dest is not None
    all_ids = h.nodes["node_id"].to_numpy()
    n_main = len(h.structure.node_ids)
    main_pos = h.structure.positions(dest.node_ids)
    all_pos = pd.Index(all_ids).get_indexer(dest.node_ids)
    is_top = main_pos >= 0
    # Tree: the category-level tops (fixed to their reconciled values) -> destinations.
    level = h.nodes["level"].to_numpy()[all_pos]
    roots = np.flatnonzero(level == "national/category/export")
    bottoms = np.arange(dest.n_aggregates, len(dest.node_ids))
    tree_S = dest.S[np.concatenate([roots, bottoms])]
    y = np.vstack([main_points[main_pos[roots]], clipped[all_pos[bottoms]]])
    tags = {"0": np.arange(len(roots)), "1": np.arange(len(roots), len(roots) + len(bottoms))}
    out = TopDownSparse("forecast_proportions").fit_predict(S=tree_S, y_hat=y, tags=tags)
    split = dest.S @ np.asarray(out["mean"])[len(roots) :]
    extra = np.empty((len(all_ids) - n_main, main_points.shape[1]))
    extra[all_pos[~is_top] - n_main] = split[~is_top]
    return extra


# --------------------------------------------------------------------------------------
# Helpers


def as_periods(values: pd.Series, freq: str) -> pd.PeriodIndex:
    """``values`` (Periods or strings such as ``2025-01``) as a PeriodIndex of ``freq``."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(values)
    codes, uniques = pd.factorize(values.astype(str))
    return pd.PeriodIndex(uniques, freq=freq)[codes]


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InvalidParameterError(
            f"The 'method' parameter of reconcile must be one of {', '.join(METHODS)}. "
            f"Got {method!r} instead."
        )


def _check_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidParameterError(
            f"The {name!r} table lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(columns)}."
        )


def to_wide(
    frame: pd.DataFrame, column: str, ids: np.ndarray, periods: pd.PeriodIndex
) -> np.ndarray:
    """``frame[column]`` as an array (len(ids), len(periods)); NaN where there is no row.

    ``frame`` has ``node_id`` and ``period`` columns (Periods of ``periods.freq``, or
    strings).
    """
    rows = pd.Index(ids).get_indexer(frame["node_id"])
    cols = periods.get_indexer(as_periods(frame["period"], periods.freqstr))
    keep = (rows >= 0) & (cols >= 0)
    out = np.full((len(ids), len(periods)), np.nan)
    out[rows[keep], cols[keep]] = frame[column].to_numpy(dtype=float)[keep]
    return out


def _fill_base(h: Hierarchy, yhat: np.ndarray, notes: list[str]) -> np.ndarray:
    """Fill missing base points: bottoms 0, aggregates the sum of their bottoms."""
    missing = np.isnan(yhat)
    if not missing.any():
        return yhat
    if missing.all():
        raise InvalidParameterError(
            "The 'base' table has no forecast for any node of the "
            "hierarchy; check its node_id values."
        )
    out = yhat.copy()
    for st in filter(None, (h.structure, h.destinations)):
        pos = pd.Index(h.nodes["node_id"]).get_indexer(st.node_ids)
        bottom = out[pos[st.n_aggregates :]]
        bottom = np.nan_to_num(bottom, nan=0.0)
        summed = np.asarray(st.S @ bottom)
        block = out[pos]
        out[pos] = np.where(np.isnan(block), summed, block)
    notes.append(
        f"{int(missing.sum())} missing base forecast value(s) were filled (bottom "
        "series with 0, aggregates with the sum of their bottoms)."
    )
    return out


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


def _cum_points(frame: pd.DataFrame) -> pd.Series:
    """Sum of the first k points per node for every k present, indexed (node_id, k)."""
    f = frame.sort_values(["node_id", "period"], kind="mergesort")
    cum = f.groupby("node_id", sort=False)["yhat"].cumsum()
    k = f.groupby("node_id", sort=False).cumcount() + 1
    return pd.Series(
        cum.to_numpy(),
        index=pd.MultiIndex.from_arrays(
            [f["node_id"].to_numpy(), k.to_numpy()], names=["node_id", "k"]
        ),
    )


__all__ = [
    "AUTO_DEFAULT",
    "BACKTEST_COLUMNS",
    "CHOICE_COLUMNS",
    "COHERENT_METHODS",
    "METHODS",
    "MIN_RESIDUALS",
    "Method",
    "Reconciliation",
    "accuracy_table",
    "adjust_intervals",
    "auto_pick",
    "choice_reason",
    "choose_method",
    "interval_levels",
    "reconcile",
    "reconcile_cum_quantiles",
    "residual_matrix",
]
