"""Hold-out evaluation of the whole pipeline on the demo data: base vs reconciled MASE.

The last 12 months of ``datasets/demo_sales.csv`` (2025) are removed, the pipeline runs on
what is left (default settings), and its base and reconciled forecasts of every node are
scored against the actual 2025 values of the full data, per level of the hierarchy. MASE
is scaled by each node's in-sample seasonal-naive error up to the forecast origin. Every
reconciliation method is also applied to the same base forecasts and scored, so the table
shows how good the method ``auto`` chose was against the others.

Usage::

    python bench/holdout.py --jobs 2 [--data datasets/demo_sales.csv] [--months 12]
        [--origin 2023-12] [--windows 2]

``--origin`` is the last training month (default: ``--months`` before the data end); only
the ``--months`` months after it are scored, so earlier cuts of the same data can be
checked. ``--windows`` sets the backtest windows. Prints markdown tables and writes them to
``bench/results/holdout_latest.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from m3 import load_average  # a sibling script: python bench/holdout.py puts bench/ first

from forecast.config import load_settings
from forecast.data.ingest import ingest_file
from forecast.data.warehouse import Warehouse
from forecast.errors import InvalidParameterError
from forecast.evaluation.metrics import seasonal_scale
from forecast.hierarchy import build_hierarchy
from forecast.pipeline import SYNTHETIC_LABEL, run_pipeline
from forecast.reconcile import COHERENT_METHODS, METHODS, reconcile
from forecast.reconcile_choice import auto_pick

ROOT = Path(__file__).resolve().parents[1]


def training_cut(periods: list[str], months: int, origin: str | None) -> str:
    """Last training period: ``origin``, or ``months`` periods before the last one.

    Raises
    ------
    InvalidParameterError
        ``origin`` is not a period of the data, or leaves fewer than ``months`` after it.
    """
    periods = sorted(periods)
    if origin is None:
        if len(periods) <= months:
            raise InvalidParameterError(
                f"The data hold {len(periods)} periods; holding out {months} leaves none."
            )
        return periods[-months - 1]
    if origin not in periods:
        raise InvalidParameterError(
            f"--origin {origin!r} is not a period of the data ({periods[0]} to {periods[-1]})."
        )
    after = len(periods) - 1 - periods.index(origin)
    if after < months:
        raise InvalidParameterError(
            f"--origin {origin} leaves {after} period(s) after it; {months} are scored."
        )
    return origin


def _actuals(full_csv: Path, tmp: Path) -> pd.DataFrame:
    with Warehouse(tmp / "full.duckdb") as wh:
        ingest_file(wh, full_csv, source=SYNTHETIC_LABEL)
        obs = wh.observations()
    return build_hierarchy(obs).history


def _scales(history: pd.DataFrame, origin: pd.Period) -> dict[str, float]:
    """In-sample seasonal-naive MAE of each node up to ``origin`` (the MASE scale)."""
    hist = history.sort_values(["node_id", "period"])
    return {
        node: seasonal_scale(g.loc[g["period"] <= origin, "value"].fillna(0).to_numpy(), 12)
        for node, g in hist.groupby("node_id", sort=False)
    }


def _score(
    frame: pd.DataFrame, history: pd.DataFrame, scales: dict[str, float], col: str
) -> pd.Series:
    """MASE per node of forecast column ``col`` against the actuals in ``history``."""
    merged = frame.merge(history, on=["node_id", "period"], how="inner")
    ae = (merged["value"].fillna(0) - merged[col]).abs()
    mae = ae.groupby(merged["node_id"]).mean()
    scale = mae.index.map(scales).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(scale > 0, mae.to_numpy() / scale, np.nan), index=mae.index)


def lowest_pooled(pooled: pd.Series) -> str:
    """The coherent method with the lowest pooled backtest mean MASE (ties by preference):
    ``auto``'s rule without a default."""
    empty = pd.DataFrame()
    return auto_pick(empty, empty, pooled, COHERENT_METHODS, None)


def _markdown(df: pd.DataFrame) -> str:
    cols = [df.index.name or "level", *map(str, df.columns)]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, r in df.iterrows():
        rows.append("| " + " | ".join([str(idx), *(f"{v:g}" for v in r.to_numpy())]) + " |")
    return "\n".join(rows)


def level_table(scores: dict[str, pd.Series], levels: pd.Series) -> pd.DataFrame:
    """Mean MASE per level for each column of ``scores`` (nodes scored by all), and the mean
    over levels; ``change_%`` compares ``reconciled`` with ``base``."""
    table = pd.DataFrame({"level": levels, **scores}).dropna()
    names = list(scores)
    per_level = table.groupby("level")[names].mean()
    per_level.insert(0, "n", table.groupby("level").size())
    overall = per_level[names].mean().to_frame("mean over levels").T
    overall.insert(0, "n", int(per_level["n"].sum()))
    out = pd.concat([per_level, overall])
    out.insert(3, "change_%", 100 * (out["reconciled"] / out["base"] - 1))
    return out


def main() -> None:
    """Run the pipeline on the data before the hold-out months, score every node's base and
    reconciled forecasts (and every other reconciliation method) against the held-out
    actuals, print the per-level tables and write ``bench/results/holdout_latest.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "datasets" / "demo_sales.csv")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--origin", default=None, help="last training period, e.g. 2023-12")
    parser.add_argument("--windows", type=int, default=None, help="backtest windows")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--selection",
        choices=["pooled", "per_series", "auto"],
        default=None,
        help="model selection (default: the pipeline's setting)",
    )
    args = parser.parse_args()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        data = pd.read_csv(args.data, dtype=str, keep_default_na=False)
        try:
            cut = training_cut(list(data["period"].unique()), args.months, args.origin)
        except InvalidParameterError as exc:
            parser.error(str(exc))
        train = tmp / "train.csv"
        data[data["period"] <= cut].to_csv(train, index=False)
        settings = load_settings(
            env={},
            warehouse=tmp / "train.duckdb",
            models_dir=tmp / "m",
            reports_dir=tmp / "r",
            jobs=args.jobs,
            horizon=args.months,
            backtest_windows=args.windows,
            selection=args.selection,
        )
        with Warehouse(settings.warehouse) as wh:
            ingest_file(wh, train, source=SYNTHETIC_LABEL)
            hierarchy = build_hierarchy(wh.observations())
        start = time.perf_counter()
        result, durations = run_pipeline(settings)
        elapsed = time.perf_counter() - start
        history = _actuals(args.data, tmp)
    origin = result.last_period
    levels = result.nodes.set_index("node_id")["level"]
    backtest = result.extra.get("backtest_errors", result.extra["backtest"])
    scales = _scales(history, origin)
    scores = {
        "base": _score(result.base_forecasts, history, scales, "yhat"),
        "reconciled": _score(result.forecasts, history, scales, "yhat"),
    }
    for method in METHODS[1:]:  # the same base forecasts, every coherent method
        rec = reconcile(
            hierarchy,
            result.base_forecasts,
            method=method,
            backtest=backtest,
            zeros=result.extra.get("closed"),  # as the run's own reconciliation
        )
        scores[method] = _score(rec.forecasts, history, scales, "yhat")
    out = level_table(scores, levels).round(3)
    choice = result.extra["reconcile_choice"]
    lowest, windows = "-", ""
    if not choice.empty:
        # What the rule before the default-keeping one (lowest pooled backtest mean) would
        # have chosen, from the same scores.
        pooled = choice[(choice["window"] == "all") & (choice["level"] == "all")]
        lowest = lowest_pooled(pooled.set_index("method")["mase"])
        rows = choice[choice["level"] == "all"]
        by_window = rows.pivot(index="window", columns="method", values="mase")
        margins = rows[rows["window"] != "all"].pivot(
            index="window", columns="method", values="margin"
        )
        windows = (
            "\n\nBacktest mean MASE over levels (auto's evidence):\n\n"
            + _markdown(by_window.round(3))
            + "\n\nMargins (one standard error a method lower than the default in every "
            "window had to clear; NaN: not needed):\n\n" + _markdown(margins.round(4))
        )
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in durations.items())
    load = load_average()
    lines = [
        f"Hold-out: last {args.months} months after {origin} of {args.data.name}; "
        f"{settings.backtest_windows} backtest window(s), {settings.selection} selection; "
        f"reconciliation {result.reconcile_method}",
        f"Lowest backtest mean over levels (the rule before): {lowest}; held-out mean over "
        "levels per method in the last columns",
        f"Started {started:%Y-%m-%d %H:%M} UTC; pipeline wall time {elapsed:.0f} s ({stages}); "
        f"load average at the end {load}",
        "",
        _markdown(out) + windows,
    ]
    text = "\n".join(lines)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "holdout_latest.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
