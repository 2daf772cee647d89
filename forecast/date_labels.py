"""Output dates in the input's own form, so that forecasts join the input on ``ds``.

``predict-csv`` writes its forecasts and backtest tables with these labels; library callers
of :func:`forecast.engine.forecast_frame` get periods and can format them the same way,
with the panel read as the engine read it::

    result = forecast_frame(df, EngineConfig(horizon=12))
    labels = format_ds(result.forecasts, Panel.from_long(df), df)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from forecast.panel import Panel, parse_dates

__all__ = ["format_ds"]


def format_ds(forecasts: pd.DataFrame, panel: Panel, raw: pd.DataFrame) -> pd.Series:
    """The forecasts' ``ds`` written in the form of the input's own dates.

    Months, quarters and years: the input's day of the month (cut to the month's length,
    so the 30th gives 29 February) and month of the period when every input date has the
    same ones, or the period's last day when every input date is one; days and weeks: the
    same offset from the period start; else the period's first day (a week's last day,
    its Sunday, as pandas labels weeks). Times of day are written when the frequency is
    finer than a day, at the input's offset into the period when it has one. Period
    labels without a day (``2024Q1``, ``2024-Q1``, ``2024-03``) come back in that form,
    ``yyyymm`` integers as ``yyyymm``, an integer index as integers.

    Parameters
    ----------
    forecasts
        Rows with a ``ds`` column of the panel's periods (or integers).
    panel
        The panel the forecasts were made from (its frequency and ``yyyymm`` reading).
    raw
        The input table, ``unique_id`` and ``ds`` as read.

    Returns
    -------
    Series or Index
        One label per row of ``forecasts``.
    """
    if panel.freq is None:
        return forecasts["ds"].astype(int)
    labels = _period_labels(forecasts, panel, raw)
    if labels is not None:
        return labels
    if panel.yyyymm:  # months written 202401: read and written so
        months = pd.to_numeric(raw["ds"], errors="coerce").astype("Int64").astype(str)
        raw = raw.assign(ds=pd.to_datetime(months, format="%Y%m", errors="coerce"))
        out = _format_as(forecasts, panel, raw, "%Y%m")
        return out.astype(int)
    return _format_as(forecasts, panel, raw, None)


#: Quarter labels, and how to write a period so: ``2024Q1``, ``2024-Q1``.
_PERIOD_FORMS = (
    ("Q", re.compile(r"\d{4}Q[1-4]"), "%YQ%q"),
    ("Q", re.compile(r"\d{4}-Q[1-4]"), "%Y-Q%q"),
)


def _period_labels(forecasts: pd.DataFrame, panel: Panel, raw: pd.DataFrame) -> pd.Index | None:
    """The forecasts' periods in the input's own label form (``2024Q1`` in, ``2026Q1``
    out; ``2024-03`` in, ``2026-03`` out), when every input date is written in one such
    form; else None."""
    cells = raw["ds"]
    if cells.dtype != object or not cells.map(lambda c: isinstance(c, str)).all():
        return None
    text = cells.str.strip()
    for freq, pattern, form in _PERIOD_FORMS:
        if panel.freq == freq and text.str.fullmatch(pattern).all():
            return pd.PeriodIndex(forecasts["ds"]).strftime(form)
    if panel.freq in ("M", "Q", "Y") and text.str.fullmatch(r"\d{4}-\d{2}").all():
        # months without a day (2024-03), also for quarters and years stamped on a month
        return _format_as(forecasts, panel, raw, "%Y-%m")
    return None


def _format_as(
    forecasts: pd.DataFrame, panel: Panel, raw: pd.DataFrame, form: str | None
) -> pd.Index:
    """:func:`format_ds` on date input, written with ``form`` (default: ISO)."""
    periods = pd.PeriodIndex(forecasts["ds"])
    starts = periods.to_timestamp()
    sub_daily = panel.freq == "h"
    fmt = form or ("%Y-%m-%d %H:%M:%S" if sub_daily else "%Y-%m-%d")
    keep = raw["ds"].notna()
    ts = parse_dates(raw.loc[keep, "ds"], raw.loc[keep, "unique_id"].astype(str), panel.freq)
    ts = ts.dropna()
    if not len(ts):
        return starts.strftime(fmt)
    own = pd.PeriodIndex(ts.dt.to_period(panel.freq))
    own_start = own.to_timestamp()
    if sub_daily:  # the same offset into the hour (stamps at hh:30 stay at hh:30)
        within = (ts.to_numpy() - own_start.to_numpy()) // np.timedelta64(1, "s")
        if len(set(within.tolist())) == 1:
            return (starts + pd.Timedelta(seconds=int(within[0]))).strftime(fmt)
        return starts.strftime(fmt)
    day = ts.dt.normalize().to_numpy()
    if (day == own.to_timestamp(how="end").normalize().to_numpy()).all():
        return periods.to_timestamp(how="end").normalize().strftime(fmt)
    if panel.freq in ("M", "Q", "Y"):
        month_off = (ts.dt.month - own_start.month).to_numpy()
        days = ts.dt.day.to_numpy()
        # One day of the month, cut to each month's length as the input's own dates are
        # (the 30th, with 28 or 29 in February).
        wanted = int(days.max())
        if (
            len(set(month_off.tolist())) == 1
            and (days == np.minimum(wanted, ts.dt.days_in_month.to_numpy())).all()
        ):
            first = starts + pd.DateOffset(months=int(month_off[0]))
            dom = np.minimum(wanted, first.days_in_month)
            return (first + pd.to_timedelta(dom - 1, unit="D")).strftime(fmt)
        return starts.strftime(fmt)
    offset = (day - own_start.to_numpy()) // np.timedelta64(1, "D")
    if len(set(offset.tolist())) == 1:
        return (starts + pd.Timedelta(days=int(offset[0]))).strftime(fmt)
    if panel.freq == "W":  # dates on several weekdays: a week is labelled by its Sunday,
        return periods.to_timestamp(how="end").normalize().strftime(fmt)  # as pandas does
    return starts.strftime(fmt)
