"""Crash safety: a process killed (SIGKILL) in the middle of an ingest leaves no trace."""

import os
import signal
import subprocess
import sys

import pytest

from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse

HEADER = "period,province,category,market,destination,value,unit\n"

# Runs an ingest that pauses after inserting the batch's rows, inside the open transaction.
SCRIPT = """
import sys, time
from forecast.data import warehouse
from forecast.data.ingest import ingest_file

real = warehouse.Warehouse._insert

def insert_then_hang(self, *args, **kwargs):
    result = real(self, *args, **kwargs)
    print("inserted", flush=True)
    time.sleep(120)
    return result

warehouse.Warehouse._insert = insert_then_hang
with warehouse.Warehouse(sys.argv[1]) as wh:
    ingest_file(wh, sys.argv[2])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_during_ingest_leaves_the_warehouse_as_before(tmp_path):
    path = tmp_path / "w.duckdb"
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "2024-01,Hà Nội,XK_WOOD,export,,1,USD\n", encoding="utf-8")
    big = tmp_path / "big.csv"
    rows = (f"{y}-{m:02d},Hà Nội,XK_TEA,export,,{y + m},USD\n" for y in range(1990, 2025)
            for m in range(1, 13))  # fmt: skip
    big.write_text(HEADER + "".join(rows), encoding="utf-8")
    with Warehouse(path) as wh:
        ingest_file(wh, first)
        before = wh.table_dump()
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(path), str(big)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline().strip()
        assert line == "inserted", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Warehouse(path) as wh:
        assert wh.table_dump() == before
        assert ingest_file(wh, big).status == "stored"  # and it still works afterwards
