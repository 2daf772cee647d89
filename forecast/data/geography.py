"""Vietnam's provinces: the 63 units before 2025, the 34 units of 2025, and 6 regions.

Names are matched with or without diacritics, case-insensitively, with or without
administrative prefixes ("Tỉnh", "TP.", "Thành phố"), and by GSO code. Data keyed to a
pre-2025 province is mapped to the 2025 unit it merged into (NQ 202/2025/QH15, in force
12 June 2025; new local governments from 1 July 2025).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from forecast.data.reference import load_reference
from forecast.textutil import fold, key

#: Date from which the 34 provincial units operate.
MERGER_DATE = date(2025, 7, 1)

REGION_NAMES: dict[str, tuple[str, str]] = {
    # code: (Vietnamese, English); order is north to south, as GSO tables print them.
    "TDMNPB": ("Trung du và miền núi phía Bắc", "Northern Midlands and Mountains"),
    "DBSH": ("Đồng bằng sông Hồng", "Red River Delta"),
    "BTB_DHMT": ("Bắc Trung Bộ và Duyên hải miền Trung", "North Central and Central Coast"),
    "TN": ("Tây Nguyên", "Central Highlands"),
    "DNB": ("Đông Nam Bộ", "Southeast"),
    "DBSCL": ("Đồng bằng sông Cửu Long", "Mekong River Delta"),
}

_PREFIX = re.compile(r"^\s*(tinh|thanh\s*pho|t\.?\s*p\.?|tp\.?)\s+", re.IGNORECASE)

# Common informal names, keyed by matching key -> the province name they stand for (a 2025
# unit, or a pre-2025 province such as Bà Rịa - Vũng Tàu, so that they count as its part).
_ALIASES = {
    "hcm": "Hồ Chí Minh",
    "tphcm": "Hồ Chí Minh",
    "hcmc": "Hồ Chí Minh",
    "saigon": "Hồ Chí Minh",
    "hochiminhcity": "Hồ Chí Minh",
    "thanhphohochiminh": "Hồ Chí Minh",
    "hanoi": "Hà Nội",
    "brvt": "Bà Rịa - Vũng Tàu",
    "vungtau": "Bà Rịa - Vũng Tàu",
    "hue": "Huế",
    "tthue": "Huế",
    "daklak": "Đắk Lắk",
    "daclac": "Đắk Lắk",
    "daknong": "Đắk Nông",
}


@dataclass(frozen=True)
class Region:
    """One of the six socio-economic regions (NQ 81/2023/QH15)."""

    code: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Province:
    """A provincial unit of 2025 (28 provinces and 6 centrally-run cities)."""

    code: str
    name: str
    full_name: str
    ascii_name: str
    region: Region
    members: tuple[str, ...]

    @property
    def is_city(self) -> bool:
        """True for the six centrally-run cities (Thành phố)."""
        return self.full_name.startswith("Thành phố")


@dataclass(frozen=True)
class ProvinceMatch:
    """Result of resolving a province name or code.

    ``old_name`` is set when the input named a pre-2025 province that no longer exists as a
    unit of its own (e.g. "Hà Giang" -> Tuyên Quang); it is None for names of 2025 units.

    ``old_code`` is the GSO code of the pre-2025 province the input denotes for a period
    before :data:`MERGER_DATE`: the province named (``"02"`` for "Hà Giang"); for the
    name of a 2025 unit, the pre-2025 province of that name ("Tuyên Quang" -> ``"08"``, the
    old Tuyên Quang only; "Huế" -> ``"46"``, Thừa Thiên Huế); for a GSO code, the pre-2025
    province of that code (every 2025 code is the code of one of its member provinces, so
    ``"15"`` is Yên Bái before the merger and Lào Cai, the unit Yên Bái joined, from it).
    """

    unit: Province
    old_name: str | None
    old_code: str


def _strip_prefix(text: str) -> str:
    folded = fold(text).strip()
    return _PREFIX.sub("", folded)


@cache
def _tables() -> tuple[dict[str, Province], dict[str, ProvinceMatch], dict[str, str]]:
    df = load_reference("provinces")
    region_code_by_name = {vi: code for code, (vi, _en) in REGION_NAMES.items()}
    units: dict[str, Province] = {}
    for name, grp in df.groupby("new_province_2025", sort=False):
        first = grp.iloc[0]
        rcode = region_code_by_name[first["new_region_2025_inferred"]]
        units[str(name)] = Province(
            code=first["new_code_2025"],
            name=str(name),
            full_name=first["new_province_2025_full"],
            ascii_name=first["new_province_2025_ascii"],
            region=Region(rcode, *REGION_NAMES[rcode]),
            members=tuple(grp["old_province"]),
        )
    index: dict[str, ProvinceMatch] = {}
    display: dict[str, str] = {}  # key -> display name, for suggestions
    old_codes = dict(zip(df["old_province"], df["old_code"], strict=True))
    for unit in units.values():
        # Before the merger a 2025 name means the old province of that name (or the only
        # member, for a renamed unit such as Huế); a 2025 code, the old province of that code.
        named = old_codes.get(unit.name) or old_codes[unit.members[0]]
        for text in (unit.name, unit.full_name, unit.ascii_name):
            index[key(_strip_prefix(text))] = ProvinceMatch(unit, None, named)
        index[f"#{int(unit.code)}"] = ProvinceMatch(unit, None, unit.code)
        display[key(unit.name)] = unit.name
    for row in df.itertuples(index=False):
        unit = units[row.new_province_2025]
        old = None if row.old_province == unit.name else row.old_province
        match = ProvinceMatch(unit, old, row.old_code)
        for text in (row.old_province, row.old_province_full, row.old_province_ascii):
            index.setdefault(key(_strip_prefix(text)), match)
        display.setdefault(key(row.old_province), row.old_province)
        index.setdefault(f"#{int(row.old_code)}", match)
    for alias, name in _ALIASES.items():
        index.setdefault(alias, index[key(_strip_prefix(name))])
    return units, index, display


def provinces() -> list[Province]:
    """The 34 provincial units of 2025, ordered by region (north to south) then code."""
    order = list(REGION_NAMES)
    units = _tables()[0].values()
    return sorted(units, key=lambda u: (order.index(u.region.code), u.code))


def regions() -> list[Region]:
    """The six regions, north to south."""
    return [Region(code, vi, en) for code, (vi, en) in REGION_NAMES.items()]


def province(name: str) -> Province:
    """The 2025 unit with exactly this (2025) name, e.g. ``province("Huế")``."""
    return _tables()[0][name]


def lookup_province(text: str | int) -> ProvinceMatch | None:
    """Resolve a province name or GSO code; None when nothing matches.

    Accepts old (63) and new (34) names, with or without diacritics and prefixes, and
    GSO codes as text or integers ("01", "1", 1).
    """
    raw = str(text).strip()
    if not raw:
        return None
    index = _tables()[1]
    if raw.isdigit():
        return index.get(f"#{int(raw)}")
    return index.get(key(_strip_prefix(raw)))


def suggest_province(text: str) -> str | None:
    """The nearest valid province name to ``text`` (for "did you mean" messages)."""
    display = _tables()[2]
    wanted = key(_strip_prefix(text))
    for hit in difflib.get_close_matches(wanted, list(display), n=3, cutoff=0.5):
        # A loose match must at least start like the name ('HCM city' -> Hồ Chí Minh), so
        # that junk ('Atlantis', '=cmd|...') gets no suggestion rather than a random one.
        close = difflib.SequenceMatcher(None, wanted, hit).ratio() >= _CLOSE_MATCH
        if close or hit[:1] == wanted[:1]:
            return display[hit]
    return None


#: Similarity from which a suggestion may differ in its first letter ('Vac Ninh').
_CLOSE_MATCH = 0.75
