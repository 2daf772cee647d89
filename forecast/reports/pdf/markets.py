"""Sections 3 and 4: export markets and the domestic market."""

from __future__ import annotations

import pandas as pd

from forecast.reports import charts
from forecast.reports.pdf.context import (
    Ctx,
    bulletin_columns,
    bulletin_rows,
    pct,
    product_label,
)
from forecast.reports.pdf.document import Column, Row

TOP_MARKETS = 10


def exports(ctx: Ctx) -> None:
    """National: the VITIC market table and top-10 chart; every scope: exports by category
    and the concentration of its export categories' destinations."""
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    ytd = f.year_to_date(view.periods.last, view.periods.first)
    pdf.section(w("sec_export"))
    exp = view.overview_export
    if exp.empty or exp["ytd"].fillna(0).iloc[0] <= 0:
        ctx.no_data()
        return
    if len(view.markets):
        _market_table(ctx, ytd)
    du = ctx.unit_for(exp["ytd"])
    pdf.caption("table", w("cap_export_products", ytd=ytd), ctx.unit_line(du))
    pdf.data_table(
        bulletin_columns(ctx, w("col_product")),
        bulletin_rows(ctx, exp, du, product_label(ctx, w("row_total_export"))),
    )
    ctx.source_note()
    _concentration(ctx)


def _market_table(ctx: Ctx, ytd: str) -> None:
    pdf, w, f, markets = ctx.pdf, ctx.w, ctx.fmt, ctx.view.markets
    du = ctx.unit_for(markets["ytd"])

    def label(r: pd.Series) -> tuple[str, str]:
        kind = r["kind"]
        if kind == "total":
            return w("row_total_export"), "total"
        if kind == "bloc":
            return w.country(r["key"]), "italic"
        if kind == "other":
            return w("row_other_markets"), "normal"
        if kind == "dest_sum":
            return w("row_dest_sum"), "group"
        return w.country(r["key"]), "normal"

    pdf.caption("table", w("cap_export_markets", ytd=ytd), ctx.unit_line(du))
    pdf.data_table(bulletin_columns(ctx, w("col_market")), bulletin_rows(ctx, markets, du, label))
    gap = ctx.view.markets_gap
    if gap:
        dest = markets.loc[markets["kind"] == "dest_sum", "ytd"].iloc[0]
        pdf.note(
            w(
                "markets_gap_note",
                ytd_cap=f.ytd_lead(ctx.view.periods.last, ctx.view.periods.first),
                value=f.money(dest, ctx.view.unit),
                pct=f.percent(abs(gap) * 100),
                direction=w("gap_more" if gap > 0 else "gap_less"),
            )
        )
    ctx.source_note()
    top = markets[markets["kind"] == "country"].head(TOP_MARKETS)
    if len(top):
        cdu = ctx.unit_for(top["ytd"])
        chart = charts.bar_chart(
            [w.country(k) for k in top["key"]],
            (top["ytd"] * cdu.multiplier).tolist(),
            [f.percent(s) for s in top["share"]],
            ctx.chart_text(cdu),
        )
        pdf.figure(chart, w("cap_top10_sum" if ctx.view.markets_gap else "cap_top10", ytd=ytd))


def _concentration(ctx: Ctx) -> None:
    """HHI and largest destination of the categories the scope exports."""
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    conc = view.concentration
    if conc.empty:
        return
    cats = view.overview_export
    mine = cats.loc[cats["kind"] == "category", "key"].tolist()
    table = (
        conc[conc["category"].isin(mine)].set_index("category").reindex(mine).dropna(subset=["hhi"])
    )
    if table.empty:
        return
    if view.scope.kind != "national":
        pdf.paragraph(w("destinations_note"))
    pdf.caption("table", w("cap_concentration"))
    cols = [
        Column(w("col_category"), 84, "L"),
        Column(w("col_hhi"), 24),
        Column(w("col_top_dest"), 66, "L"),
    ]
    rows = [
        Row(
            [
                w.category(cat),
                f.number(r["hhi"], 0),
                f"{w.country(r['top'])} ({f.percent(r['top_share'])})",
            ]
        )
        for cat, r in table.iterrows()
    ]
    pdf.data_table(cols, rows)
    ctx.source_note()


def domestic(ctx: Ctx) -> None:
    """Domestic sales by group and category; by region (national) or province (region)."""
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    ytd = f.year_to_date(view.periods.last, view.periods.first)
    pdf.section(w("sec_domestic"))
    dom = view.overview_domestic
    if dom.empty or dom["ytd"].fillna(0).iloc[0] <= 0:
        ctx.no_data()
        return
    du = ctx.unit_for(dom["ytd"])
    pdf.caption("table", w("cap_domestic_products", ytd=ytd), ctx.unit_line(du))
    pdf.data_table(
        bulletin_columns(ctx, w("col_product")),
        bulletin_rows(ctx, dom, du, product_label(ctx, w("row_total"))),
    )
    ctx.source_note()
    geo = view.geo_domestic
    if len(geo) > 1:
        _geo_section(ctx, geo, ytd)


def _geo_section(ctx: Ctx, geo: pd.DataFrame, ytd: str) -> None:
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    national = view.scope.kind == "national"
    where = w("geo_regions") if national else w("geo_provinces")
    du = ctx.unit_for(geo["ytd"])

    def name(r: pd.Series) -> str:
        if r["kind"] == "total":
            return w("row_total")
        return w.region(r["key"]) if national else r["key"]

    first = w("col_region") if national else w("col_province")
    cols = [
        Column(first, 62, "L"),
        Column(f.ytd_short(view.periods.last, view.periods.first), 24),
        Column(w("col_yoy"), 22),
        Column(w("col_share"), 18),
        Column(w("col_growth12", span=w.span(view.meta.per_year, view.meta.kind)), 26),
        Column(w("col_trend"), 22, "C"),
    ]
    rows = [
        Row(
            [
                name(r),
                f.scaled(r["ytd"], du),
                pct(f, r["yoy"]),
                pct(f, r["share"]),
                pct(f, r["growth_12"]),
                w.trend(r["trend"]),
            ],
            "total" if r["kind"] == "total" else "normal",
        )
        for _, r in geo.iterrows()
    ]
    pdf.caption("table", w("cap_domestic_geo", geo=where, ytd=ytd), ctx.unit_line(du))
    pdf.data_table(cols, rows)
    body = geo[geo["kind"] == "geo"]
    cdu = ctx.unit_for(body["ytd"])
    chart = charts.bar_chart(
        [name(r) for _, r in body.iterrows()],
        (body["ytd"] * cdu.multiplier).tolist(),
        [
            f"{f.percent(s)} | {w.change(y)}"
            for s, y in zip(body["share"], body["yoy"], strict=True)
        ],
        ctx.chart_text(cdu),
        color=charts.ORANGE,
    )
    pdf.figure(chart, w("cap_geo_bars", geo=where, ytd=ytd))
