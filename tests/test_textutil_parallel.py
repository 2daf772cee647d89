import functools

import pytest

from forecast.parallel import run_batched, split_batches
from forecast.textutil import fold, key, slugify


def test_fold_and_key():
    assert fold("Đắk Lắk") == "dak lak"
    assert fold("Hoà") == fold("Hòa") == "hoa"
    # Look-alikes of Đ from converted files (Icelandic eth U+00D0, African D U+0189).
    assert fold("\u00d0à Nẵng") == fold("\u0189à Nẵng") == fold("Đà Nẵng") == "da nang"
    assert fold("Lâm \u00f0ồng") == "lam dong"
    assert key("Bà Rịa - Vũng Tàu") == "bariavungtau"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hồ Chí Minh", "ho-chi-minh"),
        ("../../etc/passwd", "etc-passwd"),
        ("=cmd|' /C calc'!A0", "cmd-c-calc-a0"),
        ("", "unnamed"),
        ("....", "unnamed"),
    ],
)
def test_slugify_is_safe(text, slug):
    assert slugify(text) == slug


def test_split_batches_covers_all_items_in_order():
    items = list(range(10))
    batches = split_batches(items, 3)
    assert [x for b in batches for x in b] == items
    assert len(batches) == 3
    assert split_batches(items, 50) == [[i] for i in items]


def _square_all(batch, offset=0):
    return [x * x + offset for x in batch]


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_batched_keeps_order_whatever_the_workers(jobs):
    items = list(range(37))
    out = run_batched(functools.partial(_square_all, offset=1), items, n_jobs=jobs)
    assert out == [x * x + 1 for x in items]
