"""The run lock: one holder at a time, released by the kernel when the holder dies."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from forecast.errors import BusyError
from forecast.lock import LOCK_FILE, Holder, RunLock


def test_second_holder_is_refused_with_who_holds_it(tmp_path):
    with RunLock(tmp_path, command="forecast retrain"):
        holder = Holder.read(tmp_path / LOCK_FILE)
        assert holder is not None and holder.pid == os.getpid() and holder.alive()
        with pytest.raises(BusyError, match=rf"holds the lock .*pid {os.getpid()}") as err:
            RunLock(tmp_path).acquire()
        assert err.value.exit_code == 75
        assert "forecast retrain" in str(err.value)


def test_clean_release_empties_the_file_and_frees_the_lock(tmp_path):
    with RunLock(tmp_path) as lock:
        assert not lock.stale
    assert (tmp_path / LOCK_FILE).read_text() == ""
    with RunLock(tmp_path) as again:
        assert not again.stale


def test_stale_record_of_a_dead_process_is_taken_over(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = {"pid": dead.pid, "host": os.uname().nodename, "started_at": "x", "command": "c"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, logger="forecast.lock"), RunLock(tmp_path) as lock:
        assert lock.stale and lock.previous is not None and lock.previous.pid == dead.pid
        assert not lock.previous.alive()
    assert "stale lock" in caplog.text and str(dead.pid) in caplog.text


def test_lock_of_a_killed_process_is_released_by_the_kernel(tmp_path):
    code = (
        "import sys, time; from pathlib import Path; from forecast.lock import RunLock\n"
        "lock = RunLock(Path(sys.argv[1])); lock.acquire()\n"
        "Path(sys.argv[1], 'held').touch(); time.sleep(120)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)])
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "held").exists():
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        with pytest.raises(BusyError, match=f"pid {child.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with RunLock(tmp_path) as lock:  # free at once; the dead holder is reported as stale
        assert lock.stale and lock.previous is not None and lock.previous.pid == child.pid
