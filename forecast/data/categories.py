"""Product categories (``categories.csv``) and their CNNT groups.

A category is written as its code (``XK_WOOD``) or its Vietnamese or English name, in any
case, with or without diacritics. Every category belongs to one of the four MOIT CNNT groups
(``CNNT1`` … ``CNNT4``), which gives the product hierarchy for domestic and export series.

A *sub-category* ``<code>.<n>`` of a category in the table (``XK_WOOD.3``, ``n`` from 1 to
9999) is accepted too and belongs to its parent's group: the demo generator's synthetic
categories (``--categories``/``--bottom-series`` beyond the 15 real ones) and finer product
lines a province may report are written that way.
"""

from __future__ import annotations

import difflib
import re
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


#: ``<category code>.<n>``: a sub-category of a category in the table.
_SUB_CODE = re.compile(r"^(?P<parent>[A-Za-z][A-Za-z0-9_]*)\.(?P<n>[1-9][0-9]{0,3})$")


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
    """The category with exactly this code (or sub-category ``<code>.<n>``).

    Raises
    ------
    KeyError
        No such category.
    """
    found = _tables()[0].get(code) or _sub_category(code)
    if found is None:
        raise KeyError(code)
    return found


def category_group(code: str) -> str | None:
    """CNNT group of a category or sub-category code; None when unknown."""
    found = _tables()[0].get(code) or _sub_category(code)
    return found.group if found else None


def lookup_category(text: str) -> Category | None:
    """Resolve a category code, name or sub-category code; None when nothing matches."""
    sub = _sub_category(str(text).strip())
    if sub is not None:
        return sub
    k = key(str(text))
    return _tables()[1].get(k) if k else None


@cache
def _sub_category(text: str) -> Category | None:
    """``XK_WOOD.3`` -> sub-category 3 of ``XK_WOOD`` (its group; names marked with the code).

    Only categories can have sub-categories, not the CNNT groups themselves.
    """
    m = _SUB_CODE.fullmatch(text)
    if m is None:
        return None
    parent = _tables()[0].get(m["parent"].upper())
    if parent is None or parent.code == parent.group:
        return None
    code = f"{parent.code}.{int(m['n'])}"
    return Category(code, f"{parent.name_vi} ({code})", f"{parent.name_en} ({code})", parent.group)


def suggest_category(text: str) -> str | None:
    """The nearest category name or code to ``text``, for "did you mean" messages."""
    display = _tables()[2]
    hits = difflib.get_close_matches(key(str(text)), list(display), n=1, cutoff=0.5)
    return display[hits[0]] if hits else None
