"""Product categories (``categories.csv``) and their CNNT groups.

A category is written as its code (``XK_WOOD``) or its Vietnamese or English name, in any
case, with or without diacritics. Every category belongs to one of the four MOIT CNNT groups
(``CNNT1`` … ``CNNT4``), which gives the product hierarchy for domestic and export series.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache

from forecast.data.reference import load_reference
from forecast.textutil import key


@dataclass(frozen=True)
class Category:
    """One product category and the CNNT group it rolls up to."""

    code: str
    name_vi: str
    name_en: str
    group: str


@cache
def _tables() -> tuple[dict[str, Category], dict[str, Category], dict[str, str]]:
    by_code: dict[str, Category] = {}
    index: dict[str, Category] = {}
    display: dict[str, str] = {}
    for row in load_reference("categories").itertuples(index=False):
        c = Category(row.code, row.name_vi, row.name_en, row.group)
        by_code[c.code] = c
        for text in (c.code, c.name_vi, c.name_en):
            index.setdefault(key(text), c)
        display[key(c.name_vi)] = c.name_vi
        display.setdefault(key(c.code), c.code)
    return by_code, index, display


def categories() -> list[Category]:
    """Every category, in table order."""
    return list(_tables()[0].values())


def category(code: str) -> Category:
    """The category with exactly this code."""
    return _tables()[0][code]


def lookup_category(text: str) -> Category | None:
    """Resolve a category code or name; None when nothing matches."""
    k = key(str(text))
    return _tables()[1].get(k) if k else None


def suggest_category(text: str) -> str | None:
    """The nearest category name or code to ``text``, for "did you mean" messages."""
    display = _tables()[2]
    hits = difflib.get_close_matches(key(str(text)), list(display), n=1, cutoff=0.5)
    return display[hits[0]] if hits else None
