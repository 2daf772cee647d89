"""The report layer's validated, indexed view of a :class:`~forecast.results.RunResult`.

Reports read a run through :class:`ReportData` only, so the columns they rely on are named
in one place (the ``*_COLUMNS`` constants below). ``nodes``, ``history`` and ``forecasts``
are required. The analytic tables (``outlook``, ``advantage``, ``linkage``,
``destinations``) are optional: an empty table leaves its report section with a "no data"
note, and outlook growth and trend are computed from the forecasts when the outlook table
lacks them. A non-empty table that lacks a required column is a contract violation and
raises :class:`~forecast.errors.RegistryError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import RegistryError
from forecast.results import HISTORY_COLUMNS, NODE_COLUMNS, RunResult, interval_columns

#: Horizons (periods ahead) summarised in outlook tables, for monthly data.
HORIZONS = (3, 6, 12)
#: Outlook columns read when present, one set per horizon ``h`` in :data:`HORIZONS`:
#: ``growth_h`` (% vs the same periods a year before), ``growth_h_lo``/``growth_h_hi``
#: (its 80% interval); per node ``trend`` (``strong_rise``, ``rise``, ``stable``, ``fall``,
#: ``strong_fall``, ``undetermined``), ``p_decline`` (0-1, next 12 months below the last
#: 12), ``flags``
#: (``;``-separated codes), ``peak_month``/``trough_month`` (1-12), ``volatility``;
#: ``forecast_h_lo``/``forecast_h_hi``: 80% interval of the sum of the next ``h`` months.
OUTLOOK_COLUMNS = (
    "node_id",
    *(f"growth_{h}{s}" for h in HORIZONS for s in ("", "_lo", "_hi")),
    *(f"forecast_{h}_{s}" for h in HORIZONS for s in ("lo", "hi")),
    "trend",
    "p_decline",
    "peak_month",
    "trough_month",
    "volatility",
    "flags",
)
#: Comparative advantage per province x category x market (``domestic``/``export``):
#: location quotient over the last 12 months and its change over 3 years.
ADVANTAGE_COLUMNS = ("province", "category", "market", "lq", "lq_change_3y")
#: Linkage: ``kind`` ``group`` rows list provinces (``;``-separated) with LQ > 1 that could
#: form an inter-provincial project, with the group's 12-month outlook; ``partner`` rows pair
#: a ``province`` with a ``partner`` whose growth co-moves (``correlation``).
LINKAGE_COLUMNS = (
    "category",
    "market",
    "kind",
    "regions",
    "provinces",
    "growth_12",
    "trend",
    "province",
    "partner",
    "correlation",
)
#: Export destinations per category (``''`` = all products): share and outlook of each
#: destination and the category's concentration ``hhi`` (0-10,000).
DESTINATION_COLUMNS = ("category", "destination", "share_pct", "growth_12", "trend", "hhi")

_REQUIRED = {
    "advantage": ("province", "category", "market", "lq"),
    "linkage": ("category", "market"),
    "destinations": ("category", "destination"),
}
#: Trend codes of :mod:`forecast.outlook` (``undetermined``: growth not defined).
TRENDS = ("strong_rise", "rise", "stable", "fall", "strong_fall", "undetermined")


#: Reconciliation methods the pipeline can record (``forecast.reconcile``).
RECONCILE_METHODS = ("base", "bottom_up", "top_down", "mint_shrink", "wls_var", "wls_struct")


@dataclass(frozen=True)
class ReconcileChoice:
    """The run's reconciliation record, read back into fields the reports can word.

    The pipeline stores one English line (``RunResult.reconcile_method``):
    ``"<method>[ -> <used> (<why>)] — <reason>"`` where the reason is one of
    ``<method> chosen by backtest[ (<rule>)]: mean MASE over levels <x> (...)``,
    ``bottom_up (no backtest window to choose by)`` or ``<method> (set in
    configuration)``; the rule says whether the default was kept (``the default; ...`` or
    ``the default: in no window ...``) or beaten (``the first of ... lower than <default>
    in all <n> window(s) ...``).

    Attributes
    ----------
    method
        Method chosen (or set); ``""`` when the record cannot be read.
    used
        Method that produced the numbers (differs after a fallback).
    how
        ``default_kept``, ``default_unscored``, ``beat_default``, ``backtest`` (chosen by
        backtest, no rule stated), ``no_backtest``, ``config`` or ``unknown``.
    default
        The default method the rule compared against (``""`` when not stated).
    n_windows
        Backtest windows the rule weighed (0 when not stated).
    mase
        Mean MASE over levels of the chosen method (NaN when not stated).
    base_better
        The unreconciled base forecasts scored better in the backtest.
    """

    method: str
    used: str
    how: str
    default: str = ""
    n_windows: int = 0
    mase: float = float("nan")
    base_better: bool = False

    @classmethod
    def parse(cls, text: str) -> ReconcileChoice:
        """Read a stored reconciliation record (see the class docstring)."""
        text = str(text or "").strip()
        head, _, reason = text.partition(" — ")
        m = re.match(r"^([a-z_]+)(?: -> ([a-z_]+) \(.*\))?", head)
        if m is None or m.group(1) not in RECONCILE_METHODS:
            return cls(method="", used="", how="unknown")
        method = m.group(1)
        used = m.group(2) or method
        reason = reason or head
        mase_m = re.search(r"mean MASE over levels ([0-9.]+)", reason)
        mase = float(mase_m.group(1)) if mase_m else float("nan")
        base_better = "the base forecasts (not coherent) scored better" in reason
        windows = re.search(r"in all (\d+) window", reason)
        n_windows = int(windows.group(1)) if windows else 0
        if "(set in configuration)" in reason:
            how, default = "config", ""
        elif "no backtest window to choose by" in reason:
            how, default = "no_backtest", ""
        elif "chosen by backtest (the default: in no window" in reason:
            how, default = "default_unscored", method
        elif "chosen by backtest (the default;" in reason:
            how, default = "default_kept", method
        elif (beat := re.search(r"lower than ([a-z_]+) in all", reason)) is not None:
            how, default = "beat_default", beat.group(1)
        elif "chosen by backtest" in reason:
            how, default = "backtest", ""
        else:
            how, default = "unknown", ""
        return cls(method, used, how, default, n_windows, mase, base_better)


@dataclass(frozen=True)
class Meta:
    """Run-level facts every report shows."""

    run_id: str
    created_at: str
    freq: str
    horizon: int
    levels: tuple[int, ...]
    last_period: pd.Period
    synthetic: bool
    data_vintage: str
    reconcile_method: str
    trend_strong: float
    trend_mild: float

    @property
    def kind(self) -> str:
        """``M``, ``Q`` or ``Y``."""
        kind = self.last_period.freqstr.upper()[0]
        return kind if kind in ("M", "Q") else "Y"

    @property
    def per_year(self) -> int:
        """Periods per year: 12, 4 or 1."""
        return {"M": 12, "Q": 4, "Y": 1}[self.kind]

    def spans(self) -> list[tuple[int, int]]:
        """The outlook windows this run can show: ``(months, periods)`` per window of
        :data:`HORIZONS` that is a whole number of periods within the forecast horizon.

        Monthly data give ``(3, 3), (6, 6), (12, 12)``; quarterly ``(3, 1), (6, 2),
        (12, 4)``; annual only ``(12, 1)`` (3 and 6 months are no number of years); a
        horizon of 6 months drops the 12-month window (there is no sum over it).
        """
        py = self.per_year
        return [
            (h, h * py // 12)
            for h in HORIZONS
            if h * py % 12 == 0 and 1 <= h * py // 12 <= self.horizon
        ]


class ReportData:
    """Validated tables of one run, indexed for fast look-ups by the report builders.

    Parameters
    ----------
    result
        The run. It is not modified.
    keep_years
        Years of history kept (charts show at most three; year-on-year needs two).
    """

    def __init__(self, result: RunResult, *, keep_years: int = 4) -> None:
        _require(result.nodes, NODE_COLUMNS, "nodes", result.run_id)
        _require(result.history, HISTORY_COLUMNS, "history", result.run_id)
        fc_cols = ("node_id", "period", "yhat", *interval_columns(tuple(result.levels)))
        _require(result.forecasts, fc_cols, "forecasts", result.run_id)
        cfg = result.config or {}
        last = pd.Period(result.last_period, freq=result.freq)
        self.meta = Meta(
            run_id=str(result.run_id),
            created_at=str(result.created_at),
            freq=str(result.freq),
            horizon=int(result.horizon),
            levels=tuple(int(v) for v in result.levels),
            last_period=last,
            synthetic=bool(result.synthetic),
            data_vintage=str(result.data_vintage),
            reconcile_method=str(result.reconcile_method),
            trend_strong=float(cfg.get("trend_strong", 10.0)),
            trend_mild=float(cfg.get("trend_mild", 3.0)),
        )
        nodes = result.nodes.loc[:, list(NODE_COLUMNS)].copy()
        for col in NODE_COLUMNS:
            nodes[col] = nodes[col].fillna("").astype(str)
        self.nodes = nodes.set_index("node_id", drop=False)
        self._index = {
            tuple(k): n
            for k, n in zip(
                nodes[
                    ["region", "province", "group", "category", "market", "destination"]
                ].itertuples(index=False, name=None),
                nodes["node_id"],
                strict=True,
            )
        }
        first = last - keep_years * self.meta.per_year + 1
        hist = _with_periods(result.history, result.freq)
        hist = hist[(hist["period"] >= first) & (hist["period"] <= last)]
        periods = pd.period_range(first, last, freq=last.freq)
        self.hist = (
            hist.pivot_table(index="node_id", columns="period", values="value", aggfunc="sum")
            .reindex(index=self.nodes.index, columns=periods)
            .astype("float64")
        )
        fc = _with_periods(result.forecasts, result.freq)
        fc_periods = pd.period_range(last + 1, periods=self.meta.horizon, freq=last.freq)
        self.fc = {
            col: fc.pivot_table(index="node_id", columns="period", values=col, aggfunc="sum")
            .reindex(index=self.nodes.index, columns=fc_periods)
            .astype("float64")
            for col in ("yhat", *interval_columns(self.meta.levels))
        }
        model = fc.drop_duplicates("node_id").set_index("node_id").get("model")
        self.fc_model = (
            model.reindex(self.nodes.index).fillna("").astype(str)
            if model is not None
            else pd.Series("", index=self.nodes.index)
        )
        self.outlook = self._outlook(result.outlook)
        self.advantage = _optional(result.advantage, "advantage", result.run_id)
        self.linkage = _optional(result.linkage, "linkage", result.run_id)
        self.destinations = _optional(result.destinations, "destinations", result.run_id)
        self.selection = _frame(result.selection)
        self.accuracy = _frame(result.accuracy)
        self.sources = _frame(result.sources)
        self.leaderboard = _frame(result.extra.get("leaderboard", pd.DataFrame()))
        self.models_setting = tuple(str(m) for m in cfg.get("models", ()) or ())
        # Realised accuracy of earlier runs (forecast.monitoring), when the run has it.
        self.monitoring = _frame(result.extra.get("monitoring", pd.DataFrame()))
        self.alert_rule = (
            float(cfg.get("alert_mase_ratio", 1.5)),
            float(cfg.get("alert_coverage_margin", 10.0)),
        )

    # -- look-ups ------------------------------------------------------------------------
    def node(
        self,
        region: str = "",
        province: str = "",
        group: str = "",
        category: str = "",
        market: str = "total",
        destination: str = "",
    ) -> str | None:
        """The node id with these key values (``''`` = all), or None if the run lacks it."""
        return self._index.get((region, province, group, category, market, destination))

    def unit_of(self, node: str) -> str:
        """Stored unit text of ``node``."""
        return str(self.nodes.at[node, "unit"])

    # -- outlook ---------------------------------------------------------------------------
    def _outlook(self, table: pd.DataFrame | None) -> pd.DataFrame:
        """Outlook per node with every column of :data:`OUTLOOK_COLUMNS` filled or NaN."""
        out = pd.DataFrame(index=self.nodes.index)
        given = _frame(table)
        if not given.empty:
            if "node_id" not in given.columns:
                raise RegistryError(
                    f"Run {self.meta.run_id}: table 'outlook' has no 'node_id' column; the "
                    f"reports need one row per node with columns {', '.join(OUTLOOK_COLUMNS)}."
                )
            given = given.drop_duplicates("node_id").set_index("node_id")
            out = out.join(given[[c for c in OUTLOOK_COLUMNS[1:] if c in given.columns]])
        computed = self._computed_growth()
        for col in OUTLOOK_COLUMNS[1:]:
            if col not in out.columns:
                out[col] = computed[col] if col in computed.columns else np.nan
        if out["trend"].isna().all():
            out["trend"] = out["growth_12"].map(self.trend_code)
        out["trend"] = out["trend"].where(out["trend"].isin(TRENDS), "")
        out["flags"] = out["flags"].fillna("").astype(str)
        return out

    def _computed_growth(self) -> pd.DataFrame:
        """Point growth over the next ``h`` periods vs the same periods a year before."""
        py = self.meta.per_year
        out = pd.DataFrame(index=self.nodes.index)
        yhat = self.fc["yhat"]
        for h in HORIZONS:
            h_eff = min(h * py // 12 or 1, yhat.shape[1])
            base = self.hist.iloc[:, -py : -py + h_eff if h_eff < py else None].sum(axis=1)
            fut = yhat.iloc[:, :h_eff].sum(axis=1)
            out[f"growth_{h}"] = growth_pct(fut, base)
        return out

    def trend_code(self, growth: float) -> str:
        """Trend label code for a growth in percent, with the run's thresholds."""
        if growth is None or not np.isfinite(growth):
            return ""
        strong, mild = self.meta.trend_strong, self.meta.trend_mild
        if growth >= strong:
            return "strong_rise"
        if growth >= mild:
            return "rise"
        if growth > -mild:
            return "stable"
        return "fall" if growth > -strong else "strong_fall"


def growth_pct(new: Any, old: Any) -> Any:
    """``(new / old - 1) * 100``, NaN where ``old`` is not positive."""
    new_a = np.asarray(new, dtype="float64")
    old_a = np.asarray(old, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(old_a > 0, (new_a / np.where(old_a > 0, old_a, 1.0) - 1.0) * 100.0, np.nan)
    if isinstance(new, pd.Series):
        return pd.Series(g, index=new.index)
    return float(g) if g.ndim == 0 else g


def _frame(table: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame() if table is None else table


def _require(table: pd.DataFrame, columns: tuple[str, ...], name: str, run_id: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise RegistryError(
            f"Run {run_id}: table {name!r} lacks column(s) {', '.join(missing)}; the reports "
            f"need {', '.join(columns)}. Re-run the pipeline or report the mismatch."
        )


def _optional(table: pd.DataFrame | None, name: str, run_id: str) -> pd.DataFrame:
    frame = _frame(table)
    if frame.empty:
        return pd.DataFrame(columns=list(_REQUIRED[name]))
    _require(frame, _REQUIRED[name], name, run_id)
    return frame.reset_index(drop=True)


def _with_periods(table: pd.DataFrame, freq: str) -> pd.DataFrame:
    """``table`` with its ``period`` column as pandas Periods of ``freq``."""
    col = table["period"]
    if isinstance(col.dtype, pd.PeriodDtype):
        return table
    out = table.copy()
    out["period"] = pd.PeriodIndex([pd.Period(p, freq=freq) for p in col], freq=freq)
    return out
