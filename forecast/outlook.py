"""Outlook indicators for every node: growth, trend, risk of decline, timing, flags.

One row per node (columns :data:`OUTLOOK_COLUMNS`, plus interval columns per level):

``value_12m``, ``forecast_12m``
    Sum of the last 12 months of actuals and of the first 12 months of forecasts.
``growth_{w}`` (w = 3, 6, 12 months), ``growth_{w}_lo``, ``growth_{w}_hi``
    Growth in % of the sum of the next ``w`` months of forecasts over the same months a
    year before (actuals), with its 80% interval (``_lo``/``_hi``) from the quantiles of
    that sum; other interval levels ``L`` of the forecasts give ``growth_{w}_lo_L`` and
    ``growth_{w}_hi_L`` (95 by default). Windows are in months: ``w/3`` periods for
    quarterly data, ``w/12`` for annual (3 and 6 months are then undefined). NaN when the
    year-before sum is 0 or has a gap.
``interval_source``
    ``quantiles`` when the engine's ``cum_quantiles`` (quantiles of the sum of the first
    ``k`` forecast periods) were used, ``approximation`` otherwise: the half-widths of the
    per-period intervals are combined as for errors with correlation 0.5 between periods,
    ``sqrt(0.5 * sum(d_h**2) + 0.5 * sum(d_h)**2)`` (between independence and perfectly
    correlated errors; forecast errors of sales persist from month to month); ``period``
    when the 12 months are one period (annual data): that period's own interval. Any
    window of one period (3 months of quarterly data too) takes the period's interval
    exactly, so the outlook and the forecast table agree on it.
``trend``, ``trend_vi``, ``trend_en``
    Label of ``growth_12m`` with ``Settings.trend_mild``/``trend_strong`` (``m``, ``s``):
    ``strong_rise`` (g >= s), ``rise`` (m <= g < s), ``stable`` (|g| < m), ``fall``
    (-s < g <= -m), ``strong_fall`` (g <= -s), ``undetermined`` (no growth).
``p_decline``
    P(sum of the next 12 months < sum of the last 12 months): the quantiles of the
    12-month sum, interpolated linearly on the normal-score scale (and extrapolated
    along the outermost segment), evaluated at the last 12 months' sum.
``peak_period``, ``trough_period``, ``peak_month``, ``trough_month``
    Periods of the highest and lowest point forecast within the first year, and their
    calendar month (1-12; the first month of a quarter).
``volatility``
    Standard deviation, in percentage points, of the year-on-year growth over the last
    3 years, growth measured symmetrically as ``200 (y_t - y_{t-12}) / (y_t + y_{t-12})``
    so that zero months of intermittent series do not explode it. NaN with fewer than
    6 values.
``flags``
    ``;``-joined codes of :data:`FLAG_LABELS` (:func:`flag_text` gives the wording):
    ``short_history`` (span shorter than 3 years), ``structural_break`` (Ploberger-Krämer
    OLS-CUSUM test, ``statsmodels.stats.diagnostic.breaks_cusumolsresid``, on the
    residuals of ``log(1 + y)`` regressed on a constant, a linear trend and seasonal
    dummies; p < 0.01; needs 3 years. Sales residuals are autocorrelated, so the test
    leans towards flagging: read it as "look at the chart"), ``wide_interval`` (the 95%
    interval's width summed over the first year exceeds ``Settings.wide_interval`` times
    the summed point forecast), ``data_gap`` (a period missing inside the node's span or
    one of its bottom series', or the node stopped before the last period), ``revised``
    (a value of the previous run's history differs by more than 0.1%).
"""

from __future__ import annotations

import warnings
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.diagnostic import breaks_cusumolsresid

from forecast.config import Settings
from forecast.errors import InvalidParameterError
from forecast.hierarchy import SEASON, Hierarchy
from forecast.reconcile import as_periods, interval_levels, to_wide

WINDOWS_MONTHS: Final = (3, 6, 12)
TREND_LABELS: Final[dict[str, tuple[str, str]]] = {
    "strong_rise": ("tăng mạnh", "strong rise"),
    "rise": ("tăng", "rise"),
    "stable": ("ổn định", "stable"),
    "fall": ("giảm", "fall"),
    "strong_fall": ("giảm mạnh", "strong fall"),
    "undetermined": ("chưa xác định", "not determined"),
}
FLAG_LABELS: Final[dict[str, tuple[str, str]]] = {
    "short_history": ("chuỗi số liệu ngắn", "short history"),
    "structural_break": ("phát hiện thay đổi cấu trúc", "structural break detected"),
    "wide_interval": ("khoảng dự báo rộng", "wide forecast interval"),
    "data_gap": ("thiếu số liệu", "data gap"),
    "revised": ("số liệu đã điều chỉnh so với lần chạy trước", "data revised since last run"),
}
#: Columns with the default levels (80, 95); see the module docstring.
OUTLOOK_COLUMNS: Final = (
    "node_id",
    "value_12m",
    "forecast_12m",
    *(f"growth_{w}{s}" for w in WINDOWS_MONTHS for s in ("", "_lo", "_hi", "_lo_95", "_hi_95")),
    *(f"forecast_{w}_{s}" for w in WINDOWS_MONTHS for s in ("lo", "hi")),
    "interval_source",
    "trend",
    "trend_vi",
    "trend_en",
    "p_decline",
    "peak_period",
    "trough_period",
    "peak_month",
    "trough_month",
    "volatility",
    "flags",
)

BREAK_PVALUE: Final = 0.01
SHORT_YEARS: Final = 3
REVISION_TOL: Final = 1e-3
_RHO: Final = 0.5


def build_outlook(
    hierarchy: Hierarchy,
    forecasts: pd.DataFrame,
    settings: Settings,
    *,
    cum_quantiles: pd.DataFrame | None = None,
    previous_history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Outlook indicators of every node.

    Parameters
    ----------
    hierarchy
        The run's hierarchy (history, spans).
    forecasts
        Reconciled forecasts: ``node_id, period, yhat`` and ``lo_L, hi_L`` pairs.
    settings
        ``trend_mild``, ``trend_strong`` and ``wide_interval`` are used.
    cum_quantiles
        Optional ``node_id, k, q, value``: quantile ``q`` of the sum of the first ``k``
        forecast periods, consistent with ``forecasts`` (after reconciliation, see
        :func:`forecast.reconcile.reconcile_cum_quantiles`). Without them, or for a node or
        ``k`` they lack, intervals are approximated from the per-period ones.
    previous_history
        Optional ``node_id, period, value`` of the previous run, for the ``revised`` flag.

    Returns
    -------
    DataFrame
        One row per node in ``hierarchy.nodes`` order; see the module docstring.
    """
    missing = [c for c in ("node_id", "period", "yhat") if c not in forecasts.columns]
    if missing:
        raise InvalidParameterError(f"The 'forecasts' table lacks column(s) {', '.join(missing)}.")
    h = hierarchy
    m = SEASON[h.freq]
    ids = h.nodes["node_id"].to_numpy()
    levels = interval_levels(forecasts)
    fc = forecasts.assign(period=as_periods(forecasts["period"], h.freq))
    periods = pd.PeriodIndex(sorted(fc["period"].unique()), freq=h.freq)
    point = to_wide(fc, "yhat", ids, periods)
    bounds = {c: to_wide(fc, c, ids, periods) for lv in levels for c in (f"lo_{lv}", f"hi_{lv}")}
    actual = h.matrix(ids, outside=0.0)

    out = pd.DataFrame({"node_id": ids})
    last_year = actual[:, -m:] if actual.shape[1] >= m else np.full((len(ids), m), np.nan)
    out["value_12m"] = last_year.sum(axis=1)
    out["forecast_12m"] = point[:, :m].sum(axis=1) if len(periods) >= m else np.nan
    source: np.ndarray | str = "approximation"
    p_decline = np.full(len(ids), np.nan)
    main_level = 80 if 80 in levels else min(levels, default=None)
    suffix = {lv: "" if lv == main_level else f"_{lv}" for lv in levels}
    for w in WINDOWS_MONTHS:
        k = w * m // 12
        cols = [f"growth_{w}"]
        cols += [f"growth_{w}_{s}{suffix[lv]}" for lv in levels for s in ("lo", "hi")]
        sums = [f"forecast_{w}_lo", f"forecast_{w}_hi"]
        if k < 1 or w * m % 12 or k > len(periods):
            out[cols + sums] = np.nan
            continue
        before = _year_before(h, actual, periods[:k], m)
        future = point[:, :k].sum(axis=1)
        qz, qv, from_q = _sum_quantiles(ids, k, point, bounds, levels, cum_quantiles)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"growth_{w}"] = np.where(before > 0, (future / before - 1) * 100, np.nan)
            for lv in levels:
                for side, q in (("lo", (1 - lv / 100) / 2), ("hi", 1 - (1 - lv / 100) / 2)):
                    v = _quantile_at(qz, qv, stats.norm.ppf(q))
                    out[f"growth_{w}_{side}{suffix[lv]}"] = np.where(
                        before > 0, (v / before - 1) * 100, np.nan
                    )
                    if lv == main_level:
                        out[f"forecast_{w}_{side}"] = v
        if w == 12:
            source = np.where(from_q, "quantiles", "approximation") if k > 1 else "period"
            p_decline = _prob_below(qv, qz, before)
    out["interval_source"] = source
    codes = trend_codes(out["growth_12"].to_numpy(), settings.trend_mild, settings.trend_strong)
    out["trend"] = codes
    out["trend_vi"] = [TREND_LABELS[c][0] for c in codes]
    out["trend_en"] = [TREND_LABELS[c][1] for c in codes]
    out["p_decline"] = p_decline
    first_year = point[:, :m]
    has_point = ~np.isnan(first_year).all(axis=1)
    peak = np.nanargmax(np.where(np.isnan(first_year), -np.inf, first_year), axis=1)
    trough = np.nanargmin(np.where(np.isnan(first_year), np.inf, first_year), axis=1)
    out["peak_period"] = pd.Series(periods[peak]).where(has_point).to_numpy()
    out["trough_period"] = pd.Series(periods[trough]).where(has_point).to_numpy()
    start_month = periods.start_time.month.to_numpy()
    out["peak_month"] = np.where(has_point, start_month[peak], np.nan)
    out["trough_month"] = np.where(has_point, start_month[trough], np.nan)
    out["volatility"] = volatility(actual, m)
    out["flags"] = _flags(h, ids, point, bounds, levels, settings, previous_history)
    first = ["node_id", "value_12m", "forecast_12m"]
    growth = [c for c in out.columns if c.startswith("growth_")]
    sums = [f"forecast_{w}_{s}" for w in WINDOWS_MONTHS for s in ("lo", "hi")]
    for col in sums:  # no interval level at all: the columns exist, empty
        if col not in out.columns:
            out[col] = np.nan
    rest = [c for c in OUTLOOK_COLUMNS if c not in first + sums and not c.startswith("growth_")]
    return out[first + growth + sums + rest]


# --------------------------------------------------------------------------------------
# Labels and wording


def trend_codes(growth: np.ndarray, mild: float, strong: float) -> list[str]:
    """Trend code of each growth (%) value; see the module docstring for the bands.

    Parameters
    ----------
    growth
        Growth rates in percent; NaN where none could be computed.
    mild, strong
        Thresholds (%) of a rise or fall and of a strong one.

    Returns
    -------
    list of str
        ``strong_rise``, ``rise``, ``stable``, ``fall``, ``strong_fall`` or
        ``undetermined`` (NaN growth), one per value.
    """
    g = np.asarray(growth, dtype=float)
    codes = np.select(
        [np.isnan(g), g >= strong, g >= mild, g <= -strong, g <= -mild],
        ["undetermined", "strong_rise", "rise", "strong_fall", "fall"],
        default="stable",
    )
    return [str(c) for c in codes]


def flag_text(flags: str, lang: str = "vi") -> str:
    """The wording of a ``;``-joined flag string in ``lang`` (``vi`` or ``en``).

    Parameters
    ----------
    flags
        Flag codes joined by ``;`` (``revised;wide_interval``); empty for none.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    str
        The labels joined by ``"; "``.

    Raises
    ------
    InvalidParameterError
        ``lang`` is neither ``vi`` nor ``en``.
    """
    if lang not in ("vi", "en"):
        raise InvalidParameterError(
            f"The 'lang' parameter of flag_text must be 'vi' or 'en'. Got {lang!r} instead."
        )
    i = 0 if lang == "vi" else 1
    return "; ".join(FLAG_LABELS[c][i] for c in flags.split(";") if c)


# --------------------------------------------------------------------------------------
# Distribution of sums


def _sum_quantiles(
    ids: np.ndarray,
    k: int,
    point: np.ndarray,
    bounds: dict[str, np.ndarray],
    levels: tuple[int, ...],
    cum_quantiles: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal scores and values of quantiles of the sum of the first ``k`` periods.

    Returns ``z`` (n_q,), ``values`` (n_nodes, n_q) non-decreasing along q, and whether
    each node's row came from ``cum_quantiles``.
    """
    center = point[:, :k].sum(axis=1)
    qs = sorted(
        {0.5, *((1 - lv / 100) / 2 for lv in levels), *(1 - (1 - lv / 100) / 2 for lv in levels)}
    )
    approx = np.full((len(ids), len(qs)), np.nan)
    for j, q in enumerate(qs):
        if q == 0.5:
            approx[:, j] = center
            continue
        lv = round(abs(1 - 2 * q) * 100)
        side = "lo" if q < 0.5 else "hi"
        d = np.abs(bounds[f"{side}_{lv}"][:, :k] - point[:, :k])
        width = np.sqrt((1 - _RHO) * (d**2).sum(axis=1) + _RHO * d.sum(axis=1) ** 2)
        approx[:, j] = center - width if side == "lo" else center + width
    z = stats.norm.ppf(qs)
    from_q = np.zeros(len(ids), dtype=bool)
    # The sum of one period is that period: the approximation is then its own interval,
    # exactly as the forecast table shows it (the k = 1 cumulative quantiles are not made
    # to contain the point or follow the per-step isotonic fit, so they could differ).
    if k > 1 and cum_quantiles is not None and len(cum_quantiles):
        sel = cum_quantiles[cum_quantiles["k"] == k]
        if len(sel):
            table = sel.pivot_table(index="node_id", columns="q", values="value", aggfunc="first")
            table = table.reindex(ids)
            given_q = table.columns.to_numpy(dtype=float)
            given = table.to_numpy(dtype=float)
            ok = np.isfinite(given).all(axis=1)
            if ok.any() and len(given_q) >= 2:
                gz = stats.norm.ppf(given_q)
                conv = _quantile_at(gz, np.where(ok[:, None], given, 0.0), z)
                approx = np.where(ok[:, None], conv, approx)
                from_q = ok
    values = np.maximum.accumulate(np.clip(approx, 0.0, None), axis=1)
    return z, values, from_q


def _quantile_at(z: np.ndarray, values: np.ndarray, z_new: float | np.ndarray) -> np.ndarray:
    """Values at normal score(s) ``z_new``, per row of ``values`` (n_rows, n_q).

    Linear in the normal score between the given quantiles and along the end segments
    beyond them; clipped at 0. Returns shape (n_rows,) for a scalar ``z_new``, else
    (n_rows, len(z_new)).
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    targets = np.atleast_1d(np.asarray(z_new, dtype=float))
    j = np.clip(np.searchsorted(z, targets) - 1, 0, len(z) - 2)
    v0, v1 = values[:, j], values[:, j + 1]
    out = v0 + (targets - z[j]) * (v1 - v0) / (z[j + 1] - z[j])
    out = np.clip(out, 0.0, None)
    return out[:, 0] if np.ndim(z_new) == 0 else out


def _prob_below(values: np.ndarray, z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(sum < x) per row: the inverse of :func:`_quantile_at`, through the normal CDF.

    ``values`` (n_rows, n_q) is non-decreasing along q. Where the segment to use is flat
    (a point mass), the probability is 0 below it and 1 above it.
    """
    n_rows, n_q = values.shape
    rows = np.arange(n_rows)
    idx = (values < x[:, None]).sum(axis=1)
    j = np.clip(idx - 1, 0, n_q - 2)
    v0, v1 = values[rows, j], values[rows, j + 1]
    flat = v1 <= v0
    with np.errstate(divide="ignore", invalid="ignore"):
        zx = z[j] + (x - v0) * (z[j + 1] - z[j]) / (v1 - v0)
    p = stats.norm.cdf(zx)
    p = np.where(flat, np.where(x > v1, 1.0, np.where(x < v0, 0.0, stats.norm.cdf(z[j]))), p)
    p = np.where(flat & (idx == 0), 0.0, p)  # at or below a point mass: no chance below
    bad = ~np.isfinite(x) | ~np.isfinite(values).all(axis=1)
    return np.where(bad, np.nan, p)


# --------------------------------------------------------------------------------------
# History-based indicators


def volatility(actual: np.ndarray, m: int) -> np.ndarray:
    """Std (percentage points) of symmetric year-on-year growth over the last 3 years.

    Parameters
    ----------
    actual
        History, shape (n, T); NaN for gaps, 0 outside spans.
    m
        Periods per year.
    """
    window = actual[:, -(3 * m + m) :]
    cur, prev = window[:, m:], window[:, :-m]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where((cur + prev) > 0, 200 * (cur - prev) / (cur + prev), np.nan)
    n = np.isfinite(g).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(g, axis=1, ddof=1)
    return np.where(n >= min(6, 3 * m), sd, np.nan)


def structural_break_pvalue(y: np.ndarray, m: int) -> float:
    """p-value of the OLS-CUSUM test on ``log(1 + y)`` net of trend and seasonality.

    Parameters
    ----------
    y
        One series over its span (NaN gaps are left out of the regression).
    m
        Periods per year.

    Returns
    -------
    float
        NaN when the series is shorter than 3 years or its residuals are constant.
    """
    t = np.arange(len(y))
    ok = np.isfinite(y)
    if ok.sum() < SHORT_YEARS * max(m, 4):
        return float("nan")
    ly = np.log1p(np.clip(y[ok], 0.0, None))
    tt = t[ok]
    cols = [np.ones(len(tt)), tt / max(m, 1)]
    cols += [(tt % m == j).astype(float) for j in range(1, m)]
    X = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(X, ly, rcond=None)
    resid = ly - X @ beta
    if np.sum(resid**2) <= 1e-12 * max(1.0, np.sum(ly**2)):
        return float("nan")
    return float(breaks_cusumolsresid(resid, ddof=X.shape[1])[1])


def _flags(
    h: Hierarchy,
    ids: np.ndarray,
    point: np.ndarray,
    bounds: dict[str, np.ndarray],
    levels: tuple[int, ...],
    settings: Settings,
    previous: pd.DataFrame | None,
) -> list[str]:
    m = SEASON[h.freq]
    spans = h.spans.set_index("node_id").reindex(ids)
    raw = h.matrix(ids)
    first = h.periods.get_indexer(pd.PeriodIndex(spans["first_period"]))
    last = h.periods.get_indexer(pd.PeriodIndex(spans["last_period"]))
    short = spans["n_periods"].to_numpy() < SHORT_YEARS * m
    gap = (spans["n_missing"].to_numpy() > 0) | (last < len(h.periods) - 1)
    breaks = np.array(
        [
            structural_break_pvalue(raw[i, first[i] : last[i] + 1], m) < BREAK_PVALUE
            for i in range(len(ids))
        ]
    )
    wide = np.zeros(len(ids), dtype=bool)
    if levels:
        top = max(levels)  # 95 with the default levels
        width = (bounds[f"hi_{top}"][:, :m] - bounds[f"lo_{top}"][:, :m]).sum(axis=1)
        wide = width > settings.wide_interval * point[:, :m].sum(axis=1)
    revised = _revised(h, ids, previous)
    codes = {
        "short_history": short,
        "structural_break": breaks,
        "wide_interval": wide,
        "data_gap": gap,
        "revised": revised,
    }
    flags = np.full(len(ids), "", dtype=object)
    for code, hit in codes.items():
        flags = np.where(hit, np.where(flags == "", code, flags + ";" + code), flags)
    return [str(f) for f in flags]


def _revised(h: Hierarchy, ids: np.ndarray, previous: pd.DataFrame | None) -> np.ndarray:
    if previous is None or previous.empty:
        return np.zeros(len(ids), dtype=bool)
    prev = previous.assign(period=as_periods(previous["period"], h.freq))
    both = prev.merge(h.history, on=["node_id", "period"], suffixes=("_prev", ""))
    diff = (both["value"] - both["value_prev"]).abs()
    changed = diff > np.maximum(REVISION_TOL * both["value_prev"].abs(), 1e-9)
    changed |= both["value"].isna() != both["value_prev"].isna()
    hit = set(both.loc[changed, "node_id"])
    return np.isin(ids, list(hit))


def _year_before(h: Hierarchy, actual: np.ndarray, periods: pd.PeriodIndex, m: int) -> np.ndarray:
    """Sum of actuals over ``periods`` shifted back one year; NaN if any is unknown."""
    cols = h.periods.get_indexer(periods - m)
    if (cols < 0).any():
        return np.full(len(actual), np.nan)
    return actual[:, cols].sum(axis=1)


__all__ = [
    "FLAG_LABELS",
    "OUTLOOK_COLUMNS",
    "TREND_LABELS",
    "WINDOWS_MONTHS",
    "build_outlook",
    "flag_text",
    "structural_break_pvalue",
    "trend_codes",
    "volatility",
]
