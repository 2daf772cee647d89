"""Property-based tests (hypothesis): ingest round trips and forecasting invariants.

- Any long table written as CSV (four encodings, three delimiters, decimal point or comma,
  with or without thousands separators), XLSX or Parquet, with names in any accepted
  spelling, ingests to exactly its observations (pre-2025 provinces summed into their
  2025 unit).
- On random small panels (1 to 60 periods, zeros, gaps, intermittent and trending
  series) the engine's forecasts are finite, non-negative for non-negative data, with
  nested intervals around the point forecast, and identical with 1 and 2 workers.
- Reconciling random incoherent base forecasts over a random hierarchy gives coherent,
  non-negative forecasts with nested intervals, by every method.

Example counts are small to keep `make test` fast; search longer with
``HYPOTHESIS_EXAMPLES=300 pytest tests/test_properties.py``.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hierarchy_fixtures import GROUPS, PROVINCES, frame, row
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from script_loader import load_script

from forecast.data.geography import lookup_province, provinces
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.engine import EngineConfig, run_engine
from forecast.hierarchy import build_hierarchy
from forecast.panel import Panel
from forecast.reconcile import COHERENT_METHODS, reconcile


def _load_corpus_module():
    path = Path(__file__).parent / "data" / "bad" / "make_corpus.py"
    return load_script(path, "make_corpus")


cp1258 = _load_corpus_module().cp1258
#: Examples per property; raise it for a longer search (HYPOTHESIS_EXAMPLES=300 pytest ...).
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "15"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = date(2026, 1, 15)

# --- ingest round trip -------------------------------------------------------------------

UNITS = ("thousand USD", "triệu đồng", "nghìn USD", "tấn", "million VND")
CATEGORIES = {"XK_WOOD": "Gỗ và sản phẩm gỗ", "XK_CERAMIC": "Sản phẩm gốm, sứ", "XK_TEA": "Chè"}
MARKETS = {
    "domestic": ("domestic", "trong nước", "Nội địa"),
    "export": ("export", "xuất khẩu", "XK"),
}
DESTINATIONS = {"": ("",), "US": ("US", "Hoa Kỳ", "Mỹ"), "JP": ("JP", "Nhật Bản", "Japan")}
# Pre-2025 provinces that merged into one 2025 unit, and units that kept their name.
NAMES = ("Hà Giang", "Tuyên Quang", "Hà Nội", "Bắc Ninh", "Bắc Giang", "Huế", "Cao Bằng")


@st.composite
def spelling(draw, name: str) -> str:
    """``name`` as people write it: diacritics or not, a prefix, any case."""
    match = lookup_province(name)
    assert match is not None
    unit = match.unit
    ascii_name = next((p.ascii_name for p in provinces() if p.name == name), None) or name.replace(
        "à", "a"
    ).replace("ắ", "a").replace("ế", "e").replace("ộ", "o")
    forms = [name, name.upper(), f"Tỉnh {name}", ascii_name]
    if unit.name == name and unit.is_city:
        forms.append(f"TP. {name}")
    return draw(st.sampled_from(forms))


@st.composite
def long_tables(draw) -> tuple[pd.DataFrame, str]:
    """A long table of unique observations, and its frequency."""
    freq = draw(st.sampled_from(["M", "Q", "Y"]))
    span = pd.period_range("2019-01" if freq != "Y" else "2010", "2025-12", freq=freq)
    periods = draw(st.lists(st.sampled_from(list(span)), min_size=1, max_size=8, unique=True))
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(NAMES),
                st.sampled_from(sorted(CATEGORIES)),
                st.sampled_from(sorted(MARKETS)),
                st.sampled_from(sorted(DESTINATIONS)),
            ),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    rows = []
    for name, category, market, destination in keys:
        if market == "domestic":
            destination = ""
        unit = draw(st.sampled_from(UNITS))
        for period in periods:
            cents = draw(st.one_of(st.just(0), st.integers(0, 10**14)))
            rows.append(
                {
                    "period": period,
                    "province": draw(spelling(name)),
                    "name": name,
                    "category": draw(st.sampled_from([category, CATEGORIES[category]])),
                    "code": category,
                    "market": draw(st.sampled_from(MARKETS[market])),
                    "market_code": market,
                    "destination": draw(st.sampled_from(DESTINATIONS[destination])),
                    "iso2": destination,
                    "value": cents / 100,
                    "unit": unit,
                }
            )
    table = pd.DataFrame(rows).drop_duplicates(["period", "name", "code", "market_code", "iso2"])
    return table.reset_index(drop=True), freq


def _period_text(period: pd.Period, style: int) -> str:
    if period.freqstr.startswith("M"):
        return (f"{period.year}-{period.month:02d}", f"T{period.month}/{period.year}",
                f"{period.month:02d}/{period.year}")[style % 3]  # fmt: skip
    if period.freqstr.startswith("Q"):
        return (f"{period.year}-Q{period.quarter}", f"Q{period.quarter}/{period.year}")[style % 2]
    return (str(period.year), f"Năm {period.year}")[style % 2]


def _number(value: float, decimal: str, thousands: bool) -> str:
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    if decimal == ",":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


COLUMNS = ["period", "province", "category", "market", "destination", "value", "unit"]


def _write(table: pd.DataFrame, path: Path, fmt: dict) -> Path:
    cells = table.assign(period=[_period_text(p, fmt["period_style"]) for p in table["period"]])
    if fmt["kind"] == "parquet":
        path = path.with_suffix(".parquet")
        cells[COLUMNS].to_parquet(path, index=False)
    elif fmt["kind"] == "xlsx":
        path = path.with_suffix(".xlsx")
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Báo cáo doanh thu"])  # a title row above the header
        sheet.append(COLUMNS)
        for record in cells[COLUMNS].itertuples(index=False):
            sheet.append(list(record))
        book.save(path)
    else:
        path = path.with_suffix(".csv")
        cells["value"] = [_number(v, fmt["decimal"], fmt["thousands"]) for v in cells["value"]]
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=fmt["delimiter"], lineterminator=fmt["newline"])
        writer.writerow(COLUMNS)
        writer.writerows(cells[COLUMNS].itertuples(index=False))
        text = buf.getvalue()
        encoding = fmt["encoding"]
        path.write_bytes(cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


formats = st.one_of(
    st.fixed_dictionaries(
        {
            "kind": st.just("csv"),
            "encoding": st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]),
            "delimiter": st.sampled_from([",", ";", "\t"]),
            "decimal": st.sampled_from([".", ","]),
            "thousands": st.booleans(),
            "newline": st.sampled_from(["\n", "\r\n"]),
            "period_style": st.integers(0, 2),
        }
    ),
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["xlsx", "parquet"]), "period_style": st.integers(0, 2)}
    ),
)


def _expected(table: pd.DataFrame) -> dict[tuple, tuple[float, str]]:
    """Observations as the warehouse should hold them: 2025 units, summed."""
    out: dict[tuple, list] = {}
    for r in table.itertuples(index=False):
        code = lookup_province(r.name).unit.code  # type: ignore[union-attr]
        key = (_period_text(r.period, 0), code, r.code, r.market_code, r.iso2)
        value, unit = out.get(key, (0.0, r.unit))
        out[key] = (value + r.value, unit)
    return out


@FAST
@given(data=long_tables(), fmt=formats)
def test_ingest_round_trip(data, fmt):
    table, freq = data
    # One unit per series after merging provinces into their 2025 unit.
    table["unit"] = table.groupby(
        [table["name"].map(lambda n: lookup_province(n).unit.code), "code", "market_code", "iso2"]
    )["unit"].transform("first")
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(table, Path(tmp) / "sales", fmt)
        with Warehouse(Path(tmp) / "w.duckdb") as wh:
            result = ingest_file(wh, path, today=TODAY)
            stored = wh.observations()
    assert result.status == "stored" and result.freq == freq
    got = {
        (r.period, r.province_code, r.category, r.market, r.destination): (r.value, r.unit)
        for r in stored.itertuples(index=False)
    }
    expected = _expected(table)
    assert got.keys() == expected.keys()
    for key, (value, unit) in expected.items():
        assert got[key][1] == unit
        assert got[key][0] == pytest.approx(value, rel=1e-12, abs=1e-9)


# --- engine invariants -------------------------------------------------------------------

MODELS = ("naive", "snaive", "theta", "ens_mean")


@st.composite
def series(draw) -> list[float]:
    n = draw(st.integers(1, 60))
    kind = draw(st.sampled_from(["noise", "zero", "intermittent", "trend_down", "level"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t = np.arange(n)
    if kind == "zero":
        values = np.zeros(n)
    elif kind == "intermittent":
        values = np.where(rng.random(n) < 0.3, rng.integers(1, 9, n), 0).astype(float)
    elif kind == "trend_down":
        values = np.maximum(0, 100 - 4 * t + rng.normal(0, 3, n))
    elif kind == "level":
        values = np.full(n, draw(st.floats(0, 1e9, allow_nan=False)))
    else:
        values = rng.gamma(2, 50, n) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    if n > 4 and draw(st.booleans()):  # a gap inside the span
        values[draw(st.integers(1, n - 2))] = np.nan
    return values.tolist()


@st.composite
def panels(draw) -> pd.DataFrame:
    all_series = draw(st.lists(series(), min_size=1, max_size=4))
    rows = []
    for i, values in enumerate(all_series):
        if all(np.isnan(v) for v in values):
            values = [0.0]
        start = pd.Period("2018-01", "M") + draw(st.integers(0, 24))
        for k, v in enumerate(values):
            rows.append((f"s{i}", str(start + k), v))
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"])


def _check_forecasts(f: pd.DataFrame, horizon: int, n_series: int) -> None:
    numbers = f[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy()
    assert len(f) == horizon * n_series
    assert np.isfinite(numbers).all()
    assert (numbers >= 0).all()
    assert (f["lo_95"] <= f["lo_80"]).all() and (f["lo_80"] <= f["yhat"]).all()
    assert (f["yhat"] <= f["hi_80"]).all() and (f["hi_80"] <= f["hi_95"]).all()


# Found by this test: every backtest MASE is NaN (zeros in sample), which crashed selection.
ZEROS_THEN_SALE = pd.DataFrame(
    {
        "unique_id": "s0",
        "ds": [str(p) for p in pd.period_range("2018-01", periods=12, freq="M")],
        "y": [0.0] * 11 + [6.0],
    }
)


@FAST
@given(data=panels(), horizon=st.integers(1, 6))
@example(data=ZEROS_THEN_SALE, horizon=1)
def test_engine_forecasts_are_finite_non_negative_and_nested(data, horizon):
    panel = Panel.from_long(data, freq="MS")
    result = run_engine(panel, EngineConfig(horizon=horizon, models=MODELS, seed=1))
    _check_forecasts(result.forecasts, horizon, len(panel))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=panels())
def test_engine_is_identical_with_one_and_two_workers(data):
    panel = Panel.from_long(data, freq="MS")
    one = run_engine(panel, EngineConfig(horizon=3, models=MODELS, n_jobs=1, seed=5))
    two = run_engine(panel, EngineConfig(horizon=3, models=MODELS, n_jobs=2, seed=5))
    pd.testing.assert_frame_equal(one.forecasts, two.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(one.selection, two.selection, check_exact=True)


# --- reconciliation invariants -----------------------------------------------------------


@st.composite
def hierarchies(draw):
    """Observations of a few provinces, categories and markets, with gaps and zeros."""
    names = draw(st.lists(st.sampled_from(sorted(PROVINCES)), min_size=1, max_size=4, unique=True))
    categories = draw(
        st.lists(st.sampled_from(sorted(GROUPS)), min_size=1, max_size=3, unique=True)
    )
    markets = draw(
        st.lists(st.sampled_from(["domestic", "export"]), min_size=1, max_size=2, unique=True)
    )
    periods = pd.period_range("2023-01", periods=draw(st.integers(3, 24)), freq="M")
    rows = []
    for name in names:
        for category in categories:
            for market in markets:
                if not draw(st.booleans()):
                    continue
                for p in periods:
                    if draw(st.integers(0, 9)) == 0:
                        continue  # a missing month
                    rows.append(row(str(p), name, category, market, draw(st.integers(0, 500))))
    if not rows:
        rows.append(row(str(periods[0]), names[0], categories[0], markets[0], 1.0))
    return build_hierarchy(frame(rows))


def _coherent(h, forecasts: pd.DataFrame) -> float:
    ids = h.nodes["node_id"].to_numpy()
    wide = forecasts.pivot(index="node_id", columns="period", values="yhat").reindex(ids)
    values = wide.to_numpy()
    index = pd.Index(ids)
    worst = 0.0
    for st_ in filter(None, (h.structure, h.destinations)):
        block = values[index.get_indexer(st_.node_ids)]
        gap = np.abs(st_.S @ block[st_.n_aggregates :] - block)
        worst = max(worst, float((gap / np.maximum(np.abs(block), 1.0)).max()))
    return worst


@FAST
@given(h=hierarchies(), seed=st.integers(0, 2**32 - 1), method=st.sampled_from(COHERENT_METHODS))
def test_reconciled_forecasts_are_coherent_non_negative_and_nested(h, seed, method):
    rng = np.random.default_rng(seed)
    ids = h.nodes["node_id"].to_numpy()
    future = pd.period_range(h.last_period + 1, periods=3, freq=h.freq)
    yhat = rng.gamma(1.5, 100, (len(ids), 3)) * rng.choice([0, 1], (len(ids), 1), p=[0.1, 0.9])
    yhat -= rng.choice([0, 50], yhat.shape, p=[0.9, 0.1])  # some negative base forecasts
    width = rng.gamma(2, 20, yhat.shape)
    base = pd.DataFrame(
        {
            "node_id": np.repeat(ids, 3),
            "period": np.tile(future, len(ids)),
            "yhat": yhat.ravel(),
            "lo_80": (yhat - width).ravel(),
            "hi_80": (yhat + width).ravel(),
            "lo_95": (yhat - 2 * width).ravel(),
            "hi_95": (yhat + 2 * width).ravel(),
            "model": "synthetic",
        }
    )
    result = reconcile(h, base, method=method)
    f = result.forecasts
    assert len(f) == len(ids) * 3
    assert _coherent(h, f) < 1e-8
    _check_forecasts(f, 3, len(ids))
