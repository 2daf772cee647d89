"""Shared fixtures for the hierarchy, reconciliation, outlook and advantage tests.

``observations(...)`` builds a small warehouse-shaped frame from literal numbers;
``snaive_engine(...)`` stands in for the engine: seasonal-naive base forecasts with
intervals for every node, and a rolling-origin backtest of the same model.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.hierarchy import SEASON, Hierarchy, build_hierarchy

DEMO = Path(__file__).resolve().parents[1] / "datasets" / "demo_sales.csv"

OBS_COLUMNS = [
    "period",
    "freq",
    "province",
    "province_code",
    "region",
    "category",
    "group",
    "market",
    "destination",
    "value",
    "unit",
    "quantity",
]

#: (province, code, region) of the fixture provinces.
PROVINCES = {
    "Hà Nội": ("01", "DBSH"),
    "Bắc Ninh": ("24", "DBSH"),
    "Thanh Hóa": ("38", "BTB_DHMT"),
    "Hồ Chí Minh": ("79", "DNB"),
    "Hưng Yên": ("33", "DBSH"),
    "Đồng Nai": ("75", "DNB"),
    "Lâm Đồng": ("68", "TN"),
}
GROUPS = {"XK_WOOD": "CNNT1", "XK_CERAMIC": "CNNT1", "XK_COFFEE": "CNNT2"}


def row(
    period: str,
    province: str,
    category: str,
    market: str,
    value: float,
    *,
    destination: str = "",
    unit: str = "thousand USD",
    freq: str = "M",
) -> dict:
    """One observation row as ``Warehouse.observations()`` returns it."""
    if province == "Toàn quốc":
        code, region = "00", ""
    else:
        code, region = PROVINCES[province]
    return {
        "period": period,
        "freq": freq,
        "province": province,
        "province_code": code,
        "region": region,
        "category": category,
        "group": GROUPS[category],
        "market": market,
        "destination": destination,
        "value": float(value),
        "unit": unit,
        "quantity": np.nan,
    }


def monthly(
    province: str, category: str, market: str, values, *, start: str = "2020-01", **kw
) -> list[dict]:
    """Rows of one monthly series from ``start``; None values are left out (gaps)."""
    periods = pd.period_range(start, periods=len(values), freq="M")
    return [
        row(str(p), province, category, market, v, **kw)
        for p, v in zip(periods, values, strict=True)
        if v is not None
    ]


def frame(rows: list[dict]) -> pd.DataFrame:
    """Observation frame with the warehouse's columns."""
    return pd.DataFrame(rows, columns=OBS_COLUMNS)


def seasonal_series(n: int, level: float, seed: int, *, growth: float = 0.0) -> np.ndarray:
    """A positive monthly series with a yearly cycle, a trend and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 1 + 0.2 * np.sin(2 * np.pi * t / 12)
    return level * season * (1 + growth) ** (t / 12) * np.exp(rng.normal(0, 0.05, n))


def snaive_engine(
    h: Hierarchy, *, horizon: int = 12, windows: int = 3, noise: float = 0.0, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seasonal-naive base forecasts and backtest for every node of ``h``.

    ``noise`` multiplies every forecast by ``exp(N(0, noise))`` drawn per node and period,
    which makes the base forecasts incoherent (as separately fitted models are).

    Returns
    -------
    base
        ``node_id, period, yhat, lo_80, hi_80, lo_95, hi_95, model``.
    backtest
        ``node_id, cutoff, period, y, yhat`` for ``windows`` origins ``horizon`` apart.
    """
    z80, z95 = 1.2816, 1.96
    rng = np.random.default_rng(seed)
    m = SEASON[h.freq]
    ids = h.nodes["node_id"].to_numpy()
    y = np.nan_to_num(h.matrix(ids))
    T = y.shape[1]

    def forecast(end: int) -> np.ndarray:
        steps = np.arange(horizon)
        return y[:, end - m + (steps % m)] * np.exp(rng.normal(0, noise, (len(ids), horizon)))

    sd = np.abs(y[:, m:] - y[:, :-m]).mean(axis=1, keepdims=True)
    future = pd.period_range(h.last_period + 1, periods=horizon, freq=h.freq)
    point = forecast(T)
    base = pd.DataFrame(
        {
            "node_id": np.repeat(ids, horizon),
            "period": np.tile(future, len(ids)),
            "yhat": point.ravel(),
            "lo_80": (point - z80 * sd).ravel(),
            "hi_80": (point + z80 * sd).ravel(),
            "lo_95": (point - z95 * sd).ravel(),
            "hi_95": (point + z95 * sd).ravel(),
            "model": "snaive",
        }
    )
    parts = []
    for w in range(windows, 0, -1):
        end = T - w * horizon
        periods = h.periods[end : end + horizon]
        parts.append(
            pd.DataFrame(
                {
                    "node_id": np.repeat(ids, horizon),
                    "cutoff": h.periods[end - 1],
                    "period": np.tile(periods, len(ids)),
                    "y": y[:, end : end + horizon].ravel(),
                    "yhat": forecast(end).ravel(),
                }
            )
        )
    return base, pd.concat(parts, ignore_index=True)


@functools.cache
def demo_observations() -> pd.DataFrame:
    """The bundled demo data set as ``Warehouse.observations()`` returns it (ingested once
    per test session into a temporary warehouse)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.duckdb"
        with Warehouse(path) as w:
            ingest_file(w, DEMO, source="synthetic-demo")
        with Warehouse(path, read_only=True) as w:
            return w.observations()


@functools.cache
def demo_hierarchy() -> Hierarchy:
    """The demo data's hierarchy (built once per test session; treat as read-only)."""
    return build_hierarchy(demo_observations())
