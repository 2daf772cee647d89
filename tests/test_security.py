"""Security: what input files can make the service print, write, run, load or fetch.

SECURITY.md lists the threats; each test here names the defence it checks.
"""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.data.warehouse import Warehouse
from forecast.errors import Problem
from forecast.textutil import printable

runner = CliRunner()
ESC = "\x1b[2J\x1b[31m"  # clear the screen, then print in red


# --- terminal output: no escape sequences from data --------------------------------------


def test_printable_escapes_controls_and_bidi_overrides_only():
    assert printable("Hà Nội\x1b[2J\u202eabc\x07") == "Hà Nội\\x1b[2J\\u202eabc\\x07"
    assert printable("Tỉnh Đắk Lắk, 1.234,5 — “ok”") == "Tỉnh Đắk Lắk, 1.234,5 — “ok”"


def test_problem_lines_escape_control_characters_of_file_and_column():
    problem = Problem(f"a{ESC}.csv", 2, f"x{ESC}", f"v{ESC}", "m", "f")
    assert str(problem) == (
        "a\\x1b[2J\\x1b[31m.csv, row 2, column 'x\\x1b[2J\\x1b[31m': m "
        "(value: 'v\\x1b[2J\\x1b[31m'). Fix: f"
    )


def test_ingest_and_data_show_never_print_escape_sequences_from_files(tmp_path):
    good = tmp_path / f"good{ESC}.csv"
    good.write_text(
        f"period,province,category,market,value,unit,note{ESC}\n"
        "2024-01,Hà Nội,XK_WOOD,export,1,USD,x\n",
        encoding="utf-8",
    )
    bad = tmp_path / f"bad{ESC}.csv"
    bad.write_text(
        f"period,province,category,market,value,unit\n2024-01,Hà{ESC}Nội,XK_WOOD,export,1,U{ESC}\n",
        encoding="utf-8",
    )
    wh = str(tmp_path / "w.duckdb")
    source = f"Sở{ESC}"
    result = runner.invoke(
        app, ["ingest", str(good), str(bad), "--source", source, "--warehouse", wh]
    )
    assert result.exit_code == 65
    assert "\x1b" not in result.output
    assert "bad\\x1b[2J\\x1b[31m.csv: rejected, nothing stored." in result.output
    assert "column 'unit': unit contains control characters (value: 'U\\x1b[2J\\x1b[31m')" in (
        result.output
    )
    assert "good\\x1b[2J\\x1b[31m.csv: stored 1 rows as batch 1" in result.output
    assert "ignored column(s) that are not in the data contract: 'note\\x1b[2J\\x1b[31m'" in (
        result.output
    )
    show = runner.invoke(app, ["data", "show", "--notes", "--warehouse", wh])
    assert show.exit_code == 0
    assert "\x1b" not in show.output
    assert "good\\x1b[2J\\x1b[31m.csv" in show.output and "Sở\\x1b[2J\\x1b[31m" in show.output


def test_the_warehouse_never_prints_duckdb_progress_bars(tmp_path):
    """DuckDB draws a progress bar on stdout for queries over 2 s, even without a terminal."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        setting = wh._con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    assert setting == (False,)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("COPY observations TO 'stolen.csv'", "file system operations are disabled"),
        ("INSTALL httpfs", "Permission Error"),
        ("SET enable_external_access = true", "configuration has been locked"),
    ],
)
def test_warehouse_sql_cannot_reach_outside_the_database_file(tmp_path, sql, error):
    """Defence in depth under parameterised SQL: even a statement built from data could
    not read or write other files, download extensions, or lift these limits."""
    with Warehouse(tmp_path / "w.duckdb") as wh, pytest.raises(duckdb.Error, match=error):
        wh._con.execute(sql)
    assert not (tmp_path / "stolen.csv").exists()
