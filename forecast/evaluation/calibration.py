"""Intervals for a whole panel from its backtest errors, grouped by profile.

Each profile's scaled errors of the chosen forecasts (see :mod:`.conformal`) calibrate
the intervals of its series; a profile with too few errors borrows those of all series
(except the exact ones of all-zero and constant series).
Coverage reported for the backtest is *cross-fitted*: the series are split into two folds
and each fold's intervals come from the other fold's errors, since calibrating and scoring
on the same errors would report the nominal level by construction.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecast.evaluation import conformal, metrics

#: Profile -> (scaled errors of the chosen forecasts (R, h), series position of each row).
GroupErrors = Mapping[str, tuple[np.ndarray, np.ndarray]]
#: Level -> (lower, upper) scaled offsets of every backtest row, shape (R, h) each.
Offsets = dict[int, tuple[np.ndarray, np.ndarray]]


def fold(rows: np.ndarray) -> np.ndarray:
    """Deterministic 2-fold split of series (by position) for cross-fitting."""
    return rows % 2


#: Profiles whose backtest forecasts are exact by construction (an all-zero or constant
#: series forecast by its value): their errors say nothing about other series' uncertainty.
EXACT_PROFILES = ("zero", "constant")


def _source(err: np.ndarray, groups: GroupErrors, h: int, profile: str) -> np.ndarray:
    """A profile's own errors when there are enough, else those of every profile whose
    errors are informative (all profiles' when there are none).

    An exact profile never calibrates on its own (zero) errors: a series that has been
    constant is not certain to stay so, and its interval must not depend on how many
    such series the panel has. It borrows the informative errors, or with none gets the
    random-walk offsets of :func:`conformal.calibrate` (an empty sample).
    """
    informative = [e for p, (e, _) in groups.items() if e.size and p not in EXACT_PROFILES]
    if profile in EXACT_PROFILES:
        return np.vstack(informative) if informative else np.zeros((0, h))
    finite = err[np.isfinite(err).all(axis=1)] if err.size else err
    if len(finite) >= conformal.MIN_POOL:
        return err
    pooled = informative or [e for e, _ in groups.values() if e.size]
    return np.vstack(pooled) if pooled else np.zeros((0, h))


#: A series whose backtest errors alone make a profile's widest intervals this many times
#: as wide (against the same errors without it) is named in the run's notes.
DOMINANT_RATIO = 2.0
#: ... when the profile has at least this many series (in a smaller one every series
#: weighs that much, and none stands out).
DOMINANT_MIN_SERIES = 5


def dominant_series(err: np.ndarray, rows: np.ndarray, level: int) -> tuple[int, float] | None:
    """The series whose errors alone widen a profile's intervals, if one does.

    Pooling assumes the series' scaled errors are alike. One series with a one-off break
    inside its backtest windows (a level shift) has errors tens of times the others', and
    with a few hundred errors the 95% bound is about the pooled sample's extreme: every
    series' interval then takes that series' size (a review measured 12x the width on 20
    clean series beside one shifted one). The candidate is the series with the largest
    absolute error; its influence is the mean width of the offsets with and without it.
    A break shifts every step of the window that crosses it, so one of the series'
    windows must also have a median absolute error :data:`DOMINANT_RATIO` times the
    others' typical one; a single spike of heavy-tailed noise is not named.

    Parameters
    ----------
    err : ndarray of shape (R, h)
        Scaled backtest errors of one profile.
    rows : ndarray of shape (R,)
        Series position of each row.
    level : int
        Interval level (%) to measure.

    Returns
    -------
    (int, float) or None
        The series position and how many times as wide its errors make the intervals,
        when that is :data:`DOMINANT_RATIO` or more; else None.
    """
    ok = np.isfinite(err).all(axis=1) if err.size else np.zeros(0, bool)
    err, rows = err[ok], rows[ok]
    if len(np.unique(rows)) < DOMINANT_MIN_SERIES:
        return None
    worst = int(rows[np.argmax(np.abs(err).max(axis=1))])
    keep = rows != worst
    window_size = np.median(np.abs(err), axis=1)
    if not window_size[~keep].max() >= DOMINANT_RATIO * np.median(window_size[keep]):
        return None
    with_it, without = conformal.calibrate(err, (level,)), conformal.calibrate(err[keep], (level,))
    wide = float(np.mean(with_it.hi[level] - with_it.lo[level]))
    narrow = float(np.mean(without.hi[level] - without.lo[level]))
    ratio = wide / narrow if narrow > 0 else np.inf
    return (worst, ratio) if ratio >= DOMINANT_RATIO else None


def panel_intervals(
    members: Mapping[str, np.ndarray],
    groups: GroupErrors,
    yhat: np.ndarray,
    scale: np.ndarray,
    nonneg: np.ndarray,
    levels: tuple[int, ...],
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Interval bounds for every series.

    Parameters
    ----------
    members
        Profile -> positions of its series in ``yhat``.
    groups
        Profile -> scaled errors and their series positions (within the profile).
    yhat, scale, nonneg
        Point forecasts (n, h; already clipped at 0 where non-negative), series scales
        (n,), and which series are non-negative.
    levels
        Interval levels.

    Returns
    -------
    lo, hi
        Bounds per level, shape (n, h) each.
    """
    h = yhat.shape[1]
    lo = {lv: np.zeros_like(yhat) for lv in levels}
    hi = {lv: np.zeros_like(yhat) for lv in levels}
    for profile, (err, _series_pos) in groups.items():
        idx = members[profile]
        cal = conformal.calibrate(_source(err, groups, h, profile), levels)
        lower, upper = conformal.intervals(yhat[idx], scale[idx], cal, nonnegative=False)
        for lv in levels:
            lo[lv][idx] = np.where(nonneg[idx, None], np.maximum(lower[lv], 0.0), lower[lv])
            hi[lv][idx] = upper[lv]
    return lo, hi


#: Fewest backtest windows in a fold of series for it to calibrate the other fold.
MIN_CROSSFIT = 10


def crossfit_offsets(err: np.ndarray, rows: np.ndarray, levels: tuple[int, ...]) -> Offsets:
    """Scaled interval offsets for every backtest row, calibrated on the *other* fold of
    series (NaN where that fold has fewer than :data:`MIN_CROSSFIT` windows)."""
    folds = fold(rows)
    ok = np.isfinite(err).all(axis=1) if err.size else np.zeros(0, bool)
    out: Offsets = {}
    for lv in levels:
        lo = np.full(err.shape, np.nan)
        hi = np.full(err.shape, np.nan)
        for f in (0, 1):
            train = err[(folds != f) & ok]
            if len(train) < MIN_CROSSFIT:
                continue
            cal = conformal.calibrate(train, (lv,))
            lo[folds == f] = np.minimum(cal.lo[lv], 0.0)
            hi[folds == f] = np.maximum(cal.hi[lv], 0.0)
        out[lv] = (lo, hi)
    return out


def crossfit_bounds(
    point: np.ndarray, scale: np.ndarray, offsets: Offsets, nonneg: np.ndarray
) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Backtest point forecasts and bounds built as the issued ones are: the point clipped
    at 0 on non-negative rows, the cross-fitted ``offsets`` (which contain 0) scaled
    around it, the lower bound clipped at 0 there. ``point`` (R, h), ``scale`` and
    ``nonneg`` (R,)."""
    p = np.where(nonneg[:, None], np.maximum(point, 0.0), point)
    out = {}
    for lv, (off_lo, off_hi) in offsets.items():
        lo = p + off_lo * scale[:, None]
        out[lv] = (np.where(nonneg[:, None], np.maximum(lo, 0.0), lo), p + off_hi * scale[:, None])
    return p, out


def bound_scores(
    actual: np.ndarray,
    bounds: Mapping[int, tuple[np.ndarray, np.ndarray]],
    scale: np.ndarray,
    usable: np.ndarray,
) -> dict[str, float]:
    """Coverage and MSIS of backtest bounds (R, h) on the ``usable`` cells (a model's own
    forecast, finite actual), MSIS on rows with a positive ``scale`` (R,)."""
    out: dict[str, float] = {}
    for lv, (lo, hi) in bounds.items():
        ok = usable & np.isfinite(lo) & np.isfinite(hi)
        pos = ok & (scale[:, None] > 0)
        out[f"coverage_{lv}"] = (
            float(metrics.coverage(actual[ok], lo[ok], hi[ok])) if ok.any() else np.nan
        )
        if pos.any():
            cell_scale = np.broadcast_to(scale[:, None], lo.shape)[pos]
            score = metrics.interval_score(actual[pos, None], lo[pos, None], hi[pos, None], lv)
            out[f"msis_{lv}"] = float(np.mean(score / cell_scale))
        else:
            out[f"msis_{lv}"] = np.nan
    return out


def cumulative_periods(
    freq: str | None, season_length: int, horizon: int, requested: tuple[int, ...] | None
) -> tuple[int, ...]:
    """Lengths k of the k-period sums: a quarter, half and whole year unless requested."""
    per_year = {"M": 12, "Q": 4, "Y": 1, "W": 52, "D": 365}.get(freq or "", season_length)
    ks = requested or tuple(sorted({max(1, round(per_year * f)) for f in (0.25, 0.5, 1.0)}))
    return tuple(k for k in ks if k <= horizon)


def cumulative_frame(
    ids: tuple[str, ...],
    members: Mapping[str, np.ndarray],
    groups: GroupErrors,
    yhat: np.ndarray,
    scale: np.ndarray,
    nonneg: np.ndarray,
    ks: tuple[int, ...],
) -> pd.DataFrame:
    """``unique_id, k, q, value``: quantiles of the sum of the first k forecasts of every
    series, from its profile's cumulative backtest errors; monotone in q."""
    if not ks:
        return pd.DataFrame(columns=["unique_id", "k", "q", "value"])
    h = yhat.shape[1]
    qs = np.asarray(conformal.CUM_QUANTILES)
    frames = []
    for profile, (err, _rows) in groups.items():
        idx = members[profile]
        cq = conformal.cumulative_quantiles(_source(err, groups, h, profile), ks)
        for k in ks:
            vals = yhat[idx, :k].sum(axis=1)[:, None] + cq[k][None, :] * scale[idx, None]
            vals = np.where(nonneg[idx, None], np.maximum(vals, 0.0), vals)
            vals = np.maximum.accumulate(vals, axis=1)
            frames.append(
                pd.DataFrame(
                    {
                        "unique_id": np.repeat([ids[i] for i in idx], len(qs)),
                        "k": k,
                        "q": np.tile(qs, len(idx)),
                        "value": vals.reshape(-1),
                        "_order": np.repeat(idx, len(qs)),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True).sort_values(["_order", "k", "q"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)
