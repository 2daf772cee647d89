"""M3 benchmark: ``forecast predict-csv`` (default settings) beside statsforecast's Theta
and AutoETS, on the same data, in the same run.

For each data set (M3 monthly: h=18, m=12; quarterly: h=8, m=4) every contender runs in
its own child process, so its wall time and peak memory are its own: the parent samples
the resident memory of the child and all its workers (``psutil``; without it, the peak is
the child's own ``getrusage`` maximum plus the largest maximum among its workers, a lower
bound, since ``getrusage`` gives no sum over workers). AutoETS runs just before
``predict-csv`` so the time ratio compares runs made under the same machine load.

Scores, against ``<kind>_test.csv``:

- sMAPE, M3 definition ``200 |y - f| / (|y| + |f|)``, mean over horizons, then series;
- MASE, scaled by the in-sample seasonal-naive error of the training series;
- coverage of the 80% and 95% intervals and MSIS (M4 scaled interval score) at both.

Usage::

    python bench/m3.py --data ../shared/data/m3 --jobs 2
    FORECAST_BENCH_DATA=../shared/data/m3 python bench/m3.py --kinds monthly --limit 50

The data folder must hold ``monthly_train.csv``, ``monthly_test.csv``,
``quarterly_train.csv`` and ``quarterly_test.csv`` in the long layout ``unique_id,ds,y``.
When it is missing the script says so and exits 0. Results are printed as a markdown table
and written to ``bench/results/`` (``m3_<timestamp>.csv`` / ``.md`` and ``m3_latest.*``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "m3"
RESULTS = REPO / "bench" / "results"
LEVELS = (80, 95)
#: predict-csv runs with its defaults; the statsforecast anchors are single models.
CONTENDERS = ("AutoETS", "predict-csv", "Theta")
ANCHOR = "AutoETS"


@dataclass(frozen=True)
class Kind:
    """One M3 subset: horizon, season length and pandas frequency."""

    name: str
    horizon: int
    season_length: int
    freq: str


KINDS = {
    "monthly": Kind("monthly", 18, 12, "MS"),
    "quarterly": Kind("quarterly", 8, 4, "QS"),
}


# --------------------------------------------------------------------------- child side
def _child(args: argparse.Namespace) -> None:
    """Run one contender on ``args.train`` and write forecasts and timings."""
    kind = Kind(args.kind, args.horizon, args.season_length, args.freq)
    out = Path(args.output)
    if args.child == "predict-csv":
        # Imported before the clock starts, as statsforecast is for the other contenders;
        # the CLI imports the engine (statsforecast, scikit-learn) lazily, so it too.
        import forecast.engine  # noqa: F401
        from forecast.cli import app

        argv = [
            "predict-csv",
            args.train,
            "--horizon",
            str(kind.horizon),
            "--season-length",
            str(kind.season_length),
            "--jobs",
            str(args.jobs),
            "--output",
            str(out),
        ]
        t0 = time.perf_counter()
        app(argv, standalone_mode=False)
        wall = time.perf_counter() - t0
    else:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, Theta

        model = {"AutoETS": AutoETS, "Theta": Theta}[args.child]
        t0 = time.perf_counter()
        train = pd.read_csv(args.train, dtype={"unique_id": str}, parse_dates=["ds"])
        sf = StatsForecast(
            models=[model(season_length=kind.season_length)], freq=kind.freq, n_jobs=args.jobs
        )
        fc = sf.forecast(df=train, h=kind.horizon, level=list(LEVELS))
        wall = time.perf_counter() - t0
        name = args.child
        fc = fc.rename(columns={name: "yhat"})
        for lv in LEVELS:
            fc = fc.rename(columns={f"{name}-lo-{lv}": f"lo_{lv}", f"{name}-hi-{lv}": f"hi_{lv}"})
        fc.reset_index().to_csv(out, index=False)
    usage = {
        "wall_s": wall,
        "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    Path(args.meta).write_text(json.dumps(usage), encoding="utf-8")


# --------------------------------------------------------------------------- parent side
def _tree_rss_mb(proc: object) -> float:
    """Resident memory of a process and all its descendants, in MB (psutil)."""
    import psutil

    assert isinstance(proc, psutil.Process)
    total = 0
    with contextlib.suppress(psutil.Error):
        procs = [proc, *proc.children(recursive=True)]
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    return total / 2**20


def run_contender(
    contender: str, kind: Kind, train: Path, jobs: int, workdir: Path
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run one contender in a child process; return its forecasts and usage."""
    out, meta = workdir / f"{contender}.csv", workdir / f"{contender}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        contender,
        "--kind",
        kind.name,
        "--horizon",
        str(kind.horizon),
        "--season-length",
        str(kind.season_length),
        "--freq",
        kind.freq,
        "--train",
        str(train),
        "--jobs",
        str(jobs),
        "--output",
        str(out),
        "--meta",
        str(meta),
    ]
    # Default settings: no forecast.toml (clean working directory), no FORECAST_* variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECAST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    peak = 0.0
    t0 = time.perf_counter()
    log = workdir / f"{contender}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            import psutil

            handle = psutil.Process(proc.pid)
            while proc.poll() is None:
                peak = max(peak, _tree_rss_mb(handle))
                time.sleep(0.1)
        except ImportError:
            pass
        proc.wait()
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{contender} on {kind.name} failed:\n{tail}")
    usage = json.loads(meta.read_text(encoding="utf-8"))
    if peak == 0.0:  # no psutil: largest process plus largest worker (a lower bound)
        peak = usage["maxrss_self_mb"] + usage["maxrss_children_mb"]
    usage["peak_mb"] = peak
    usage["process_s"] = elapsed
    fc = pd.read_csv(out, dtype={"unique_id": str})
    return fc, usage


def score(
    fc: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, kind: Kind
) -> dict[str, float]:
    """sMAPE, MASE, coverage and MSIS of forecasts ``fc`` against ``test``."""
    from forecast.evaluation import metrics

    h, m = kind.horizon, kind.season_length
    ids = test["unique_id"].drop_duplicates().tolist()
    fc = fc.assign(step=fc.groupby("unique_id").cumcount())
    fc = fc[fc["step"] < h].set_index(["unique_id", "step"]).sort_index()
    tst = test.assign(step=test.groupby("unique_id").cumcount()).set_index(["unique_id", "step"])
    missing = set(ids) - set(fc.index.get_level_values(0))
    if missing:
        raise RuntimeError(f"{len(missing)} series have no forecast (e.g. {sorted(missing)[:3]})")
    y = tst.loc[ids, "y"].to_numpy().reshape(len(ids), h)
    scale = (
        train.groupby("unique_id", sort=False)["y"]
        .apply(lambda s: metrics.seasonal_scale(s.to_numpy(), m))
        .loc[ids]
        .to_numpy()
    )

    def cols(name: str) -> np.ndarray:
        return fc.loc[ids, name].to_numpy(dtype=float).reshape(len(ids), h)

    yhat = cols("yhat")
    out = {
        "smape": float(np.mean(metrics.smape(y, yhat))),
        "mase": float(np.mean(metrics.mase(y, yhat, scale))),
    }
    for lv in LEVELS:
        lo, hi = cols(f"lo_{lv}"), cols(f"hi_{lv}")
        out[f"coverage_{lv}"] = float(np.mean(metrics.coverage(y, lo, hi)))
        out[f"msis_{lv}"] = float(np.mean(metrics.msis(y, lo, hi, lv, scale)))
    return out


def _load(data: Path, kind: Kind, limit: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = pd.read_csv(data / f"{kind.name}_train.csv", dtype={"unique_id": str})
    test = pd.read_csv(data / f"{kind.name}_test.csv", dtype={"unique_id": str})
    if limit:
        keep = train["unique_id"].drop_duplicates().head(limit)
        train = train[train["unique_id"].isin(keep)]
        test = test[test["unique_id"].isin(keep)]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def bench_kind(
    data: Path,
    kind: Kind,
    jobs: int,
    limit: int | None,
    contenders: tuple[str, ...],
    keep: Path | None = None,
) -> list[dict[str, object]]:
    """Run and score every contender on one M3 subset; with ``keep``, each contender's
    forecasts are also written there as ``<kind>_<contender>.csv``."""
    train, test = _load(data, kind, limit)
    n_series = train["unique_id"].nunique()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix=f"m3_{kind.name}_") as tmp:
        workdir = Path(tmp)
        train_path = workdir / "train.csv"
        train.to_csv(train_path, index=False)
        for contender in contenders:
            print(f"  {kind.name}: {contender} ...", flush=True)
            fc, usage = run_contender(contender, kind, train_path, jobs, workdir)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                fc.to_csv(keep / f"{kind.name}_{contender}.csv", index=False)
            row: dict[str, object] = {
                "data": kind.name,
                "method": contender,
                "series": n_series,
                **score(fc, train, test, kind),
                "wall_s": usage["wall_s"],
                "peak_mb": usage["peak_mb"],
            }
            if contender == "predict-csv" and "model" in fc:
                top = fc.drop_duplicates("unique_id")["model"].value_counts()
                row["note"] = f"{top.index[0]} ({top.iloc[0]}/{n_series})"
            rows.append(row)
    anchor = next((r["wall_s"] for r in rows if r["method"] == ANCHOR), None)
    for r in rows:
        r["time_vs_autoets"] = float(r["wall_s"]) / float(anchor) if anchor else float("nan")
    return rows


def markdown(table: pd.DataFrame) -> str:
    """The results as a markdown table."""
    heads = [
        "data",
        "method",
        "series",
        "sMAPE",
        "MASE",
        "cov80",
        "cov95",
        "MSIS95",
        "wall s",
        "x AutoETS",
        "peak MB",
    ]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
    for _, r in table.iterrows():
        cells = [
            r["data"],
            r["method"],
            f"{r['series']}",
            f"{r['smape']:.3f}",
            f"{r['mase']:.4f}",
            f"{r['coverage_80']:.3f}",
            f"{r['coverage_95']:.3f}",
            f"{r['msis_95']:.3f}",
            f"{r['wall_s']:.1f}",
            f"{r['time_vs_autoets']:.2f}",
            f"{r['peak_mb']:.0f}",
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages as ``"1.0, 0.8, 0.5"``, or ``"n/a"``.

    Returns
    -------
    str
        ``"n/a"`` where the system cannot tell (``os.getloadavg`` raises OSError), so a
        benchmark never fails for want of a figure that only annotates its results.
    """
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine() -> str:
    """One line describing where the benchmark ran."""
    return (
        f"{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average at start {load_average()}"
    )


def find_data(arg: Path | None, kinds: list[Kind], what: str) -> Path | None:
    """The M3 folder (``--data``, else ``FORECAST_BENCH_DATA``, else the shared default);
    None, after saying why, when it lacks a train or test file of ``kinds``."""
    env_data = os.environ.get("FORECAST_BENCH_DATA")
    data = arg or (Path(env_data) if env_data else DEFAULT_DATA)
    need = [data / f"{k.name}_{part}.csv" for k in kinds for part in ("train", "test")]
    if all(p.is_file() for p in need):
        return data
    print(
        f"M3 data not found in {data} (need {', '.join(p.name for p in need)}); "
        f"skipping {what}. Pass --data or set FORECAST_BENCH_DATA."
    )
    return None


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None, help="folder with the M3 CSVs")
    p.add_argument("--jobs", type=int, default=2, help="worker processes for every contender")
    p.add_argument(
        "--kinds", default="monthly,quarterly", help="comma-separated: monthly, quarterly"
    )
    p.add_argument("--limit", type=int, default=None, help="first N series only (smoke runs)")
    p.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="subset of " + ", ".join(CONTENDERS)
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    # Internal: child-process mode.
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--kind", help=argparse.SUPPRESS)
    p.add_argument("--horizon", type=int, help=argparse.SUPPRESS)
    p.add_argument("--season-length", type=int, help=argparse.SUPPRESS)
    p.add_argument("--freq", help=argparse.SUPPRESS)
    p.add_argument("--train", help=argparse.SUPPRESS)
    p.add_argument("--output", help=argparse.SUPPRESS)
    p.add_argument("--meta", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    if args.child:
        _child(args)
        return 0
    kinds = [KINDS[k.strip()] for k in args.kinds.split(",") if k.strip()]
    data = find_data(args.data, kinds, "the M3 benchmark")
    if data is None:
        return 0
    contenders = tuple(c.strip() for c in args.contenders.split(",") if c.strip())
    unknown = set(contenders) - set(CONTENDERS)
    if unknown:
        print(f"Unknown contender(s) {sorted(unknown)}; choose from {', '.join(CONTENDERS)}.")
        return 2
    header = f"{machine()}; jobs={args.jobs}"
    started = dt.datetime.now().astimezone()
    print(f"M3 benchmark, {started:%Y-%m-%d %H:%M %Z}; {header}", flush=True)
    rows = [r for k in kinds for r in bench_kind(data, k, args.jobs, args.limit, contenders)]
    report(rows, f"M3 benchmark {started:%Y-%m-%d %H:%M %Z}; {header}", "m3", started, args.out)
    return 0


def report(
    rows: list[dict[str, object]], title: str, stem: str, started: dt.datetime, out: Path
) -> None:
    """Print the results table and what predict-csv chose, and write them to ``out`` as
    ``<stem>_<timestamp>.csv/.md`` and ``<stem>_latest.*``."""
    table = pd.DataFrame(rows)
    md = markdown(table)
    print()
    print(md)
    notes = table.dropna(subset=["note"]) if "note" in table else table.iloc[:0]
    for _, r in notes.iterrows():
        print(f"{r['data']}: predict-csv chose {r['note']}")
    out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    for name in (f"{stem}_{stamp}", f"{stem}_latest"):
        table.to_csv(out / f"{name}.csv", index=False)
        (out / f"{name}.md").write_text(f"{title}\n\n{md}\n", encoding="utf-8")
    print(f"\nResults written to {out}/{stem}_{stamp}.csv and .md")


if __name__ == "__main__":
    sys.exit(main())
