from datetime import date

import pandas as pd
import pytest

from forecast.data import calendar
from forecast.data.calendar import FEATURES, tet_date, tet_features, tet_holidays
from forecast.data.reference import load_reference

REFERENCE = load_reference("tet_dates")


@pytest.mark.parametrize("row", REFERENCE.to_dict("records"), ids=REFERENCE["year"].tolist())
def test_tet_date_matches_reference_2000_2035(row):
    assert tet_date(int(row["year"])).isoformat() == row["tet_date"]


def test_years_where_vietnam_differs_from_china():
    assert tet_date(2007) == date(2007, 2, 17)
    assert tet_date(2030) == date(2030, 2, 2)


def test_monthly_features_split_holiday_across_months():
    # Tết 2025: holiday 27 Jan - 1 Feb (6 official days), first day 29 Jan.
    feats = tet_features(pd.period_range("2024-12", "2025-03", freq="M"))
    assert list(feats.columns) == list(FEATURES)
    assert feats.loc[pd.Period("2025-01", "M"), "tet_days"] == len(
        [d for d in tet_holidays(2025) if d.month == 1]
    )
    assert feats["tet_days"].sum() == len(tet_holidays(2025))
    assert feats["tet_first_day"].tolist() == [0, 1, 0, 0]
    # 21 pre-Tết days: 8-28 Jan 2025 all in January.
    assert feats.loc[pd.Period("2025-01", "M"), "pre_tet_days"] == 21
    assert feats.loc[pd.Period("2025-02", "M"), "post_tet_days"] == 14
    assert feats.loc[pd.Period("2025-03", "M")].sum() == 0


def test_quarterly_and_annual_features_contain_the_whole_holiday():
    q = tet_features(pd.period_range("2030Q1", "2030Q4", freq="Q"))
    assert q["tet_first_day"].tolist() == [1, 0, 0, 0]
    assert q.iloc[0]["tet_days"] == len(tet_holidays(2030))
    y = tet_features(pd.period_range("2020", "2022", freq="Y"))
    assert (y["tet_first_day"] == 1).all()


def test_tet_in_february_vs_january():
    feats = tet_features(pd.period_range("2026-01", "2026-02", freq="M"))
    assert feats["tet_first_day"].tolist() == [0, 1]  # Tết 2026 is 17 Feb


def test_rejects_non_period_index():
    with pytest.raises(TypeError, match="PeriodIndex"):
        tet_features(pd.date_range("2020-01-01", periods=3, freq="MS"))


def test_years_outside_the_holidays_tables_count_no_tet_instead_of_failing(monkeypatch):
    # The data contract takes 1900-2100; the holidays package (0.109) dates Tết in
    # 1901-2100. A year it has no table for is stood in for here, whatever its range.
    real = calendar._vn_holidays
    monkeypatch.setattr(calendar, "_vn_holidays", lambda y: {} if y >= 2101 else real(y))
    assert tet_date(2101) is None
    feats = tet_features(pd.period_range("2100-01", "2101-12", freq="M"))
    in_2100 = feats[feats.index.year == 2100]
    assert in_2100["tet_first_day"].sum() == 1 and in_2100["tet_days"].sum() > 0
    assert feats[feats.index.year == 2101].to_numpy().sum() == 0


def test_charts_mark_tet_only_in_years_it_is_known(monkeypatch):
    from forecast.reports.charts import _tet_positions

    real = calendar._vn_holidays
    monkeypatch.setattr(calendar, "_vn_holidays", lambda y: {} if y >= 2101 else real(y))

    periods = list(pd.period_range("2100-01", "2101-12", freq="M"))
    marked = _tet_positions(periods)
    assert len(marked) == 1 and periods[marked[0]].year == 2100
