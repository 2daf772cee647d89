"""`forecast ingest` and `forecast data show` through the command line."""

import re

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.data.warehouse import Warehouse

HEADER = "period,province,category,market,destination,value,unit\n"
GOOD = "2024-01,Hà Nội,XK_WOOD,export,,10,USD\n2024-02,Hà Nội,XK_WOOD,export,,11,USD\n"
BAD = "2024-01,Ha Giangg,XK_WOOD,export,,10,USD\n2024-02,Hà Nội,XK_WOOD,export,,-1,USD\n"

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.csv").write_text(HEADER + GOOD, encoding="utf-8")
    (tmp_path / "bad.csv").write_text(HEADER + BAD, encoding="utf-8")
    return tmp_path


def ingest(*args):
    return runner.invoke(app, ["ingest", *map(str, args), "--warehouse", "w.duckdb"])


def test_ingest_then_reingest(files):
    first = ingest(files / "good.csv", "--source", "Sở Công Thương Hà Nội")
    assert first.exit_code == 0, first.output
    assert "good.csv: stored 2 rows as batch 1 (monthly, 2024-01 … 2024-02)" in first.stdout
    again = ingest(files / "good.csv")
    assert again.exit_code == 0
    assert "good.csv: unchanged (already ingested, batch 1)" in again.stdout


def test_bad_file_exits_65_names_the_problems_and_stores_nothing(files):
    result = ingest(files / "bad.csv", files / "good.csv")
    assert result.exit_code == 65
    err = result.stderr
    assert "Error: bad.csv: rejected, nothing stored." in err
    assert (
        "bad.csv, row 2, column 'province': unknown province (value: 'Ha Giangg'). "
        "Fix: did you mean 'Hà Giang'?" in err
    )
    assert "bad.csv, row 3, column 'value': value is negative (value: '-1')" in err
    assert "1 of 2 file(s) rejected: bad.csv." in err
    # Each file is its own transaction: the good file was stored all the same.
    assert "good.csv: stored 2 rows as batch 1" in result.stdout
    with Warehouse("w.duckdb", read_only=True) as wh:
        assert wh.batches()["source_file"].tolist() == ["good.csv"]


def test_revision_and_warnings_are_reported(files):
    ingest(files / "good.csv")
    revised = files / "revised.csv"
    revised.write_text(
        HEADER + "2024-02,Hà Nội,XK_WOOD,export,,12,USD\n2025-08,Hà Giang,XK_WOOD,export,,1,USD\n"
    )
    result = ingest(revised, "--layout", "long")
    assert result.exit_code == 0, result.output
    assert (
        "revised.csv: new vintage, batch 2 stores 2 rows (monthly, 2024-02 … 2025-08), "
        "restating 1 period(s), 1 value(s) revised" in result.stdout
    )
    assert (
        "Warning: revised.csv: 'Hà Giang' is a pre-2025 province, merged into 'Tuyên Quang'"
        in result.stderr
    )


def test_data_show_latest_and_as_of(files):
    ingest(files / "good.csv", "--source", "=cmd|' /C calc'!A0")
    revised = files / "revised.csv"
    revised.write_text(HEADER + "2024-03,Hà Nội,XK_WOOD,export,,12,USD\n")
    ingest(revised)
    result = runner.invoke(app, ["data", "show", "--warehouse", "w.duckdb", "--notes"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Warehouse w.duckdb: 2 batch(es); state as of batch 2." in out
    assert "good.csv" in out and "revised.csv" in out and "=cmd|' /C calc'!A0" in out
    assert re.search(r"export\s+province\s+1\s+3\s+2024-01\s+2024-03", out)
    assert "State hash: " in out
    # One table row per line (the table's own line breaks were shown as a literal "\n").
    assert "\\n" not in out
    rows = [line for line in out.splitlines() if re.match(r"\s+[12]\s+20\d\d-", line)]
    assert len(rows) == 2
    old = runner.invoke(app, ["data", "show", "--warehouse", "w.duckdb", "--as-of", "1"])
    assert "state as of batch 1." in old.stdout and "revised.csv" not in old.stdout
    assert re.search(r"export\s+province\s+1\s+2\s+2024-01\s+2024-02", old.stdout)


def test_data_show_errors(files):
    missing = runner.invoke(app, ["data", "show", "--warehouse", "none.duckdb"])
    assert missing.exit_code == 2
    assert "No warehouse at 'none.duckdb'. Run 'forecast ingest FILE'" in missing.stderr
    ingest(files / "good.csv")
    bad = runner.invoke(app, ["data", "show", "--warehouse", "w.duckdb", "--as-of", "9"])
    assert bad.exit_code == 2 and "There is no batch 9 in the warehouse" in bad.stderr


def test_damaged_warehouse_exit_code_and_recovery_path(files):
    (files / "w.duckdb").write_bytes(b"garbage" * 1000)
    result = runner.invoke(
        app, ["ingest", str(files / "good.csv"), "--warehouse", str(files / "w.duckdb")]
    )
    assert result.exit_code == 1
    assert "damaged or not a warehouse file" in result.stderr
    assert "re-ingest the source files (e.g. from inbox/done)" in result.stderr


def test_warehouse_from_environment(files, monkeypatch):
    monkeypatch.setenv("FORECAST_WAREHOUSE", str(files / "env" / "w.duckdb"))
    result = runner.invoke(app, ["ingest", str(files / "good.csv")])
    assert result.exit_code == 0, result.output
    assert (files / "env" / "w.duckdb").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ingest", "--help"], ["--layout", "--source", "--sheet", "--warehouse", "Exits with 65"]),
        (["data", "--help"], ["show"]),
        (["data", "show", "--help"], ["--as-of", "--notes", "--warehouse"]),
    ],
)
def test_help_is_complete(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    for word in words:
        assert word in result.stdout
