import pytest

from forecast.data.geography import (
    MERGER_DATE,
    lookup_province,
    province,
    provinces,
    regions,
    suggest_province,
)


def test_34_units_in_6_regions_with_expected_sizes():
    units = provinces()
    assert len(units) == 34
    assert len({u.code for u in units}) == 34
    sizes = {r.code: sum(u.region.code == r.code for u in units) for r in regions()}
    # README of the domain data: the name-keeping rule gives a 9/6/8/3/3/5 split.
    assert sizes == {"TDMNPB": 9, "DBSH": 6, "BTB_DHMT": 8, "TN": 3, "DNB": 3, "DBSCL": 5}
    assert sum(len(u.members) for u in units) == 63
    assert MERGER_DATE.isoformat() == "2025-07-01"


@pytest.mark.parametrize(
    ("text", "unit", "old"),
    [
        ("Hà Giang", "Tuyên Quang", "Hà Giang"),
        ("ha giang", "Tuyên Quang", "Hà Giang"),
        ("HA GIANG", "Tuyên Quang", "Hà Giang"),
        ("Tỉnh Hà Giang", "Tuyên Quang", "Hà Giang"),
        ("TP. Hồ Chí Minh", "Hồ Chí Minh", None),
        ("Thành phố Hồ Chí Minh", "Hồ Chí Minh", None),
        ("TP.HCM", "Hồ Chí Minh", None),
        ("Bình Dương", "Hồ Chí Minh", "Bình Dương"),
        ("Bà Rịa - Vũng Tàu", "Hồ Chí Minh", "Bà Rịa - Vũng Tàu"),
        ("Thừa Thiên Huế", "Huế", "Thừa Thiên Huế"),
        ("Huế", "Huế", None),
        ("Tỉnh Hoà Bình", "Phú Thọ", "Hòa Bình"),  # old-style tone placement
        ("Hòa Bình", "Phú Thọ", "Hòa Bình"),
        ("Kon Tum", "Quảng Ngãi", "Kon Tum"),
        ("Đắk Nông", "Lâm Đồng", "Đắk Nông"),
        ("01", "Hà Nội", None),
        ("1", "Hà Nội", None),
        (1, "Hà Nội", None),
        ("15", "Lào Cai", None),  # new code of Lào Cai (old Yên Bái's)
        ("02", "Tuyên Quang", "Hà Giang"),  # old code
        ("  can tho  ", "Cần Thơ", None),
        ("\u00d0à Nẵng", "Đà Nẵng", None),  # Ð (U+00D0) typed for Đ: looks the same
    ],
)
def test_lookup_names_codes_and_forms(text, unit, old):
    match = lookup_province(text)
    assert match is not None
    assert match.unit.name == unit
    assert match.old_name == old


@pytest.mark.parametrize(
    ("text", "old_code", "old"),
    [
        ("Hà Giang", "02", "Hà Giang"),
        ("02", "02", "Hà Giang"),
        ("Tuyên Quang", "08", None),  # a 2025 unit: before the merger, the old province
        ("08", "08", None),
        ("Huế", "46", None),  # renamed unit: its only member, Thừa Thiên Huế
        ("15", "15", None),  # 2025 code of Lào Cai = old code of Yên Bái
        ("Yên Bái", "15", "Yên Bái"),
        ("Lào Cai", "10", None),
        ("BRVT", "77", "Bà Rịa - Vũng Tàu"),  # informal names of old provinces are parts
        ("daknong", "67", "Đắk Nông"),
        ("TP.HCM", "79", None),
    ],
)
def test_old_code_is_the_pre_2025_province_named(text, old_code, old):
    match = lookup_province(text)
    assert match is not None
    assert (match.old_code, match.old_name) == (old_code, old)


@pytest.mark.parametrize("text", ["", "   ", "Atlantis", "99", "Hà"])
def test_lookup_unknown_returns_none(text):
    assert lookup_province(text) is None


def test_suggestions_for_typos():
    assert suggest_province("Ha Giangg") == "Hà Giang"
    assert suggest_province("Quang Ngay") == "Quảng Ngãi"
    assert suggest_province("zzzzzzzz") is None


def test_region_of_merged_units_follows_name_keeper():
    assert province("Phú Thọ").region.code == "TDMNPB"
    assert province("Bắc Ninh").region.code == "DBSH"
    assert province("Hồ Chí Minh").is_city
    assert not province("Gia Lai").is_city
