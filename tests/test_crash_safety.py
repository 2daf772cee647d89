"""Crash safety: kill -9 at every phase of an ingest, and damaged warehouse files.

Each kill test runs ``ingest_file`` in a child process that stops at one phase (the code
of that phase has run; the next has not) and reports it; the parent kills it with
SIGKILL. Before COMMIT the warehouse must be exactly as before; after COMMIT the batch
must survive (DuckDB replays its write-ahead log). Either way the file opens, passes the
integrity check, and takes the next ingest. (tests/test_warehouse_crash.py kills inside the
transaction after the rows are inserted.)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.errors import WarehouseError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

HEADER = "period,province,category,market,value,unit\n"
FIRST = HEADER + "2024-01,Hà Nội,XK_WOOD,export,1,USD\n"

# Wraps the function of one phase so that, once it has run (or, for "creating", just
# before it runs), the child reports the phase and waits to be killed.
CHILD = textwrap.dedent(
    """
    import sys, time
    from forecast.data import ingest, warehouse

    phase, path, file = sys.argv[1:4]
    owner, name, before = {
        "creating": (warehouse.Warehouse, "_create", True),
        "validated": (ingest, "validate", False),
        "units_checked": (warehouse.Warehouse, "_align_units", False),
        "committed": (warehouse.Warehouse, "store", False),
    }[phase]
    real = getattr(owner, name)

    def stop(*args, **kwargs):
        result = None if before else real(*args, **kwargs)
        print(phase, flush=True)
        time.sleep(120)
        return result

    setattr(owner, name, stop)
    with warehouse.Warehouse(path) as wh:
        ingest.ingest_file(wh, file)
    """
)


CLI = "from forecast.cli import main; main()"


def _big_file(path: Path, n_years: int = 30) -> Path:
    rows = (
        f"{y}-{m:02d},{p},{c},export,{y + m},USD\n"
        for p in ("Hà Nội", "Bắc Ninh", "Huế")
        for c in ("XK_TEA", "XK_CERAMIC")
        for y in range(2025 - n_years, 2025)
        for m in range(1, 13)
    )
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _kill_at(phase: str, warehouse: Path, file: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, phase, str(warehouse), str(file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert line == phase, proc.stderr.read()  # type: ignore[union-attr]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _content(dump: dict) -> dict:
    """Tables without the ingestion time (a clean re-ingest has another)."""
    batches = [row[:-1] for row in dump["batches"]]
    return {**dump, "batches": batches}


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "first.csv").write_text(FIRST, encoding="utf-8")
    big = _big_file(tmp_path / "big.csv")
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, tmp_path / "first.csv")
        before = wh.table_dump()
    reference = tmp_path / "reference.duckdb"
    shutil.copy(path, reference)
    with Warehouse(reference) as wh:
        ingest_file(wh, big)
        after = wh.table_dump()
    return path, big, before, after


@pytest.mark.parametrize("phase", ["validated", "units_checked"])
def test_kill_before_commit_leaves_the_warehouse_as_before(setup, phase):
    path, big, before, after = setup
    _kill_at(phase, path, big)
    with Warehouse(path) as wh:
        assert wh.table_dump() == before
        assert ingest_file(wh, big).status == "stored"
        assert _content(wh.table_dump()) == _content(after)


def test_kill_after_commit_keeps_the_batch(setup):
    path, big, _before, after = setup
    _kill_at("committed", path, big)
    with Warehouse(path) as wh:
        assert _content(wh.table_dump()) == _content(after)
        assert ingest_file(wh, big).status == "unchanged"


def test_kill_while_creating_a_new_warehouse(tmp_path):
    """Killed after DuckDB created the file but before the tables exist: the next open
    creates them."""
    (tmp_path / "first.csv").write_text(FIRST, encoding="utf-8")
    path = tmp_path / "new" / "w.duckdb"
    _kill_at("creating", path, tmp_path / "first.csv")
    assert path.exists()
    with Warehouse(path) as wh:
        assert wh.batches().empty
        assert ingest_file(wh, tmp_path / "first.csv").status == "stored"


def _large_file(path: Path) -> Path:
    """34 provinces x 14 categories x 2 markets x 190 months = 180,880 rows."""
    from forecast.data.categories import categories
    from forecast.data.geography import provinces

    codes = [c.code for c in categories()][12:26]
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for p in provinces():
            for c in codes:
                for market in ("domestic", "export"):
                    fh.writelines(
                        f"{2009 + i // 12}-{i % 12 + 1:02d},{p.name},{c},{market},{i},USD\n"
                        for i in range(190)
                    )
    return path


@pytest.mark.slow
def test_kill_at_random_moments_of_a_large_ingest(tmp_path):
    """No hooks: kill `forecast ingest` of a 180k-row file after 0.5 s, then 1.5 times
    longer each time, until one run finishes; every killed run leaves the warehouse as
    before or with the whole batch, never part of it."""
    (tmp_path / "first.csv").write_text(FIRST, encoding="utf-8")
    big = _large_file(tmp_path / "big.csv")
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        ingest_file(wh, tmp_path / "first.csv")
        before = wh.table_dump()
    outcomes = []
    delay = 0.5
    while delay < 300:
        proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "ingest", str(big), "--warehouse", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        with Warehouse(path) as wh:
            dump = wh.table_dump()
        stored = len(dump["batches"]) == 2
        assert dump == before or (
            stored and len(dump["observations"]) == len(before["observations"]) + 180_880
        )
        outcomes.append(
            f"{delay:.1f} s: "
            + ("finished" if finished else "killed after commit" if stored else "killed, nothing")
        )
        if stored:
            break
        delay *= 1.5
    print("\nkill -9 during ingest of 180,880 rows:", "; ".join(outcomes))
    assert stored and any(o.endswith("killed, nothing") for o in outcomes)


# --- integrity check at open ------------------------------------------------------------

RECOVERY = (
    "Restore the file from a backup, or move it aside and re-ingest the source files "
    "(e.g. from inbox/done) with 'forecast ingest'."
)


def _garble(path: Path) -> None:
    """Invert every byte after the first 4 KiB (DuckDB's headers survive, its blocks
    do not), as a failing disk or a bad copy would."""
    data = bytearray(path.read_bytes())
    data[4096:] = bytes(b ^ 0xFF for b in data[4096:])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbled", "truncated"])
def test_a_damaged_warehouse_is_refused_with_a_recovery_path_that_works(tmp_path, damage):
    sources = [tmp_path / "first.csv", _big_file(tmp_path / "big.csv", n_years=3)]
    sources[0].write_text(FIRST, encoding="utf-8")
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        for source in sources:
            ingest_file(wh, source)
        expected = wh.observations()
    if damage == "garbled":
        _garble(path)
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(WarehouseError) as info:
        Warehouse(path, read_only=True)
    message = str(info.value)
    assert message.startswith(f"The warehouse {str(path)!r} cannot be read: it is damaged or not")
    assert message.endswith(RECOVERY)

    runner = CliRunner()
    commands = (["data", "show"], ["ingest", str(sources[0])], ["run"])
    for args in commands if damage == "garbled" else commands[:1]:
        result = runner.invoke(app, [*args, "--warehouse", str(path)])
        assert result.exit_code == 1, (args, result.output)
        assert "Error: The warehouse" in result.output and RECOVERY in result.output

    # The advice works: move the file aside and re-ingest the source files.
    path.rename(tmp_path / "w.duckdb.damaged")
    result = runner.invoke(app, ["ingest", *map(str, sources), "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    with Warehouse(path, read_only=True) as wh:
        assert wh.observations().equals(expected)
