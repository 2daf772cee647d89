"""Read input files into a :class:`~forecast.data.schema.RawTable`.

Formats: CSV (also ``.tsv``/``.txt``, optionally gzip-compressed), XLSX, Parquet; the format
is taken from the file's first bytes, then its extension. CSV text may be UTF-8 (with or
without BOM), UTF-16 (LE/BE), or legacy cp1258 / cp1252; the delimiter (``,`` ``;`` tab) is
the one under which a header row is found. Title rows above the header (as statistical
yearbooks print them) are skipped, and a "Đơn vị tính: …" line there supplies the unit.

Layouts: *long* (one row per observation, a ``period`` and a ``value`` column) and *wide*
(one column per period: ``2024-01``, ``T1/2024``, ``Q1/2024``, ``2024``...). ``auto`` picks
wide when there is no period column but there are period headers.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from forecast.data.numbers import Decimal
from forecast.data.periods import Period, parse_period
from forecast.data.problems import MAX_PROBLEMS
from forecast.data.schema import (
    Layout,
    RawTable,
    blank_cells,
    cell_text,
    header_column,
    header_unit,
)
from forecast.errors import DataError, Problem

LayoutOption = Literal["long", "wide", "auto"]

#: Largest input accepted, in bytes once decompressed (file, gzip content, unpacked XLSX,
#: Parquet columns). Reading takes about 13 times the CSV size in memory (0.75 GB for a
#: million rows in 56 MB), so this keeps an unattended ingest within a few GB whatever
#: arrives, including a small file that decompresses to gigabytes.
MAX_INPUT_BYTES = 256 * 2**20
_SPLIT_FIX = (
    "split it into several files (e.g. one per year or per province) and ingest them together"
)
#: Rows searched for the header (title rows above it are skipped).
HEADER_SCAN_ROWS = 30
_SCAN_LINE_CHARS = 10_000
DELIMITERS = (",", ";", "\t")  #: CSV column separators, in the order tried
#: Wide-table cells meaning "no data" (statistical yearbook convention).
_NO_DATA = {"", "-", "–", "—", "..", "...", "…", "x", "n/a", "na"}
_UNIT_LINE = re.compile(
    r"(?:đơn vị tính|đơn vị|don vi tinh|don vi|đvt|dvt|units?)\s*[:：]\s*(?P<unit>.+?)\s*$",
    re.IGNORECASE,
)


@dataclass
class _Header:
    """What the cells of one candidate header row mean."""

    columns: dict[int, str] = field(default_factory=dict)  # position -> contract column
    periods: dict[int, Period] = field(default_factory=dict)  # position -> period
    texts: dict[int, str] = field(default_factory=dict)  # position -> header as written

    @property
    def score(self) -> int:
        """How header-like the row is: 0 unless it names at least one contract column."""
        if not self.columns:
            return 0
        return len(self.columns) + (len(self.periods) if len(self.periods) >= 2 else 0)


@dataclass(frozen=True)
class InputBytes:
    """The bytes of one input file, decompressed, with what kind of file they are."""

    name: str  #: file name as given (used in messages)
    data: bytes  #: content, gunzipped when the file was gzip-compressed
    sha256: str  #: of the file as stored (before decompression)
    kind: Literal["csv", "xlsx", "parquet"]


def load_input(path: Path | str, *, too_large_fix: str = _SPLIT_FIX) -> InputBytes:
    """Read a file's bytes within :data:`MAX_INPUT_BYTES`, gunzip it, and tell its kind.

    Parameters
    ----------
    path
        The file.
    too_large_fix
        What to tell the user when the file is too large.

    Returns
    -------
    InputBytes
        Name, content, checksum and kind (``csv``, ``xlsx`` or ``parquet``).

    Raises
    ------
    DataError
        The file cannot be read, is too large, is a broken gzip file, is empty, or is an
        unsupported spreadsheet (.xls) or a damaged .xlsx/.parquet file.
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise _too_large(name, "is", size, too_large_fix)
        data = path.read_bytes()
    except OSError as exc:
        raise _file_error(
            name,
            f"cannot read the file ({exc.strerror or exc})",
            "check the path and that the file is readable",
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    inner = name
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip(name, data, too_large_fix)
        except (OSError, EOFError, zlib.error):
            raise _file_error(
                name,
                "the file looks gzip-compressed but cannot be decompressed",
                "re-create the .gz file, or ingest the uncompressed file",
            ) from None
        inner = name.removesuffix(".gz")
    if not data.strip():
        what = "has no bytes" if not data else "holds only spaces and line breaks"
        raise _file_error(name, "the file is empty", f"export the data again; the file {what}")
    return InputBytes(name, data, sha256, _kind(name, inner, data))


def read_table(
    path: Path | str, *, layout: LayoutOption = "auto", sheet: str | None = None
) -> RawTable:
    """Read one input file.

    Parameters
    ----------
    path
        CSV/TSV (optionally ``.gz``), XLSX or Parquet file.
    layout
        ``long``, ``wide`` or ``auto`` (detect from the header).
    sheet
        XLSX sheet to read; default: the first visible sheet.

    Raises
    ------
    DataError
        The file cannot be read, decoded or parsed, or has no recognisable header row.
    """
    loaded = load_input(path)
    name, data = loaded.name, loaded.data
    if loaded.kind == "xlsx":
        rows, title = xlsx_rows(name, data, sheet)
        grid = _xlsx_grid(rows, title)
    elif loaded.kind == "parquet":
        return _parquet_table(name, data, loaded.sha256, layout)
    else:
        grid = _csv_grid(name, data)
    return _build(name, grid, loaded.sha256, layout)


def _file_error(name: str, message: str, fix: str) -> DataError:
    return DataError(Problem.whole_file(name, message, fix))


def _parquet_error(name: str, exc: Exception) -> DataError:
    return _file_error(
        name,
        f"the file is not a readable Parquet file ({exc})",
        "write it again with pandas/pyarrow, or save the data as CSV",
    )


def _too_large(name: str, what: str, size: int, fix: str = _SPLIT_FIX) -> DataError:
    return _file_error(
        name,
        f"the file {what} {size / 2**20:,.0f} MB, more than the "
        f"{MAX_INPUT_BYTES / 2**20:,.0f} MB accepted",
        fix,
    )


def _gunzip(name: str, data: bytes, too_large_fix: str) -> bytes:
    """Decompress gzip members, refusing output over :data:`MAX_INPUT_BYTES` (a small
    .gz file can expand to many gigabytes)."""
    out = bytearray()
    rest = data
    while rest:
        if not rest.startswith(b"\x1f\x8b"):
            raise OSError("trailing data after the gzip stream")
        stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += stream.decompress(rest, MAX_INPUT_BYTES + 1 - len(out))
        if len(out) > MAX_INPUT_BYTES or stream.unconsumed_tail:
            raise _too_large(name, "decompresses to more than", MAX_INPUT_BYTES + 1, too_large_fix)
        if not stream.eof:
            raise EOFError("the gzip stream ends early")
        rest = stream.unused_data
    return bytes(out)


def _unpacked_size(data: bytes) -> int:
    """Bytes an .xlsx (zip) file holds once unpacked; 0 if it is not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return 0


def _kind(name: str, inner: str, data: bytes) -> Literal["csv", "xlsx", "parquet"]:
    suffix = Path(inner).suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:4] == b"\xd0\xcf\x11\xe0" or suffix == ".xls":
        raise _file_error(
            name,
            "old Excel (.xls) files are not supported",
            "open the file in Excel or LibreOffice and save it as .xlsx or .csv",
        )
    if suffix in (".xlsx", ".xlsm", ".parquet", ".pq"):
        raise _file_error(
            name,
            f"the file is not a valid {suffix} file",
            "export it again, or save the data as CSV",
        )
    return "csv"


# --- grids: cells of the header candidates plus a way to read the body ----------------------


@dataclass
class _Grid:
    """The top rows of a sheet (for the header search) and the body reader."""

    top: Sequence[Sequence[object]]
    body: Callable[[int, int], pd.DataFrame]  # (header index, width) -> rows with `_row`
    decimal_hint: Decimal | None = None
    sheet: str | None = None


#: The combining tone marks of cp1258 (grave, hook, tilde, acute, dot below), which any
#: Vietnamese text written in it is all but certain to hold.
_CP1258_TONES = b"\xcc\xd2\xde\xec\xf2"


def decode_text(name: str, data: bytes) -> str:
    """Text of a CSV file: BOMs first, then BOM-less UTF-16, UTF-8, then cp1258 when the
    bytes hold its tone marks, else cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif data[:4000].count(0) > len(data[:4000]) // 4:  # UTF-16 without BOM
        even_nuls = data[:4000:2].count(0)
        candidates = ["utf-16-be" if even_nuls > data[1:4000:2].count(0) else "utf-16-le"]
    elif data.translate(None, _CP1258_TONES) == data:
        # No tone mark, so not Vietnamese: cp1258 would turn São into Săo.
        candidates = ["utf-8", "cp1252", "cp1258"]
    else:
        # cp1258 (Vietnamese Windows) writes tones as combining marks; cp1252 covers
        # Western files with the few bytes cp1258 leaves undefined (Š, Ž...).
        candidates = ["utf-8", "cp1258", "cp1252"]
    for encoding in candidates:
        try:
            text = unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError as exc:
            if encoding == "utf-8-sig":  # the BOM says UTF-8: name the line of the fault
                raise _stray_byte(
                    name, data[3:], exc.start, "the BOM marks the file as UTF-8"
                ) from None
            if encoding == "utf-8" and _mostly_utf8(data):
                raise _stray_byte(name, data, exc.start, "the rest of its text is UTF-8") from None
            continue
        nul = text.find("\x00")
        if nul >= 0:  # the C parser would silently cut the cell at the NUL
            raise DataError(
                Problem(
                    name, text.count("\n", 0, nul) + 1, None, None,
                    "the file contains NUL characters, so it is not plain text",
                    "export the data again as CSV (it may be a binary file named .csv)",
                )
            )  # fmt: skip
        return text
    raise _file_error(
        name,
        f"the text cannot be decoded (tried {', '.join(candidates)})",
        "save the file as 'CSV UTF-8' from your spreadsheet program",
    )


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _mostly_utf8(data: bytes) -> bool:
    """Whether text that fails to decode as UTF-8 is UTF-8 with a few stray bytes (a line
    pasted from another program), not a legacy file: read as cp1258, all its Vietnamese
    would be garbled. A legacy file can form a valid sequence by chance (a letter before
    a no-break space or a curly quote), but rarely several that cover nearly all of its
    non-ASCII bytes."""
    non_ascii = len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    sequences = _UTF8_SEQUENCE.findall(data)
    return len(sequences) >= 3 and sum(map(len, sequences)) >= 0.9 * non_ascii


def _stray_byte(name: str, data: bytes, at: int, why: str) -> DataError:
    line = len(re.split(rb"\r\n|\r|\n", data[:at]))
    return DataError(
        Problem(
            name, line, None, None,
            f"byte 0x{data[at]:02X} is not UTF-8, although {why}",
            "correct the text on this line (it may have been pasted from another "
            "program), or save the whole file again as 'CSV UTF-8'",
        )
    )  # fmt: skip


def _csv_grid(name: str, data: bytes) -> _Grid:
    text = decode_text(name, data)
    # The header search reads only the start of the first lines, so a huge cell further
    # down cannot trip the csv module's field-size limit.
    lines = islice(io.StringIO(text, newline=""), HEADER_SCAN_ROWS)
    sample = "".join(
        line if len(line) <= _SCAN_LINE_CHARS else line[:_SCAN_LINE_CHARS] + "\n" for line in lines
    )
    best: tuple[int, str, list[list[str]]] | None = None
    first_top: list[list[str]] = []
    for delimiter in DELIMITERS:
        try:
            top = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:  # e.g. an unbalanced quote: not readable with this delimiter
            continue
        first_top = first_top or top
        found = _find_header(top)
        if found and (best is None or found[1].score > best[0]):
            best = (found[1].score, delimiter, top)
    delimiter, top = (best[1], best[2]) if best else (",", first_top)

    def body(header_index: int, width: int) -> pd.DataFrame:
        # Lines up to the header, counted on the sample (quoted cells may span lines).
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        for _ in range(header_index + 1):
            next(reader)
        first_row = header_index + 2
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                header=None,
                skiprows=reader.line_num,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
            )
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=range(width), dtype=object)
        except pd.errors.ParserError as exc:
            raise DataError(_parser_problem(name, exc)) from None
        frame = _fit_width(name, frame, width, first_row)
        frame["_row"] = range(first_row, first_row + len(frame))
        return frame

    return _Grid(top, body, "," if delimiter == ";" else None)


def _parser_problem(name: str, exc: pd.errors.ParserError) -> Problem:
    detail = str(exc).removeprefix("Error tokenizing data. C error: ").strip()
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if found:
        expected, line, saw = found.groups()
        return Problem(
            name, int(line), None, None,
            f"row has {saw} cells, more than the {expected} of the rows above",
            _EXTRA_CELLS_FIX,
        )  # fmt: skip
    return Problem(
        name, None, None, None, f"the text cannot be read as CSV ({detail})",
        'check the quotes: a cell that starts with " must end with "',
    )  # fmt: skip


_EXTRA_CELLS_FIX = (
    "quote text that contains the delimiter, and write numbers without thousands "
    "separators (1234.5, not 1,234.5)"
)


def _fit_width(name: str, frame: pd.DataFrame, width: int, first_row: int) -> pd.DataFrame:
    """Columns 0..width-1; cells beyond the header are an error (shifted columns)."""
    if frame.shape[1] > width:
        extra = frame.iloc[:, width:]
        filled = ~pd.DataFrame({c: blank_cells(extra[c]) for c in extra.columns}).any(axis=1)
        if filled.any():
            rows = [first_row + int(i) for i in filled.to_numpy().nonzero()[0]]
            problems = [
                Problem(
                    name,
                    row,
                    None,
                    ", ".join(c for c in extra.iloc[row - first_row] if cell_text(c)),
                    f"row has more cells than the {width} of the header",
                    _EXTRA_CELLS_FIX,
                )
                for row in rows[:MAX_PROBLEMS]
            ]
            raise DataError(problems, truncated=len(rows) > MAX_PROBLEMS)
        frame = frame.iloc[:, :width]
    for column in range(frame.shape[1], width):
        frame[column] = ""
    return frame.set_axis(range(width), axis=1)


def xlsx_rows(
    name: str, data: bytes, sheet: str | None, *, too_large_fix: str = _SPLIT_FIX
) -> tuple[list[tuple[object, ...]], str]:
    """Cell values of one sheet of an .xlsx workbook, row by row, and the sheet's title.

    Parameters
    ----------
    name
        File name, for messages.
    data
        The workbook's bytes.
    sheet
        Sheet to read; None: the first visible sheet.
    too_large_fix
        What to tell the user when the workbook is too large.

    Raises
    ------
    DataError
        The workbook is too large unpacked, unreadable, has no such sheet or no visible one.
    """
    unpacked = _unpacked_size(data)
    if unpacked > MAX_INPUT_BYTES:
        raise _too_large(name, "unpacks to", unpacked, too_large_fix)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _file_error(
            name,
            f"the file is not a readable .xlsx workbook ({exc})",
            "open it in Excel or LibreOffice and save it again as .xlsx",
        ) from None
    try:
        names = [ws.title for ws in book.worksheets]
        if sheet is not None:
            if sheet not in names:
                raise _file_error(
                    name,
                    f"there is no sheet named {sheet!r}",
                    f"use --sheet with one of: {', '.join(map(repr, names))}",
                )
            ws = book[sheet]
        else:
            visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
            if not visible:
                raise _file_error(
                    name, "the workbook has no visible sheet", "unhide a sheet or pass --sheet NAME"
                )
            ws = visible[0]
        ws.reset_dimensions()  # some writers store a wrong sheet size; read what is there
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    return rows, ws.title


def _xlsx_grid(rows: list[tuple[object, ...]], title: str) -> _Grid:
    width = max((len(r) for r in rows), default=0)
    rows = [r + (None,) * (width - len(r)) for r in rows]

    def body(header_index: int, width: int) -> pd.DataFrame:
        frame = pd.DataFrame.from_records(
            [r[:width] for r in rows[header_index + 1 :]], columns=range(width)
        )
        frame = frame.astype(object).where(frame.notna(), None)
        frame["_row"] = range(header_index + 2, header_index + 2 + len(frame))
        return frame

    return _Grid(rows[:HEADER_SCAN_ROWS], body, None, title)


def read_parquet_frame(name: str, data: bytes, *, too_large_fix: str = _SPLIT_FIX) -> pd.DataFrame:
    """The table of a Parquet file, refused when its columns unpack to more than
    :data:`MAX_INPUT_BYTES`.

    Raises
    ------
    DataError
        The file is not readable Parquet, or too large.
    """
    unreadable = (pa.ArrowException, OSError, ValueError)
    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
    except unreadable as exc:
        raise _parquet_error(name, exc) from None
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > MAX_INPUT_BYTES:
        raise _too_large(name, "unpacks to", size, too_large_fix)
    try:
        return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except unreadable as exc:
        raise _parquet_error(name, exc) from None


def _parquet_table(name: str, data: bytes, sha256: str, layout: LayoutOption) -> RawTable:
    frame = read_parquet_frame(name, data)
    header = [str(c) for c in frame.columns]
    frame = frame.set_axis(range(len(header)), axis=1)
    for column in frame.columns:  # typed numbers stay typed; the rest become plain objects
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame["_row"] = range(2, 2 + len(frame))
    grid = _Grid([header], lambda _i, _w: frame)
    return _build(name, grid, sha256, layout)


# --- header, layout and table ---------------------------------------------------------------


def _match_header(cells: Sequence[object]) -> _Header:
    header = _Header()
    for i, cell in enumerate(cells):
        text = cell_text(cell)
        if not text:
            continue
        header.texts[i] = text
        column = header_column(text)
        if column is not None:
            header.columns[i] = column
        else:
            period = parse_period(cell)
            if period is not None:
                header.periods[i] = period
    return header


def _find_header(rows: Sequence[Sequence[object]]) -> tuple[int, _Header] | None:
    """The header row's index (the lower one of a two-row header) and what it means."""
    for i, cells in enumerate(rows):
        header = _match_header(cells)
        if header.score >= 2:
            if i + 1 < len(rows):
                lower = _period_subheader(header, rows[i + 1])
                if lower is not None:
                    return i + 1, lower
            return i, header
    return None


def _period_subheader(upper: _Header, cells: Sequence[object]) -> _Header | None:
    """``upper`` completed by a second header row of periods, as yearbooks print them.

    ``Năm 2024`` merged over ``T1``, ``T2``, ``T3`` (or over ``T1/2024``...). A merged
    cell holds its text in its first column only, so the year runs on to the right until
    the next one; a month or quarter word without a year (``T1``, ``Quý I``) takes the
    year above it, never a plain number (a row numbering the columns, ``1, 2, 3``, is no
    header), and a period under a year must fall in that year.

    Parameters
    ----------
    upper
        The header row found (it names contract columns).
    cells
        The row below it.

    Returns
    -------
    _Header or None
        The combined header, or None when the row below is not such a row (fewer than two
        periods, a cell under a named column, or a cell that is no period).
    """
    year = None
    periods: dict[int, Period] = {}
    shown: dict[int, str] = {}  # "T1/2024": unique, and names the cell in messages
    for i in range(max(len(cells), max(upper.texts, default=-1) + 1)):
        above = upper.periods.get(i)
        if above is not None and above.freq == "Y":
            year = above.text
        elif i in upper.texts:
            year = None  # a named column ends the merged year
        cell = cells[i] if i < len(cells) else None
        text = cell_text(cell)
        if not text:
            continue
        if i in upper.columns:
            return None  # data under a named column: the row is data, not a header
        found = parse_period(cell)
        if found is not None and not isinstance(cell, str):
            text = found.text  # an Excel date cell: named by its period, not 00:00:00
        if found is None and year is not None and not text.isdigit():
            text = f"{text}/{year}"
            found = parse_period(text)
        if found is None or (year is not None and found.start.year != int(year)):
            return None
        periods[i], shown[i] = found, text
    if len(periods) < 2:
        return None
    texts = {p: t for p, t in upper.texts.items() if p not in upper.periods}
    texts.update(shown)
    return _Header(columns=dict(upper.columns), periods=periods, texts=texts)


def _build(name: str, grid: _Grid, sha256: str, layout: LayoutOption) -> RawTable:
    found = _find_header(grid.top)
    if found is None:
        _check_other_delimiter(name, grid.top)
        first = next((" | ".join(cell_text(c) for c in r) for r in grid.top if any(r)), "")
        raise DataError(
            Problem(
                name,
                None,
                None,
                first[:80] or None,
                f"no header row found in the first {HEADER_SCAN_ROWS} rows",
                "put a header row naming the columns (period, province, category, market, "
                "value, unit, or kỳ, tỉnh, ngành hàng, thị trường, giá trị, đơn vị) above the "
                "data, separated by commas, semicolons or tabs",
            )
        )
    index, header = found
    chosen = _choose_layout(name, header, layout)
    _check_duplicate_columns(name, header, chosen)
    width = max(header.texts, default=-1) + 1
    body = grid.body(index, width)
    body, notes = _drop_blank_rows(body)
    notes += _unheaded_cells(body, header)
    headers = {col: header.texts[pos] for pos, col in header.columns.items()}
    default_unit = _title_unit(grid.top[:index])
    if default_unit is None and "unit" not in header.columns.values():
        value_pos = next((p for p, c in header.columns.items() if c == "value"), None)
        default_unit = header_unit(header.texts[value_pos]) if value_pos is not None else None
    if chosen == "wide":
        frame, more = _melt(body, header)
    else:
        frame, more = _long(body, header)
    return RawTable(
        name=name,
        frame=frame,
        headers=headers,
        layout=chosen,
        sha256=sha256,
        sheet=grid.sheet,
        decimal_hint=grid.decimal_hint,
        default_unit=default_unit,
        notes=notes + more,
        ignored=tuple(
            header.texts[p]
            for p in sorted(header.texts)
            if p not in header.columns and (chosen == "long" or p not in header.periods)
        ),
    )


#: Separators people use that the reader does not accept, in the order they are checked.
_OTHER_DELIMITERS = {"|": "'|'", ":": "':'", "/": "'/'", " ": "spaces"}


def _check_other_delimiter(name: str, rows: Sequence[Sequence[object]]) -> None:
    """Name the separator when the header is a single cell split by an unsupported one."""
    for cells in rows:
        texts = [t for t in map(cell_text, cells) if t]
        if len(texts) != 1:
            continue
        for delimiter, shown in _OTHER_DELIMITERS.items():
            parts = [t for t in texts[0].split(delimiter) if t.strip()]
            found = _match_header(parts).columns
            # Most parts must name columns, so that a title line split at its spaces
            # ("Giá trị theo tỉnh năm 2024") is not taken for a header.
            if len(found) >= 3 and 2 * len(found) >= len(parts):
                raise DataError(
                    Problem(
                        name, None, None, texts[0][:80],
                        f"the header row is separated by {shown}, which is not a supported "
                        "column separator",
                        "save the file with commas, semicolons or tabs between the columns "
                        "(in Excel: Save As > CSV UTF-8)",
                    )
                )  # fmt: skip


def _unheaded_cells(body: pd.DataFrame, header: _Header) -> list[str]:
    """Warn about filled cells under an empty header cell (e.g. the 2nd column of a merged
    header cell): they are not read."""
    notes = []
    for pos in range(len(body.columns) - 1):
        if pos in header.texts:
            continue
        filled = ~blank_cells(body[pos])
        if filled.any():
            first = int(filled.to_numpy().argmax())
            notes.append(
                f"ignored {int(filled.sum())} filled cell(s) in column "
                f"{get_column_letter(pos + 1)}, which has "
                f"no header (first: row {body['_row'].iat[first]}, "
                f"{cell_text(body[pos].iat[first])!r}); give the column a header if it "
                "holds data"
            )
    return notes


def _choose_layout(name: str, header: _Header, layout: LayoutOption) -> Layout:
    has_period = "period" in header.columns.values()
    if layout == "auto":
        return "wide" if header.periods and not has_period else "long"
    if layout == "wide":
        if not header.periods:
            raise _file_error(
                name,
                "no period columns found for a wide table",
                "head the period columns like 2024-01, T1/2024, Q1/2024 or 2024, "
                "or use --layout long",
            )
        if has_period or "value" in header.columns.values():
            raise _file_error(
                name,
                "a wide table cannot also have a 'period' or 'value' column",
                "use --layout long for one row per observation",
            )
        return "wide"
    if not has_period and header.periods:
        shown = ", ".join(repr(header.texts[p]) for p in list(header.periods)[:3])
        raise _file_error(
            name,
            f"no 'period' column, but the headers {shown} are periods: this "
            "looks like a wide table",
            "use --layout wide (or auto)",
        )
    return "long"


def _check_duplicate_columns(name: str, header: _Header, layout: Layout) -> None:
    seen: dict[object, int] = {}
    items: list[tuple[int, object]] = list(header.columns.items())
    if layout == "wide":
        items += [(p, period.text) for p, period in header.periods.items()]
    for pos, meaning in items:
        if meaning in seen:
            first = header.texts[seen[meaning]]
            raise DataError(
                Problem(
                    name,
                    None,
                    header.texts[pos],
                    header.texts[pos],
                    f"two columns mean the same thing ('{first}' and '{header.texts[pos]}' "
                    f"are both {meaning!r})",
                    "delete or rename one of them",
                )
            )
        seen[meaning] = pos


def _drop_blank_rows(body: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop empty rows, and note-only rows (text in the first cell only, e.g. "Nguồn: …")."""
    cells = body.drop(columns="_row")
    filled = pd.DataFrame({c: ~blank_cells(cells[c]) for c in cells.columns})
    count = filled.sum(axis=1)
    note = count.eq(1) & filled.iloc[:, 0] if len(filled.columns) > 1 else count.lt(0)
    notes = []
    if note.any():
        rows = body.loc[note, "_row"].tolist()
        shown = ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else "")
        notes.append(
            f"skipped {len(rows)} note row(s) with text in the first cell only (rows {shown})"
        )
    return body[count.gt(0) & ~note], notes


def _ignored(header: _Header, used: set[int]) -> list[str]:
    names = [header.texts[p] for p in sorted(header.texts) if p not in used]
    if not names:
        return []
    return [
        "ignored column(s) that are not in the data contract: " + ", ".join(repr(n) for n in names)
    ]


def _long(body: pd.DataFrame, header: _Header) -> tuple[pd.DataFrame, list[str]]:
    positions = list(header.columns)
    frame = body[[*positions, "_row"]].rename(columns=header.columns)
    frame.columns = [*header.columns.values(), "_row"]
    return frame.reset_index(drop=True), _ignored(header, set(positions))


def _melt(body: pd.DataFrame, header: _Header) -> tuple[pd.DataFrame, list[str]]:
    ids = {p: c for p, c in header.columns.items() if c != "quantity"}
    id_names = list(ids.values())
    frame = body[[*ids, *header.periods, "_row"]]
    frame.columns = [*id_names, *(header.texts[p] for p in header.periods), "_row"]
    long = frame.melt(
        id_vars=[*id_names, "_row"], var_name="_cell", value_name="value", ignore_index=False
    )
    order = {header.texts[p]: k for k, p in enumerate(header.periods)}
    long = long.assign(_order=long["_cell"].map(order), _pos=long.index)
    long = long.sort_values(["_pos", "_order"], kind="stable")
    empty = blank_cells(long["value"]) | long["value"].map(
        lambda v: isinstance(v, str) and v.strip().lower() in _NO_DATA
    )
    long = long[~empty]
    periods = {header.texts[p]: period.text for p, period in header.periods.items()}
    long["period"] = long["_cell"].map(periods)
    frame = long.drop(columns=["_order", "_pos"]).reset_index(drop=True)
    return frame, _ignored(header, set(header.columns) | set(header.periods))


def _title_unit(rows: Sequence[Sequence[object]]) -> str | None:
    for cells in rows:
        for cell in cells:
            m = _UNIT_LINE.search(cell_text(cell))
            if m:
                return m.group("unit").rstrip(").").strip() or None
    return None
