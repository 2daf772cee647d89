"""M3 ablation: does a candidate model earn a place in the default ensemble?

The engine's default for regular series is the mean of its ensemble members (Theta,
DynamicOptimizedTheta, DampedETS, AutoCES, GlobalGBM, GlobalKNN, GlobalMLP). This script
scores each member, that mean, and the mean with each candidate added (``--candidates
a``) or put in place of a member (``a:theta``), on three forecast origins of every M3
series:

- ``v2``: origin ``n - 2h`` of the training data, scored on the next ``h`` values;
- ``v1``: origin ``n - h`` (the window the engine backtests on), scored on the last ``h``;
- ``test``: the end of the training data, scored on the test file.

A change is worth making only if it helps on *both* validation windows by more than the
noise of the estimate: ``v2_change_se`` and ``v1_change_se`` give the MASE change in
standard errors of the mean paired per-series difference, and ``beyond_1se_on_both`` says
whether both are below -1 (``helps_on_both`` is the weaker "any gain on both"). The test
column is printed for the record and must not be used to choose. Only series with at least
three seasons of data at the ``v2`` origin take part, so all three columns cover the same
series.

Models are built through the engine's registry (``SPECS[name].build``: the same classes
and hyperparameters the engine uses), plus two variants defined here: ``gbm80`` (the
global model trained on up to 80 origins per series instead of 40) and ``gbml2`` (the global
model as it was until 2026-12-04: squared-error loss, 300 iterations at a learning rate of
0.05).
``etsl`` (damped ETS on log values) was ``etsd_log`` here before it joined the registry;
its forecasts are the same.
The context they are built with differs from the engine's in two ways, kept as they are
so that published figures can be reproduced:

- the seed: every model gets ``ModelContext(seed=0)``, so GlobalGBM and GlobalMLP (the
  only members that take a seed, as ``random_state``) are fitted with ``random_state=0``.
  The engine gives each global model its own seed derived from the root seed
  (``engine._seed(config.seed, name)``; the root is the ``seed`` setting, 20250701 by
  default). Their forecasts, and the means that include them, therefore differ by the
  seed-to-seed variation from what the engine computes on the same data;
- ``positive`` (multiplicative rather than additive decomposition in the Theta family):
  one flag for the whole panel, true only when every series is positive, where the engine
  sets it per series. On M3, where every value is positive, the two agree.

Usage::

    python bench/m3_ablation.py --data ../shared/data/m3 --jobs 2
    python bench/m3_ablation.py --kinds quarterly --candidates arima,ets,otm --limit 200
    python bench/m3_ablation.py --candidates etsl:theta,otm:dotm

Prints one table per data set and writes ``bench/results/ablation_<kind>_latest.csv``.
Without the data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from m3 import KINDS, RESULTS, Kind, find_data, machine

from forecast.evaluation import metrics
from forecast.methods.base import FloatArray
from forecast.methods.global_gbm import GlobalGBM
from forecast.methods.registry import DEFAULT_MODELS, ENSEMBLE_MEMBERS, SPECS, ModelContext

WINDOWS = ("v2", "v1", "test")
#: Candidates offered on the command line: registry models plus the variants below.
EXTRA = ("gbm80", "gbml2")


def members() -> tuple[str, ...]:
    """The default ensemble's members, as the engine derives them."""
    return tuple(n for n in ENSEMBLE_MEMBERS if n in DEFAULT_MODELS)


def split(train: pd.DataFrame, test: pd.DataFrame, kind: Kind) -> dict[str, tuple]:
    """Training frames and targets of the three windows, on a common set of series."""
    h, m = kind.horizon, kind.season_length
    back = train.groupby("unique_id", sort=False).cumcount(ascending=False)
    size = train.groupby("unique_id", sort=False)["y"].transform("size")
    keep = set(train.loc[size - 2 * h >= 3 * m, "unique_id"])
    out = {}
    for name, cut in (("v2", 2), ("v1", 1)):
        fit = train[(back >= cut * h) & train["unique_id"].isin(keep)]
        tgt = train[(back < cut * h) & (back >= (cut - 1) * h) & train["unique_id"].isin(keep)]
        out[name] = (fit, tgt)
    out["test"] = (train[train["unique_id"].isin(keep)], test[test["unique_id"].isin(keep)])
    return out


def _local_batch(names: Sequence[str], ctx: ModelContext, ys: list[FloatArray]) -> list:
    out = []
    for y in ys:
        row = {}
        for name in names:
            row[name] = SPECS[name].build(ctx).fit(y).predict(ctx.horizon).mean
        out.append(row)
    return out


def forecasts(
    fit: pd.DataFrame, kind: Kind, names: Sequence[str], jobs: int
) -> dict[str, np.ndarray]:
    """Point forecasts (series x horizon) of every model in ``names``."""
    groups = list(fit.groupby("unique_id", sort=False))
    ys = [g["y"].to_numpy(dtype=float) for _, g in groups]
    # Seed 0 and one panel-wide ``positive``, not the engine's per-model seeds and
    # per-series flag (see the module docstring): the published figures were made so.
    positive = all(bool((y > 0).all()) for y in ys)
    ctx = ModelContext(season_length=kind.season_length, horizon=kind.horizon, positive=positive)
    is_global = {n: n in EXTRA or (n in SPECS and SPECS[n].is_global) for n in names}
    local = [n for n in names if not is_global[n]]
    out: dict[str, np.ndarray] = {}
    if local:
        t0 = time.perf_counter()
        chunks = np.array_split(np.arange(len(ys)), max(1, 4 * jobs))
        rows = [
            r
            for part in Parallel(n_jobs=jobs)(
                delayed(_local_batch)(local, ctx, [ys[i] for i in idx]) for idx in chunks
            )
            for r in part
        ]
        for n in local:
            out[n] = np.vstack([r[n] for r in rows])
        print(f"  local models {', '.join(local)}: {time.perf_counter() - t0:.1f} s", flush=True)
    freq = "M" if kind.season_length == 12 else "Q"
    periods = [pd.period_range(g["ds"].iloc[0], periods=len(g), freq=freq) for _, g in groups]
    for n in (n for n in names if is_global[n]):
        t0 = time.perf_counter()
        model = (
            GlobalGBM(season_length=kind.season_length, max_horizon=kind.horizon, max_origins=80)
            if n == "gbm80"
            else GlobalGBM(
                season_length=kind.season_length,
                max_horizon=kind.horizon,
                loss="squared_error",
                max_iter=300,
                learning_rate=0.05,
            )
            if n == "gbml2"
            else SPECS[n].build(ctx)
        )
        preds = model.fit(ys, periods=periods).predict(kind.horizon)
        out[n] = np.vstack([p.mean for p in preds])
        print(f"  {n}: {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def _truth(fit: pd.DataFrame, target: pd.DataFrame, kind: Kind) -> tuple[np.ndarray, np.ndarray]:
    """Targets (series x horizon) in the order of ``fit`` and each series' MASE scale."""
    ids = fit["unique_id"].drop_duplicates().tolist()
    y = target.set_index("unique_id").loc[ids, "y"].to_numpy(float).reshape(len(ids), -1)
    scale = np.array(
        [
            metrics.seasonal_scale(g["y"].to_numpy(), kind.season_length)
            for _, g in fit.groupby("unique_id", sort=False)
        ]
    )
    return y, scale


def swap(candidate: str) -> tuple[str, str | None]:
    """``"a"`` (add model a) -> ("a", None); ``"a:b"`` (a in place of member b) -> ("a", "b")."""
    new, _, old = candidate.partition(":")
    return new, (old or None)


def mean_label(candidate: str) -> str:
    """Row name of the mean with ``candidate``: ``mean(default + a)`` or
    ``mean(default, a for b)``."""
    new, old = swap(candidate)
    return f"mean(default + {new})" if old is None else f"mean(default, {new} for {old})"


def _means(fc: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The default mean and the mean with each candidate added (or swapped in)."""
    base = members()
    out = {"mean(default)": np.mean([fc[n] for n in base], axis=0)}
    for cand in names:
        new, old = swap(cand)
        used = (*(n for n in base if n != old), new)
        out[mean_label(cand)] = np.mean([fc[n] for n in used], axis=0)
    return out


def scores(
    fc: dict[str, np.ndarray],
    fit: pd.DataFrame,
    target: pd.DataFrame,
    kind: Kind,
    names: Sequence[str],
) -> dict[str, tuple[float, float]]:
    """(sMAPE, MASE) of each model and of the ensembles built from them."""
    y, scale = _truth(fit, target, kind)

    def sm(f: np.ndarray) -> tuple[float, float]:
        return float(np.mean(metrics.smape(y, f))), float(np.mean(metrics.mase(y, f, scale)))

    return {n: sm(f) for n, f in {**fc, **_means(fc, names)}.items()}


def paired_changes(
    fc: dict[str, np.ndarray],
    fit: pd.DataFrame,
    target: pd.DataFrame,
    kind: Kind,
    names: Sequence[str],
) -> dict[str, float]:
    """Per candidate: the MASE change of adding it, in standard errors of the mean paired
    per-series difference (negative: better). Below -1 the gain is larger than the noise
    of its estimate, the bar the engine's pooled selection also sets for leaving the mean.
    """
    y, scale = _truth(fit, target, kind)
    means = _means(fc, names)
    ref = metrics.mase(y, means.pop("mean(default)"), scale)
    out = {}
    for name, f in means.items():
        d = metrics.mase(y, f, scale) - ref
        d = d[np.isfinite(d)]
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) >= 2 else np.nan
        out[name] = float(d.mean() / se) if se > 0 else float("nan")
    return out


def ablation(
    data: Path, kind: Kind, candidates: Sequence[str], jobs: int, limit: int | None
) -> pd.DataFrame:
    """Scores of members, the default mean and the mean plus each candidate, per window."""
    train = pd.read_csv(data / f"{kind.name}_train.csv", dtype={"unique_id": str})
    test = pd.read_csv(data / f"{kind.name}_test.csv", dtype={"unique_id": str})
    if limit:
        keep = train["unique_id"].drop_duplicates().head(limit)
        train, test = train[train["unique_id"].isin(keep)], test[test["unique_id"].isin(keep)]
    names = tuple(dict.fromkeys((*members(), *(swap(c)[0] for c in candidates))))
    cols: dict[str, dict[str, tuple[float, float]]] = {}
    in_se: dict[str, dict[str, float]] = {}
    for window, (fit, target) in split(train, test, kind).items():
        print(f"{kind.name} {window}: {fit['unique_id'].nunique()} series", flush=True)
        fc = forecasts(fit, kind, names, jobs)
        cols[window] = scores(fc, fit, target, kind, candidates)
        in_se[window] = paired_changes(fc, fit, target, kind, candidates)
    rows = []
    base = cols["v1"]["mean(default)"][1], cols["v2"]["mean(default)"][1]
    for model in cols["v1"]:
        row: dict[str, Any] = {"data": kind.name, "model": model}
        for w in WINDOWS:
            row[f"{w}_smape"], row[f"{w}_mase"] = cols[w][model]
        if model.startswith(("mean(default + ", "mean(default, ")):
            row["v2_mase_change_%"] = 100 * (row["v2_mase"] / base[1] - 1)
            row["v1_mase_change_%"] = 100 * (row["v1_mase"] / base[0] - 1)
            row["helps_on_both"] = (
                "yes" if row["v1_mase"] < base[0] and row["v2_mase"] < base[1] else "no"
            )
            row["v2_change_se"] = in_se["v2"][model]
            row["v1_change_se"] = in_se["v1"][model]
            beyond = row["v2_change_se"] < -1 and row["v1_change_se"] < -1
            row["beyond_1se_on_both"] = "yes" if beyond else "no"
        rows.append(row)
    return pd.DataFrame(rows)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None, help="folder with the M3 CSVs")
    p.add_argument("--jobs", type=int, default=2, help="worker processes for local models")
    p.add_argument("--kinds", default="monthly,quarterly", help="monthly, quarterly")
    p.add_argument(
        "--candidates",
        default="etsl,gbm80,ets,otm,snaive,etsl:theta",
        help="models to try as one more member (registry names or "
        + ", ".join(EXTRA)
        + "), or NEW:MEMBER to try NEW in place of a default member",
    )
    p.add_argument("--limit", type=int, default=None, help="first N series only (smoke runs)")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    candidates = [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = [
        c
        for c in candidates
        if (new := swap(c)[0]) not in (*SPECS, *EXTRA)
        or new in members()
        or swap(c)[1] not in (None, *members())
    ]
    if unknown:
        print(
            f"Unknown or already-default candidate(s) {unknown}; choose from "
            f"{', '.join([*[s for s in SPECS if s not in members()], *EXTRA])}."
        )
        return 2
    kinds = [KINDS[k.strip()] for k in args.kinds.split(",") if k.strip()]
    data = find_data(args.data, kinds, "the ablation")
    if data is None:
        return 0
    print(f"M3 ablation; {machine()}; jobs={args.jobs}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        table = ablation(data, kind, candidates, args.jobs, args.limit)
        pd.set_option("display.width", 200)
        print(table.round(4).fillna("").to_string(index=False), flush=True)
        table.to_csv(args.out / f"ablation_{kind.name}_latest.csv", index=False)
    print(f"\nResults written to {args.out}/ablation_<kind>_latest.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
