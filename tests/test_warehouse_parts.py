"""Reporting units of merged provinces: separate files add up, and the schema-1 upgrade."""

import duckdb
import numpy as np
import pytest
from warehouse_fixtures import write

from forecast.data.ingest import ingest_file
from forecast.data.warehouse import SCHEMA_VERSION, Warehouse
from forecast.errors import DataError

# Hà Giang and Tuyên Quang (old) merged into the 2025 unit Tuyên Quang (08).
HA_GIANG = "".join(
    (
        "2024-01,Hà Giang,XK_WOOD,export,,10,nghìn USD,1\n",
        "2024-02,Hà Giang,XK_WOOD,export,,11,nghìn USD,\n",
    )
)
TUYEN_QUANG = (
    "2024-01,Tuyên Quang,XK_WOOD,export,,5,nghìn USD,2\n"
    "2024-02,Tuyên Quang,XK_WOOD,export,,6,nghìn USD,3\n"
)


@pytest.fixture
def wh(tmp_path):
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        yield warehouse


def series(wh, as_of=None, code="08"):
    """{period: (value, quantity or None)} of the wood series of a 2025 unit."""
    obs = wh.observations(as_of)
    obs = obs[(obs["province_code"] == code) & (obs["category"] == "XK_WOOD")]
    quantity = [None if np.isnan(q) else q for q in obs["quantity"]]
    return dict(zip(obs["period"], zip(obs["value"], quantity, strict=True), strict=True))


def stored_parts(wh):
    rows = wh._con.execute(
        "SELECT batch_id, period, source_unit, value FROM observations ORDER BY ALL"
    ).fetchall()
    return rows


def test_separate_files_of_merged_provinces_add_up(wh, tmp_path):
    first = ingest_file(wh, write(tmp_path / "hg.csv", HA_GIANG))
    second = ingest_file(wh, write(tmp_path / "tq.csv", TUYEN_QUANG))
    # The second file adds a part; it restates nothing.
    assert (first.status, first.rows) == ("stored", 2)
    assert (second.status, second.rows, second.restated_periods) == ("stored", 2, 0)
    # Quantity only when every part has one (Hà Giang has none for 2024-02).
    assert series(wh) == {"2024-01": (15.0, 3.0), "2024-02": (17.0, None)}
    assert series(wh, 1) == {"2024-01": (10.0, 1.0), "2024-02": (11.0, None)}
    assert len(wh.observations()) == 2
    summary = wh.summary()
    assert summary[["series", "observations"]].values.tolist() == [[1, 2]]
    assert stored_parts(wh) == [
        (1, "2024-01", "02", 10.0),
        (1, "2024-02", "02", 11.0),
        (2, "2024-01", "08", 5.0),
        (2, "2024-02", "08", 6.0),
    ]


def test_one_file_or_two_give_the_same_state(tmp_path):
    with Warehouse(tmp_path / "a.duckdb") as one, Warehouse(tmp_path / "b.duckdb") as two:
        ingest_file(one, write(tmp_path / "both.csv", TUYEN_QUANG + HA_GIANG))
        ingest_file(two, write(tmp_path / "hg.csv", HA_GIANG))
        ingest_file(two, write(tmp_path / "tq.csv", TUYEN_QUANG))
        assert series(one) == series(two) == {"2024-01": (15.0, 3.0), "2024-02": (17.0, None)}
        assert one.state_hash() == two.state_hash()


def test_resending_one_province_restates_only_its_part(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "hg.csv", HA_GIANG))
    ingest_file(wh, write(tmp_path / "tq.csv", TUYEN_QUANG))
    revised = HA_GIANG.replace(",11,", ",12,")
    result = ingest_file(wh, write(tmp_path / "hg2.csv", revised))
    assert (result.status, result.batch_id, result.rows) == ("revised", 3, 2)
    assert (result.restated_periods, result.revised_values) == (2, 1)
    assert series(wh) == {"2024-01": (15.0, 3.0), "2024-02": (18.0, None)}
    assert series(wh, 2) == {"2024-01": (15.0, 3.0), "2024-02": (17.0, None)}
    # Re-sending the Tuyên Quang file unchanged stores nothing (R8's cheap path, per part).
    again = ingest_file(wh, tmp_path / "tq.csv")
    assert (again.status, again.batch_id, again.same_file) == ("unchanged", 2, True)


def test_the_same_province_twice_in_a_file_is_still_a_duplicate(wh, tmp_path):
    # 'Hà Giang' and its old GSO code 02 are one province: a conflict, not two parts.
    body = (
        "2024-01,Hà Giang,XK_WOOD,export,,10,nghìn USD,\n2024-01,02,XK_WOOD,export,,9,nghìn USD,\n"
    )
    with pytest.raises(DataError, match=r"row 3.*conflicts with row 2"):
        ingest_file(wh, write(tmp_path / "dup.csv", body))
    # Before the merger the 2025 name means the old province: 'Tuyên Quang' and '08' too.
    body = (
        "2024-01,Tuyên Quang,XK_WOOD,export,,5,nghìn USD,\n2024-01,8,XK_WOOD,export,,5,nghìn USD,\n"
    )
    result = ingest_file(wh, write(tmp_path / "same.csv", body))
    assert result.rows == 1 and "dropped 1 identical duplicate row(s): rows 3" in result.warnings
    assert series(wh) == {"2024-01": (5.0, None)}


def test_units_of_parts_must_agree(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "hg.csv", HA_GIANG))
    other = TUYEN_QUANG.replace("nghìn USD", "triệu đồng")
    with pytest.raises(DataError, match="is already stored in 'nghìn USD'"):
        ingest_file(wh, write(tmp_path / "tq.csv", other))
    # The same unit spelt otherwise is adopted, and the parts add up.
    ingest_file(wh, write(tmp_path / "tq2.csv", TUYEN_QUANG.replace("nghìn USD", "Nghìn USD")))
    assert series(wh)["2024-01"] == (15.0, 3.0)
    assert wh.observations()["unit"].unique().tolist() == ["nghìn USD"]


def test_after_the_merger_a_defunct_province_is_added_to_its_unit(wh, tmp_path):
    unit = write(tmp_path / "tq.csv", "2025-08,Tuyên Quang,XK_WOOD,export,,40,nghìn USD,\n")
    old = write(tmp_path / "hg.csv", "2025-08,Hà Giang,XK_WOOD,export,,2,nghìn USD,\n")
    ingest_file(wh, unit)
    result = ingest_file(wh, old)
    assert result.status == "stored"
    assert result.warnings == (
        "'Hà Giang' is a pre-2025 province, merged into 'Tuyên Quang' from 2025-07-01; its 1 "
        "row(s) for periods from 2025-07 were added to 'Tuyên Quang'",
    )
    assert wh.notes(2) == list(result.warnings)
    assert series(wh) == {"2025-08": (42.0, None)}
    assert [r[2] for r in stored_parts(wh)] == ["", "02"]


def test_gso_codes_before_the_merger_are_pre_2025_codes(wh, tmp_path):
    # 15 is Yên Bái's old code and the 2025 code of Lào Cai, the unit Yên Bái joined.
    ingest_file(wh, write(tmp_path / "yb.csv", "2024-01,Yên Bái,XK_WOOD,export,,1,USD,\n"))
    ingest_file(wh, write(tmp_path / "lc.csv", "2024-01,Lào Cai,XK_WOOD,export,,20,USD,\n"))
    restated = ingest_file(wh, write(tmp_path / "c.csv", "2024-01,15,XK_WOOD,export,,3,USD,\n"))
    assert (restated.status, restated.revised_values) == ("revised", 1)  # Yên Bái's part
    later = ingest_file(wh, write(tmp_path / "d.csv", "2025-08,15,XK_WOOD,export,,50,USD,\n"))
    assert later.warnings == ()  # the 2025 unit itself
    assert series(wh, code="15") == {"2024-01": (23.0, None), "2025-08": (50.0, None)}


# The layout of schema version 1, as released, to test the upgrade.
V1_DDL = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL, created_at TIMESTAMP NOT NULL)",
    """CREATE TABLE batches (
        batch_id INTEGER PRIMARY KEY, source_file VARCHAR NOT NULL, source_label VARCHAR,
        content_sha256 VARCHAR NOT NULL, sheet VARCHAR, sheet_requested VARCHAR NOT NULL,
        layout VARCHAR NOT NULL, freq VARCHAR NOT NULL, input_rows INTEGER NOT NULL,
        row_count INTEGER NOT NULL, first_period VARCHAR NOT NULL,
        last_period VARCHAR NOT NULL, restated_periods INTEGER NOT NULL,
        revised_values INTEGER NOT NULL, ingested_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE batch_notes (batch_id INTEGER NOT NULL, seq INTEGER NOT NULL,
        message VARCHAR NOT NULL, PRIMARY KEY (batch_id, seq))""",
    """CREATE TABLE observations (
        batch_id INTEGER NOT NULL, freq VARCHAR NOT NULL, period VARCHAR NOT NULL,
        province_code VARCHAR NOT NULL, category VARCHAR NOT NULL, market VARCHAR NOT NULL,
        destination VARCHAR NOT NULL, value DOUBLE NOT NULL, unit VARCHAR NOT NULL,
        quantity DOUBLE)""",
)
# Version 1 summed Hà Giang (10) and Tuyên Quang (5) before storing: one row, 15.
V1_ROWS = [
    (1, "M", "2024-01", "08", "XK_WOOD", "export", "", 15.0, "nghìn USD", 3.0),
    (1, "M", "2024-01", "01", "XK_WOOD", "export", "", 7.0, "nghìn USD", None),
    (2, "M", "2024-01", "01", "XK_WOOD", "export", "", 8.0, "nghìn USD", None),
]


def make_v1(path):
    con = duckdb.connect(str(path))
    for ddl in V1_DDL:
        con.execute(ddl)
    con.execute("INSERT INTO schema_version VALUES (1, TIMESTAMP '2025-01-01 00:00:00')")
    for batch in (1, 2):
        con.execute(
            "INSERT INTO batches VALUES (?, ?, NULL, ?, NULL, '', 'long', 'M', 2, 2, "
            "'2024-01', '2024-01', ?, ?, ?)",
            [batch, f"f{batch}.csv", f"{batch:064d}", batch - 1, batch - 1,
             f"2025-01-0{batch} 00:00:00"],
        )  # fmt: skip
    con.executemany("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", V1_ROWS)
    con.execute("INSERT INTO batch_notes VALUES (1, 0, 'a note')")
    con.close()


def version_of(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    finally:
        con.close()


def expected_state(tmp_path):
    """The same observations ingested by this version, for the hash."""
    body = "2024-01,Hà Nội,XK_WOOD,export,,8,nghìn USD,\n" + HA_GIANG.splitlines(True)[0]
    with Warehouse(tmp_path / "fresh.duckdb") as fresh:
        ingest_file(fresh, write(tmp_path / "x.csv", body + TUYEN_QUANG.splitlines(True)[0]))
        return fresh.observations(), fresh.state_hash()


def test_a_version_1_file_is_read_read_only_without_writing(tmp_path):
    path = tmp_path / "v1.duckdb"
    make_v1(path)
    before = path.read_bytes()
    obs, digest = expected_state(tmp_path)
    with Warehouse(path, read_only=True) as wh:
        assert wh.observations().equals(obs)
        assert wh.state_hash() == digest
        assert series(wh, 1, code="01") == {"2024-01": (7.0, None)}
        assert wh.notes(1) == ["a note"]
    assert path.read_bytes() == before and version_of(path) == 1


def test_a_version_1_file_is_upgraded_when_opened_writable(tmp_path):
    path = tmp_path / "v1.duckdb"
    make_v1(path)
    with Warehouse(path, read_only=True) as wh:
        dump_v1 = wh.table_dump()
    obs, digest = expected_state(tmp_path)
    with Warehouse(path) as wh:
        assert SCHEMA_VERSION == 2 and version_of_open(wh) == 2
        # Nothing lost: every table as it was, the old rows one part ("") each.
        dump = wh.table_dump()
        assert dump["batches"] == dump_v1["batches"]
        assert dump["batch_notes"] == dump_v1["batch_notes"]
        assert dump["observations"] == sorted((*r, "") for r in V1_ROWS) == dump_v1["observations"]
        assert [r[0] for r in dump["schema_version"]] == [1, 2]
        assert wh.observations().equals(obs) and wh.state_hash() == digest
        # New batches work on the upgraded file; a later part adds to the stored total.
        result = ingest_file(wh, write(tmp_path / "hg.csv", HA_GIANG.splitlines(True)[1]))
        assert (result.status, result.batch_id, result.warnings) == ("stored", 3, ())
        assert series(wh) == {"2024-01": (15.0, 3.0), "2024-02": (11.0, None)}
        # A part for a total that version 1 stored is added to it, with a warning, since
        # the total may already hold it (here it did: Hà Giang's 10 is counted twice).
        resent = ingest_file(wh, write(tmp_path / "hg1.csv", HA_GIANG.splitlines(True)[0]))
        (note,) = resent.warnings
        assert note.startswith(
            "1 row(s) give a pre-2025 province for a series and period whose total was stored "
            "before the warehouse was upgraded to schema version 2 (batch 2 or earlier"
        )
        assert wh.notes(4) == [note]
        assert series(wh)["2024-01"] == (25.0, 4.0)
    assert version_of(path) == 2
    with Warehouse(path, read_only=True) as wh:
        assert series(wh, 2) == {"2024-01": (15.0, 3.0)}


def test_an_empty_version_1_file_is_upgraded(tmp_path):
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    for ddl in V1_DDL:
        con.execute(ddl)
    con.execute("INSERT INTO schema_version VALUES (1, TIMESTAMP '2025-01-01 00:00:00')")
    con.close()
    with Warehouse(path) as wh:
        assert version_of_open(wh) == 2 and wh.batches().empty
        assert ingest_file(wh, write(tmp_path / "hg.csv", HA_GIANG)).warnings == ()


def test_parts_in_a_warehouse_made_by_version_2_bring_no_upgrade_warning(wh, tmp_path):
    ingest_file(wh, write(tmp_path / "tq.csv", TUYEN_QUANG))
    assert ingest_file(wh, write(tmp_path / "hg.csv", HA_GIANG)).warnings == ()


def version_of_open(wh):
    return wh._con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
