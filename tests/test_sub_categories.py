"""Sub-categories ``<code>.<n>`` (the demo generator's synthetic categories) are accepted."""

from __future__ import annotations

import pytest
from pipeline_fixtures import _generator

from forecast.data.categories import category, category_group, lookup_category
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.errors import DataError


@pytest.mark.parametrize(
    ("text", "code", "group"),
    [("XK_WOOD.1", "XK_WOOD.1", "CNNT1"), ("xk_cashew.12", "XK_CASHEW.12", "CNNT2")],
)
def test_sub_category_maps_to_parent_group(text, code, group):
    found = lookup_category(text)
    assert found is not None and (found.code, found.group) == (code, group)
    assert category(code) == found and category_group(code) == group
    assert code in found.name_vi and code in found.name_en


@pytest.mark.parametrize("text", ["XK_WOOD.0", "XK_WOOD.10000", "CNNT1.1", "NOPE.1"])
def test_other_dotted_codes_are_unknown(text):
    assert lookup_category(text) is None
    with pytest.raises(KeyError):
        category(text)


def test_generator_with_more_than_15_categories_ingests(tmp_path):
    frame = _generator().generate(
        start="2024-01", end="2025-06", n_provinces=2, n_categories=17, n_destinations=0
    )
    synthetic = sorted(c for c in set(frame["category"].astype(str)) if "." in c)
    assert len(synthetic) == 2
    csv = tmp_path / "scale.csv"
    frame.to_csv(csv, index=False)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        ingest_file(wh, csv)
        obs = wh.observations()
    for code in synthetic:
        sub = obs[obs["category"] == code]
        assert len(sub) and (sub["group"] == category_group(code.split(".")[0])).all()


def test_unknown_sub_category_is_rejected_with_the_row(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "period,province,category,market,value,unit\n2024-01,Hà Nội,XK_NOPE.2,domestic,1,USD\n"
    )
    with Warehouse(tmp_path / "wh.duckdb") as wh, pytest.raises(DataError, match="row 2"):
        ingest_file(wh, csv)
