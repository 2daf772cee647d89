"""Ingest speed on a demo-sized file (about 120k rows); slow, run by `make bench`."""

import itertools
import time

import numpy as np
import pandas as pd
import pytest

from forecast.data.categories import categories
from forecast.data.geography import provinces
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse


@pytest.mark.slow
def test_ingest_120k_rows_takes_seconds(tmp_path):
    periods = [f"{y}-{m:02d}" for y in range(2015, 2026) for m in range(1, 13)]
    names = [p.name for p in provinces()]
    codes = [c.code for c in categories()][:14]
    frame = pd.DataFrame(
        list(itertools.product(periods, names, codes, ["domestic", "export"])),
        columns=["period", "province", "category", "market"],
    )
    frame["destination"] = ""
    frame["value"] = np.random.default_rng(0).gamma(2, 100, len(frame)).round(1)
    frame["unit"] = np.where(frame["market"] == "export", "thousand USD", "million VND")
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    start = time.perf_counter()
    with Warehouse(tmp_path / "w.duckdb") as wh:
        result = ingest_file(wh, path)
    seconds = time.perf_counter() - start
    print(f"ingest of {len(frame)} rows: {seconds:.2f} s")
    assert result.rows == len(frame) > 120_000
    assert seconds < 10
