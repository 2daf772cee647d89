"""The M3 benchmark script: skips cleanly without data, runs end to end on a tiny subset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "bench" / "m3.py"


def _data_dir() -> Path:
    env = os.environ.get("FORECAST_BENCH_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "m3"


def test_skips_cleanly_without_data(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(tmp_path / "absent"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "M3 data not found" in done.stdout
    assert not list(tmp_path.glob("m3_*"))


@pytest.mark.bench
def test_runs_on_a_tiny_subset(tmp_path: Path) -> None:
    data = _data_dir()
    if not (data / "quarterly_train.csv").is_file():
        pytest.skip(f"M3 data not found in {data}")
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--data",
            str(data),
            "--kinds",
            "quarterly",
            "--limit",
            "12",
            "--jobs",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = pd.read_csv(tmp_path / "m3_latest.csv")
    assert set(table["method"]) == {"predict-csv", "Theta", "AutoETS"}
    assert (table["series"] == 12).all()
    for col in ("smape", "mase", "coverage_80", "coverage_95", "msis_95", "wall_s", "peak_mb"):
        assert table[col].notna().all(), col
    assert table["smape"].between(0, 200).all()
    assert (tmp_path / "m3_latest.md").read_text(encoding="utf-8").count("|") > 10
