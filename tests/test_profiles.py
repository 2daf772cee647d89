"""Series profiles: which rule a series falls under."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.evaluation.profiles import (
    candidates,
    fixed_set_note,
    leading_zeros,
    named_models,
    profile_of,
    resolve_regular,
    seasonal_zeros,
)


@pytest.mark.parametrize(
    ("values", "profile"),
    [
        ([0.0], "zero"),
        ([5.0], "tiny"),  # one value shows no constancy
        ([5.0, 5.0], "constant"),
        ([5.0, 6.0, 7.0], "tiny"),
        ([0, 0, 3, 0, 0, 2, 0, 0, 0, 4], "intermittent"),
        (list(range(1, 11)), "short"),
        (list(range(1, 31)), "regular"),
    ],
)
def test_profile_of(values: list[float], profile: str) -> None:
    assert profile_of(np.asarray(values, dtype=float), 12) == profile


def test_zeros_in_the_same_months_every_year_are_a_season_not_intermittency() -> None:
    month = np.arange(48) % 12
    sold_in_winter = np.where(month < 4, 20.0 + month, 0.0)  # 67% zeros, all in May-Dec
    assert seasonal_zeros(sold_in_winter, 12)
    assert profile_of(sold_in_winter, 12) == "regular"
    assert profile_of(sold_in_winter[:20], 12) == "intermittent"  # under two cycles: unknown
    assert not seasonal_zeros(sold_in_winter, 1)


def test_random_zeros_stay_intermittent() -> None:
    """Slow movers whose zeros fall anywhere: at most a few percent of 36-month Poisson
    series look seasonal by chance, none of 60 months."""
    rng = np.random.default_rng(0)
    for n, most in ((36, 0.05), (60, 0.0)):
        flagged = [
            seasonal_zeros(y, 12)
            for y in (rng.poisson(0.5, n).astype(float) for _ in range(500))
            if 0.3 <= np.mean(y == 0) < 1
        ]
        assert np.mean(flagged) <= most


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0, 0, 3, 0, 4], 2), ([1, 0, 2], 0), ([0, 0, 0], 0), ([0, 0, -1, 2], 0), ([0, np.nan, 5], 2)],
)
def test_leading_zeros(values: list[float], expected: int) -> None:
    assert leading_zeros(np.asarray(values, dtype=float)) == expected


REGULAR = ("theta", "snaive")


@pytest.mark.parametrize(
    ("models", "profile", "expected"),
    [
        # default (alone or extended) keeps the fixed sets
        (
            ("default",),
            "short",
            (("naive", "drift", "mean", "theta", "ets", "gbm"), ("ens_median", "ens_mean")),
        ),
        (
            ("default,prophet",),
            "short",
            (("naive", "drift", "mean", "theta", "ets", "gbm"), ("ens_median", "ens_mean")),
        ),
        # named short-series models narrow the short set, ensembles only if named
        (("naive", "theta"), "short", (("naive", "theta"), ())),
        (("theta,ens_mean",), "short", (("theta",), ("ens_mean",))),
        # none of the short set named: the whole set
        (
            ("snaive",),
            "short",
            (("naive", "drift", "mean", "theta", "ets", "gbm"), ("ens_median", "ens_mean")),
        ),
        # intermittent series are narrowed only by an intermittent-demand method
        (("naive", "theta"), "intermittent", (("croston", "sba", "tsb", "mean", "naive"), ())),
        (("croston", "naive"), "intermittent", (("croston", "naive"), ())),
        (("naive", "theta"), "tiny", (("naive",), ())),
    ],
)
def test_named_models_narrow_the_fixed_sets(
    models: tuple[str, ...], profile: str, expected: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    assert candidates(profile, REGULAR, named_models(models)) == expected  # type: ignore[arg-type]


def test_fixed_set_note_only_when_named_models_miss_the_short_set() -> None:
    assert fixed_set_note("short", named_models(("snaive",))) == (
        "short series: none of the models asked for suits them; they choose among their "
        "own set (Naive, Drift, Mean, Theta, AutoETS, GlobalGBM)"
    )
    assert fixed_set_note("short", named_models(("naive",))) is None
    assert fixed_set_note("short", named_models(("default",))) is None
    assert fixed_set_note("intermittent", named_models(("snaive",))) is None


def test_default_joined_with_commas_also_brings_the_ensembles() -> None:
    """``default,prophet`` as one string (a library caller's) reads as the two names."""
    assert resolve_regular(("default,prophet",)) == resolve_regular(("default", "prophet"))
    assert "ens_mean" in resolve_regular(("default,prophet",))
    assert named_models(("default,prophet",)) is None
