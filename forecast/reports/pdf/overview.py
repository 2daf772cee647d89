"""Section 2: the period in review (table by CNNT group and category; history chart)."""

from __future__ import annotations

import pandas as pd

from forecast.reports import charts
from forecast.reports.pdf.context import (
    HISTORY_SPAN,
    Ctx,
    bulletin_columns,
    bulletin_rows,
    product_label,
)


def overview(ctx: Ctx) -> None:
    """Bulletin table of the scope's sales by group and category, and the history chart."""
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    pdf.section(w("sec_overview"))
    df = view.overview
    if df.empty or not view.total_node:
        ctx.no_data()
        return
    du = ctx.unit_for(df["ytd"])
    pdf.caption(
        "table",
        w("cap_overview", ytd=f.year_to_date(view.periods.last, view.periods.first)),
        ctx.unit_line(du),
    )
    pdf.data_table(
        bulletin_columns(ctx, w("col_product")),
        bulletin_rows(ctx, df, du, product_label(ctx, w("row_total"))),
    )
    pdf.note(w("estimate_note", period=f.period(view.periods.last)))
    history_figure(ctx)


def history_figure(ctx: Ctx) -> None:
    """Monthly total, domestic and export sales over the last 36 periods, Tết shaded."""
    data, view, w, f = ctx.data, ctx.view, ctx.w, ctx.fmt
    scope = view.scope
    series: dict[str, pd.Series] = {}
    for market in ("total", "domestic", "export"):
        node = data.node(scope.region, scope.province, market=market)
        if node is not None:
            series[market] = data.hist.loc[node].iloc[-HISTORY_SPAN:]
    if not series or series.get("total", pd.Series(dtype=float)).isna().all():
        return
    du = ctx.unit_for(pd.concat(series.values()))
    scaled = {k: s * du.multiplier for k, s in series.items()}
    periods = scaled["total"].index
    chart = charts.history_chart(scaled, ctx.chart_text(du))
    pdf = ctx.pdf
    span = f.period_range(periods[0], periods[-1])
    if view.meta.kind == "M":
        caption = w("cap_history", range=span)
    else:  # Tết is marked on monthly charts only
        caption = w("cap_history_plain", range=span, every=w(f"every_{view.meta.kind}"))
    pdf.figure(chart, caption)
    ctx.source_note()
