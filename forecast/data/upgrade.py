"""Upgrading warehouse files of older schema versions (see ``warehouse.SCHEMA_VERSION``).

Version 1 had no ``source_unit`` column: it summed provinces that merged in 2025 into their
2025 unit before storing. Its rows are kept as they are, as one part (``source_unit = ""``)
each, so nothing stored is lost and every earlier state reads the same.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from forecast.errors import WarehouseError

log = logging.getLogger(__name__)

_ADD_SOURCE_UNIT = "ALTER TABLE observations ADD COLUMN source_unit VARCHAR NOT NULL DEFAULT ''"


def from_v1(con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool, version: int) -> None:
    """Give a version-1 file the ``source_unit`` column, ``""`` for every stored row.

    Writable: the column is added and ``version`` recorded in one transaction (after the
    last batch's time, so :func:`legacy_batches` tells the old batches apart even if the
    clock stepped back). Read-only: a temporary view adds the column in this connection
    only, so the file is read as it will be once upgraded, and not written.

    Raises
    ------
    WarehouseError
        The upgrade failed; the file is unchanged.
    """
    if read_only:
        row = con.execute("SELECT current_database()").fetchone()
        assert row is not None
        # The view shadows the table; it must name the table with its catalog, or it would
        # refer to itself.
        legacy = '"' + str(row[0]).replace('"', '""') + '".main.observations'
        con.execute(
            f"CREATE TEMP VIEW observations AS SELECT *, '' AS source_unit FROM {legacy}"  # noqa: S608
        )
        return
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(_ADD_SOURCE_UNIT)
            con.execute(
                """
                INSERT INTO schema_version
                SELECT ?, greatest(?, max(ingested_at) + INTERVAL 1 MICROSECOND) FROM batches
                """,
                [version, datetime.now(UTC).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except duckdb.Error as exc:
        raise WarehouseError(
            f"Could not upgrade the warehouse {str(path)!r} from schema version 1 to "
            f"{version} ({exc}); it is unchanged. Free disk space or check the file "
            "permissions and open it again, or read it read-only meanwhile."
        ) from None
    log.info("upgraded %s to schema version %s", path, version)


def legacy_batches(con: duckdb.DuckDBPyConnection) -> int:
    """The last batch stored by schema version 1 (0 for a file created by a later one)."""
    row = con.execute(
        """
        SELECT coalesce(max(batch_id), 0) FROM batches
        WHERE EXISTS (SELECT 1 FROM schema_version WHERE version = 1)
          AND ingested_at < (SELECT min(created_at) FROM schema_version WHERE version >= 2)
        """
    ).fetchone()
    return int(row[0]) if row else 0
