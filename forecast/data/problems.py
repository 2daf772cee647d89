"""Collect every problem in a file, up to a cap, then raise one :class:`DataError`.

Checks are vectorised: each gives a boolean mask over the rows, and only the first rows of a
mask become :class:`Problem` objects, so a million bad cells cost no more than fifty.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import pandas as pd

from forecast.errors import DataError, Problem

#: Problems reported per file before "… more".
MAX_PROBLEMS = 50
#: Further rows listed for a repeated bad value.
_LISTED_ROWS = 5

Text = str | Callable[[str], str]


def display(value: object) -> str | None:
    """A cell as the user typed it, for messages; None for blank cells (also whitespace)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class ProblemLog:
    """Problems found in one file.

    Parameters
    ----------
    file
        File name shown in every message.
    cap
        Problems kept; more are counted and reported as "… more".
    """

    def __init__(self, file: str, *, cap: int = MAX_PROBLEMS):
        self.file = file
        self.cap = cap
        self.items: list[Problem] = []
        self.total = 0
        #: Spreadsheet rows with a problem recorded (itemised or not).
        self.rows: set[int] = set()

    def __bool__(self) -> bool:
        return self.total > 0

    def add(
        self,
        message: str,
        fix: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        """Record one problem."""
        self.total += 1
        if row is not None:
            self.rows.add(int(row))
        if len(self.items) < self.cap:
            self.items.append(Problem(self.file, row, column, display(value), message, fix))

    def add_uncounted(self, n: int) -> None:
        """Count ``n`` further problems that were found but not itemised."""
        self.total += max(n, 0)

    def add_rows(
        self,
        mask: pd.Series,
        frame: pd.DataFrame,
        column: str,
        message: Text,
        fix: Text,
        *,
        headers: pd.Series | str,
    ) -> None:
        """Record the rows of ``frame`` where ``mask`` is True, one problem per bad value.

        Rows with the same bad value in the same column make one problem that names the
        first row and lists the others ("also rows 7, 9 and 40 more"), so a misspelt
        province repeated in 500 rows costs one line, not the whole cap.

        Parameters
        ----------
        mask
            Boolean, aligned with ``frame``.
        frame
            Rows with ``_row`` (spreadsheet row number) and ``column`` (the raw cell).
        column
            Column holding the offending cell.
        message, fix
            Text, or a function of the cell's displayed value (for "did you mean").
        headers
            Column name shown to the user: one header, or one per row (wide layout).
        """
        hits = frame.loc[mask.to_numpy(), [column, "_row"]]
        if hits.empty:
            return
        self.rows.update(int(r) for r in hits["_row"])
        names = (
            pd.Series(headers, index=hits.index)
            if isinstance(headers, str)
            else headers.loc[hits.index].astype(str)
        )
        groups, _ = pd.factorize(names + "\x1f" + hits[column].astype(str))
        _, firsts = np.unique(groups, return_index=True)
        firsts.sort()
        self.total += len(firsts)
        rows = hits["_row"].to_numpy()
        for first in firsts[: max(self.cap - len(self.items), 0)]:
            shown = display(hits[column].iat[first])
            text = shown or ""
            others = rows[groups == groups[first]][1:]
            also = ""
            if len(others):
                listed = ", ".join(str(r) for r in others[:_LISTED_ROWS])
                more = len(others) - _LISTED_ROWS
                rows_word = "rows" if len(others) > 1 else "row"
                also = f" (also {rows_word} {listed}{f' and {more} more' if more > 0 else ''})"
            self.items.append(
                Problem(
                    self.file,
                    int(rows[first]),
                    str(names.iat[first]),
                    shown,
                    (message(text) if callable(message) else message) + also,
                    fix(text) if callable(fix) else fix,
                )
            )

    def raise_if_any(self) -> None:
        """Raise :class:`DataError` with every problem, in row order, if any were found."""
        if not self.total:
            return
        ordered = sorted(self.items, key=lambda p: (p.row is not None, p.row or 0))
        raise DataError(ordered, truncated=self.total > len(ordered))
