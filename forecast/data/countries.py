"""Export destination countries: Vietnamese customs spellings, English names, ISO 3166 codes.

Customs tables write destinations in Vietnamese (``Hoa Kỳ``, ``Hàn Quốc``, ``Ôxtrâylia``),
trade databases in English or ISO alpha-2. All resolve to one :class:`Country`, stored by its
ISO2 code. The table lives in ``forecast/data/ref/countries.csv``; add a row or an alias
(``;``-separated) there to accept a new spelling.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from forecast.data.reference import load_reference
from forecast.textutil import key

_ISO2 = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Country:
    """An export destination: ISO 3166-1 alpha-2 code and canonical names."""

    iso2: str
    name_en: str
    name_vi: str


@cache
def _tables() -> tuple[dict[str, Country], dict[str, Country], dict[str, str]]:
    by_code: dict[str, Country] = {}
    index: dict[str, Country] = {}
    display: dict[str, str] = {}
    for row in load_reference("countries").itertuples(index=False):
        c = Country(row.iso2, row.name_en, row.name_vi)
        by_code[c.iso2] = c
        for name in (c.name_en, c.name_vi, *filter(None, row.aliases.split(";"))):
            index.setdefault(key(name), c)
        display[key(c.name_vi)] = c.name_vi
        display.setdefault(key(c.name_en), c.name_en)
    for c in by_code.values():  # names win over codes in lower case ("my" is Mỹ, not MY)
        index.setdefault(key(c.iso2), c)
    return by_code, index, display


def countries() -> list[Country]:
    """Every known destination, in table order."""
    return list(_tables()[0].values())


def country(iso2: str) -> Country:
    """The country with ISO2 code ``iso2`` (e.g. ``country("US").name_vi == "Hoa Kỳ"``)."""
    return _tables()[0][iso2]


def lookup_country(text: str) -> Country | None:
    """Resolve a country name (Vietnamese or English, any case or diacritics) or ISO2 code.

    Two upper-case letters are read as an ISO2 code first, so ``MY`` is Malaysia while
    ``Mỹ``, ``My`` or ``my`` is the United States (the customs spelling).
    """
    raw = str(text).strip()
    if _ISO2.fullmatch(raw) and raw in _tables()[0]:
        return _tables()[0][raw]
    k = key(raw)
    return _tables()[1].get(k) if k else None


def suggest_country(text: str) -> str | None:
    """The nearest known country name to ``text``, for "did you mean" messages."""
    display = _tables()[2]
    hits = difflib.get_close_matches(key(str(text)), list(display), n=1, cutoff=0.6)
    return display[hits[0]] if hits else None
