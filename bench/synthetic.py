"""Synthetic benchmark: ``forecast predict-csv`` (default settings) beside statsforecast's
AutoETS and Theta on simulated panels unlike M3, scored as ``bench/m3.py`` scores M3.

The engine's defaults were chosen on M3 monthly and quarterly data; these panels check
that they carry over to other frequencies and shapes (all simulated, seeded):

- ``weekly``: 150 series, 3 years, yearly season (52), random-walk level, h = 13;
- ``intermittent``: 120 monthly count series, a third of them intermittent (half the
  months 0), the rest seasonal Poisson counts, h = 12;
- ``annual``: 200 series of 20-40 years, log random walks with drift, h = 6;
- ``shifts``: 200 quarterly seasonal series with one level shift and one outlier
  (x 2.5) each, anywhere in the span, test periods included, h = 8.

Usage::

    python bench/synthetic.py --jobs 2
    python bench/synthetic.py --kinds weekly,annual --series 30   # quicker

Results are printed as a markdown table and written to ``bench/results/``
(``synthetic_<timestamp>.csv`` / ``.md`` and ``synthetic_latest.*``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import m3  # the sibling script: contenders, scoring, table

KINDS = {
    "weekly": m3.Kind("weekly", 13, 52, "W-SUN"),
    "intermittent": m3.Kind("intermittent", 12, 12, "MS"),
    "annual": m3.Kind("annual", 6, 1, "YS"),
    "shifts": m3.Kind("shifts", 8, 4, "QS"),
}
SERIES = {"weekly": 150, "intermittent": 120, "annual": 200, "shifts": 200}
SEED = 20261203

Series = tuple[str, np.ndarray]  # (first date, values incl. the test periods)


def _weekly(rng: np.random.Generator, n_series: int) -> list[Series]:
    out = []
    for _ in range(n_series):
        n = 156 + 13
        t = np.arange(n)
        level = rng.uniform(50, 300)
        y = (
            level * (1 + 0.2 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 6)))
            + np.cumsum(rng.normal(0, 0.01 * level, n))
            + rng.normal(0, 0.05 * level, n)
        )
        out.append(("2021-01-03", np.maximum(y, 0).round(2)))
    return out


def _intermittent(rng: np.random.Generator, n_series: int) -> list[Series]:
    out = []
    for i in range(n_series):
        n, t = 72, np.arange(72)
        if i % 3 == 0:
            y = np.where(rng.random(n) < 0.5, 0, rng.poisson(5, n))
        else:
            level = rng.uniform(20, 200)
            y = rng.poisson(level * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6))))
        out.append(("2019-01-01", y.astype(float)))
    return out


def _annual(rng: np.random.Generator, n_series: int) -> list[Series]:
    out = []
    for _ in range(n_series):
        n = int(rng.integers(20, 41)) + 6
        growth = rng.uniform(-0.01, 0.05)
        y = 100 * np.exp(np.cumsum(rng.normal(growth, 0.05, n)))
        out.append((f"{2031 - n}-01-01", y.round(2)))
    return out


def _shifts(rng: np.random.Generator, n_series: int) -> list[Series]:
    out = []
    for _ in range(n_series):
        n, t = 56, np.arange(56)
        level = rng.uniform(100, 1000)
        y = level * (1 + 0.15 * np.sin(2 * np.pi * t / 4)) + rng.normal(0, 0.05 * level, n)
        y[int(rng.integers(8, n)) :] += rng.choice([-1, 1]) * 0.3 * level
        y[int(rng.integers(0, n))] *= 2.5
        out.append(("2012-01-01", np.maximum(y, 0).round(2)))
    return out


MAKERS: dict[str, Callable[[np.random.Generator, int], list[Series]]] = {
    "weekly": _weekly,
    "intermittent": _intermittent,
    "annual": _annual,
    "shifts": _shifts,
}


def make_panel(name: str, n_series: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test long tables (``unique_id, ds, y``) of one simulated panel; the
    test part is each series' last ``horizon`` periods."""
    kind = KINDS[name]
    rng = np.random.default_rng([seed, list(KINDS).index(name)])
    train, test = [], []
    for i, (start, y) in enumerate(MAKERS[name](rng, n_series)):
        ds = pd.date_range(start, periods=len(y), freq=kind.freq).strftime("%Y-%m-%d")
        frame = pd.DataFrame({"unique_id": f"{name[0]}{i:03d}", "ds": ds, "y": y})
        train.append(frame.iloc[: -kind.horizon])
        test.append(frame.iloc[-kind.horizon :])
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=2, help="worker processes for every contender")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    p.add_argument("--series", type=int, default=None, help="series per panel (default: all)")
    p.add_argument("--out", type=Path, default=m3.RESULTS, help="results folder")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    names = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(names) - set(KINDS)
    if unknown:
        print(f"Unknown panel(s) {sorted(unknown)}; choose from {', '.join(KINDS)}.")
        return 2
    started = dt.datetime.now().astimezone()
    header = f"{m3.machine()}; jobs={args.jobs}"
    print(f"Synthetic benchmark, {started:%Y-%m-%d %H:%M %Z}; {header}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="synthetic_") as tmp:
        data = Path(tmp)
        for name in names:
            train, test = make_panel(name, args.series or SERIES[name])
            train.to_csv(data / f"{name}_train.csv", index=False)
            test.to_csv(data / f"{name}_test.csv", index=False)
            rows += m3.bench_kind(data, KINDS[name], args.jobs, None, m3.CONTENDERS)
    title = f"Synthetic benchmark {started:%Y-%m-%d %H:%M %Z}; {header}"
    m3.report(rows, title, "synthetic", started, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
