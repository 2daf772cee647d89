"""Section 5: forecasts (fan charts, the 3/6/12-month table, the monthly table)."""

from __future__ import annotations

import pandas as pd

from forecast.reports import charts, charts_grid
from forecast.reports.inputs import HORIZONS
from forecast.reports.pdf.context import FAN_HISTORY, Ctx, pct, two_level_heading
from forecast.reports.pdf.document import Column, Row

#: Category fan charts per figure (3 columns x 2 rows): short figures fill pages better.
PANELS_PER_FIGURE = 6
#: Most category fan charts in one bulletin (the largest by year-to-date sales): with
#: hundreds of categories, charts for all of them made a province PDF take minutes and
#: run to dozens of pages; every category's forecast stays in the tables and the CSV.
MAX_CATEGORY_FANS = 24


def forecast(ctx: Ctx) -> None:
    """Fan chart of the total, the 3/6/12-month table, category fans, the monthly table."""
    pdf, w, view = ctx.pdf, ctx.w, ctx.view
    pdf.section(w("sec_forecast"))
    if view.forecast.empty or not view.total_node:
        ctx.no_data()
        return
    pdf.paragraph(w("forecast_note"))
    _total_fan(ctx, view.total_node)
    _summary_table(ctx)
    _category_fans(ctx)
    _monthly_table(ctx)


def _fan_data(ctx: Ctx, node: str) -> tuple[pd.Series, pd.DataFrame]:
    hist = ctx.data.hist.loc[node].iloc[-FAN_HISTORY:]
    fc = pd.DataFrame({name: frame.loc[node] for name, frame in ctx.data.fc.items()})
    return hist, fc


def _total_fan(ctx: Ctx, node: str) -> None:
    f, w = ctx.fmt, ctx.w
    hist, fc = _fan_data(ctx, node)
    du = ctx.unit_for(pd.concat([hist, fc.max(axis=1)]))
    chart = charts.fan_chart(
        hist * du.multiplier, fc * du.multiplier, ctx.view.meta.levels, ctx.chart_text(du)
    )
    future = ctx.view.periods.future
    ctx.pdf.figure(chart, w("cap_fan_total", range=f.period_range(future[0], future[-1])))


def _summary_table(ctx: Ctx) -> None:
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    fc = view.forecast
    du = ctx.unit_for(fc[[f"fc_{h}" for h in HORIZONS]].max(axis=1))
    future = view.periods.future
    kind = view.meta.kind
    # Only the windows this run has (annual data: the next year alone; a 6-month horizon:
    # no 12-month column), named in the data's own periods (quarters, years).
    spans = view.meta.spans()
    groups = [
        (
            w("col_next", span=w.span(n, kind), range=f.period_range(future[0], future[n - 1])),
            [w("forecast_label").capitalize(), w("col_change")],
        )
        for _, n in spans
    ]
    tail = [w("col_trend"), w("col_p_decline")]
    # 44 mm for the name, 20 + 18 for the tail (the widest heading word, "Probability",
    # must fit a line); the windows share the remaining 92 mm.
    pair = 92.0 / max(len(spans), 1)
    cols = [Column("", 44.0, "L")]
    cols += [Column("", x) for _ in spans for x in (pair * 0.58, pair * 0.42)]
    cols += [Column("", 20.0, "C"), Column("", 18.0)]
    rows = []
    for _, r in fc.iterrows():
        total = r["kind"] == "total"
        cells = [w("row_total") if total else w.category(r["key"])]
        for h, _ in spans:
            cells += [f.scaled(r[f"fc_{h}"], du), pct(f, r[f"growth_{h}"])]
        cells += [w.trend(r["trend"]), pct(f, r["p_decline"] * 100, 0)]
        rows.append(Row(cells, "total" if total else "normal"))
    caption = w("cap_forecast_table", spans=w.spans(spans, kind))
    pdf.caption("table", caption, ctx.unit_line(du))
    pdf.data_table(cols, rows, heading=two_level_heading(w("col_category"), groups, tail))
    pdf.note(w("estimate_note", period=f.period(view.periods.last)))


def _category_fans(ctx: Ctx) -> None:
    w, f, view = ctx.w, ctx.fmt, ctx.view
    cats = view.overview[view.overview["kind"] == "category"]
    cats = cats.sort_values(["ytd", "key"], ascending=[False, True], kind="stable")
    panels = []
    for _, r in cats.iterrows():
        hist, fc = _fan_data(ctx, r["node"])
        if hist.notna().any():
            panels.append((w.category(r["key"]), hist, fc))
    if not panels:
        return
    future = view.periods.future
    n_panels = len(panels)
    panels = panels[:MAX_CATEGORY_FANS]
    for start in range(0, len(panels), PANELS_PER_FIGURE):
        chunk = panels[start : start + PANELS_PER_FIGURE]
        top = pd.concat([pd.concat([h, fc["yhat"]]) for _, h, fc in chunk])
        du = ctx.unit_for(top)
        scaled = [(t, h * du.multiplier, fc * du.multiplier) for t, h, fc in chunk]
        chart = charts_grid.fan_grid(scaled, view.meta.levels, ctx.chart_text(du))
        caption = w("cap_fan_categories", range=f.period_range(future[0], future[-1]))
        ctx.pdf.figure(chart, f"{caption} — {ctx.unit_line(du)}")
    if n_panels > len(panels):
        ctx.pdf.note(w("fans_limited", shown=len(panels), total=n_panels))


def _monthly_table(ctx: Ctx) -> None:
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    m = view.monthly
    if m.empty:
        return
    du = ctx.unit_for(m["yhat"])
    levels = view.meta.levels
    groups = [(w("col_interval", level=lv), [w("col_low"), w("col_high")]) for lv in levels]
    point = (w("forecast_label").capitalize(), [w("col_point")])
    heading = two_level_heading(w("col_period"), [point, *groups])
    width = (174.0 - 40) / (1 + 2 * len(levels))
    cols = [Column("", 40, "L")] + [Column("", width) for _ in range(1 + 2 * len(levels))]
    rows = []
    for _, r in m.iterrows():
        cells = [f"{f.period(r['period'])} ({w('forecast_label')})", f.scaled(r["yhat"], du)]
        for lv in levels:
            cells += [f.scaled(r[f"lo_{lv}"], du), f.scaled(r[f"hi_{lv}"], du)]
        rows.append(Row(cells))
    every = w(f"every_{view.meta.kind}")
    pdf.caption("table", w("cap_monthly", scope=view.scope.name(w.lang), every=every),
                ctx.unit_line(du))  # fmt: skip
    pdf.data_table(cols, rows, heading=heading)
    ctx.source_note()
