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


def panel_intervals(
    members: Mapping[str, np.ndarray],
    groups: GroupErrors,
    yhat: np.ndarray,
    scale: np.ndarray,
    nonneg: np.ndarray,
    levels: tuple[int, ...],
    offsets: Mapping[str, Offsets] | None = None,
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], pd.DataFrame]:
    """Interval bounds for every series and the cross-fitted backtest scores per profile.

    Parameters
    ----------
    members
        Profile -> positions of its series in ``yhat``.
    groups
        Profile -> scaled errors and their series positions (within the profile).
    yhat, scale, nonneg
        Point forecasts (n, h), series scales (n,), and which series are non-negative.
    levels
        Interval levels.
    offsets
        Profile -> :func:`crossfit_offsets` of its errors, when the caller has them
        already (computed here otherwise).

    Returns
    -------
    lo, hi, scores
        Bounds per level, shape (n, h) each; and ``profile, coverage_<L>, msis_<L>``.
    """
    h = yhat.shape[1]
    lo = {lv: np.zeros_like(yhat) for lv in levels}
    hi = {lv: np.zeros_like(yhat) for lv in levels}
    rows = []
    for profile, (err, series_pos) in groups.items():
        idx = members[profile]
        cal = conformal.calibrate(_source(err, groups, h, profile), levels)
        lower, upper = conformal.intervals(yhat[idx], scale[idx], cal, nonnegative=False)
        for lv in levels:
            lo[lv][idx] = np.where(nonneg[idx, None], np.maximum(lower[lv], 0.0), lower[lv])
            hi[lv][idx] = upper[lv]
        off = offsets.get(profile) if offsets else None
        if off is None:
            off = crossfit_offsets(err, series_pos, levels)
        rows.append({"profile": profile, **crossfit_scores(err, off)})
    return lo, hi, pd.DataFrame(rows)


def crossfit_offsets(err: np.ndarray, rows: np.ndarray, levels: tuple[int, ...]) -> Offsets:
    """Scaled interval offsets for every backtest row, calibrated on the *other* fold of
    series (NaN where that fold has fewer than 10 errors)."""
    folds = fold(rows)
    ok = np.isfinite(err).all(axis=1) if err.size else np.zeros(0, bool)
    out: Offsets = {}
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


def crossfit_scores(err: np.ndarray, offsets: Offsets) -> dict[str, float]:
    """Coverage and MSIS (in scale units) of the cross-fitted backtest intervals."""
    out: dict[str, float] = {}
    for lv, (lo, hi) in offsets.items():
        valid = np.isfinite(lo) & np.isfinite(err)
        if not valid.any():
            out[f"coverage_{lv}"] = out[f"msis_{lv}"] = np.nan
            continue
        # Errors are already in scale units, so the plain interval score is the MSIS.
        y, lo_v, hi_v = err[valid], lo[valid], hi[valid]
        out[f"coverage_{lv}"] = float(metrics.coverage(y, lo_v, hi_v))
        out[f"msis_{lv}"] = float(metrics.interval_score(y, lo_v, hi_v, lv))
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
