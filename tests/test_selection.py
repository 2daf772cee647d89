"""Choosing among candidates on backtest windows: per-series shrinkage, missing errors."""

from __future__ import annotations

import numpy as np

from forecast.evaluation.selection import WindowSet, choose_per_series


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
    # s0: a (2 * 1 + 2 * 2) / 4 = 1.5 < b 2.0; s1: a (2 * 3 + 2 * 2) / 4 = 2.5 > b 2.0
    assert picks == ["a", "b"]
    assert why == [
        "lowest shrunk backtest MASE 1.500 (2 own windows, shrinkage 2)",
        "lowest shrunk backtest MASE 2.000 (2 own windows, shrinkage 2)",
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
    # partly: pooled (4 + 1 + 1) / 3 = 2; s0 own 4 on one window: (4 + 2) / 2 = 3 > 2;
    # s1 own 1 on two windows: (2 * 1 + 2) / 3 = 1.333 < 2. Counting the NaN as 0 would
    # have given s0 (0 + 4) / 2 = 2 own and picked "partly" on a tie-break.
    assert picks == ["steady", "partly"]
    assert why[0] == "lowest shrunk backtest MASE 2.000 (2 own windows, shrinkage 1)"
    assert why[1] == "lowest shrunk backtest MASE 1.333 (2 own windows, shrinkage 1)"


def test_per_series_without_shrinkage_falls_back_to_the_pooled_score() -> None:
    # Series 1 has no finite error for any candidate: with shrinkage 0 its score is the
    # pooled one (b), not NaN (which argmin would have turned into the first name).
    actual = np.zeros((3, 1))
    fc = {
        "a": np.array([[3.0], [3.0], [np.nan]]),
        "b": np.array([[1.0], [1.0], [np.nan]]),
    }
    picks, why = choose_per_series(_windows(fc, actual, [0, 0, 1]), ["a", "b"], "mase", 2, 0.0)
    assert picks == ["b", "b"]
    assert why[1] == "lowest shrunk backtest MASE 1.000 (0 own windows, shrinkage 0)"
