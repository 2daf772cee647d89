"""Forecast accuracy metrics, vectorised over series.

Scaled metrics (MASE, RMSSE, MSIS) divide by the in-sample error of the seasonal naive
method on the training data (Hyndman & Koehler 2006; M4 competition), so they are
comparable across series of any size. sMAPE follows the M3 definition
``200 |y - f| / (|y| + |f|)``, with 0/0 taken as 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


#: A scale below this share of the series' mean absolute level is float round-off (a
#: series that repeats exactly, up to its last bits), not a real error size: dividing by
#: it would make that series' scaled errors ~1e14 and swamp every pooled score.
NEGLIGIBLE_SCALE = 1e-9


def fallback_scales(
    seasonal: tuple[ArrayLike, ArrayLike], lag1: tuple[ArrayLike, ArrayLike], level: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Absolute and squared scales after the fallbacks every scaled error here uses: the
    seasonal-naive pair, else (missing or below :data:`NEGLIGIBLE_SCALE` of ``level``)
    the lag-1 pair, else a tenth of the level; element-wise, 0 only for a level of 0."""
    lv = np.asarray(level, dtype=float)
    s1, s2 = (np.asarray(a, dtype=float) for a in seasonal)
    with np.errstate(invalid="ignore"):
        weak = ~(s1 > NEGLIGIBLE_SCALE * lv)  # NaN or round-off
        s1, s2 = np.where(weak, lag1[0], s1), np.where(weak, lag1[1], s2)
        weak = ~(s1 > NEGLIGIBLE_SCALE * lv)
        return np.where(weak, 0.1 * lv, s1), np.where(weak, (0.1 * lv) ** 2, s2)


def seasonal_scale(y: ArrayLike, season_length: int, *, power: int = 1) -> float:
    """Mean absolute (``power=1``) or squared (``power=2``) seasonal-naive in-sample error.

    Differences are taken between values one season apart in time; pairs touching a
    missing value (NaN) are left out, so a gap never shifts later values into the wrong
    season. Falls back to the lag-1 naive error when no pair one season apart exists (the
    series is not longer than one season), and returns NaN when even that is undefined
    (fewer than 2 consecutive observations).
    """
    arr = np.asarray(y, dtype=float)
    for m in dict.fromkeys((max(1, int(season_length)), 1)):
        if len(arr) <= m:
            continue
        diff = np.abs(arr[m:] - arr[:-m]) ** power
        diff = diff[np.isfinite(diff)]
        if len(diff):
            return float(diff.mean())
    return float("nan")


def _safe_div(num: FloatArray, den: ArrayLike) -> FloatArray:
    den_arr = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den_arr > 0, num / np.where(den_arr > 0, den_arr, 1.0), np.nan)
    return np.asarray(out, dtype=float)


def mase(y: ArrayLike, f: ArrayLike, scale: float | ArrayLike) -> float | FloatArray:
    """Mean absolute scaled error over the last axis; ``scale`` from :func:`seasonal_scale`."""
    err = np.abs(np.asarray(y, float) - np.asarray(f, float)).mean(axis=-1)
    return _safe_div(err, scale)[()]


def rmsse(y: ArrayLike, f: ArrayLike, scale2: float | ArrayLike) -> float | FloatArray:
    """Root mean squared scaled error; ``scale2`` is the squared-error scale (``power=2``)."""
    err = ((np.asarray(y, float) - np.asarray(f, float)) ** 2).mean(axis=-1)
    return np.sqrt(_safe_div(err, scale2))[()]


def smape(y: ArrayLike, f: ArrayLike) -> float | FloatArray:
    """Symmetric MAPE in percent (M3 definition), mean over the last axis.

    A term with ``y = f = 0`` counts 0 (an exact forecast); a missing value (NaN) makes
    the mean NaN, as in the other metrics, never a perfect score.
    """
    ya, fa = np.asarray(y, float), np.asarray(f, float)
    den = np.abs(ya) + np.abs(fa)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(den > 0, 200.0 * np.abs(ya - fa) / np.where(den > 0, den, 1.0), 0.0)
    terms = np.where(np.isnan(den), np.nan, terms)
    return terms.mean(axis=-1)[()]


def bias(y: ArrayLike, f: ArrayLike, scale: float | ArrayLike) -> float | FloatArray:
    """Mean scaled error ``(f - y) / scale``: positive when forecasts are too high."""
    err = (np.asarray(f, float) - np.asarray(y, float)).mean(axis=-1)
    return _safe_div(err, scale)[()]


def coverage(y: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> float | FloatArray:
    """Share of actuals inside ``[lo, hi]``, mean over the last axis (NaN when a value
    or bound is missing, as in the other metrics)."""
    ya, la, ha = (np.asarray(a, float) for a in (y, lo, hi))
    inside = ((ya >= la) & (ya <= ha)).astype(float)
    inside = np.where(np.isnan(ya) | np.isnan(la) | np.isnan(ha), np.nan, inside)
    return inside.mean(axis=-1)[()]


def interval_score(y: ArrayLike, lo: ArrayLike, hi: ArrayLike, level: float) -> float | FloatArray:
    """Winkler / interval score at ``level`` percent, mean over the last axis (unscaled)."""
    ya, la, ha = (np.asarray(a, float) for a in (y, lo, hi))
    alpha = 1.0 - level / 100.0
    score = (ha - la) + (2.0 / alpha) * ((la - ya) * (ya < la) + (ya - ha) * (ya > ha))
    return score.mean(axis=-1)[()]


def msis(
    y: ArrayLike, lo: ArrayLike, hi: ArrayLike, level: float, scale: float | ArrayLike
) -> float | FloatArray:
    """Mean scaled interval score (M4): :func:`interval_score` divided by ``scale``."""
    return _safe_div(np.asarray(interval_score(y, lo, hi, level)), scale)[()]
