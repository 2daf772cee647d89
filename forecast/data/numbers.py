"""Numbers as people type them: thousands separators and decimal comma, decided per file.

Vietnamese spreadsheets write ``1.234,5``; English ones ``1,234.5``. A file uses one
convention, chosen from the cells that are unambiguous (``1.234.567``, ``1234,5``,
``1,234.5``...). Cells like ``1.234`` fit both; they follow the evidence of the other cells,
else the delimiter hint (``;``-separated files use decimal comma), else decimal point.
Each distinct text is classified once by a single regular expression.
"""

from __future__ import annotations

import decimal as pydecimal
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Decimal = Literal[".", ","]

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
# Spaces (also no-break and thin) and apostrophes group thousands only between groups of
# three digits: "12 345,6" is a number, "1 5" is not.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:[\s\u00a0\u202f\u2009']\d{3})+(?:[.,]\d+)?")
# The first alternative that matches the whole text names its class.
_CLASSIFY = re.compile(
    r"(?P<plain>[+-]?\d+(?:[eE][+-]?\d+)?)"  # 1e5 has no decimal mark either
    r"|(?P<ambiguous>[+-]?[1-9]\d{0,2}[.,]\d{3})"  # 1.234 or 1,234: thousands or decimals?
    r"|(?P<comma>[+-]?\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?"  # 1.234.567
    r"|[+-]?\d{1,3}(?:\.\d{3})+,\d+"  # 1.234,5
    r"|[+-]?\d*,(?:\d{1,2}|\d{4,})"  # 1234,5  0,25  ,5
    r"|[+-]?\d{4,},\d+"  # 1234,567
    r"|[+-]?0?,\d+"  # 0,125
    r"|[+-]?\d*,\d+[eE][+-]?\d+)"  # 1,5E+11 (Excel under Vietnamese settings)
    r"|(?P<point>[+-]?\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?"
    r"|[+-]?\d{1,3}(?:,\d{3})+\.\d+"
    r"|[+-]?\d*\.(?:\d{1,2}|\d{4,})"
    r"|[+-]?\d{4,}\.\d+"
    r"|[+-]?\d+(?:\.\d+)?[eE][+-]?\d+"
    r"|[+-]?0?\.\d+"
    r"|[+-]?\d+\.)",  # 5.
    re.ASCII,
)


@dataclass(frozen=True)
class NumberCells:
    """A column of number cells, classified once per distinct text.

    Use :func:`analyse` to build it, :func:`choose_decimal` over all numeric columns of a
    file, then :meth:`parse`.
    """

    cells: pd.Series
    codes: np.ndarray  # position of each cell's text in `texts` (-1: not text)
    texts: list[str]  # distinct space-free texts
    classes: list[str | None]  # plain/ambiguous/comma/point, or None (not a number)

    def first(self, cls: str) -> tuple[int, str] | None:
        """(index label, text) of the first cell of class ``cls``, if any."""
        for k, c in enumerate(self.classes):
            if c == cls:
                label = self.cells.index[int(np.argmax(self.codes == k))]
                return int(label), self.texts[k]
        return None

    def parse(self, decimal: Decimal) -> tuple[pd.Series, pd.Series]:
        """Values under ``decimal``.

        Returns
        -------
        values : Series of float
            NaN where the cell is blank or not a number.
        bad : Series of bool
            True where the cell is non-blank but not a number in this convention.
        """
        cells = self.cells
        if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
            return cells.astype("float64"), pd.Series(False, index=cells.index)
        kinds = cells.map(type)
        is_number = {
            t: issubclass(t, int | float | np.number | pydecimal.Decimal) and t is not bool
            for t in set(kinds)
        }
        numeric = kinds.map(is_number).astype(bool).to_numpy()
        values = np.full(len(cells), np.nan)
        values[numeric] = pd.to_numeric(cells[numeric].astype(float), errors="coerce")
        valid_classes = {"plain", "ambiguous", "comma" if decimal == "," else "point"}
        thousands = "." if decimal == "," else ","
        plain = [
            (t.replace(thousands, "").replace(",", ".") if c in valid_classes else "")
            for t, c in zip(self.texts, self.classes, strict=True)
        ]
        parsed = pd.to_numeric(pd.Series([*plain, ""], dtype=object), errors="coerce")
        # A well-formed number too big for a float (400 digits) is infinitely large.
        parsed[parsed.isna() & pd.Series([bool(p) for p in [*plain, ""]])] = np.inf
        is_text = self.codes >= 0
        values[is_text] = parsed.to_numpy()[self.codes[is_text]]
        blank_text = np.array([t == "" for t in self.texts] + [True])
        ok = np.array([c in valid_classes for c in self.classes] + [True])
        bad = is_text & ~ok[self.codes] & ~blank_text[self.codes]
        # Anything neither a number nor text (bool, dates from a spreadsheet) is bad too.
        bad |= ~numeric & ~is_text & cells.notna().to_numpy()
        return (
            pd.Series(values, index=cells.index),
            pd.Series(bad, index=cells.index),
        )


def analyse(cells: pd.Series) -> NumberCells:
    """Classify the text cells of a numeric column (numbers and blanks are left aside)."""
    array = cells.to_numpy(dtype=object)
    is_text = np.fromiter((type(v) is str for v in array), bool, len(array))
    codes = np.full(len(array), -1)
    texts: list[str] = []
    if is_text.any():
        text_codes, uniques = pd.factorize(array[is_text])
        texts = [u if u.isascii() and u.isdigit() else _clean(u) for u in uniques]
        codes[is_text] = text_codes
    classes = []
    for t in texts:
        m = _CLASSIFY.fullmatch(t)
        classes.append(m.lastgroup if m else None)
    return NumberCells(cells, codes, texts, classes)


def _clean(text: str) -> str:
    """The text without surrounding spaces, and without grouping spaces between digits."""
    text = text.strip()
    return _SPACES.sub("", text) if _GROUPED.fullmatch(text) else text


@dataclass(frozen=True)
class DecimalChoice:
    """The convention chosen for a file and the evidence behind it.

    ``comma_example``/``point_example`` are (index label, text) of a cell that proves each
    convention; both set means the file mixes conventions. ``ambiguous`` is True when some
    cells (``1.234``) were read by a default rather than by evidence.
    """

    decimal: Decimal
    comma_example: tuple[int, str] | None
    point_example: tuple[int, str] | None
    ambiguous: bool

    @property
    def mixed(self) -> bool:
        """True when the file holds cells that prove both conventions."""
        return self.comma_example is not None and self.point_example is not None


def choose_decimal(columns: list[NumberCells], *, hint: Decimal | None = None) -> DecimalChoice:
    """Decide the decimal convention of a file from its numeric columns.

    Parameters
    ----------
    columns
        The file's numeric columns (value, quantity), analysed.
    hint
        Convention to use when the cells do not decide (from the CSV delimiter).
    """
    comma = next((e for c in columns if (e := c.first("comma"))), None)
    point = next((e for c in columns if (e := c.first("point"))), None)
    ambiguous = any("ambiguous" in c.classes for c in columns)
    if comma is not None and point is None:
        decimal: Decimal = ","
    elif point is not None:
        decimal = "."
    else:
        decimal = hint or "."
    return DecimalChoice(decimal, comma, point, ambiguous and comma is None and point is None)


def ambiguity_note(example: str, row: object, value: float, decimal: Decimal) -> str:
    """The note for a file whose ``1.234``-like cells no cell decided: which cell, how read.

    Parameters
    ----------
    example, row, value
        One such cell as written, its row as the user sees it, and the number read.
    decimal
        The convention applied.
    """
    mark = "decimal mark" if example.count(decimal) else "thousands separator"
    sign = next(c for c in example if c in ".,")
    return (
        f"'{example}' (row {row}) and numbers like it were read as {value:g}, taking "
        f"'{sign}' for a {mark} (nothing in the file decides it); write numbers without "
        "thousands separators if that is wrong"
    )
