"""Shared fixtures. Tests never touch the network or the user's working directory."""

from __future__ import annotations

import os

import pytest

# Keep BLAS single-threaded in tests: fast on 2-core CI and deterministic.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Run every test in its own empty directory with no FORECAST_* settings leaking in."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("FORECAST_") and name != "FORECAST_BENCH_DATA":
            monkeypatch.delenv(name, raising=False)
