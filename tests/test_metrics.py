"""Every accuracy metric against numbers computed by hand on tiny arrays."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.evaluation import metrics


# --------------------------------------------------------------------------- seasonal scale
def test_seasonal_scale_lag_m() -> None:
    # lag-2 differences of [1, 3, 2, 5, 4, 6]: |2-1|, |5-3|, |4-2|, |6-5| = 1, 2, 2, 1
    y = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]
    assert metrics.seasonal_scale(y, 2) == pytest.approx(1.5)
    assert metrics.seasonal_scale(y, 2, power=2) == pytest.approx(2.5)  # (1+4+4+1)/4
    # lag 1: 2, 1, 3, 1, 2
    assert metrics.seasonal_scale(y, 1) == pytest.approx(1.8)


def test_seasonal_scale_falls_back_to_lag_1_when_not_longer_than_a_season() -> None:
    # [1, 4, 2] with m=4 (and m=3: no pair one season apart) -> lag 1: 3, 2
    assert metrics.seasonal_scale([1.0, 4.0, 2.0], 4) == pytest.approx(2.5)
    assert metrics.seasonal_scale([1.0, 4.0, 2.0], 3) == pytest.approx(2.5)
    assert metrics.seasonal_scale([1.0, 4.0, 2.0], 3, power=2) == pytest.approx(6.5)


@pytest.mark.parametrize("y", [[], [5.0], [np.nan, 5.0, np.nan]])
def test_seasonal_scale_is_nan_without_two_observations(y: list[float]) -> None:
    assert np.isnan(metrics.seasonal_scale(y, 12))


def test_seasonal_scale_of_a_constant_series_is_zero() -> None:
    assert metrics.seasonal_scale([3.0] * 30, 12) == 0.0


def test_seasonal_scale_keeps_gaps_in_place() -> None:
    """Differences are taken between values one season apart in time: a gap removes the
    pairs it touches instead of shifting later values into the wrong season."""
    y = [1.0, np.nan, 2.0, 4.0, 3.0, 7.0]
    # lag-2 pairs: 2-1 = 1, (4 - nan), 3-2 = 1, 7-4 = 3 -> mean of 1, 1, 3
    assert metrics.seasonal_scale(y, 2) == pytest.approx(5 / 3)
    # lag-1 pairs: (nan), (nan), 2, 1, 4 -> mean 7/3
    assert metrics.seasonal_scale(y, 1) == pytest.approx(7 / 3)
    # No complete pair one season (3) apart: lag 1 stands in (2-1, 3-2)
    y3 = [1.0, 2.0, 3.0, np.nan, np.nan, np.nan, 7.0]
    assert metrics.seasonal_scale(y3, 3) == pytest.approx(1.0)


# --------------------------------------------------------------------------- point metrics
def test_mase() -> None:
    # |1-2| + |2-2| + |3-2| = 2, mean 2/3, / 0.5
    assert metrics.mase([1, 2, 3], [2, 2, 2], 0.5) == pytest.approx(4 / 3)
    rows = metrics.mase([[1, 2, 3], [4, 4, 4]], [[2, 2, 2], [4, 5, 7]], [0.5, 2.0])
    np.testing.assert_allclose(rows, [4 / 3, (0 + 1 + 3) / 3 / 2])


def test_scaled_metrics_are_nan_for_a_zero_scale() -> None:
    assert np.isnan(metrics.mase([1, 2], [1, 2], 0.0))
    assert np.isnan(metrics.rmsse([1, 2], [1, 3], 0.0))
    assert np.isnan(metrics.bias([1, 2], [1, 3], 0.0))
    assert np.isnan(metrics.msis([1, 2], [0, 1], [2, 3], 95, 0.0))
    np.testing.assert_array_equal(
        np.isnan(metrics.mase([[1, 2], [1, 2]], [[2, 2], [2, 2]], [0.0, 1.0])), [True, False]
    )


def test_rmsse() -> None:
    # squared errors 1, 0, 1 -> mean 2/3; / 0.5 -> 4/3; sqrt
    assert metrics.rmsse([1, 2, 3], [2, 2, 2], 0.5) == pytest.approx(np.sqrt(4 / 3))
    assert metrics.rmsse([1, 2, 3], [2, 2, 2], 0.5) == pytest.approx(1.1547005383792515)


def test_smape_m3_definition_with_zero_over_zero() -> None:
    # 200*10/210, 0/0 -> 0, 200*100/(50+50) = 200
    value = metrics.smape([100, 0, 50], [110, 0, -50])
    assert value == pytest.approx((200 * 10 / 210 + 0 + 200) / 3)
    assert value == pytest.approx(69.84126984126983)
    assert metrics.smape([0, 0], [0, 0]) == 0.0
    assert metrics.smape([0], [5]) == pytest.approx(200.0)


def test_bias_sign_and_scale() -> None:
    # forecasts too high by 1, 1, 2 -> +4/3, / 2
    assert metrics.bias([1, 2, 3], [2, 3, 5], 2.0) == pytest.approx(2 / 3)
    assert metrics.bias([2, 3, 5], [1, 2, 3], 2.0) == pytest.approx(-2 / 3)


# --------------------------------------------------------------------------- intervals
def test_coverage_includes_the_bounds() -> None:
    # 1 in [0, 2]; 5 not in [6, 7]; 10 in [10, 11] (bound counts)
    assert metrics.coverage([1, 5, 10], [0, 6, 10], [2, 7, 11]) == pytest.approx(2 / 3)
    rows = metrics.coverage([[1, 5], [3, 3]], [[0, 0], [4, 4]], [[2, 6], [5, 5]])
    np.testing.assert_allclose(rows, [1.0, 0.0])


def test_interval_score_winkler() -> None:
    # level 80: alpha 0.2, penalty 2/alpha = 10 per unit outside
    # widths 2, 1, 1; penalties 0, 10*(6-5), 10*(12-11) -> scores 2, 11, 11
    assert metrics.interval_score([1, 5, 12], [0, 6, 10], [2, 7, 11], 80) == pytest.approx(8.0)
    # level 95: 2/0.05 = 40; one value 0.5 below: width 1 + 40*0.5
    assert metrics.interval_score([0.5], [1.0], [2.0], 95) == pytest.approx(21.0)


def test_msis_is_interval_score_over_scale() -> None:
    assert metrics.msis([1, 5, 12], [0, 6, 10], [2, 7, 11], 80, 4.0) == pytest.approx(2.0)
    rows = metrics.msis(
        [[1, 5, 12], [1, 1, 1]], [[0, 6, 10], [0, 0, 0]], [[2, 7, 11]] * 2, 80, [4.0, 1.0]
    )
    np.testing.assert_allclose(rows, [2.0, (2 + 7 + 11) / 3])


def test_missing_values_are_not_perfect_scores() -> None:
    """NaN gives NaN in every metric: sMAPE used to count it as 0 (a perfect forecast),
    which made per-series selection on sMAPE choose models that never fitted."""
    y, f = np.array([100.0, 100.0]), np.array([90.0, np.nan])
    assert np.isnan(metrics.smape(y, f))
    assert np.isnan(metrics.mase(y, f, 1.0))
    assert np.isnan(metrics.coverage(np.array([1.0, np.nan]), [0.0, 0.0], [2.0, 2.0]))
    # 0/0 stays an exact forecast of a zero.
    assert metrics.smape(np.array([0.0, 100.0]), np.array([0.0, 100.0])) == 0.0
    np.testing.assert_allclose(
        metrics.smape(np.array([[100.0], [np.nan]]), np.array([[90.0], [1.0]])),
        [200 * 10 / 190, np.nan],
    )
