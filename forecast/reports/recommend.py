"""Rule-based, explainable recommendations from the outlook indicators of one scope.

Each rule is a plain condition on published indicators (growth, probability of decline, LQ,
HHI, linkage groups, data flags). A recommendation states the rule that fired and the
figures behind it, so a Department of Industry and Trade can check and argue with it.

====================  ===========================================================  =========
rule                  condition (per category of the scope)                        action
====================  ===========================================================  =========
``trade_promotion``   export growth 12m >= trend_strong and (province: export LQ >  trade
                      1; otherwise share of the scope's exports >= SHARE_MIN)       promotion
``diversify``         P(decline over 12m) >= P_DECLINE_MIN and share >= SHARE_MIN  new markets
``concentration``     national destination HHI >= HHI_MIN and share of exports >=  reduce
                      SHARE_MIN                                                    dependence
``linkage``           a linkage group with >= LINK_MIN provinces with LQ > 1       joint
                      touches the scope                                            project
``support``           domestic growth 12m <= -trend_mild and (province: LQ > 1;     khuyến
                      otherwise share of domestic sales >= SHARE_MIN)              công aid
``data_quality``      category series with data flags (short history, gap, break)  data
====================  ===========================================================  =========
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pandas as pd

from forecast.reports.text import Wording
from forecast.reports.views import ScopeView

P_DECLINE_MIN = 0.6
SHARE_MIN = 5.0
HHI_MIN = 2500.0
LINK_MIN = 2
#: At most this many recommendations per rule, and in total.
PER_RULE = 2
MAX_TOTAL = 8
DATA_FLAGS = ("short_history", "data_gap", "structural_break")


@dataclass(frozen=True)
class Recommendation:
    """One recommendation.

    Parameters
    ----------
    rule
        Rule id (see the module table).
    title, text
        Heading and body, in the report language.
    basis
        The rule as applied, with its thresholds, in the report language.
    """

    rule: str
    title: str
    text: str
    basis: str


def recommendations(view: ScopeView, w: Wording) -> list[Recommendation]:
    """Every rule that fires for ``view``, most important first (at most :data:`MAX_TOTAL`)."""
    cats = view.categories
    out: list[Recommendation] = []
    if len(cats):
        out += _trade(view, w, cats)
        out += _diversify(view, w, cats)
        out += _concentration(view, w, cats)
    out += _linkage(view, w)
    if len(cats):
        out += _support(view, w, cats)
        out += _data(view, w, cats)
    # A text may open with a name written for the inside of a sentence ("the United
    # States takes ..."), so each starts with a capital.
    return [
        dataclasses.replace(r, title=w.sentence(r.title), text=w.sentence(r.text))
        for r in out[:MAX_TOTAL]
    ]


def _num(value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return v


def _trade(view: ScopeView, w: Wording, cats: pd.DataFrame) -> list[Recommendation]:
    f, strong = w.fmt, view.meta.trend_strong
    exp = cats[(cats["market"] == "export") & (cats["growth_12"] >= strong)]
    province = view.scope.kind == "province"
    if province:
        exp = exp[exp["lq"] > 1]
        condition = w("rec_cond_lq")
    else:
        exp = exp[exp["share"] >= SHARE_MIN]
        condition = w("rec_cond_share", share_min=f.number(SHARE_MIN, 0))
    rule = w("rec_trade_rule", strong=f.number(strong, 0), condition=condition)
    out = []
    for _, r in (
        exp.sort_values(["growth_12", "category"], ascending=[False, True])
        .head(PER_RULE)
        .iterrows()
    ):
        evidence = (
            w("rec_ev_lq", lq=f.number(r["lq"], 2))
            if province
            else w("rec_ev_share", share=f.percent(r["share"]))
        )
        name = w.category(r["category"], inline=True)
        out.append(
            Recommendation(
                "trade_promotion",
                w("rec_trade_title", category=name),
                w(
                    "rec_trade_text",
                    category=name,
                    change=w.change(r["growth_12"]),
                    evidence=evidence,
                ),
                rule,
            )
        )
    return out


def _diversify(view: ScopeView, w: Wording, cats: pd.DataFrame) -> list[Recommendation]:
    f = w.fmt
    risky = cats[(cats["p_decline"] >= P_DECLINE_MIN) & (cats["share"] >= SHARE_MIN)]
    rule = w(
        "rec_diversify_rule",
        p_min=f.number(P_DECLINE_MIN * 100, 0),
        share_min=f.number(SHARE_MIN, 0),
    )
    out = []
    for _, r in (
        risky.sort_values(["p_decline", "v12"], ascending=[False, False]).head(PER_RULE).iterrows()
    ):
        name = w.category(r["category"], inline=True)
        out.append(
            Recommendation(
                "diversify",
                w("rec_diversify_title", category=name),
                w(
                    "rec_diversify_text",
                    category=name,
                    market=w.market(r["market"]).lower(),
                    p=f.percent(r["p_decline"] * 100, 0),
                    change=w.change(r["growth_12"]),
                ),
                rule,
            )
        )
    return out


def _concentration(view: ScopeView, w: Wording, cats: pd.DataFrame) -> list[Recommendation]:
    f, conc = w.fmt, view.concentration
    if conc.empty:
        return []
    exported = cats[(cats["market"] == "export") & (cats["share"] >= SHARE_MIN)]["category"]
    hot = conc[conc["category"].isin(set(exported)) & (conc["hhi"] >= HHI_MIN)]
    rule = w("rec_concentration_rule", hhi_min=f.number(HHI_MIN, 0))
    out = []
    for _, r in (
        hot.sort_values(["hhi", "category"], ascending=[False, True]).head(PER_RULE).iterrows()
    ):
        name = w.category(r["category"], inline=True)
        out.append(
            Recommendation(
                "concentration",
                w("rec_concentration_title", category=name),
                w(
                    "rec_concentration_text",
                    category=name,
                    top=w.country(r["top"], inline=True),
                    share=f.percent(r["top_share"]),
                    hhi=f.number(r["hhi"], 0),
                ),
                rule,
            )
        )
    return out


def _linkage(view: ScopeView, w: Wording) -> list[Recommendation]:
    groups = view.linkage_groups
    if groups.empty:
        return []
    rule = w("rec_linkage_rule", n_min=LINK_MIN)
    out = []
    # One project per category and market: a region's group and its cross-region
    # extension name mostly the same provinces.
    eligible = groups[groups["n"] >= LINK_MIN].drop_duplicates(["category", "market"])
    for _, r in eligible.head(PER_RULE).iterrows():
        name = w.category(r["category"], inline=True)
        members = list(r["members"])
        out.append(
            Recommendation(
                "linkage",
                w("rec_linkage_title", category=name),
                w(
                    "rec_linkage_text",
                    provinces=", ".join(members),
                    category=name,
                    market=w.market(r["market"]).lower(),
                ),
                rule,
            )
        )
    return out


def _support(view: ScopeView, w: Wording, cats: pd.DataFrame) -> list[Recommendation]:
    f, mild = w.fmt, view.meta.trend_mild
    dom = cats[(cats["market"] == "domestic") & (cats["growth_12"] <= -mild)]
    province = view.scope.kind == "province"
    if province:
        dom = dom[dom["lq"] > 1]
        condition = "LQ > 1"
    else:
        dom = dom[dom["share"] >= SHARE_MIN]
        condition = w("rec_cond_share_dom", share_min=f.number(SHARE_MIN, 0))
    rule = w("rec_support_rule", mild=f.number(mild, 0), condition=condition)
    out = []
    for _, r in dom.sort_values(["growth_12", "category"]).head(PER_RULE).iterrows():
        evidence = (
            w("rec_ev_lq", lq=f.number(r["lq"], 2))
            if province
            else w("rec_ev_share_dom", share=f.percent(r["share"]))
        )
        name = w.category(r["category"], inline=True)
        out.append(
            Recommendation(
                "support",
                w("rec_support_title", category=name),
                w(
                    "rec_support_text",
                    category=name,
                    change=w.change(r["growth_12"]),
                    evidence=evidence,
                ),
                rule,
            )
        )
    return out


def _data(view: ScopeView, w: Wording, cats: pd.DataFrame) -> list[Recommendation]:
    codes = cats["flags"].map(lambda s: [c for c in str(s).split(";") if c in DATA_FLAGS])
    flagged = codes[codes.map(len) > 0]
    if flagged.empty:
        return []
    seen = sorted({c for cs in flagged for c in cs}, key=DATA_FLAGS.index)
    return [
        Recommendation(
            "data_quality",
            w("rec_data_title"),
            w("rec_data_text", n=len(flagged), flags=w.flags(";".join(seen))),
            w("rec_data_rule"),
        )
    ]
