"""Key points: three to five sentences written from the numbers of a :class:`ScopeView`."""

from __future__ import annotations

import math

import pandas as pd

from forecast.reports.text import Wording
from forecast.reports.views import ScopeView

#: Categories below this share (%) are not named as best or worst movers: tiny series swing.
MIN_SHARE_FOR_MOVERS = 1.0
#: A probability of decline at or above this is called the main risk.
RISK_P_DECLINE = 0.5
#: Destination concentration (HHI) called a risk when no decline risk stands out.
RISK_HHI = 2500.0


def key_points(view: ScopeView, w: Wording) -> list[str]:
    """Three to five sentences: headline, exports, products, forecast, risk or position."""
    f = w.fmt
    out: list[str] = []
    total = view.overview[view.overview["kind"] == "total"]
    if total.empty or not math.isfinite(float(total["ytd"].iloc[0])):
        return [w("no_data", run_id=view.meta.run_id)]
    t = total.iloc[0]
    where = view.scope.inline_name(w.lang)
    ytd_cap = f.ytd_lead(view.periods.last, view.periods.first)
    prev = w(f"prev_{view.meta.kind}")
    if len(view.periods.ytd) == 1:
        # The cumulative figure is the last period's own (January, a year, or the only
        # month with data): one figure, and the change on the previous period only when
        # that is not the year before already.
        mom = w("kp_mom", mom=w.change_vs(t["mom"], prev)) if view.meta.per_year > 1 else ""
        out.append(
            w(
                "kp_headline_one",
                ytd_cap=ytd_cap,
                where=where,
                value=f.money(t["ytd"], view.unit),
                change=w.change_vs(t["yoy"], w("vs_year_before")),
                mom=mom,
            )
        )
    else:
        out.append(
            w(
                "kp_headline",
                ytd_cap=ytd_cap,
                where=where,
                value=f.money(t["ytd"], view.unit),
                change=w.change_vs(t["yoy"], w("vs_year_before")),
                month=f.period(view.periods.last, long=True),
                month_value=f.money(t["last"], view.unit),
                mom=w.change_vs(t["mom"], prev),
            )
        )
    sentence = _exports(view, w, float(t["ytd"]))
    if sentence:
        out.append(sentence)
    sentence = _products(view, w)
    if sentence:
        out.append(sentence)
    sentence = _forecast(view, w)
    if sentence:
        out.append(sentence)
    if view.scope.kind == "province" and not view.position_total.empty:
        sentence = _position(view, w)
        if sentence:
            out.append(sentence)
    if len(out) < 5:
        out.append(_risk(view, w))
    return out[:5]


def _exports(view: ScopeView, w: Wording, total_ytd: float) -> str | None:
    f = w.fmt
    exp = view.overview_export
    row = exp[exp["kind"] == "total"]
    if row.empty or not total_ytd or not math.isfinite(float(row["ytd"].iloc[0])):
        return None
    r = row.iloc[0]
    share = f.percent(r["ytd"] / total_ytd * 100)
    countries = view.markets[view.markets["kind"] == "country"] if len(view.markets) else None
    if countries is not None and len(countries):
        top = countries.iloc[0]
        return w(
            "kp_export_market",
            value=f.money(r["ytd"], view.unit),
            share=share,
            change=w.change_vs(r["yoy"], w("vs_same_period")),
            top=w.country(top["key"], inline=True),
            top_share=f.percent(top["share"]),
            share_of=w("share_of_dest_sum" if view.markets_gap else "share_of_total"),
            top_change=w.change(top["yoy"]),
        )
    return w(
        "kp_export",
        value=f.money(r["ytd"], view.unit),
        share=share,
        change=w.change_vs(r["yoy"], w("vs_same_period")),
    )


def _products(view: ScopeView, w: Wording) -> str | None:
    cats = view.overview[view.overview["kind"] == "category"]
    movers = cats[(cats["share"] >= MIN_SHARE_FOR_MOVERS) & cats["yoy"].notna()]
    if len(movers) < 2:
        return None
    largest = cats.sort_values("ytd", ascending=False, kind="stable").iloc[0]
    ordered = movers.sort_values(["yoy", "key"], ascending=[False, True], kind="stable")
    best, worst = ordered.iloc[0], ordered.iloc[-1]
    # "Fastest riser" and "steepest fall" only when the signs allow them.
    best_key = "kp_best_up" if best["yoy"] > 0 else "kp_best_down"
    worst_key = "kp_worst_down" if worst["yoy"] < 0 else "kp_worst_up"
    # A small category left out moved further than the ones named: say the ranking
    # covers only the larger ones, so "slowest riser" is not read beside a fall.
    small = cats[(cats["share"] < MIN_SHARE_FOR_MOVERS) & cats["yoy"].notna()]
    wider = bool(((small["yoy"] > best["yoy"]) | (small["yoy"] < worst["yoy"])).any())
    among = w("kp_movers_among", share=w.fmt.percent(MIN_SHARE_FOR_MOVERS)) if wider else ""
    return w(
        "kp_products",
        largest=w.category(largest["key"], inline=True),
        share=w.fmt.percent(largest["share"]),
        among=among,
        best=w(best_key, name=w.category(best["key"], inline=True), change=w.change(best["yoy"])),
        worst=w(
            worst_key, name=w.category(worst["key"], inline=True), change=w.change(worst["yoy"])
        ),
    )


def _forecast(view: ScopeView, w: Wording) -> str | None:
    f = w.fmt
    rows = view.forecast[view.forecast["kind"] == "total"]
    if rows.empty:
        return None
    r = rows.iloc[0]
    spans = view.meta.spans()
    future = view.periods.future
    if not spans or not math.isfinite(float(r[f"fc_{spans[0][0]}"])):
        return None
    # The first window the run can show (3 months, a quarter, or the next year), then the
    # longest one; annual data have only the year, a 6-month horizon no 12-month window.
    (h, n), kind = spans[0], view.meta.kind
    interval = ""
    lo, hi = float(r[f"fc_{h}_lo"]), float(r[f"fc_{h}_hi"])
    if math.isfinite(lo) and math.isfinite(hi):
        interval = w("kp_interval", range=f.money_range(lo, hi, view.unit))
    growth = float(r[f"growth_{h}"])
    vs = w("kp_vs", change=w.change(growth), base=w(f"vs_{kind}"))
    rest = ""
    if len(spans) > 1:
        h, n = spans[-1]
        span = w.span(n, kind)
        growth = float(r[f"growth_{h}"])
        if math.isfinite(growth):
            rest = w("kp_long", span=span, change=w.change(growth))
        else:
            rest = w("kp_long_value", span=span, value=f.money(r[f"fc_{h}"], view.unit))
    if h == 12 and math.isfinite(growth) and r["trend"] not in ("", "undetermined"):
        rest += w("kp_trend", trend=w.trend(r["trend"]))
    return w(
        "kp_forecast",
        range=f.period_range(future[0], future[spans[0][1] - 1]),
        fc=f.money(r[f"fc_{spans[0][0]}"], view.unit),
        interval=interval,
        vs=vs if math.isfinite(float(r[f"growth_{spans[0][0]}"])) else w("kp_vs_none"),
        rest=rest,
    )


def _position(view: ScopeView, w: Wording) -> str | None:
    tot = view.position_total[view.position_total["market"] == "total"]
    if tot.empty:
        return None
    r = tot.iloc[0]
    return w(
        "kp_position",
        scope=view.scope.name(w.lang),
        rank_nat=w("rank_of", rank=int(r["rank_nat"]), n=int(r["n_nat"])),
        rank_region=w("rank_of", rank=int(r["rank_region"]), n=int(r["n_region"])),
        share=w.fmt.percent(r["share_nat"]),
    )


def _risk(view: ScopeView, w: Wording) -> str:
    f = w.fmt
    cats = view.forecast[(view.forecast["kind"] == "category")]
    risky = cats[pd.to_numeric(cats["p_decline"], errors="coerce") >= RISK_P_DECLINE]
    if len(risky):
        r = risky.sort_values(["p_decline", "key"], ascending=[False, True]).iloc[0]
        return w(
            "kp_risk_decline",
            category=w.category(r["key"], inline=True),
            p=f.percent(r["p_decline"] * 100, 0),
            change=w.change(r["growth_12"]),
        )
    conc = view.concentration
    if len(conc):
        conc = conc[(conc["category"] != "") & (conc["hhi"] >= RISK_HHI)]
        if len(conc):
            r = conc.sort_values(["hhi", "category"], ascending=[False, True]).iloc[0]
            # Destinations are known for the nation only: a region's or province's
            # report says whose exports the figures describe.
            national = view.scope.kind == "national"
            return w(
                "kp_risk_concentration" if national else "kp_risk_concentration_nat",
                category=w.category(r["category"], inline=True),
                top=w.country(r["top"], inline=True),
                share=f.percent(r["top_share"]),
                hhi=f.number(r["hhi"], 0),
            )
    return w("kp_risk_none")
