"""Hold-out evaluation of the whole pipeline on the demo data: base vs reconciled MASE.

The last 12 months of ``datasets/demo_sales.csv`` (2025) are removed, the pipeline runs on
what is left (default settings), and its base and reconciled forecasts of every node are
scored against the actual 2025 values of the full data, per level of the hierarchy. MASE
is scaled by each node's in-sample seasonal-naive error up to the forecast origin.

Usage::

    python bench/holdout.py --jobs 2 [--data datasets/demo_sales.csv] [--months 12]

Prints a markdown table and writes it to ``bench/results/holdout_latest.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.config import load_settings
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.evaluation.metrics import seasonal_scale
from forecast.hierarchy import build_hierarchy
from forecast.pipeline import SYNTHETIC_LABEL, run_pipeline

ROOT = Path(__file__).resolve().parents[1]


def _actuals(full_csv: Path, tmp: Path) -> pd.DataFrame:
    with Warehouse(tmp / "full.duckdb") as wh:
        ingest_file(wh, full_csv, source=SYNTHETIC_LABEL)
        obs = wh.observations()
    return build_hierarchy(obs).history


def _score(frame: pd.DataFrame, history: pd.DataFrame, origin: pd.Period, col: str) -> pd.Series:
    """MASE per node of forecast column ``col`` against actuals after ``origin``."""
    hist = history.sort_values(["node_id", "period"])
    scales = {
        node: seasonal_scale(g.loc[g["period"] <= origin, "value"].fillna(0).to_numpy(), 12)
        for node, g in hist.groupby("node_id", sort=False)
    }
    merged = frame.merge(history, on=["node_id", "period"], how="inner")
    ae = (merged["value"].fillna(0) - merged[col]).abs()
    mae = ae.groupby(merged["node_id"]).mean()
    scale = mae.index.map(scales).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(scale > 0, mae.to_numpy() / scale, np.nan), index=mae.index)


def _markdown(df: pd.DataFrame) -> str:
    cols = [df.index.name or "level", *map(str, df.columns)]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, r in df.iterrows():
        rows.append("| " + " | ".join([str(idx), *(f"{v:g}" for v in r.to_numpy())]) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "datasets" / "demo_sales.csv")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        data = pd.read_csv(args.data, dtype=str, keep_default_na=False)
        periods = sorted(data["period"].unique())
        cut = periods[-args.months - 1]
        train = tmp / "train.csv"
        data[data["period"] <= cut].to_csv(train, index=False)
        settings = load_settings(
            env={},
            warehouse=tmp / "train.duckdb",
            models_dir=tmp / "m",
            reports_dir=tmp / "r",
            jobs=args.jobs,
            horizon=args.months,
        )
        with Warehouse(settings.warehouse) as wh:
            ingest_file(wh, train, source=SYNTHETIC_LABEL)
        start = time.perf_counter()
        result, durations = run_pipeline(settings)
        elapsed = time.perf_counter() - start
        history = _actuals(args.data, tmp)
    origin = result.last_period
    levels = result.nodes.set_index("node_id")["level"]
    base = _score(result.base_forecasts, history, origin, "yhat")
    rec = _score(result.forecasts, history, origin, "yhat")
    table = pd.DataFrame({"level": levels, "base": base, "reconciled": rec}).dropna()
    per_level = table.groupby("level").agg(
        n=("base", "size"), base=("base", "mean"), reconciled=("reconciled", "mean")
    )
    per_level["change_%"] = 100 * (per_level["reconciled"] / per_level["base"] - 1)
    overall = pd.DataFrame(
        {
            "n": [int(per_level["n"].sum())],
            "base": [per_level["base"].mean()],
            "reconciled": [per_level["reconciled"].mean()],
        },
        index=["mean over levels"],
    )
    overall["change_%"] = 100 * (overall["reconciled"] / overall["base"] - 1)
    out = pd.concat([per_level, overall]).round(3)
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in durations.items())
    lines = [
        f"Hold-out: last {args.months} months of {args.data.name} (origin {origin}); "
        f"reconciliation {result.reconcile_method}",
        f"Pipeline wall time {elapsed:.0f} s ({stages})",
        "",
        _markdown(out),
    ]
    text = "\n".join(lines)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "holdout_latest.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
