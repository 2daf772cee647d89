"""Read a long ``unique_id,ds,y`` table: the input of ``predict-csv`` and ``backtest --input``.

The files are handled as ingest handles them (:mod:`forecast.data.readers`): CSV, TSV or
TXT, optionally gzip-compressed, in UTF-8 (with or without BOM), UTF-16, cp1258 or cp1252,
separated by commas, semicolons or tabs; XLSX; Parquet. Numbers may be typed as people type
them (``1234.5``, ``1.234,5``, ``1,234.5``), one convention per file
(:mod:`forecast.data.numbers`; ``;``-separated files default to the decimal comma). Title
and blank lines above the header are skipped, as are blank lines in the data.

Each row's index is its file line (sheet row) minus 2, which is where
:meth:`forecast.panel.Panel.from_long` looks for the line to name in an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from forecast.data.numbers import Decimal, analyse, choose_decimal
from forecast.data.problems import MAX_PROBLEMS
from forecast.data.readers import (
    HEADER_SCAN_ROWS,
    decode_text,
    load_input,
    xlsx_rows,
)
from forecast.data.schema import NO_DATA_MARKS, cell_text
from forecast.errors import DataError, Problem

#: The columns of a long table, in the order of the ``predict-csv`` contract.
COLUMNS = ("unique_id", "ds", "y")
_DELIMITERS = (",", ";", "\t")
_SHOWN = {",": "commas", ";": "semicolons", "\t": "tabs"}
_NUMBER_FIX = "write a plain number such as 1234.5 or 1.234,5, or leave the cell empty"


@dataclass(frozen=True)
class LongTable:
    """A long table as read.

    Attributes
    ----------
    frame
        Columns ``unique_id`` and ``ds`` as text, ``y`` as float (NaN where blank or a
        no-data mark such as ``-`` or ``NaN``); the index is each row's file line - 2.
    warnings
        What the reader decided that the user may want to check (e.g. how ``1.234`` was
        read).
    """

    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()


def read_long_table(path: Path | str, *, sheet: str | None = None) -> LongTable:
    """Read a long ``unique_id,ds,y`` table from CSV, TSV, XLSX or Parquet.

    Parameters
    ----------
    path
        The file; the format is taken from its first bytes, then its extension.
    sheet
        XLSX sheet to read; default: the first visible one.

    Returns
    -------
    LongTable
        The rows with a value, a date or a series id (fully blank rows are skipped).

    Raises
    ------
    DataError
        The file is missing, unreadable or malformed, has no header naming the three
        columns, or holds cells that are not numbers; the problems name the line and
        column and say what to do.
    """
    path = Path(path)
    _check_path(path)
    loaded = load_input(path)
    name = loaded.name
    hint: Decimal | None = None
    if loaded.kind == "parquet":
        frame = _parquet_frame(name, loaded.data)
    elif loaded.kind == "xlsx":
        rows, _title = xlsx_rows(name, loaded.data, sheet)
        frame = _rows_frame(name, ((i + 1, list(r)) for i, r in enumerate(rows)))
    else:
        text = decode_text(name, loaded.data)
        delimiter = _delimiter(name, text)
        hint = "," if delimiter == ";" else None
        frame = _rows_frame(name, _csv_records(name, text, delimiter))
    return _typed(name, frame, hint)


def _check_path(path: Path) -> None:
    """Clear messages for what is not a readable file, before reading it."""
    try:  # a folder on the way that cannot be entered makes even these raise
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:
        raise DataError(
            Problem.whole_file(
                path.name,
                f"cannot be opened ({exc.strerror or exc}; path {path})",
                "check that the file and its folders are readable by this user",
            )
        ) from None
    if not exists:
        raise DataError(Problem.whole_file(path.name, "file not found", "check the path"))
    if is_dir:
        raise DataError(
            Problem.whole_file(
                path.name,
                f"is a folder, not a file ({path})",
                "pass the path of a CSV file with columns unique_id,ds,y",
            )
        )


# --- CSV ------------------------------------------------------------------------------------


def _csv_records(name: str, text: str, delimiter: str) -> Iterator[tuple[int, list[object]]]:
    """(first file line, cells) of each record; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            yield line, list(cells)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(
            Problem(
                name, reader.line_num, None, None,
                f"the text cannot be read as CSV ({exc})",
                'check the quotes: a cell that starts with " must end with "',
            )
        ) from None  # fmt: skip


def _delimiter(name: str, text: str) -> str:
    """The delimiter under which a header row names all three columns (else ``,``)."""
    head = "".join(islice(io.StringIO(text, newline=""), HEADER_SCAN_ROWS))
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if any(_header_positions(r) is not None for r in rows):
            return delimiter
    return ","


# --- rows to a frame ------------------------------------------------------------------------


def _key(cell: object) -> str:
    return cell_text(cell).lower()


def _header_positions(cells: Sequence[object]) -> dict[str, int] | None:
    """Position of each column when the row names all three, else None."""
    keys = [_key(c) for c in cells]
    if not all(c in keys for c in COLUMNS):
        return None
    return {c: keys.index(c) for c in COLUMNS}


def _missing_columns(name: str, rows: list[list[object]]) -> DataError:
    first = next((r for r in rows if any(_key(c) for c in r)), [])
    found = [cell_text(c) for c in first if cell_text(c)]
    keys = {_key(c) for c in first}
    missing = [c for c in COLUMNS if c not in keys]
    return DataError(
        Problem(
            name, None, None, None,
            f"missing column(s) {', '.join(missing)}; found {', '.join(found) or 'no header'}",
            "provide a long table with columns unique_id,ds,y (one header row, then one "
            "row per series and period), separated by commas, semicolons or tabs",
        )
    )  # fmt: skip


def _rows_frame(name: str, records: Iterable[tuple[int, list[object]]]) -> pd.DataFrame:
    """The three columns of the rows below the header, indexed by file line - 2."""
    records = iter(records)
    scanned: list[list[object]] = []
    positions = None
    for line, cells in records:
        positions = _header_positions(cells)
        if positions is not None:
            header = [_key(c) for c in cells]
            twice = sorted({c for c in COLUMNS if header.count(c) > 1})
            if twice:
                raise DataError(
                    Problem(
                        name, line, None, None,
                        f"the header names column(s) {', '.join(twice)} more than once",
                        "keep one column each for unique_id, ds and y",
                    )
                )  # fmt: skip
            width = len(cells)
            break
        scanned.append(cells)
        if len(scanned) >= HEADER_SCAN_ROWS:
            break
    if positions is None:
        raise _missing_columns(name, scanned)
    lines: list[int] = []
    values: dict[str, list[object]] = {c: [] for c in COLUMNS}
    extra: list[Problem] = []
    take = [positions[c] for c in COLUMNS]
    for line, cells in records:
        if not any(_filled(c) for c in cells):
            continue  # blank line, or a line of separators or spaces
        if len(cells) > width and any(_filled(c) for c in cells[width:]):
            extra.append(
                Problem(
                    name, line, None, ", ".join(cell_text(c) for c in cells[width:] if _filled(c)),
                    f"row has more cells than the {width} of the header",
                    "quote text that contains the delimiter, and write numbers without "
                    "thousands separators when the delimiter is a comma",
                )
            )  # fmt: skip
            if len(extra) >= MAX_PROBLEMS:
                break
            continue
        lines.append(line)
        for column, pos in zip(COLUMNS, take, strict=True):
            values[column].append(cells[pos] if pos < len(cells) else None)
    if extra:
        raise DataError(extra, truncated=len(extra) >= MAX_PROBLEMS)
    index = pd.Index(np.asarray(lines, dtype=np.int64) - 2)
    return pd.DataFrame({c: pd.Series(values[c], dtype=object) for c in COLUMNS}).set_axis(
        index, axis=0
    )


def _filled(cell: object) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


# --- Parquet --------------------------------------------------------------------------------


def _parquet_frame(name: str, data: bytes) -> pd.DataFrame:
    try:
        table = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            Problem.whole_file(
                name,
                f"the file is not a readable Parquet file ({exc})",
                "write it again with pandas/pyarrow, or save the data as CSV",
            )
        ) from None
    header = list(table.columns)
    positions = _header_positions(header)
    if positions is None:
        raise _missing_columns(name, [header])
    frame = pd.DataFrame(
        {c: table.iloc[:, positions[c]].astype(object).to_numpy() for c in COLUMNS}
    )
    frame = frame.where(frame.notna(), None)
    return frame.set_axis(pd.RangeIndex(len(frame)), axis=0)  # row i is "line" i + 2


# --- types ----------------------------------------------------------------------------------


def _as_text(cell: object) -> str | None:
    """An id or date cell as text: dates in ISO form, whole numbers without ``.0``, text as
    written (spaces may be part of an id); None when blank."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return None
    if isinstance(cell, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(cell)
        if stamp.tzinfo is not None:
            return stamp.isoformat()
        return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M:%S")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float | np.floating) and float(cell).is_integer():
        return str(int(cell))
    text = str(cell)
    return text if text.strip() else None


def _typed(name: str, frame: pd.DataFrame, hint: Decimal | None) -> LongTable:
    """Ids and dates as text, values as numbers under the file's decimal convention."""
    lines = frame.index.to_numpy() + 2
    ids = _per_value(frame["unique_id"], _as_text)
    ds = _per_value(frame["ds"], _as_text)
    raw_y = frame["y"]
    no_data = _per_value(raw_y, _no_data).astype(bool)
    cells = raw_y.where(~no_data, None)
    analysed = analyse(cells)
    choice = choose_decimal([analysed], hint=hint)
    if choice.mixed:
        (ci, ctext), (pi, ptext) = choice.comma_example, choice.point_example  # type: ignore[misc]
        raise DataError(
            Problem(
                name, None, "y", None,
                f"the file mixes decimal conventions: '{ctext}' (row {ci + 2}) uses a decimal "
                f"comma but '{ptext}' (row {pi + 2}) a decimal point",
                "use one convention in the whole file (1234.5 or 1234,5)",
            )
        )  # fmt: skip
    y, bad = analysed.parse(choice.decimal)
    y = y.astype(float)
    infinite = np.isinf(y.to_numpy())
    infinite[bad.to_numpy()] = raw_y[bad].map(_is_inf_text).to_numpy(bool)
    problems = [
        Problem(
            name, int(lines[r]), "y", cell_text(raw_y.iat[r]),
            "not a finite number" if infinite[r] else "not a number", _NUMBER_FIX,
        )
        for r in np.flatnonzero(bad.to_numpy() | infinite)[:MAX_PROBLEMS]
    ]  # fmt: skip
    filled = ids.notna() | ds.notna() | y.notna() | no_data
    for column, series, fix in (
        ("unique_id", ids, "fill in the series id or delete the row"),
        ("ds", ds, "fill in the date (YYYY-MM-DD) or period index, or delete the row"),
    ):
        for r in np.flatnonzero((series.isna() & filled).to_numpy())[:MAX_PROBLEMS]:
            problems.append(Problem(name, int(lines[r]), column, None, f"{column} is empty", fix))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, COLUMNS.index(p.column or "y")))
        raise DataError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    out = pd.DataFrame(
        {"unique_id": ids, "ds": ds, "y": y.where(~infinite)}, index=frame.index
    ).loc[filled.to_numpy()]
    warnings = []
    if choice.ambiguous:
        other = "," if choice.decimal == "." else "."
        warnings.append(
            f"{name}: numbers such as '1{other}234' were read with '{other}' as a thousands "
            f"separator and '{choice.decimal}' as the decimal mark (nothing in the file "
            "decides it); write numbers without thousands separators if that is wrong"
        )
    return LongTable(out, tuple(warnings))


def _per_value(cells: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """``cells.map(fn)`` with ``fn`` called once per distinct value (ids and dates repeat)."""
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=True)
    mapped = np.array([*(fn(u) for u in uniques), fn(None)], dtype=object)
    return pd.Series(mapped[codes], index=cells.index)  # code -1 (None, NaN) takes fn(None)


def _no_data(cell: object) -> bool:
    return isinstance(cell, str) and cell.strip().lower() in NO_DATA_MARKS


def _is_inf_text(cell: object) -> bool:
    if not isinstance(cell, str):
        return False
    try:
        return bool(np.isinf(float(cell.strip())))
    except ValueError:
        return False
