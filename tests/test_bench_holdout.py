"""bench/holdout.py: the training cut and the per-level table (the run is `make bench-holdout`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from script_loader import load_script

from forecast.errors import InvalidParameterError

HOLDOUT = Path(__file__).resolve().parents[1] / "bench" / "holdout.py"


def _module():
    return load_script(HOLDOUT, "bench_holdout", sibling_imports=True)  # imports bench/m3.py


PERIODS = [str(p) for p in pd.period_range("2023-01", "2025-12", freq="M")]


def test_training_cut_defaults_to_the_last_months_and_checks_an_origin():
    holdout = _module()
    assert holdout.training_cut(PERIODS[::-1], 12, None) == "2024-12"
    assert holdout.training_cut(PERIODS, 6, None) == "2025-06"
    assert holdout.training_cut(PERIODS, 12, "2023-12") == "2023-12"
    assert holdout.training_cut(PERIODS, 12, "2024-12") == "2024-12"
    with pytest.raises(InvalidParameterError, match="leaves 11 period"):
        holdout.training_cut(PERIODS, 12, "2025-01")
    with pytest.raises(InvalidParameterError, match="not a period of the data"):
        holdout.training_cut(PERIODS, 12, "2019-12")
    with pytest.raises(InvalidParameterError, match="leaves none"):
        holdout.training_cut(PERIODS[:12], 12, None)


def test_level_table_means_per_level_and_over_levels():
    holdout = _module()
    levels = pd.Series({"a": "national", "b": "province", "c": "province", "d": "province"})
    scores = {
        "base": pd.Series({"a": 1.0, "b": 2.0, "c": 4.0, "d": 1.0}),
        "reconciled": pd.Series({"a": 0.5, "b": 1.0, "c": 2.0, "d": np.nan}),
        "top_down": pd.Series({"a": 0.5, "b": 3.0, "c": 1.0, "d": 1.0}),
    }
    out = holdout.level_table(scores, levels)
    assert list(out.columns) == ["n", "base", "reconciled", "change_%", "top_down"]
    # d has no reconciled score: left out of every column, so all compare the same nodes.
    assert out.loc["province", "n"] == 2
    assert out.loc["province", "base"] == 3.0 and out.loc["province", "top_down"] == 2.0
    assert out.loc["mean over levels", "base"] == 2.0  # (1 + 3) / 2, each level alike
    assert out.loc["mean over levels", "reconciled"] == 1.0
    assert out.loc["mean over levels", "change_%"] == pytest.approx(-50.0)
    assert out.loc["mean over levels", "n"] == 3


def test_scores_are_mae_over_the_in_sample_seasonal_naive_error_up_to_the_origin():
    holdout = _module()
    periods = pd.period_range("2023-01", periods=26, freq="M")
    # a: seasonal difference 2 every month up to the origin; b: flat (scale 0 -> NaN).
    a = 10.0 + 2.0 * (np.arange(26) >= 12) + 2.0 * (np.arange(26) >= 24)
    history = pd.DataFrame(
        {
            "node_id": ["a"] * 26 + ["b"] * 26,
            "period": list(periods) * 2,
            "value": [*a, *([5.0] * 26)],
        }
    )
    origin = periods[23]
    scales = holdout._scales(history, origin)
    assert scales == {"a": pytest.approx(2.0), "b": 0.0}
    future = periods[24:]
    frame = pd.DataFrame(
        {"node_id": ["a", "a", "b", "b"], "period": list(future) * 2, "yhat": [13, 15, 5, 5]}
    )
    got = holdout._score(frame, history, scales, "yhat")
    assert got["a"] == pytest.approx((1 + 1) / 2 / 2.0)  # actuals 14, 14
    assert np.isnan(got["b"])


def test_lowest_pooled_ignores_base_and_breaks_ties_by_preference():
    holdout = _module()
    pooled = pd.Series({"base": 0.1, "mint_shrink": 0.7, "wls_var": 0.6, "top_down": 0.6})
    assert holdout.lowest_pooled(pooled) == "wls_var"
    assert holdout.lowest_pooled(pooled.drop(["wls_var", "top_down"])) == "mint_shrink"


def test_load_average_is_guarded_where_the_system_cannot_tell(monkeypatch):
    holdout = _module()
    m3 = sys.modules["m3"]
    # The hold-out report uses bench/m3.py's guarded helper, not os.getloadavg directly.
    assert holdout.load_average is m3.load_average
    monkeypatch.setattr(os, "getloadavg", lambda: (1.3, 0.5, 0.0))
    assert holdout.load_average() == "1.3, 0.5, 0.0"
    assert m3.machine().endswith("load average at start 1.3, 0.5, 0.0")

    def unavailable():
        raise OSError("load average unobtainable")

    monkeypatch.setattr(os, "getloadavg", unavailable)
    assert holdout.load_average() == "n/a"
    assert m3.machine().endswith("load average at start n/a")
