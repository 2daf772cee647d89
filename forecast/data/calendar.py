"""Tết (Vietnamese Lunar New Year) features for any period frequency.

A holiday only matters to a period if it falls inside it, so every feature is a count of
days inside each period: the official Tết holiday days, the pre-Tết weeks (orders and
shopping peak) and the post-Tết restart weeks (workshops reopen slowly). Dates come from the
``holidays`` package's Vietnamese calendar, which (unlike Chinese-calendar libraries) gets
2007-02-17 and 2030-02-02 right.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays
import numpy as np
import pandas as pd

from forecast.errors import InvalidParameterError

#: Days before the first day of Tết counted as the pre-Tết season.
PRE_TET_DAYS = 21
#: Days after the last official holiday counted as the post-Tết restart.
POST_TET_DAYS = 14

FEATURES = ("tet_days", "tet_first_day", "pre_tet_days", "post_tet_days")

_FIRST_DAY_NAME = "Lunar New Year"


@cache
def _vn_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("VN", years=year, language="en_US").items())


def tet_date(year: int) -> date | None:
    """First day of Tết (mùng 1 tháng Giêng) in Gregorian ``year``, or None for a year the
    ``holidays`` package has no lunar table for (1901-2100 in version 0.109); no Tết day
    is then counted, and charts mark none."""
    for day, name in _vn_holidays(year).items():
        if name == _FIRST_DAY_NAME:
            return day
    return None


def tet_holidays(year: int) -> list[date]:
    """Official Tết holiday days of ``year`` (eve, first days and days off), sorted."""
    return sorted(d for d, n in _vn_holidays(year).items() if "Lunar New Year" in n)


def _day_flags(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    days = pd.date_range(start.normalize(), end.normalize(), freq="D")
    flags = np.zeros((len(days), len(FEATURES)), dtype=np.int16)
    pos = {d: i for i, d in enumerate(days.date)}
    for year in range(start.year - 1, end.year + 2):
        hol = tet_holidays(year)
        first = tet_date(year)
        if first is None or not hol:
            continue
        before = [first - timedelta(days=k) for k in range(1, PRE_TET_DAYS + 1)]
        after = [hol[-1] + timedelta(days=k) for k in range(1, POST_TET_DAYS + 1)]
        marks = [(0, hol), (1, [first]), (2, before), (3, after)]
        for col, ds in marks:
            for d in ds:
                i = pos.get(d)
                if i is not None:
                    flags[i, col] = 1
    return pd.DataFrame(flags, index=days, columns=list(FEATURES))


def tet_features(periods: pd.PeriodIndex) -> pd.DataFrame:
    """Tết day counts for each period.

    Parameters
    ----------
    periods
        Periods of any frequency (daily, weekly, monthly, quarterly, annual).

    Returns
    -------
    DataFrame indexed by ``periods`` with integer columns
        ``tet_days`` official Tết holiday days in the period; ``tet_first_day`` 1 if the
        first day of Tết is in the period; ``pre_tet_days`` days of the 21 days before Tết;
        ``post_tet_days`` days of the 14 days after the holiday.
    """
    if not isinstance(periods, pd.PeriodIndex):
        raise InvalidParameterError(
            f"tet_features expects a pandas PeriodIndex; got {type(periods).__name__}."
        )
    if len(periods) == 0:
        return pd.DataFrame(columns=list(FEATURES), index=periods, dtype=np.int16)
    start = periods.min().start_time
    end = periods.max().end_time
    daily = _day_flags(start, end)
    per_period = daily.groupby(daily.index.to_period(periods.freq)).sum()
    return per_period.reindex(periods, fill_value=0).astype(np.int16)
