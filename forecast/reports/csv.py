"""CSV outlooks for machines and for Excel users.

Files are UTF-8 with a byte-order mark (so Excel opens Vietnamese text correctly), ``,``
separated, ``\\n`` line ends, one header row with the stable column names below. Numbers
use a dot decimal and no thousands separator (machine-readable; Excel in a Vietnamese
locale may need *Data > From Text/CSV* with "decimal: ."); missing numbers are empty cells.
Rows are sorted by ``node_id`` then ``period`` and floats have fixed decimals, so the same
run always gives the same bytes.

Any text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with ``'`` so that a spreadsheet shows it as text instead of running it as a
formula. Numeric columns are never altered (a negative growth stays ``-3.20``).

Outlook columns (one row per node and forecast period):

=================  ==========================================================================
``node_id``        stable node id (key columns joined by ``|``, ``*`` = all)
``level``          ``geo/product/market`` (``/destination`` on destination nodes)
``region``...      key columns: ``region`` (code), ``province``, ``group``, ``category``,
                   ``market``, ``destination`` (ISO2); ``*_name`` columns give names in
                   the report language
``unit``           unit of the values (as stored, e.g. ``thousand USD``)
``unit_label``     the unit in the report language (``nghìn USD``, ``USD thousand``; a
                   unit that is no known currency scale as stored)
``period``         forecast period (``2026-01``, ``2026Q1``, ``2026``)
``yhat``           point forecast (3 decimals)
``lo_80``...       interval bounds for each level (``lo_80, hi_80, lo_95, hi_95``)
``model``          model that produced the node's forecast
``growth_3``...    % growth of the next 3/6/12 periods vs the same periods a year before
                   (2 decimals); ``growth_12_lo``/``growth_12_hi`` its 80% interval
``trend``          ``strong_rise``, ``rise``, ``stable``, ``fall``, ``strong_fall``
``trend_label``    the trend in the report language
``p_decline``      probability (0-1) that the next 12 periods total less than the last 12
``flags``          ``;``-separated: ``short_history``, ``structural_break``,
                   ``wide_interval``, ``data_gap``, ``revised``
``data_note``      "Synthetic demonstration data — not official statistics" (in the report
                   language) on every row of a run made from synthetic data; on
                   destination rows whose destinations' history over the last 12 periods
                   adds up to more or less than the export total (a separate source), by
                   how much and that the forecasts are scaled to the total; notes are
                   joined by " | "; else empty
=================  ==========================================================================

Advantage columns (``advantage-full.csv``, one row per province, category and market):
``province, province_code, region, region_name, category, category_name, market, unit,
unit_label, value_12m, share_national_pct, rank_national, n_national, rank_region, n_region, lq,
lq_change_3y, data_note``; ``unit`` is the stored unit of ``value_12m`` (markets may differ:
domestic sales in VND, exports in USD).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from forecast.data.geography import province as province_info
from forecast.reports.inputs import HORIZONS, ReportData
from forecast.reports.scope import Scope
from forecast.reports.text import Wording
from forecast.reports.views import COVERAGE_TOL, advantage_table
from forecast.safeio import neutralise

#: Characters that make a spreadsheet treat a cell as a formula (or hide its start).
VALUE_DECIMALS = 3
PCT_DECIMALS = 2
P_DECIMALS = 4

KEY_TEXT = (
    "node_id",
    "level",
    "geo_level",
    "region",
    "region_name",
    "province",
    "group",
    "group_name",
    "category",
    "category_name",
    "market",
    "destination",
    "destination_name",
    "unit",
    "unit_label",
    "period",
)
GROWTH_COLUMNS = (*(f"growth_{h}" for h in HORIZONS), "growth_12_lo", "growth_12_hi")
ADVANTAGE_COLUMNS = (
    "province",
    "province_code",
    "region",
    "region_name",
    "category",
    "category_name",
    "market",
    "unit",
    "unit_label",
    "value_12m",
    "share_national_pct",
    "rank_national",
    "n_national",
    "rank_region",
    "n_region",
    "lq",
    "lq_change_3y",
    "data_note",
)


def outlook_columns(levels: Sequence[int]) -> tuple[str, ...]:
    """Column names of an outlook CSV for interval ``levels``."""
    bounds = tuple(c for lv in levels for c in (f"lo_{lv}", f"hi_{lv}"))
    return (
        *KEY_TEXT,
        "yhat",
        *bounds,
        "model",
        *GROWTH_COLUMNS,
        "trend",
        "trend_label",
        "p_decline",
        "flags",
        "data_note",
    )


def _data_note(data: ReportData, w: Wording) -> str:
    """The synthetic-data label on every row of a run made from synthetic data (a CSV
    opened in a spreadsheet must not pass for official statistics); empty otherwise."""
    return w.synthetic_label if data.meta.synthetic else ""


def destination_notes(data: ReportData, w: Wording) -> pd.Series:
    """Per destination node, a note when its siblings' history does not add up to the
    export total they split (``''`` otherwise).

    Destination rows come from another table than the provincial export totals; their
    forecasts are scaled to the total (reconciliation), their history is not. The gap is
    measured over the last 12 periods (the year), as the outlook columns are.
    """
    nodes = data.nodes
    out = pd.Series("", index=nodes.index, dtype=object)
    dest = nodes[nodes["destination"] != ""]
    if dest.empty:
        return out
    py = data.meta.per_year
    last12 = data.hist.iloc[:, -py:].sum(axis=1, min_count=1)
    keys = ["region", "province", "group", "category", "market"]
    for key, grp in dest.groupby(keys, sort=False):
        parent = data.node(*key)
        total = float(last12.get(parent, np.nan)) if parent is not None else np.nan
        listed = float(last12.reindex(grp.index).sum(min_count=1))
        if not (np.isfinite(total) and total > 0 and np.isfinite(listed)):
            continue
        gap = listed / total - 1
        if abs(gap) > COVERAGE_TOL:
            out[grp.index] = w(
                "csv_destination_gap",
                pct=w.fmt.percent(abs(gap) * 100),
                direction=w("gap_more" if gap > 0 else "gap_less"),
            )
    return out


def _num(value: object, decimals: int) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return ""
    text = f"{v:.{decimals}f}"
    return "0." + "0" * decimals if text.startswith("-") and float(text) == 0 else text


def _encode(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


class OutlookTable:
    """The outlook of every node and forecast period of a run, ready to slice per scope.

    Parameters
    ----------
    data
        The run's report data.
    w
        Wording of the language used for the ``*_name`` and ``trend_label`` columns.
    """

    def __init__(self, data: ReportData, w: Wording) -> None:
        self.data = data
        self.levels = data.meta.levels
        self.columns = outlook_columns(self.levels)
        self._frame = self._build(w)

    def _build(self, w: Wording) -> pd.DataFrame:
        data = self.data
        nodes = data.nodes.sort_index()
        yhat = data.fc["yhat"].reindex(nodes.index)
        periods = [str(p) for p in yhat.columns]
        n_p = len(periods)
        rep = np.repeat(np.arange(len(nodes)), n_p)
        out = pd.DataFrame({c: nodes[c].to_numpy()[rep] for c in KEY_TEXT if c in nodes.columns})
        out["region_name"] = nodes["region"].map(lambda c: w.region(c) if c else "").to_numpy()[rep]
        out["group_name"] = nodes["group"].map(lambda c: w.category(c) if c else "").to_numpy()[rep]
        out["category_name"] = (
            nodes["category"].map(lambda c: w.category(c) if c else "").to_numpy()[rep]
        )
        out["destination_name"] = (
            nodes["destination"].map(lambda c: w.country(c) if c else "").to_numpy()[rep]
        )
        out["unit_label"] = [w.fmt.unit_label(str(u)) for u in out["unit"]]
        out["period"] = np.tile(periods, len(nodes))
        for col, frame in data.fc.items():
            values = frame.reindex(nodes.index).to_numpy(dtype=float).ravel()
            out[col] = [_num(v, VALUE_DECIMALS) for v in values]
        out["model"] = data.fc_model.reindex(nodes.index).to_numpy()[rep]
        o = data.outlook.reindex(nodes.index)
        for col in GROWTH_COLUMNS:
            out[col] = [_num(v, PCT_DECIMALS) for v in o[col].to_numpy()[rep]]
        out["trend"] = o["trend"].fillna("").to_numpy()[rep]
        out["trend_label"] = [w.trend(t) if t else "" for t in out["trend"]]
        out["p_decline"] = [_num(v, P_DECIMALS) for v in o["p_decline"].to_numpy()[rep]]
        out["flags"] = o["flags"].fillna("").to_numpy()[rep]
        synthetic = _data_note(data, w)
        gaps = destination_notes(data, w).reindex(nodes.index).fillna("").to_numpy()[rep]
        out["data_note"] = [" | ".join(n for n in (synthetic, g) if n) for g in gaps]
        text_cols = [c for c in (*KEY_TEXT, "model", "trend", "trend_label", "flags")]
        for col in text_cols:
            out[col] = [neutralise(str(v)) for v in out[col]]
        return out.loc[:, list(self.columns)].sort_values(["node_id", "period"], kind="stable")

    def full(self) -> bytes:
        """Every node of the run."""
        return _encode(self.columns, self._frame.itertuples(index=False, name=None))

    def scope(self, scope: Scope) -> bytes:
        """The nodes of one report: the scope's geography, every product and market."""
        f = self._frame
        if scope.kind == "national":
            mask = (f["region"] == "") & (f["province"] == "")
        elif scope.kind == "region":
            mask = (f["region"] == scope.region) & (f["province"] == "")
        else:
            mask = f["province"] == neutralise(scope.province)
        return _encode(self.columns, f[mask].itertuples(index=False, name=None))


def advantage_csv(data: ReportData, w: Wording) -> bytes:
    """Comparative advantage of every province, category and market, with ranks."""
    table = advantage_table(data)
    rows = []
    for r in table.itertuples(index=False):
        try:
            code = province_info(r.province).code
        except KeyError:
            code = ""
        rows.append(
            [
                neutralise(str(r.province)),
                code,
                neutralise(str(r.region)),
                w.region(r.region),
                neutralise(str(r.category)),
                w.category(r.category),
                neutralise(str(r.market)),
                neutralise(str(r.unit)),
                neutralise(w.fmt.unit_label(str(r.unit))),
                _num(r.v12, VALUE_DECIMALS),
                _num(r.share_nat, PCT_DECIMALS),
                _num(r.rank_nat, 0),
                _num(r.n_nat, 0),
                _num(r.rank_region, 0),
                _num(r.n_region, 0),
                _num(r.lq, 4),
                _num(r.lq_change, 4),
                _data_note(data, w),
            ]
        )
    return _encode(ADVANTAGE_COLUMNS, rows)
