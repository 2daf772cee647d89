"""Sections 6 and 7: linkage and comparative advantage (or a province's position), and the
rule-based recommendations."""

from __future__ import annotations

import math

import pandas as pd

from forecast.reports import charts
from forecast.reports.formatting import Formatter
from forecast.reports.pdf.context import Ctx, pct
from forecast.reports.pdf.document import Column, Row
from forecast.reports.recommend import recommendations
from forecast.reports.text import clean

MAX_GROUPS = 15
MAX_PARTNERS = 12


def linkage(ctx: Ctx) -> None:
    """National and region scopes: TIÊU ĐIỂM box, linkage groups, LQ leaders."""
    pdf, w = ctx.pdf, ctx.w
    pdf.section(w("sec_linkage"))
    groups, leaders = ctx.view.linkage_groups, ctx.view.leaders
    if groups.empty and leaders.empty:
        ctx.no_data()
        return
    if len(groups):
        _focus(ctx, groups.iloc[0])
        _groups_table(ctx, groups)
    if len(leaders):
        _leaders_table(ctx, leaders)


def position(ctx: Ctx) -> None:
    """Province scope: weight and rank, LQ by category, linkage groups and partners."""
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    pdf.section(w("sec_position"))
    pos, tot = view.position, view.position_total
    if pos.empty:
        ctx.no_data()
        return
    total = tot[tot["market"] == "total"]
    if len(total):
        r = total.iloc[0]
        pdf.paragraph(
            w(
                "position_intro",
                scope=view.scope.inline_name(w.lang),
                share=f.percent(r["share_nat"]),
                rank_nat=w("rank_of", rank=int(r["rank_nat"]), n=int(r["n_nat"])),
                rank_region=w("rank_of", rank=int(r["rank_region"]), n=int(r["n_region"])),
                region=w.region(view.scope.region),
            )
        )
    strong = pos[pos["lq"] > 1].sort_values("lq", ascending=False)
    if len(strong):
        items = [
            f"{w.category(c, inline=True)} ({w.market(m).lower()}, LQ {f.number(q, 2)})"
            for c, m, q in zip(strong["category"], strong["market"], strong["lq"], strict=True)
        ]
        pdf.paragraph(w("position_lq", items="; ".join(items)))
    else:
        pdf.paragraph(w("position_no_lq"))
    _position_table(ctx, pos)
    _lq_figure(ctx, pos)
    if len(view.linkage_groups):
        _focus(ctx, view.linkage_groups.iloc[0])
        _groups_table(ctx, view.linkage_groups)
    if len(view.partners):
        _partners_table(ctx, view.partners)


def _focus(ctx: Ctx, g: pd.Series) -> None:
    w, f = ctx.w, ctx.fmt
    members = list(g["members"])
    regions = [w.region(r) for r in str(g.get("regions", "") or "").split(";") if r]
    value = g.get("value_12m", math.nan)
    growth = float(g.get("growth_12", math.nan))
    outlook = (
        w("outlook_growth", change=w.change(growth), trend=w.trend(str(g.get("trend", ""))))
        if math.isfinite(growth)
        else "-"
    )
    body = w(
        "focus_body",
        n=len(members),
        category=w.category(g["category"], inline=True),
        market=w.market(g["market"]).lower(),
        regions=", ".join(regions) or "-",
        provinces=", ".join(members),
        value=f.money(float(value), ctx.view.unit),
        outlook=outlook,
    )
    ctx.pdf.focus_box(
        w("focus"),
        w("focus_title", category=w.category(g["category"], inline=True)),
        [body, w("focus_proposal")],
    )


def _groups_table(ctx: Ctx, groups: pd.DataFrame) -> None:
    pdf, w, f = ctx.pdf, ctx.w, ctx.fmt
    cols = [
        Column(w("col_category"), 44, "L"),
        Column(w("col_market"), 20, "L"),
        Column(w("col_region"), 30, "L"),
        Column(w("col_provinces_lq"), 44, "L"),
        Column(w("col_growth12", span=w.span(ctx.view.meta.per_year, ctx.view.meta.kind)), 18),
        Column(w("col_trend"), 18, "C"),
    ]
    rows = []
    for _, g in groups.head(MAX_GROUPS).iterrows():
        regions = ", ".join(w.region(r) for r in str(g.get("regions", "") or "").split(";") if r)
        rows.append(
            Row(
                [
                    w.category(g["category"]),
                    w.market(g["market"]),
                    regions or "-",
                    ", ".join(g["members"]),
                    pct(f, g.get("growth_12")),
                    w.trend(str(g.get("trend", "") or "")),
                ]
            )
        )
    pdf.caption("table", w("cap_linkage"))
    pdf.data_table(cols, rows)
    ctx.source_note()


def _leaders_table(ctx: Ctx, leaders: pd.DataFrame) -> None:
    pdf, w, f = ctx.pdf, ctx.w, ctx.fmt
    cols = [
        Column(w("col_category"), 62, "L"),
        Column(w("col_market"), 24, "L"),
        Column(w("col_leaders"), 88, "L"),
    ]
    rows = []
    for (cat, market), grp in leaders.groupby(["category", "market"], sort=True):
        names = "; ".join(
            f"{clean(p, 60)} ({f.number(q, 2)})"
            for p, q in zip(grp["province"], grp["lq"], strict=True)
        )
        rows.append(Row([w.category(cat), w.market(market), names]))
    pdf.caption("table", w("cap_leaders"))
    pdf.data_table(cols, rows)


def _position_table(ctx: Ctx, pos: pd.DataFrame) -> None:
    pdf, w, f = ctx.pdf, ctx.w, ctx.fmt
    du = ctx.unit_for(pos["v12"])
    cols = [
        Column(w("col_category"), 50, "L"),
        Column(w("col_market"), 19, "L"),
        Column(w("col_value12"), 20),
        Column(w("col_share_nat"), 18),
        Column(w("col_rank_nat"), 17, "C"),
        Column(w("col_rank_region"), 17, "C"),
        Column(w("col_lq"), 15),
        Column(w("col_lq_change"), 18),
    ]
    rows = []
    for _, r in pos.iterrows():
        rows.append(
            Row(
                [
                    w.category(r["category"]),
                    w.market(r["market"]),
                    f.scaled(r["v12"], du),
                    pct(f, r["share_nat"]),
                    w("rank_of", rank=int(r["rank_nat"]), n=int(r["n_nat"])),
                    w("rank_of", rank=int(r["rank_region"]), n=int(r["n_region"])),
                    _num(f, r["lq"]),
                    _num(f, r["lq_change"], sign=True),
                ],
                "highlight" if _num_val(r["lq"]) > 1 else "normal",
            )
        )
    pdf.caption("table", w("cap_position"), ctx.unit_line(du))
    pdf.data_table(cols, rows)
    ctx.source_note()


#: Most categories in the LQ bar chart (the highest LQs); the position table lists all.
MAX_LQ_BARS = 30


def _lq_figure(ctx: Ctx, pos: pd.DataFrame) -> None:
    w = ctx.w
    wide = pos.pivot_table(index="category", columns="market", values="lq", aggfunc="first")
    if wide.empty or wide.isna().all().all():
        return
    wide = wide.reindex(columns=["domestic", "export"])
    wide = wide.loc[wide.max(axis=1).sort_values(ascending=False).index]
    n_categories = len(wide)
    wide = wide.iloc[:MAX_LQ_BARS]
    chart = charts.lq_chart(
        [w.category(c) for c in wide.index],
        wide["domestic"].tolist(),
        wide["export"].tolist(),
        ctx.chart_text(ctx.unit_for([1.0])),
    )
    ctx.pdf.figure(chart, w("cap_lq_chart"))
    if n_categories > len(wide):
        ctx.pdf.note(w("lq_limited", shown=len(wide), total=n_categories))


def _partners_table(ctx: Ctx, partners: pd.DataFrame) -> None:
    pdf, w, f = ctx.pdf, ctx.w, ctx.fmt
    pdf.paragraph(w("partners_intro", scope=ctx.view.scope.inline_name(w.lang)))
    cols = [
        Column(w("col_category"), 68, "L"),
        Column(w("col_market"), 28, "L"),
        Column(w("col_partner"), 48, "L"),
        Column(w("col_correlation"), 30),
    ]
    rows = [
        Row(
            [
                w.category(r["category"]),
                w.market(r["market"]),
                clean(r["partner"], 60),
                f.number(r["correlation"], 2),
            ]
        )
        for _, r in partners.head(MAX_PARTNERS).iterrows()
    ]
    pdf.caption("table", w("cap_partners"))
    pdf.data_table(cols, rows)


def recommend(ctx: Ctx) -> None:
    """Section 7: numbered recommendations, each with the rule that fired."""
    pdf, w = ctx.pdf, ctx.w
    pdf.section(w("sec_recommend"))
    recs = recommendations(ctx.view, w)
    if not recs:
        pdf.paragraph(w("rec_none"))
        return
    pdf.paragraph(w("rec_intro"))
    for i, rec in enumerate(recs, start=1):
        pdf.recommendation(i, rec.title, rec.text, w("rec_basis"), rec.basis)


def _num_val(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _num(f: Formatter, value: object, *, sign: bool = False) -> str:
    v = _num_val(value)
    return f.pct(v, 2, sign=sign) if math.isfinite(v) else "-"
