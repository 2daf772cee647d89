"""Series profiles: which rule a series falls under."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.evaluation.profiles import profile_of


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
