"""The warehouse: an embedded DuckDB file of ingestion batches and their observations.

Every ingested file becomes one *batch* (its own transaction). Observations are never
updated in place: a file that restates earlier periods adds a new batch whose rows
supersede older ones for the same key, so each batch is a *vintage* and every earlier state
stays queryable. The state "as of" a batch is, per observation key, the row of the newest
batch up to and including it; ``as_of`` may also be a timestamp (UTC; a bare date means the
end of that day), which selects the last batch ingested at or before it.

Key of an observation: ``freq, period, province_code, category, market, destination``.
Observations are stored per *reporting unit* (``source_unit``: the pre-2025 province a row
names, ``""`` for a 2025 unit and national rows; see
:class:`~forecast.data.schema.ValidatedTable`), so separate files of provinces that merged in
2025 do not replace each other: vintages are per key and ``source_unit``, and the state is
the latest row of each, summed over ``source_unit`` into the 2025 unit. Readers
(:meth:`Warehouse.observations`, :meth:`~Warehouse.state_hash`, :meth:`~Warehouse.summary`)
see 2025 units only.

Re-ingesting identical content (same file bytes and sheet, or the same observations) stores
nothing, unless a later batch restated that file's values: then it is a new vintage that
restores them. All SQL takes user values as parameters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import duckdb
import pandas as pd

from forecast.data.categories import category_group
from forecast.data.geography import provinces
from forecast.data.periods import FREQ_NAMES
from forecast.data.schema import (
    KEY_COLUMNS,
    NATIONAL_CODE,
    NATIONAL_NAME,
    OBSERVATION_COLUMNS,
    PART_KEY_COLUMNS,
    STORED_COLUMNS,
    ValidatedTable,
)
from forecast.data.upgrade import from_v1, legacy_batches
from forecast.errors import (
    BusyError,
    DataError,
    InvalidParameterError,
    Problem,
    WarehouseError,
    WarehouseNotFoundError,
)
from forecast.textutil import key, printable

log = logging.getLogger(__name__)

#: Version of the table layout below. Version 1 (no ``source_unit``) is upgraded when
#: opened writable and read as if ``source_unit`` were ``""`` when opened read-only; other
#: versions are refused.
SCHEMA_VERSION = 2
#: Version of the text hashed by :meth:`Warehouse.state_hash`. It describes the observations
#: of 2025 units, unchanged by schema 2, so a state tagged by an older run still matches.
_STATE_HASH_FORMAT = 1
AsOf = int | str | datetime | date | None

_TABLES = {
    "schema_version": """
        CREATE TABLE schema_version (
            version INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
    "batches": """
        CREATE TABLE batches (
            batch_id INTEGER PRIMARY KEY,
            source_file VARCHAR NOT NULL,
            source_label VARCHAR,
            content_sha256 VARCHAR NOT NULL,
            sheet VARCHAR,
            sheet_requested VARCHAR NOT NULL,
            layout VARCHAR NOT NULL,
            freq VARCHAR NOT NULL,
            input_rows INTEGER NOT NULL,
            row_count INTEGER NOT NULL,
            first_period VARCHAR NOT NULL,
            last_period VARCHAR NOT NULL,
            restated_periods INTEGER NOT NULL,
            revised_values INTEGER NOT NULL,
            ingested_at TIMESTAMP NOT NULL
        )""",
    "batch_notes": """
        CREATE TABLE batch_notes (
            batch_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            message VARCHAR NOT NULL,
            PRIMARY KEY (batch_id, seq)
        )""",
    "observations": """
        CREATE TABLE observations (
            batch_id INTEGER NOT NULL,
            freq VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            province_code VARCHAR NOT NULL,
            category VARCHAR NOT NULL,
            market VARCHAR NOT NULL,
            destination VARCHAR NOT NULL,
            value DOUBLE NOT NULL,
            unit VARCHAR NOT NULL,
            quantity DOUBLE,
            source_unit VARCHAR NOT NULL DEFAULT ''
        )""",
}
# source_unit is last, where upgrade.from_v1's ALTER TABLE ADD COLUMN puts it.
_KEY_SQL = ", ".join(KEY_COLUMNS)
_OBS_SQL = ", ".join(OBSERVATION_COLUMNS)
_PART_SQL = ", ".join(PART_KEY_COLUMNS)
_STORED_SQL = ", ".join(STORED_COLUMNS)
# Latest stored row per observation key and reporting unit among batches up to ``?``. Only
# fixed column names are interpolated into SQL; every value is a parameter.
_LATEST_PARTS = f"""
    SELECT {_STORED_SQL}, batch_id FROM observations WHERE batch_id <= ?
    QUALIFY row_number() OVER (PARTITION BY {_PART_SQL} ORDER BY batch_id DESC) = 1
"""  # noqa: S608
# The state: those rows summed per observation key into the 2025 unit (quantity only when
# every part has one; parts share a unit, checked at ingest). Parts are added in
# source_unit order so the floating-point sum, and the state hash, are reproducible;
# ``batch_id`` is the newest batch among the parts.
_LATEST = f"""
    SELECT {_KEY_SQL},
           CASE WHEN count(*) = 1 THEN any_value(value)
                ELSE list_sum(list(value ORDER BY source_unit)) END AS value,
           min(unit) AS unit,
           CASE WHEN count(*) = 1 THEN any_value(quantity)
                WHEN count(quantity) = count(*)
                THEN list_sum(list(quantity ORDER BY source_unit)) END AS quantity,
           max(batch_id) AS batch_id
    FROM ({_LATEST_PARTS}) GROUP BY {_KEY_SQL}
"""  # noqa: S608
#: Columns of :meth:`Warehouse.observations`, in order.
OBSERVATIONS_API_COLUMNS = (
    "period", "freq", "province", "province_code", "region", "category", "group",
    "market", "destination", "value", "unit", "quantity",
)  # fmt: skip
#: Applied to every connection. No progress bar: DuckDB draws it on stdout for queries over
#: 2 s (a large ingest), mixing control characters into the output and cron logs. No
#: access outside the database file: SQL cannot read or write other files or download
#: extensions, and the settings cannot be changed back by a later statement.
_SESSION_SETTINGS = (
    "SET enable_progress_bar = false",
    "SET autoinstall_known_extensions = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)
_RECOVERY = (
    "Restore the file from a backup, or move it aside and re-ingest the source files "
    "(e.g. from inbox/done) with 'forecast ingest'."
)


@dataclass(frozen=True)
class IngestResult:
    """What ingesting one file did.

    ``status`` is ``stored`` (a new batch with only new observations), ``revised`` (a new
    vintage that restates ``restated_periods`` earlier periods, ``revised_values`` of them
    with a changed value, quantity or unit) or ``unchanged`` (nothing stored: same content
    as ``batch_id``, or every observation already stored as it is).

    ``rows``, ``restated_periods`` and ``revised_values`` (and the batch's ``row_count``)
    count stored rows, one per reporting unit: a file with Hà Giang and Tuyên Quang rows for
    2024-01 stores 2 rows (summed into one observation of Tuyên Quang when read), and a
    later Hà Giang file for 2024-01 restates Hà Giang's row only.
    """

    file: str
    status: Literal["stored", "revised", "unchanged"]
    batch_id: int
    rows: int
    freq: str
    first_period: str
    last_period: str
    restated_periods: int = 0
    revised_values: int = 0
    warnings: tuple[str, ...] = ()
    same_file: bool = False

    def describe(self) -> str:
        """One line for people: what was stored, or why nothing was (control characters of
        the file name escaped)."""
        return printable(self._describe())

    def _describe(self) -> str:
        span = f"{FREQ_NAMES.get(self.freq, self.freq)}, {self.first_period} … {self.last_period}"
        if self.status == "unchanged":
            why = "already ingested" if self.same_file else "all rows already stored"
            return f"{self.file}: unchanged ({why}, batch {self.batch_id})"
        if self.status == "revised":
            return (
                f"{self.file}: new vintage, batch {self.batch_id} stores {self.rows} rows "
                f"({span}), restating {self.restated_periods} period(s), "
                f"{self.revised_values} value(s) revised"
            )
        return f"{self.file}: stored {self.rows} rows as batch {self.batch_id} ({span})"


class Warehouse:
    """A DuckDB warehouse file, opened with an integrity check.

    Parameters
    ----------
    path
        The DuckDB file. Created (with parent folders) when missing, unless ``read_only``.
    read_only
        Open without write access, so several readers may share the file.

    Raises
    ------
    WarehouseError
        The file is missing (read-only), not a DuckDB file, damaged, not a forecast
        warehouse or of an unknown schema version; the message gives a recovery path.
    BusyError
        Another process has the file open for writing.

    Examples
    --------
    >>> with Warehouse(settings.warehouse, read_only=True) as wh:  # doctest: +SKIP
    ...     obs = wh.observations(as_of="2025-06-30")
    """

    def __init__(self, path: Path | str, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        new = not self.path.exists()
        if new and read_only:
            raise WarehouseNotFoundError(
                f"No warehouse at {str(self.path)!r}. Run 'forecast ingest FILE' to create "
                "it, or set --warehouse / FORECAST_WAREHOUSE to the right file."
            )
        if self.path.is_dir():
            raise WarehouseError(f"Warehouse path {str(self.path)!r} is a folder, not a file.")
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
            for setting in _SESSION_SETTINGS:
                self._con.execute(setting)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise BusyError(
                    f"The warehouse {str(self.path)!r} is in use by another process "
                    f"({exc}). Wait for it to finish and try again."
                ) from None
            raise self._damaged(exc) from None
        except duckdb.Error as exc:
            raise self._damaged(exc) from None
        try:
            self._create() if new or self._is_empty() else self._check()
        except BaseException:
            self._con.close()
            raise

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()

    def _damaged(self, exc: BaseException) -> WarehouseError:
        """The error for a warehouse DuckDB cannot read; Ctrl-C during the read (DuckDB
        reports it as its own error) is re-raised as the interrupt it is, not as damage
        with advice to restore a backup."""
        if isinstance(exc, duckdb.InterruptException):
            raise KeyboardInterrupt from exc
        return WarehouseError(
            f"The warehouse {str(self.path)!r} cannot be read: it is damaged or not a "
            f"warehouse file ({exc}). {_RECOVERY}"
        )

    def _is_empty(self) -> bool:
        """True for a DuckDB file without tables (creation interrupted before commit)."""
        try:
            row = self._con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
        except duckdb.Error as exc:
            raise self._damaged(exc) from None
        return not self.read_only and row is not None and row[0] == 0

    def _create(self) -> None:
        con = self._con
        con.execute("BEGIN TRANSACTION")
        for ddl in _TABLES.values():
            con.execute(ddl)
        con.execute("INSERT INTO schema_version VALUES (?, ?)", [SCHEMA_VERSION, _utcnow()])
        con.execute("COMMIT")

    def _check(self) -> None:
        try:
            tables = {
                r[0]
                for r in self._con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                ).fetchall()
            }
            if "schema_version" not in tables:
                raise WarehouseError(
                    f"{str(self.path)!r} is a DuckDB file but not a forecast warehouse (no "
                    f"schema_version table). Point --warehouse at the right file. {_RECOVERY}"
                )
            row = self._con.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] if row else None
            if version == 1 and "observations" in tables:
                from_v1(self._con, self.path, read_only=self.read_only, version=SCHEMA_VERSION)
                version = SCHEMA_VERSION
            if version != SCHEMA_VERSION:
                newer = isinstance(version, int) and version > SCHEMA_VERSION
                raise WarehouseError(
                    f"The warehouse {str(self.path)!r} has schema version {version}, but this "
                    f"program reads version {SCHEMA_VERSION}. "
                    + ("Upgrade forecast to read it." if newer else _RECOVERY)
                )
            missing = sorted(set(_TABLES) - tables)
            if missing:
                raise WarehouseError(
                    f"The warehouse {str(self.path)!r} lacks table(s) {', '.join(missing)}. "
                    + _RECOVERY
                )
            # Read every column of every table once: DuckDB checks block checksums on read,
            # so a damaged or truncated file fails here, at open, not halfway through a run.
            for table in _TABLES:
                self._con.execute(f"SELECT count(*), max(COLUMNS(*)) FROM {table}").fetchone()  # noqa: S608
        except duckdb.Error as exc:
            raise self._damaged(exc) from None

    # --- reading --------------------------------------------------------------------------

    def resolve_as_of(self, as_of: AsOf, *, before_first: bool = True) -> int:
        """The newest batch id visible at ``as_of`` (0 before the first batch).

        Parameters
        ----------
        as_of
            None (latest), a batch id (``int`` or digits; 0 is the empty state before the
            first batch), or a timestamp (``datetime``, ``date`` or ISO text; naive means
            UTC; a bare date means the end of that day).
        before_first
            Whether a moment before the first batch (or batch 0) is accepted and gives 0.
            False for a user's ``--as-of``: nothing can be shown or forecast from it, and
            the error says when the first batch came. A timestamp on a warehouse without
            batches gives 0 either way.

        Raises
        ------
        InvalidParameterError
            Unknown batch id, unreadable timestamp, or (``before_first=False``) a moment
            before the first batch.
        """
        if as_of is None:
            row = self._con.execute("SELECT coalesce(max(batch_id), 0) FROM batches").fetchone()
            return int(row[0]) if row else 0
        if isinstance(as_of, bool):
            raise InvalidParameterError(f"as_of must be a batch id or a timestamp; got {as_of!r}")
        if isinstance(as_of, int) or (isinstance(as_of, str) and as_of.strip().isdigit()):
            batch = int(as_of)
            if batch == 0 and before_first:
                return 0
            found = self._con.execute(
                "SELECT count(*) FROM batches WHERE batch_id = ?", [batch]
            ).fetchone()
            if not found or not found[0]:
                first = " (batch ids start at 1)" if batch == 0 else ""
                raise InvalidParameterError(
                    f"There is no batch {batch} in the warehouse{first}; 'forecast data show' "
                    "lists the batches."
                )
            return batch
        moment = _as_timestamp(as_of)
        row = self._con.execute(
            "SELECT coalesce(max(batch_id), 0) FROM batches WHERE ingested_at <= ?", [moment]
        ).fetchone()
        batch = int(row[0]) if row else 0
        if batch == 0 and not before_first:
            oldest = self._con.execute(
                "SELECT batch_id, ingested_at FROM batches ORDER BY batch_id LIMIT 1"
            ).fetchone()
            if oldest is not None:
                raise InvalidParameterError(
                    f"No batch had been ingested by {as_of} (the first, batch {oldest[0]}, was "
                    f"ingested {oldest[1]:%Y-%m-%d %H:%M} UTC); choose a later --as-of, or a "
                    "batch id ('forecast data show' lists the batches)."
                )
        return batch

    def _latest(self, as_of: AsOf) -> pd.DataFrame:
        limit = self.resolve_as_of(as_of)
        sql = f"{_LATEST} ORDER BY freq, province_code, category, market, destination, period"
        return self._con.execute(sql, [limit]).df()

    def observations(self, as_of: AsOf = None) -> pd.DataFrame:
        """Observations of the latest vintage (or the vintage at ``as_of``).

        Returns
        -------
        DataFrame
            Columns :data:`OBSERVATIONS_API_COLUMNS`: ``period`` (``YYYY-MM``,
            ``YYYY-Qn``, ``YYYY``), ``freq`` (M/Q/Y), ``province`` (2025 unit name or
            ``Toàn quốc``), ``province_code`` (``00`` national), ``region`` (code, ``""``
            for national), ``category`` (code), ``group`` (CNNT1..CNNT4), ``market``
            (domestic/export), ``destination`` (ISO2 or ``""``), ``value`` (float),
            ``unit``, ``quantity`` (float, NaN when absent). Sorted by series, then period.
        """
        frame = self._latest(as_of)
        units = {p.code: p for p in provinces()}
        names = {code: p.name for code, p in units.items()} | {NATIONAL_CODE: NATIONAL_NAME}
        regions = {code: p.region.code for code, p in units.items()} | {NATIONAL_CODE: ""}
        groups = {c: category_group(c) for c in frame["category"].unique()}
        frame["province"] = frame["province_code"].map(names)
        frame["region"] = frame["province_code"].map(regions)
        frame["group"] = frame["category"].map(groups)
        frame["quantity"] = frame["quantity"].astype("float64")
        return frame[list(OBSERVATIONS_API_COLUMNS)].reset_index(drop=True)

    def state_hash(self, as_of: AsOf = None) -> str:
        """A stable SHA-256 of the observation state at ``as_of``, to tag run vintages.

        Two warehouses holding the same observations of 2025 units give the same hash,
        whatever the batches (and the parts of merged provinces) that brought them.
        """
        frame = self._latest(as_of)[list(OBSERVATION_COLUMNS)]
        text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
        return hashlib.sha256(f"v{_STATE_HASH_FORMAT}\n{text}".encode()).hexdigest()

    def batches(self) -> pd.DataFrame:
        """Every batch, oldest first, with its source, hash, counts and UTC time."""
        return self._con.execute("SELECT * FROM batches ORDER BY batch_id").df()

    def notes(self, batch_id: int) -> list[str]:
        """Warnings recorded when batch ``batch_id`` was ingested."""
        rows = self._con.execute(
            "SELECT message FROM batch_notes WHERE batch_id = ? ORDER BY seq", [batch_id]
        ).fetchall()
        return [r[0] for r in rows]

    def summary(self, as_of: AsOf = None) -> pd.DataFrame:
        """Series and observation counts per frequency, market and level (for people).

        Levels: ``province`` or ``national``, with `` × destination`` for rows by country.
        """
        obs = self._latest(as_of)
        national = obs["province_code"].eq(NATIONAL_CODE)
        by_country = obs["destination"].ne("")
        obs["level"] = national.map({True: "national", False: "province"}) + by_country.map(
            {True: " × destination", False: ""}
        )
        obs["series"] = obs.groupby(["freq", *KEY_COLUMNS[2:]]).ngroup()
        grouped = obs.groupby(["freq", "market", "level"])
        return grouped.agg(
            series=("series", "nunique"),
            observations=("period", "size"),
            first=("period", "min"),
            last=("period", "max"),
        ).reset_index()

    def table_dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table, sorted; for tests and audits of "nothing changed"."""
        return {
            t: sorted(
                self._con.execute(f"SELECT * FROM {t}").fetchall(),  # noqa: S608 - fixed names
                key=repr,
            )
            for t in _TABLES
        }

    # --- writing --------------------------------------------------------------------------

    def find_batch(self, sha256: str, sheet: str | None = None) -> int | None:
        """The newest batch that ingested this file content (and ``--sheet``), if any.

        A match alone does not mean the file can be skipped: a later file may have restated
        its values. :meth:`known_current` checks both.
        """
        row = self._con.execute(
            "SELECT max(batch_id) FROM batches WHERE content_sha256 = ? AND sheet_requested = ?",
            [sha256, sheet or ""],
        ).fetchone()
        return None if not row or row[0] is None else int(row[0])

    def known_current(self, sha256: str, sheet: str | None = None) -> int | None:
        """The batch of this file content (and ``--sheet``) if the state still holds it.

        Re-ingesting a file is skipped (without reading it) only when the latest state
        holds every observation of its batch as that batch stored it. After a later file
        restated some of them, re-ingesting the earlier file is how a user restores its
        values, so this gives None and the file is validated and stored as a new vintage.

        Returns
        -------
        int or None
            The batch id, or None when the content is unknown or has been restated since.
        """
        batch = self.find_batch(sha256, sheet)
        if batch is None:
            return None
        # Only rows of this batch restated by later batches (same key and reporting unit)
        # can differ from it; the latest of those later rows is what the state holds.
        row = self._con.execute(
            f"""
            WITH mine AS (SELECT {_STORED_SQL} FROM observations WHERE batch_id = ?),
            later AS (
                SELECT {_STORED_SQL}, batch_id FROM observations
                SEMI JOIN mine USING ({_PART_SQL})
                WHERE batch_id > ?
                QUALIFY row_number() OVER (PARTITION BY {_PART_SQL} ORDER BY batch_id DESC) = 1
            )
            SELECT count(*) FROM mine m JOIN later l USING ({_PART_SQL})
            WHERE m.value IS DISTINCT FROM l.value OR m.quantity IS DISTINCT FROM l.quantity
               OR m.unit IS DISTINCT FROM l.unit
            """,  # noqa: S608 - only fixed column names are interpolated
            [batch, batch],
        ).fetchone()
        return batch if row is not None and row[0] == 0 else None

    def unchanged(self, batch_id: int, file: str) -> IngestResult:
        """The result for a file whose content is already stored as ``batch_id``."""
        row = self._con.execute(
            "SELECT freq, first_period, last_period FROM batches WHERE batch_id = ?", [batch_id]
        ).fetchone()
        freq, first, last = row if row else ("", "", "")
        return IngestResult(file, "unchanged", batch_id, 0, freq, first, last, same_file=True)

    def store(
        self,
        table: ValidatedTable,
        *,
        source_label: str | None = None,
        sheet_requested: str | None = None,
    ) -> IngestResult:
        """Store a validated file as a new batch, in one transaction.

        Nothing is stored when the content hash is known and the latest state still holds
        that batch's observations (:meth:`known_current`), or when every observation is
        already stored with the same value, quantity and unit. A known file whose values a
        later file restated is stored again, as a new vintage that restores them.

        Raises
        ------
        DataError
            A series of the file is stored with another unit.
        WarehouseError
            The database failed; the transaction was rolled back.
        """
        if self.read_only:
            raise WarehouseError("The warehouse was opened read-only; cannot store data.")
        known = self.known_current(table.sha256, sheet_requested)
        if known is not None:
            return self.unchanged(known, table.name)
        con = self._con
        frame = table.frame
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("incoming", frame)
                aligned = self._align_units(table)
                if aligned is not frame:
                    frame = aligned
                    con.unregister("incoming")
                    con.register("incoming", frame)
                result = self._insert(table, frame, source_label, sheet_requested)
                con.execute("ROLLBACK" if result.status == "unchanged" else "COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("incoming")
        except duckdb.InterruptException as exc:
            # Ctrl-C reached DuckDB mid-query: rolled back above; it is an interrupt.
            raise KeyboardInterrupt from exc
        except RuntimeError as exc:
            # The same from a scan of the registered pandas frame, which DuckDB reports
            # as a bare RuntimeError; anything else is a bug and propagates as it is.
            if str(exc) != "Query interrupted":
                raise
            raise KeyboardInterrupt from exc
        except duckdb.Error as exc:
            raise WarehouseError(
                f"Could not store {table.name!r} in {str(self.path)!r}: {exc}. Nothing was "
                "stored; the warehouse is as it was."
            ) from exc
        log.debug("%s", result.describe())
        return result

    def _align_units(self, table: ValidatedTable) -> pd.DataFrame:
        """Check units against stored series; adopt the stored spelling of the same unit."""
        pairs = self._con.execute(
            """
            SELECT DISTINCT i.freq, i.province_code, i.category, i.market, i.destination,
                   i.unit AS new_unit, o.unit AS old_unit
            FROM (SELECT DISTINCT freq, province_code, category, market, destination, unit
                  FROM incoming) i
            JOIN (SELECT DISTINCT freq, province_code, category, market, destination, unit
                  FROM observations) o
              USING (freq, province_code, category, market, destination)
            WHERE i.unit <> o.unit
            ORDER BY freq, province_code, category, market, destination, new_unit, old_unit
            """
        ).df()
        if pairs.empty:
            return table.frame
        same = pairs["new_unit"].map(key) == pairs["old_unit"].map(key)
        clash = pairs[~same]
        if not clash.empty:
            names = {p.code: p.name for p in provinces()} | {NATIONAL_CODE: NATIONAL_NAME}
            problems = [
                Problem(
                    table.name,
                    None,
                    "unit",
                    r.new_unit,
                    f"the series {names.get(r.province_code, r.province_code)} "
                    f"({r.province_code}), {r.category}, {r.market}"
                    f"{', ' + r.destination if r.destination else ''} ({FREQ_NAMES[r.freq]}) is "
                    f"already stored in '{r.old_unit}'",
                    f"convert the values to '{r.old_unit}', or give the series in that unit",
                )
                for r in clash.head(50).itertuples(index=False)
            ]
            raise DataError(problems, truncated=len(clash) > 50)
        spelling = dict(zip(pairs["new_unit"], pairs["old_unit"], strict=False))
        return table.frame.assign(unit=table.frame["unit"].replace(spelling))

    def _legacy_note(self) -> tuple[str, ...]:
        """A warning when incoming parts meet a total stored by schema version 1.

        Version 1 summed the provinces that merged before storing, so such a total is one
        part (``""``); a pre-2025 province's row for the same series and period is added to
        it, which counts that province twice if the total already held it. The warehouse
        cannot tell, so it says so.
        """
        legacy = legacy_batches(self._con)
        if not legacy:
            return ()
        found = self._con.execute(
            f"""
            WITH cur AS ({_LATEST_PARTS})
            SELECT count(*) FROM incoming i JOIN cur c USING ({_KEY_SQL})
            WHERE i.source_unit <> '' AND c.source_unit = '' AND c.batch_id <= ?
              AND c.province_code <> ?
            """,  # noqa: S608 - only fixed column names are interpolated
            [2**31 - 1, legacy, NATIONAL_CODE],
        ).fetchone()
        n = int(found[0]) if found else 0
        if not n:
            return ()
        return (
            f"{n} row(s) give a pre-2025 province for a series and period whose total was "
            f"stored before the warehouse was upgraded to schema version {SCHEMA_VERSION} "
            f"(batch {legacy} or earlier, when merged provinces were summed before storing); "
            "they were added to that total. If it already included them, rebuild the "
            "warehouse: move it aside and re-ingest the source files",
        )

    def _insert(
        self,
        table: ValidatedTable,
        frame: pd.DataFrame,
        source_label: str | None,
        sheet_requested: str | None,
    ) -> IngestResult:
        con = self._con
        overlap = con.execute(
            f"""
            WITH cur AS ({_LATEST_PARTS})
            SELECT count(*),
                   count(DISTINCT i.period),
                   count(*) FILTER (WHERE i.value IS DISTINCT FROM c.value
                                       OR i.quantity IS DISTINCT FROM c.quantity
                                       OR i.unit IS DISTINCT FROM c.unit),
                   max(c.batch_id)
            FROM incoming i JOIN cur c USING ({_PART_SQL})
            """,  # noqa: S608 - only fixed column names are interpolated
            [2**31 - 1],
        ).fetchone()
        assert overlap is not None  # an aggregate always returns one row
        n_overlap, restated, revised, last_batch = overlap
        first, last = str(frame["period"].min()), str(frame["period"].max())
        result = IngestResult(
            table.name, "unchanged", int(last_batch or 0), 0, table.freq, first, last,
            warnings=table.warnings,
        )  # fmt: skip
        if n_overlap == len(frame) and revised == 0:
            return result
        notes = table.warnings + self._legacy_note()
        row = con.execute(
            "SELECT coalesce(max(batch_id), 0) + 1, max(ingested_at) FROM batches"
        ).fetchone()
        assert row is not None
        batch_id, last_time = int(row[0]), row[1]
        # Keep ingestion times strictly increasing, so "as of a time" and "as of a batch"
        # agree even if the clock steps back.
        now = _utcnow()
        if last_time is not None and now <= last_time:
            now = last_time + timedelta(microseconds=1)
        con.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id, table.name, source_label, table.sha256, table.sheet,
                sheet_requested or "", table.layout, table.freq, table.input_rows, len(frame),
                first, last, restated, revised, now,
            ],
        )  # fmt: skip
        con.execute(
            f"INSERT INTO observations (batch_id, {_STORED_SQL}) "  # noqa: S608
            f"SELECT ?, {_STORED_SQL} FROM incoming",
            [batch_id],
        )
        if notes:
            con.executemany(
                "INSERT INTO batch_notes VALUES (?, ?, ?)",
                [[batch_id, i, msg] for i, msg in enumerate(notes)],
            )
        return dataclasses.replace(
            result,
            warnings=notes,
            status="revised" if n_overlap else "stored",
            batch_id=batch_id,
            rows=len(frame),
            restated_periods=int(restated),
            revised_values=int(revised),
        )


def _utcnow() -> datetime:
    """Current UTC time as a naive timestamp (the warehouse stores UTC without zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _as_timestamp(value: str | datetime | date) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            raise InvalidParameterError(
                f"as_of must be a batch id, a date (2025-06-30) or a timestamp "
                f"(2025-06-30T12:00:00Z); got {text!r}"
            ) from None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return datetime.combine(value + timedelta(days=1), time.min) - timedelta(microseconds=1)
