"""Choosing among candidates on backtest windows: per-series shrinkage, missing errors."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.evaluation.selection import WindowSet, choose_per_series, validate_per_series


def _windows(forecasts: dict[str, np.ndarray], actual: np.ndarray, series: list[int]) -> WindowSet:
    rows = len(series)
    return WindowSet(np.asarray(series), actual, np.ones(rows), np.ones(rows), forecasts)


def test_per_series_shrinks_own_errors_towards_the_pooled_ones() -> None:
    # Two series, two windows each, h = 1; MASE = |error| with scale 1.
    actual = np.zeros((4, 1))
    fc = {
        "a": np.array([[1.0], [1.0], [3.0], [3.0]]),  # own: s0 1, s1 3; pooled 2
        "b": np.array([[2.0], [2.0], [2.0], [2.0]]),  # own: 2, 2; pooled 2
    }
    picks, why = choose_per_series(_windows(fc, actual, [0, 0, 1, 1]), ["a", "b"], "mase", 2, 2.0)
    # Relative to each series' candidate mean: s0 a 1/1.5, b 2/1.5; s1 a 3/2.5, b 2/2.5;
    # prior (mean over series) a 0.933, b 1.067. s0: a (2 * 0.667 + 2 * 0.933) / 4 = 0.8
    # < b 1.2; s1: a (2 * 1.2 + 2 * 0.933) / 4 = 1.067 > b (2 * 0.8 + 2 * 1.067) / 4 = 0.933
    assert picks == ["a", "b"]
    assert why == [
        "lowest shrunk backtest MASE relative to the series' candidate mean, 0.800 "
        "(2 own windows, shrinkage 2)",
        "lowest shrunk backtest MASE relative to the series' candidate mean, 0.933 "
        "(2 own windows, shrinkage 2)",
    ]


def test_per_series_never_scores_a_missing_error_as_zero() -> None:
    actual = np.zeros((4, 1))
    fc = {
        "failed": np.full((4, 1), np.nan),  # no finite forecast anywhere
        "partly": np.array([[np.nan], [4.0], [1.0], [1.0]]),  # s0 lost one window
        "steady": np.array([[2.0], [2.0], [2.0], [2.0]]),
    }
    names = ["failed", "partly", "steady"]
    picks, why = choose_per_series(_windows(fc, actual, [0, 0, 1, 1]), names, "mase", 2, 1.0)
    # Own means: s0 partly 4 (one window), steady 2; s1 partly 1, steady 2. Relative to
    # each series' candidate mean: s0 1.333 and 0.667, s1 0.667 and 1.333; prior 1 each.
    # s0: partly (1.333 + 1) / 2 = 1.167 > steady (2 * 0.667 + 1) / 3 = 0.778; s1: partly
    # (2 * 0.667 + 1) / 3 = 0.778. Counting the NaN as 0 would have given s0's partly an
    # own mean of 2, a tie with steady, and picked "partly" on the tie-break.
    assert picks == ["steady", "partly"]
    rel = "lowest shrunk backtest MASE relative to the series' candidate mean"
    assert why[0] == f"{rel}, 0.778 (2 own windows, shrinkage 1)"
    assert why[1] == f"{rel}, 0.778 (2 own windows, shrinkage 1)"


def test_per_series_without_shrinkage_falls_back_to_the_pooled_score() -> None:
    # Series 1 has no finite error for any candidate: with shrinkage 0 its score is the
    # prior (b: 0.5 against 1.5), not NaN (which argmin would have turned into the first
    # name).
    actual = np.zeros((3, 1))
    fc = {
        "a": np.array([[3.0], [3.0], [np.nan]]),
        "b": np.array([[1.0], [1.0], [np.nan]]),
    }
    picks, why = choose_per_series(_windows(fc, actual, [0, 0, 1]), ["a", "b"], "mase", 2, 0.0)
    assert picks == ["b", "b"]
    assert why[1] == (
        "lowest shrunk backtest MASE relative to the series' candidate mean, 0.500 "
        "(0 own windows, shrinkage 0)"
    )


def _two_data_sets(a_rows: float, b_rows: float) -> tuple[WindowSet, np.ndarray]:
    """40 series of 3 windows (h = 1, MASE = |forecast|): on the first 30, candidate "a"
    errs by 1 and "b" by 2; on the last 10, "a" by ``a_rows`` and "b" by ``b_rows``."""
    series = np.repeat(np.arange(40), 3)
    window = np.tile(np.arange(3), 40)
    first = series < 30
    fc = {
        "a": np.where(first, 1.0, a_rows)[:, None],
        "b": np.where(first, 2.0, b_rows)[:, None],
    }
    return _windows(fc, np.zeros((120, 1)), series.tolist()), window


def test_auto_adopts_per_series_choice_where_one_data_set_would_choose_for_another() -> None:
    ws, window = _two_data_sets(3.0, 1.0)
    check = validate_per_series(ws, window, np.ones(120, bool), ["a", "b"], "mase", 40, None)
    assert check is not None
    # Pooled "a" (1.5 against 1.75) everywhere: 1 on the 30 series and 3 on the 10.
    assert check.pooled == pytest.approx((30 * 1 + 10 * 3) / 40)
    # Per series, on the other two windows (relative errors: "a" 0.667 and "b" 1.333 on the
    # 30, 1.5 and 0.5 on the 10; prior 0.875 and 1.125): at shrinkage 1 and 3 "b" for the
    # 10, held-out error 1 everywhere; at 10, (2 * 1.5 + 10 * 0.875) / 12 = 0.979 for "a"
    # beats (2 * 0.5 + 10 * 1.125) / 12 = 1.021 for "b": the pooled choice again. Of the
    # tied two the larger shrinkage is kept.
    assert check.shrunk == {1.0: pytest.approx(1.0), 3.0: pytest.approx(1.0), 10.0: 1.5}
    diff = np.r_[np.zeros(30), np.full(10, -2.0)]
    assert check.gap == pytest.approx(diff.mean())
    assert check.se == pytest.approx(diff.std(ddof=1) / np.sqrt(40))
    assert check.shrinkage == 3.0 and check.n_series == 40
    assert check.row_picks is not None
    assert (check.row_picks[:90] == 0).all() and (check.row_picks[90:] == 1).all()
    # Per held-out window, every series' choice: the row's pick is its series' in its fold.
    assert check.fold_picks is not None and sorted(check.fold_picks) == [0, 1, 2]
    for j, picks in check.fold_picks.items():
        assert picks.tolist() == [0] * 30 + [1] * 10
        np.testing.assert_array_equal(picks[ws.series[window == j]], check.row_picks[window == j])


def test_auto_keeps_the_pooled_choice_on_like_series() -> None:
    # One data set: "a" is better on average, the per-series leader is noise.
    rng = np.random.default_rng(3)
    series = np.repeat(np.arange(40), 3)
    fc = {"a": rng.normal(1.0, 0.5, (120, 1)), "b": rng.normal(1.2, 0.5, (120, 1))}
    fc = {k: np.abs(v) for k, v in fc.items()}
    ws = _windows(fc, np.zeros((120, 1)), series.tolist())
    window = np.tile(np.arange(3), 40)
    check = validate_per_series(ws, window, np.ones(120, bool), ["a", "b"], "mase", 40, None)
    assert check is not None and check.shrinkage is None and check.row_picks is None
    assert check.fold_picks is None
    # Little shrinkage chases the noise; heavy shrinkage is the pooled choice again.
    assert check.shrunk[1.0] > check.shrunk[3.0] > check.pooled == check.shrunk[10.0]
    assert check.gap >= -check.se


def test_auto_needs_two_windows_and_ten_series() -> None:
    ws, window = _two_data_sets(3.0, 1.0)
    one = window == 0
    sub = ws.subset(one)
    assert (
        validate_per_series(sub, window[one], np.ones(40, bool), ["a", "b"], "mase", 40, None)
        is None
    )
    few = ws.series < 9  # 9 series
    sub = ws.subset(few)
    got = validate_per_series(sub, window[few], np.ones(27, bool), ["a", "b"], "mase", 9, None)
    assert got is None
