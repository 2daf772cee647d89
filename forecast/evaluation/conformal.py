"""Prediction intervals calibrated on backtest errors (split conformal, pooled).

Backtest errors of the chosen forecasts, divided by each window's seasonal-naive scale,
are pooled over the series of a group; their empirical quantiles per horizon step give
the interval offsets, multiplied back by each series' scale. Empirical coverage therefore
matches the nominal level on data like the backtest, intervals may be asymmetric, grow
with the horizon as the errors do, and need no distributional assumption. Quantiles of
*cumulative* errors give intervals for sums over the next k periods (used for growth
rates and the probability of a decline).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from sklearn.isotonic import isotonic_regression

#: Fewest pooled errors per step for a group's own calibration; smaller groups borrow
#: the quantiles of all series.
MIN_POOL = 50
#: Tolerance on order-statistic ranks (levels are whole or decimal percents).
_EPS = 1e-9
#: Quantile levels reported for cumulative sums.
CUM_QUANTILES = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)


@dataclass(frozen=True)
class Calibration:
    """Interval offsets in scale units per level and step: ``lo[level] <= 0 <= hi[level]``,
    each of shape (h,), from the quantiles of the scaled errors."""

    lo: dict[int, np.ndarray]
    hi: dict[int, np.ndarray]
    n_errors: int


def _finite_rows(scaled: np.ndarray) -> np.ndarray:
    return scaled[np.isfinite(scaled).all(axis=1)] if scaled.size else scaled


def calibrate(scaled_errors: np.ndarray, levels: tuple[int, ...]) -> Calibration:
    """Quantiles of scaled errors ``(y - f) / scale``, shape (R, h), per step.

    Split-conformal order statistics per tail: the lower bound is the
    ``floor((R + 1) a / 2)``-th smallest error and the upper the
    ``ceil((R + 1)(1 - a / 2))``-th, for ``a = 1 - level / 100``. When the errors are
    too few for a level (that rank falls outside the sample: R < 39 for 95%, R < 9 for
    80%), the sample extreme would cover only about ``(R - 1) / (R + 1)`` (a 95% interval
    from 15 errors covers ~87%, the same as the 80% one); the bound is then extrapolated
    from a normal fit to the errors, ``mean ± z sd`` joined with ``± z sd`` (so a bias
    seen in a few errors widens one side without closing the other), when that is wider.
    With fewer than two errors (a tiny panel without backtest windows), or only errors of
    exactly 0 (series that repeat exactly), there is nothing to calibrate on; the offsets
    are then those of a random walk in scale units, ``± z * 1.25 * sqrt(k)`` at step k
    (1.25 turns a mean absolute error into a standard deviation for normal errors), so
    such forecasts are never shown as certain.
    The offsets never narrow from one step to the next (each is at least as wide as the
    one before), so the intervals widen with the horizon.
    """
    err = _finite_rows(scaled_errors)
    n = err.shape[0] if err.ndim == 2 else 0
    h = err.shape[1] if err.ndim == 2 else 0
    if not np.any(err):  # only exact fits: no error size to learn from
        n = 0
    ordered = np.sort(err, axis=0)
    if n >= 2:
        mean, sd = err.mean(axis=0), err.std(axis=0, ddof=1)
    lo: dict[int, np.ndarray] = {}
    hi: dict[int, np.ndarray] = {}
    for lv in levels:
        a = 1.0 - lv / 100.0
        if n < 2:
            z = NormalDist().inv_cdf(1 - a / 2)
            width = z * 1.25 * np.sqrt(np.arange(1, h + 1))
            lo[lv], hi[lv] = -width, width
            continue
        low, high = _tail_bounds(ordered, mean, sd, a)
        # Each step's order statistic is noisy (the sample extremes at 95% with under 80
        # errors); an interval that narrows further out only shows that noise. The
        # least-squares monotone fit averages a dip with its neighbours, where a running
        # maximum would keep every upward swing and over-cover where errors level off.
        # Bounds contain the point, so each step's offset is first cut at 0: fitted on the
        # raw order statistics, a step whose errors all had one sign (a bias by step, as
        # seasonal errors on one calendar have) would pull its neighbours' offsets
        # through 0, and the bound would then be the point itself.
        lo[lv] = isotonic_regression(np.minimum(low, 0.0), increasing=False)
        hi[lv] = isotonic_regression(np.maximum(high, 0.0), increasing=True)
    return Calibration(lo, hi, n)


def _tail_bounds(
    ordered: np.ndarray, mean: np.ndarray, sd: np.ndarray, a: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound of the central ``1 - a`` interval from sorted errors (R >= 2
    rows), per column: conformal ranks, normal extrapolation beyond the sample."""
    n = ordered.shape[0]
    # The guard keeps float noise from moving an exact rank: 1 - 80/100 is
    # 0.19999999999999996, so floor(20 * a / 2) would be 1 instead of 2.
    r_lo = int(np.floor((n + 1) * a / 2 + _EPS))
    r_hi = int(np.ceil((n + 1) * (1 - a / 2) - _EPS))
    lo = ordered[min(max(r_lo, 1), n) - 1]
    hi = ordered[min(max(r_hi, 1), n) - 1]
    if r_lo < 1 or r_hi > n:  # beyond the sample: extrapolate
        # The normal fit around the errors' mean, joined with the same spread around 0:
        # a bias seen in a handful of errors (often one backtest window) is not trusted
        # to the point of ruling out errors of the other sign (six negative errors would
        # otherwise make the upper bound the point forecast itself).
        z = NormalDist().inv_cdf(1 - a / 2)
        lo = np.minimum(lo, np.minimum(mean, 0.0) - z * sd)
        hi = np.maximum(hi, np.maximum(mean, 0.0) + z * sd)
    return lo, hi


def intervals(
    yhat: np.ndarray, scale: np.ndarray, cal: Calibration, *, nonnegative: bool
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Interval bounds for point forecasts ``yhat`` (n, h) and series scales (n,).

    Bounds are nested across levels, contain the point forecast, and are clipped at 0
    when the data are non-negative.
    """
    levels = sorted(cal.lo)
    lo = {lv: yhat + np.minimum(cal.lo[lv], 0.0)[None, :] * scale[:, None] for lv in levels}
    hi = {lv: yhat + np.maximum(cal.hi[lv], 0.0)[None, :] * scale[:, None] for lv in levels}
    for a, b in itertools.pairwise(levels):  # wider level contains narrower
        lo[b] = np.minimum(lo[b], lo[a])
        hi[b] = np.maximum(hi[b], hi[a])
    if nonnegative:
        lo = {lv: np.maximum(v, 0.0) for lv, v in lo.items()}
    return lo, hi


def cumulative_quantiles(
    scaled_errors: np.ndarray, ks: tuple[int, ...], qs: tuple[float, ...] = CUM_QUANTILES
) -> dict[int, np.ndarray]:
    """Quantiles ``qs`` of the scaled error of the sum of the first ``k`` steps, per k.

    Calibrated by the per-step intervals' rule (:func:`_tail_bounds` on the k-step sums
    of the errors): the central ``1 - 2q`` interval's order statistics, extrapolated
    from a normal fit when the errors are too few. They are not made to contain 0 or to
    follow the per-step isotonic fit, so at k = 1 they can differ a little from the
    step-1 interval offsets (which :func:`intervals` also widens to contain the point); the
    outlook therefore takes a one-period window's interval from the period itself. With
    fewer than two errors, a random walk's: the sum of its first k forecast errors has
    standard deviation ``1.25 * sqrt(k (k + 1) (2k + 1) / 6)`` in scale units.
    """
    err = _finite_rows(scaled_errors)
    h = err.shape[1] if err.ndim == 2 else 0
    out: dict[int, np.ndarray] = {}
    for k in ks:
        sums = err[:, :k].sum(axis=1, keepdims=True) if err.size and k <= h else np.zeros((0, 1))
        if len(sums) < 2 or not np.any(sums):
            sd = 1.25 * np.sqrt(k * (k + 1) * (2 * k + 1) / 6)
            out[k] = np.array([NormalDist().inv_cdf(q) * sd for q in qs])
            continue
        ordered = np.sort(sums, axis=0)
        mean, sd = sums.mean(axis=0), sums.std(axis=0, ddof=1)
        vals = []
        for q in qs:
            if abs(q - 0.5) < _EPS:
                vals.append(float(np.median(sums)))
                continue
            low, high = _tail_bounds(ordered, mean, sd, 1 - abs(1 - 2 * q))
            vals.append(float(low[0] if q < 0.5 else high[0]))
        # Ranks and the normal extrapolation are each monotone in q; the mix need not be.
        order = np.argsort(qs)
        v = np.asarray(vals)
        v[order] = np.maximum.accumulate(v[order])
        out[k] = v
    return out
