"""Warehouse: batches, no-op re-ingest, vintages and as-of, integrity, transactions."""

import gzip
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import openpyxl
import pytest
from warehouse_fixtures import HEADER, write

from forecast.data.ingest import ingest_file
from forecast.data.readers import read_table
from forecast.data.schema import validate
from forecast.data.warehouse import OBSERVATIONS_API_COLUMNS, Warehouse
from forecast.errors import BusyError, DataError, InvalidParameterError, WarehouseError

FIRST = (
    "2024-01,Hà Nội,XK_WOOD,export,,10,nghìn USD,1\n"
    "2024-02,Hà Nội,XK_WOOD,export,,11,nghìn USD,\n"
    "2024-01,Toàn quốc,XK_CERAMIC,export,Hoa Kỳ,5,nghìn USD,\n"
    "2024-01,Hà Giang,XK_TEA,trong nước,,3,triệu đồng,\n"
    "2024-01,Tuyên Quang,XK_TEA,trong nước,,4,triệu đồng,\n"
)
# Restates 2024-02 (revised) and 2024-01 (same value), adds 2024-03.
SECOND = (
    "2024-01,Hà Nội,XK_WOOD,export,,10,nghìn USD,1\n"
    "2024-02,Hà Nội,XK_WOOD,export,,12.5,nghìn USD,\n"
    "2024-03,Hà Nội,XK_WOOD,export,,13,nghìn USD,\n"
)


@pytest.fixture
def wh(tmp_path):
    with Warehouse(tmp_path / "nested" / "dir" / "w.duckdb") as warehouse:
        yield warehouse


def test_new_warehouse_creates_parents_and_an_empty_state(wh):
    assert wh.path.exists()
    assert wh.batches().empty
    obs = wh.observations()
    assert obs.empty and list(obs.columns) == list(OBSERVATIONS_API_COLUMNS)
    assert wh.resolve_as_of(None) == 0


def test_observations_api(wh, tmp_path):
    result = ingest_file(wh, write(tmp_path / "a.csv", FIRST), source="Sở Công Thương")
    # 5 stored rows: Hà Giang and Tuyên Quang (old) are stored apart, summed when read.
    assert (result.status, result.batch_id, result.rows) == ("stored", 1, 5)
    assert result.describe() == "a.csv: stored 5 rows as batch 1 (monthly, 2024-01 … 2024-02)"
    obs = wh.observations()
    assert list(obs.columns) == list(OBSERVATIONS_API_COLUMNS)
    national = obs[obs["province_code"] == "00"].iloc[0]
    assert (national.province, national.region, national.destination, national.group) == (
        "Toàn quốc",
        "",
        "US",
        "CNNT1",
    )
    tea = obs[obs["category"] == "XK_TEA"].iloc[0]
    # Hà Giang + Tuyên Quang (old provinces) -> Tuyên Quang (2025 unit), summed.
    assert (tea.province, tea.province_code, tea.region, tea.group, tea.market, tea.value) == (
        "Tuyên Quang",
        "08",
        "TDMNPB",
        "CNNT2",
        "domestic",
        7.0,
    )
    wood = obs[obs["category"] == "XK_WOOD"]
    assert wood["period"].tolist() == ["2024-01", "2024-02"]
    assert wood["quantity"].tolist()[0] == 1.0 and np.isnan(wood["quantity"].tolist()[1])
    assert obs["value"].dtype == np.float64 and obs["quantity"].dtype == np.float64
    batch = wh.batches().iloc[0]
    assert (batch.source_file, batch.source_label, batch.freq, batch.row_count) == (
        "a.csv",
        "Sở Công Thương",
        "M",
        5,
    )
    assert batch.input_rows == 5 and len(batch.content_sha256) == 64


def test_reingest_is_a_noop(wh, tmp_path):
    path = write(tmp_path / "a.csv", FIRST)
    ingest_file(wh, path)
    before = wh.table_dump()
    again = ingest_file(wh, path)
    assert (again.status, again.batch_id, again.same_file) == ("unchanged", 1, True)
    assert again.describe() == "a.csv: unchanged (already ingested, batch 1)"
    # Same observations in other bytes (gzip, shuffled rows): also nothing stored.
    gz = tmp_path / "b.csv.gz"
    gz.write_bytes(gzip.compress((HEADER + "".join(reversed(FIRST.splitlines(True)))).encode()))
    same = ingest_file(wh, gz)
    assert (same.status, same.same_file) == ("unchanged", False)
    assert same.describe() == "b.csv.gz: unchanged (all rows already stored, batch 1)"
    assert wh.table_dump() == before


def test_revisions_make_vintages_queryable_by_batch_and_time(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "a.csv", FIRST))
    hash_1 = wh.state_hash()
    t_between = datetime.now(UTC)
    result = ingest_file(wh, write(tmp_path / "b.csv", SECOND))
    assert (result.status, result.batch_id, result.rows) == ("revised", 2, 3)
    assert (result.restated_periods, result.revised_values) == (2, 1)
    assert result.describe() == (
        "b.csv: new vintage, batch 2 stores 3 rows (monthly, 2024-01 … 2024-03), "
        "restating 2 period(s), 1 value(s) revised"
    )

    def wood(as_of=None):
        obs = wh.observations(as_of)
        obs = obs[obs["category"] == "XK_WOOD"]
        return dict(zip(obs["period"], obs["value"], strict=True))

    assert wood() == {"2024-01": 10.0, "2024-02": 12.5, "2024-03": 13.0}
    assert wood(1) == wood("1") == wood(t_between) == {"2024-01": 10.0, "2024-02": 11.0}
    assert wood(2) == wood()
    assert wood(date.today() - timedelta(days=400)) == {}  # before the first batch
    assert wood(t_between.isoformat()) == wood(1)
    # The other series are untouched by the revision.
    assert len(wh.observations()) == 5
    assert wh.state_hash(1) == hash_1 != wh.state_hash()


def test_as_of_errors(wh):
    with pytest.raises(InvalidParameterError, match="There is no batch 7 in the warehouse"):
        wh.observations(7)
    with pytest.raises(InvalidParameterError, match="as_of must be a batch id, a date"):
        wh.observations("last tuesday")


def test_state_hash_depends_on_observations_only(tmp_path):
    with Warehouse(tmp_path / "one.duckdb") as one, Warehouse(tmp_path / "two.duckdb") as two:
        ingest_file(one, write(tmp_path / "a.csv", FIRST))
        ingest_file(one, write(tmp_path / "b.csv", SECOND))
        merged = FIRST.replace(",11,", ",12.5,") + SECOND.splitlines(True)[2]
        ingest_file(two, write(tmp_path / "c.csv", merged))
        expected = one.state_hash()
        assert two.state_hash() == expected and len(expected) == 64
    with Warehouse(tmp_path / "one.duckdb", read_only=True) as again:
        assert again.state_hash() == expected


def test_a_bad_file_leaves_the_warehouse_exactly_as_it_was(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "a.csv", FIRST))
    before = wh.table_dump()
    bad = write(tmp_path / "bad.csv", SECOND + "2024-04,Ha Giangg,XK_WOOD,export,,1,nghìn USD,\n")
    with pytest.raises(DataError, match="did you mean 'Hà Giang'"):
        ingest_file(wh, bad)
    assert wh.table_dump() == before


def test_unit_change_of_a_stored_series_is_refused_and_stores_nothing(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "a.csv", FIRST))
    before = wh.table_dump()
    other_unit = write(tmp_path / "b.csv", "2024-03,Hà Nội,XK_WOOD,export,,13,USD,\n")
    with pytest.raises(
        DataError,
        match=r"the series Hà Nội \(01\), XK_WOOD, export \(monthly\) is already stored in "
        r"'nghìn USD'",
    ):
        ingest_file(wh, other_unit)
    assert wh.table_dump() == before
    # The same unit spelt differently is that unit, in its stored spelling.
    ingest_file(wh, write(tmp_path / "c.csv", "2024-03,Hà Nội,XK_WOOD,export,,13,Nghìn  USD,\n"))
    assert set(wh.observations()["unit"]) == {"nghìn USD", "triệu đồng"}


class _FailingConnection:
    """Wraps a connection; fails the batch-notes insert, i.e. mid-transaction."""

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def executemany(self, *args, **kwargs):
        raise duckdb.IOException("simulated disk failure")


def test_a_database_failure_mid_ingest_rolls_back(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "a.csv", FIRST))
    before = wh.table_dump()
    real = wh._con
    wh._con = _FailingConnection(real)
    # An old name after the merger gives a warning, so notes are inserted (and fail).
    late = write(tmp_path / "late.csv", "2025-08,Hà Giang,XK_TEA,trong nước,,1,triệu đồng,\n")
    with pytest.raises(WarehouseError, match="Nothing was stored; the warehouse is as it was"):
        ingest_file(wh, late)
    wh._con = real
    assert wh.table_dump() == before
    result = ingest_file(wh, late)
    assert result.status == "stored" and wh.notes(result.batch_id) == list(result.warnings)


def test_formula_like_text_is_stored_verbatim(wh, tmp_path):
    path = write(tmp_path / "a.csv", "2024-01,Hà Nội,XK_WOOD,export,,1,=1+2,\n")
    ingest_file(wh, path, source="@SUM(A1)")
    assert wh.observations()["unit"].tolist() == ["=1+2"]
    assert wh.batches()["source_label"].tolist() == ["@SUM(A1)"]


def test_each_sheet_of_a_workbook_is_its_own_content(wh, tmp_path):
    book = openpyxl.Workbook()
    for title, period in (("A", "2023"), ("B", "2024")):
        ws = book.create_sheet(title)
        ws.append(["period", "province", "category", "market", "value", "unit"])
        ws.append([period, "Hà Nội", "XK_WOOD", "export", 1, "USD"])
    book.remove(book["Sheet"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    assert ingest_file(wh, path).status == "stored"  # first visible sheet: A
    assert ingest_file(wh, path, sheet="B").status == "stored"
    assert ingest_file(wh, path, sheet="B").status == "unchanged"
    assert wh.batches()["sheet"].tolist() == ["A", "B"]


def test_read_only_cannot_store(tmp_path, wh):
    wh.close()
    with (
        Warehouse(wh.path, read_only=True) as ro,
        pytest.raises(WarehouseError, match="opened read-only"),
    ):
        ingest_file(ro, write(tmp_path / "a.csv", FIRST))


# --- integrity at open --------------------------------------------------------------------


def test_missing_warehouse_read_only(tmp_path):
    with pytest.raises(WarehouseError, match=r"No warehouse at .*Run 'forecast ingest FILE'"):
        Warehouse(tmp_path / "none.duckdb", read_only=True)


def test_folder_is_not_a_warehouse(tmp_path):
    with pytest.raises(WarehouseError, match="is a folder, not a file"):
        Warehouse(tmp_path)


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_damaged_file_gives_a_recovery_path(tmp_path, content):
    path = tmp_path / "w.duckdb"
    path.write_bytes(content)
    with pytest.raises(WarehouseError) as info:
        Warehouse(path)
    message = str(info.value)
    assert "cannot be read: it is damaged or not a warehouse file" in message
    assert "Restore the file from a backup, or move it aside and re-ingest" in message


def test_truncated_warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, write(tmp_path / "a.csv", FIRST))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(WarehouseError, match="damaged or not a warehouse file"):
        Warehouse(path)


def test_foreign_duckdb_file(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(WarehouseError, match="is a DuckDB file but not a forecast warehouse"):
        Warehouse(path)


def test_empty_duckdb_file_from_an_interrupted_creation_is_initialised(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    with Warehouse(path) as wh:
        assert wh.batches().empty


def test_ctrl_c_during_a_read_is_an_interrupt_not_damage(tmp_path):
    """DuckDB reports Ctrl-C as its own error; while the warehouse is opened (every
    column is read) it was taken for damage, with advice to restore a backup."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        with pytest.raises(KeyboardInterrupt):
            raise wh._damaged(duckdb.InterruptException("INTERRUPT Error: Interrupted!"))
        assert "damaged" in str(wh._damaged(duckdb.IOException("bad block")))


def test_unknown_schema_version(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_version SET version = ?", [99])
    con.close()
    with pytest.raises(
        WarehouseError, match=r"has schema version 99, but this program reads version 2\. Upgrade"
    ):
        Warehouse(path)


def test_missing_table(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE batch_notes")
    con.close()
    with pytest.raises(WarehouseError, match="lacks table\\(s\\) batch_notes"):
        Warehouse(path)


def test_busy_when_another_process_writes(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(path)!r})\n"
         "print('ready', flush=True)\n"
         "sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(BusyError, match="is in use by another process") as info:
            Warehouse(path)
        assert info.value.exit_code == 75
    finally:
        holder.communicate("")


# A restates two of FIRST's Hà Nội values; re-ingesting FIRST restores them.
RESTATE_FIRST = (
    "2024-01,Hà Nội,XK_WOOD,export,,20,nghìn USD,2\n2024-02,Hà Nội,XK_WOOD,export,,21,nghìn USD,\n"
)


def _wood(wh, as_of=None):
    obs = wh.observations(as_of)
    obs = obs[obs["category"] == "XK_WOOD"]
    pairs = zip(obs["value"], obs["quantity"].fillna(-1), strict=True)
    return dict(zip(obs["period"], pairs, strict=True))


def test_reingesting_a_restated_file_restores_its_values(wh, tmp_path):
    a = write(tmp_path / "a.csv", FIRST)
    ingest_file(wh, a)
    b = ingest_file(wh, write(tmp_path / "b.csv", RESTATE_FIRST))
    assert (b.status, b.batch_id, b.revised_values) == ("revised", 2, 2)
    again = ingest_file(wh, a)
    # Same bytes as batch 1, but batch 2 changed them: a new vintage with A's values.
    assert (again.status, again.batch_id, again.same_file) == ("revised", 3, False)
    assert (again.rows, again.restated_periods, again.revised_values) == (5, 2, 2)
    assert again.describe().startswith("a.csv: new vintage, batch 3 stores 5 rows")
    assert len(wh.batches()) == 3
    a_values = {"2024-01": (10.0, 1.0), "2024-02": (11.0, -1)}
    assert _wood(wh) == _wood(wh, 3) == _wood(wh, 1) == a_values
    assert _wood(wh, 2) == {"2024-01": (20.0, 2.0), "2024-02": (21.0, -1)}
    assert wh.state_hash(3) == wh.state_hash(1) != wh.state_hash(2)
    # A fourth time: now the state holds batch 3 as it is, so the cheap path applies.
    before = wh.table_dump()
    fourth = ingest_file(wh, a)
    assert (fourth.status, fourth.batch_id, fourth.same_file) == ("unchanged", 3, True)
    assert fourth.describe() == "a.csv: unchanged (already ingested, batch 3)"
    assert wh.table_dump() == before


def test_reingest_after_an_agreeing_restatement_is_a_noop(wh, tmp_path):
    """A later batch that restates A's keys with A's values leaves A current."""
    a = write(tmp_path / "a.csv", FIRST)
    ingest_file(wh, a)
    ingest_file(wh, write(tmp_path / "b.csv", RESTATE_FIRST))
    ingest_file(wh, write(tmp_path / "c.csv", "".join(FIRST.splitlines(True)[:2])))
    assert _wood(wh) == {"2024-01": (10.0, 1.0), "2024-02": (11.0, -1)}
    before = wh.table_dump()
    again = ingest_file(wh, a)
    assert (again.status, again.batch_id, again.same_file) == ("unchanged", 1, True)
    assert wh.table_dump() == before


def test_store_checks_the_state_for_a_known_hash(wh, tmp_path):
    """Warehouse.store (not only ingest_file) restores a restated file."""
    a = write(tmp_path / "a.csv", FIRST)
    table = validate(read_table(a))
    assert wh.store(table).batch_id == 1
    ingest_file(wh, write(tmp_path / "b.csv", RESTATE_FIRST))
    result = wh.store(table)
    assert (result.status, result.batch_id) == ("revised", 3)
    assert _wood(wh) == {"2024-01": (10.0, 1.0), "2024-02": (11.0, -1)}
    assert wh.store(table).status == "unchanged"
