"""forecast.parallel helpers: worker counts and batch splitting as documented."""

from __future__ import annotations

import os

import pytest

from forecast.errors import ConfigError
from forecast.parallel import effective_jobs, split_batches


def test_effective_jobs_counts_negative_values_from_the_cores() -> None:
    cores = os.cpu_count() or 1
    assert effective_jobs(3) == 3
    assert effective_jobs(-1) == cores
    assert effective_jobs(-2) == max(1, cores - 1)
    assert effective_jobs(-cores - 5) == 1
    with pytest.raises(ConfigError, match="must not be 0"):
        effective_jobs(0)


@pytest.mark.parametrize("n", [0, 1, 7, 10, 33, 100])
@pytest.mark.parametrize("n_batches", [-1, 1, 3, 4, 16, 200])
def test_split_batches_is_contiguous_near_equal_and_bounded(n: int, n_batches: int) -> None:
    items = list(range(n))
    batches = split_batches(items, n_batches)
    assert [x for b in batches for x in b] == items
    if n == 0:
        assert batches == []
        return
    assert len(batches) == min(max(1, n_batches), n)
    sizes = [len(b) for b in batches]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


def test_split_batches_keeps_the_sequence_type() -> None:
    assert split_batches("abcdefg", 3) == ["ab", "cde", "fg"]
