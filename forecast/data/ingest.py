"""Ingest files: read, validate against the contract, store as a warehouse batch.

Each file is its own transaction. A file that fails (unreadable, or any contract problem)
stores nothing; files before and after it are unaffected. This keeps one bad provincial
spreadsheet from blocking the others, and gives each file its own vintage.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from forecast.data.readers import LayoutOption, read_table
from forecast.data.schema import validate
from forecast.data.warehouse import IngestResult, Warehouse
from forecast.errors import DataError, Problem


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (the identity of an ingested file)."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise DataError(
            Problem.whole_file(
                path.name,
                f"cannot read the file ({exc.strerror or exc})",
                "check the path and that the file is readable",
            )
        ) from None


def ingest_file(
    warehouse: Warehouse,
    path: Path | str,
    *,
    layout: LayoutOption = "auto",
    source: str | None = None,
    sheet: str | None = None,
    today: date | None = None,
) -> IngestResult:
    """Read, validate and store one file as a new batch.

    Parameters
    ----------
    warehouse
        Open, writable warehouse.
    path
        CSV/TSV (optionally gzip), XLSX or Parquet file.
    layout
        ``long``, ``wide`` or ``auto``.
    source
        Free-text label of where the data came from (kept verbatim in the batch).
    sheet
        XLSX sheet; default the first visible one.
    today
        Reference date for the "period in the future" check (default: today, UTC).

    Returns
    -------
    IngestResult
        ``unchanged`` without reading further when the same content (and sheet) was
        ingested before and no later file restated its values; ``revised`` (a new vintage
        restoring them) when one did.

    Raises
    ------
    DataError
        The file breaks the data contract; nothing was stored.
    WarehouseError
        The database failed; nothing was stored.
    """
    path = Path(path)
    known = warehouse.known_current(file_sha256(path), sheet)
    if known is not None:
        return warehouse.unchanged(known, path.name)
    table = validate(read_table(path, layout=layout, sheet=sheet), today=today)
    return warehouse.store(table, source_label=source, sheet_requested=sheet)
