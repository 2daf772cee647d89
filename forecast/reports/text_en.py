"""English wording of the reports; the same keys as :mod:`text_vi`."""

from __future__ import annotations

SYNTHETIC_LABEL = "Synthetic demonstration data — not official statistics"

TEXT: dict[str, str] = {
    # cover and running heads
    "agency_ministry": "MINISTRY OF INDUSTRY AND TRADE",
    "agency_dept": "AGENCY FOR INNOVATION, GREEN TRANSITION AND INDUSTRIAL PROMOTION",
    "title": "MARKET OUTLOOK REPORT\nFOR RURAL INDUSTRY PRODUCTS (CNNT)",
    "title_short": "CNNT market outlook",
    "cover_period": "Reporting period: {period}",
    "cover_horizon": "Forecast to {period}",
    "cover_issue": "Issued: {date}",
    "cover_run": "Run ID: {run_id}",
    "cover_vintage": "Data vintage: {vintage}",
    "cover_synthetic_note": (
        "This report was produced from a synthetic demonstration data set to show the "
        "forecasting service. Provincial, destination and domestic figures are simulated; do "
        "not quote them as official statistics."
    ),
    "contents": "Contents",
    "page": "Page {n} of {total}",
    # sections
    "sec_summary": "Summary – key points",
    "sec_overview": "Overview of the period",
    "sec_export": "Export markets",
    "sec_domestic": "Domestic market",
    "sec_forecast": "Forecast",
    "sec_linkage": "Regional linkage and comparative advantage",
    "sec_position": "Position, comparative advantage and linkage",
    "sec_recommend": "Assessment and recommendations for localities",
    "sec_appendix": "Appendix",
    # table headings
    "col_product": "Group / category",
    "col_market": "Market",
    "col_region": "Region",
    "col_province": "Province / city",
    "col_category": "Category",
    "col_mom": "+/- vs {prev} (%)",
    "col_yoy": "+/- y/y (%)",
    "col_share": "Share (%)",
    "col_growth12": "Next {span} forecast (+/- %)",
    "col_trend": "Trend",
    "col_next": "Forecast, next {span} ({range})",
    "col_change": "+/- (%)",
    "col_p_decline": "Probability of decline (%)",
    "col_period": "Period",
    "col_point": "Point",
    "col_interval": "{level}% interval",
    "col_low": "Lower",
    "col_high": "Upper",
    "col_lq": "LQ",
    "col_lq_change": "LQ change, 3 years",
    "col_rank_nat": "National rank",
    "col_rank_region": "Rank in region",
    "col_share_nat": "National share (%)",
    "col_value12": "Last 12 months",
    "col_provinces_lq": "Provinces with LQ > 1",
    "col_partner": "Partner province",
    "col_correlation": "Correlation",
    "col_leaders": "Leading provinces (LQ)",
    "col_hhi": "HHI",
    "col_top_dest": "Largest market (share)",
    "col_level": "Series level",
    "col_series": "Series",
    "col_models": "Models chosen (series)",
    "col_stage": "Stage",
    "col_mase": "MASE",
    "col_smape": "sMAPE (%)",
    "col_cov": "{level}% coverage (%)",
    "col_batch": "Batch",
    "col_file": "Source file",
    "col_source": "Source",
    "col_rows": "Rows",
    "col_periods": "Periods",
    "col_ingested": "Ingested",
    "col_export_share": "Export share (%)",
    "col_top_category": "Largest category",
    "col_term": "Term",
    "col_meaning": "Meaning",
    "row_total": "Total",
    "row_total_export": "Total exports",
    "row_other_markets": "Other markets",
    "row_dest_sum": "Sum of destinations",
    "bloc_EU": "EU (27 countries)",
    "bloc_ASEAN": "ASEAN (Southeast Asia)",
    "market_total": "Total",
    "market_domestic": "Domestic",
    "market_export": "Export",
    "stage_base": "base",
    "stage_reconciled": "reconciled",
    "rank_of": "{rank} of {n}",
    # units, notes and captions
    "unit": "Unit: {unit}",
    "table": "Table {n}",
    "figure": "Figure {n}",
    "source_note": "Source: {sources}; calculations and forecasts of the CNNT forecasting service.",
    "forecast_label": "forecast",
    "estimate_note": (
        "Figures for {period} are preliminary; forecast columns are forecasts, not outturns."
    ),
    "no_data": "No data for this item in run {run_id}.",
    "cap_overview": "Sales of CNNT products (domestic and export), {ytd}",
    "cap_history": "Monthly sales, {range}; shaded bands mark the Tết (Lunar New Year) month",
    "cap_history_plain": "{every} sales, {range}",
    "every_M": "Monthly",
    "every_Q": "Quarterly",
    "every_Y": "Annual",
    "prev_M": "the previous month",
    "prev_Q": "the previous quarter",
    "prev_Y": "the previous year",
    "cap_export_markets": "CNNT exports by destination, {ytd}",
    "cap_export_products": "Exports by category, {ytd}",
    "cap_top10": "Top 10 export destinations, {ytd}, share (%)",
    "cap_top10_sum": "Top 10 export destinations, {ytd}, share of the destination sum (%)",
    "markets_gap_note": (
        "Note: the figures by destination come from a separate source (national exports by "
        "importing country), not from the provincial figures. {ytd_cap}, destinations add up "
        "to {value}, {pct} {direction} than the provincial export total. Destination shares "
        "(%) are of the destination sum; destination forecasts are scaled to add up to the "
        "export total."
    ),
    "csv_destination_gap": (
        "Destinations' history over the last 12 periods (a separate source) adds up to "
        "{pct} {direction} than the export total; destination forecasts are scaled to it"
    ),
    "gap_more": "more",
    "gap_less": "less",
    "share_of_total": "share",
    "share_of_dest_sum": "of the destination sum",
    "cap_domestic_products": "Domestic sales by group and category, {ytd}",
    "cap_domestic_geo": "Domestic sales by {geo}, {ytd}",
    "cap_geo_bars": "Domestic sales by {geo}, {ytd}, and change y/y",
    "geo_regions": "socio-economic region",
    "geo_provinces": "province in the region",
    "cap_fan_total": (
        "Sales: actuals and forecast {range} (dashed: point forecast; dark band: 80% "
        "interval; light band: 95% interval)"
    ),
    "cap_fan_categories": "Forecast by category, {range} (80% and 95% intervals)",
    "fans_limited": (
        "Charts for the {shown} largest of {total} categories; the forecast of every "
        "category is in the tables and the CSV file."
    ),
    "cap_forecast_table": "Sales forecast for the next {spans} by category",
    "and": "and",
    "cap_monthly": "{every} sales forecast ({scope}) with prediction intervals",
    "cap_linkage": "Linkage groups by category (provinces with LQ > 1)",
    "cap_leaders": "Provinces with the highest comparative advantage by category (LQ > 1)",
    "cap_position": "Position of the locality by category (last 12 months)",
    "cap_position_total": "Overall position of the locality (last 12 months)",
    "cap_lq_chart": "Location quotient (LQ) by category; LQ > 1 means specialisation",
    "lq_limited": "The {shown} highest LQs of {total} categories; the table lists them all.",
    "cap_partners": "Candidate partner provinces (co-moving growth)",
    "cap_concentration": "Export market concentration by category (HHI)",
    "cap_sources": "Data sources and vintages",
    "cap_models": "Model chosen per series group",
    "cap_accuracy": "Backtest accuracy of the selected forecasts",
    "cap_provinces": "Sales by province, {ytd}",
    "cap_glossary": "Glossary",
    "chart_actual": "Actual",
    "chart_forecast": "Forecast",
    "chart_band": "{level}% interval",
    "chart_tet": "Tết",
    "chart_domestic": "Domestic",
    "chart_export": "Export",
    "chart_total": "Total",
    "chart_lq_line": "LQ = 1",
    # linkage and position prose
    "focus": "IN FOCUS",
    "focus_title": "Regional linkage: {category}",
    "focus_body": (
        "{n} provinces have a comparative advantage (LQ > 1) in {category} ({market}) in "
        "{regions}: {provinces}. Their combined sales over the last 12 months were {value}; "
        "the 12-month outlook is {outlook}."
    ),
    "focus_proposal": (
        "Proposal: an inter-provincial industrial-promotion project along the value chain "
        "(raw-material area → processing in craft villages → exporters), with a shared design "
        "centre and joint trade promotion."
    ),
    "outlook_growth": "{change} y/y ({trend})",
    "position_intro": (
        "Over the last 12 months {scope} accounted for {share} of national CNNT sales, "
        "ranking {rank_nat} nationally and {rank_region} in the {region} region."
    ),
    "position_lq": "Categories with a comparative advantage (LQ > 1): {items}.",
    "position_no_lq": "No category had LQ > 1 over the last 12 months.",
    "partners_intro": (
        "Provinces whose growth moves with {scope} are candidate partners for joint sales, "
        "shared raw materials and trade promotion."
    ),
    "destinations_note": (
        "Exports by destination exist at national level only; the table shows how "
        "concentrated the markets of this area's main export categories are."
    ),
    "forecast_note": (
        "Each series is forecast with the model that did best in the backtest, then "
        "reconciled so that provinces add up to regions and the nation. Seasonality is "
        "modelled: sales usually dip in the Tết month and peak in the fourth quarter."
    ),
    # recommendations
    "rec_basis": "Basis",
    "rec_none": "No recommendation rule fired for this period; keep monitoring the indicators.",
    "rec_intro": (
        "The recommendations below are generated from the outlook indicators by published "
        "rules; each states the rule that fired and the figures behind it."
    ),
    # appendix
    "app_sources": "A. Data sources and vintages",
    "app_method": "B. Method",
    "app_models": "C. Model chosen per series group",
    "app_accuracy": "D. Forecast accuracy (backtest)",
    "app_provinces": "E. Detailed figures by province",
    "app_glossary": "F. Glossary",
    "app_vintage": (
        "Data vintage (warehouse state hash): {vintage}. Run {run_id}, started {created}. "
        "Reconciliation: {reconcile}."
    ),
    "method_1": (
        "Series: sales by province × category × market (domestic, export), aggregated to CNNT "
        "groups, regions and the nation; national exports by destination country. Provinces "
        "are the 34 provincial units of 2025."
    ),
    "method_2": (
        "Models: this run's candidate models ({models}) are backtested from several rolling "
        "origins. Within each group of series, the model with the lowest mean MASE (over all "
        "the group's series and backtest windows) is chosen for the whole group{ens_rule}. "
        "Short, intermittent, constant or all-zero series use their own fallback models. "
        "The {levels} intervals are calibrated on the backtest errors."
    ),
    "method_ens_rule": (
        ", except that the equal-weight mean of the models (ens_mean) is kept unless the "
        "leader beats it by more than one standard error"
    ),
    "rec_default_kept": (
        "{name}, chosen by backtest: the default, as no other method was lower in "
        "{windows} by more than one standard error"
    ),
    "rec_default_unscored": (
        "{name}, the default: no backtest window had errors enough to compare methods"
    ),
    "rec_beat_default": (
        "{name}, chosen by backtest: lower than the default {default} in {windows} by more "
        "than one standard error"
    ),
    "rec_backtest": "{name}, chosen by backtest",
    "rec_no_backtest": "{name} (no backtest window to choose by)",
    "rec_config": "{name}, as set by the user",
    "rec_unknown": "{name}",
    "rec_mase": " (mean MASE over levels {mase})",
    "rec_fallback": (
        "; the numbers come from {used}, as {name} could not be computed on these data (see "
        "the run's notes)"
    ),
    "rec_base_better": (
        "; the base forecasts (not reconciled, levels not adding up) scored better in the backtest"
    ),
    "method_3": (
        "Reconciliation: forecasts are adjusted so that provinces add up to regions, regions "
        "to the nation and categories to groups; values are non-negative."
    ),
    "method_4": (
        "Outlook indicators: growth of the next 3/6/12 months vs the same months a year "
        "before; trend: strong rise (≥ {strong}%), rise (≥ {mild}%), stable, fall "
        "(≤ -{mild}%), strong fall (≤ -{strong}%); probability of decline from the forecast "
        "distribution."
    ),
    "no_accuracy": "This run recorded no backtest accuracy table.",
    "app_monitoring": "D.2 Realised accuracy of earlier forecasts (monitoring)",
    "monitoring_note": (
        "Forecasts of earlier published runs compared with the actuals available now, by "
        "series level; the run's own backtest in brackets. Alert (!) when the MASE exceeds "
        "{ratio} times the backtest MASE (and 1), or when an interval covers more than "
        "{margin} percentage points less than its nominal level."
    ),
    "cap_monitoring": "Realised accuracy of earlier forecasts (backtest in brackets)",
    "col_origin": "Forecast from",
    "col_alert": "Alert",
    # key points
    "kp_headline": (
        "{ytd_cap}, total sales of CNNT products (domestic and export) in {where} "
        "reached {value}, {change}; {month} alone reached {month_value}, {mom}."
    ),
    "kp_export": "Exports reached {value}, {share} of the total, {change}.",
    "kp_export_market": (
        "Exports reached {value}, {share} of the total, {change}; the largest market was "
        "{top} ({top_share} {share_of}, {top_change})."
    ),
    "kp_products": (
        "The largest category was {largest} ({share} of the total); {among}{best}, {worst}."
    ),
    "kp_movers_among": "among categories with at least {share} of the total, ",
    "kp_best_up": "the fastest riser was {name} ({change})",
    "kp_best_down": "the smallest fall was in {name} ({change})",
    "kp_worst_down": "the steepest fall was in {name} ({change})",
    "kp_worst_up": "the slowest riser was {name} ({change})",
    "kp_headline_one": (
        "{ytd_cap}, total sales of CNNT products (domestic and export) in {where} "
        "reached {value}, {change}{mom}."
    ),
    "kp_mom": "; {mom}",
    "vs_year_before": "the same period of last year",
    "vs_same_period": "y/y",
    "kp_forecast": "Sales in {range} are forecast at {fc}{interval}{vs}{rest}.",
    "kp_vs": ", {change} on {base}",
    "kp_vs_none": ", with no figures a year before to compare with",
    "vs_M": "the same period a year before",
    "vs_Q": "the same period a year before",
    "vs_Y": "the previous year",
    "kp_long": "; over the next {span} they are expected to be {change}",
    "kp_long_value": "; over the next {span} they are forecast at {value}",
    "kp_trend": ", trend: {trend}",
    "kp_interval": " (80% interval: {range})",
    "kp_risk_decline": (
        "Main risk: {category} has a {p} probability of declining over the next 12 months "
        "(forecast {change})."
    ),
    "kp_risk_concentration": (
        "Main risk: exports of {category} depend on {top} ({share} share, HHI {hhi})."
    ),
    "kp_risk_concentration_nat": (
        "Main risk: national exports of {category} depend on {top} ({share} share, HHI {hhi}; "
        "destinations are known for the nation only)."
    ),
    "kp_risk_none": "No category has a probability of decline above 50% over the next 12 months.",
    "kp_position": (
        "{scope} ranks {rank_nat} nationally and {rank_region} in its region by sales over the "
        "last 12 months, with {share} of the national total."
    ),
    # recommendation rules
    "rec_trade_title": "Trade promotion for {category}",
    "rec_trade_text": (
        "Exports of {category} are forecast {change} over the next 12 months{evidence}. "
        "Prioritise support for firms at trade fairs, business matching and use of free-trade "
        "agreements in the main markets."
    ),
    "rec_trade_rule": "export growth over the next 12 months ≥ {strong}% and {condition}",
    "rec_cond_lq": "export LQ > 1",
    "rec_cond_share": "share of exports ≥ {share_min}%",
    "rec_ev_lq": "; the locality has a comparative advantage (LQ {lq})",
    "rec_ev_share": "; the category makes up {share} of exports",
    "rec_diversify_title": "Diversify markets and sales channels for {category}",
    "rec_diversify_text": (
        "The probability that {market} sales of {category} decline over the next 12 months is "
        "{p} (forecast {change}). Look for new markets and distribution channels; review "
        "orders, inventories and production plans."
    ),
    "rec_diversify_rule": (
        "probability of decline over 12 months ≥ {p_min}% and share ≥ {share_min}%"
    ),
    "rec_concentration_title": "Reduce export market concentration: {category}",
    "rec_concentration_text": (
        "{top} takes {share} of national exports of {category} (HHI {hhi}). Expand into "
        "markets with free-trade agreements (EU, CPTPP, RCEP) to reduce dependence."
    ),
    "rec_concentration_rule": "export-destination HHI ≥ {hhi_min}",
    "rec_linkage_title": "Inter-provincial linkage project: {category}",
    "rec_linkage_text": (
        "{provinces} share a comparative advantage in {category} ({market}). Propose an "
        "inter-provincial industrial-promotion project: raw-material planning, shared "
        "processing equipment, a common brand and joint trade promotion."
    ),
    "rec_linkage_rule": "linkage group of ≥ {n_min} provinces with LQ > 1",
    "rec_support_title": "Industrial-promotion support for {category}",
    "rec_support_text": (
        "Domestic sales of {category} are forecast {change} over the next 12 months"
        "{evidence}. Support new equipment, product design, demand-stimulus programmes and "
        "listing in modern retail."
    ),
    "rec_support_rule": "domestic growth over the next 12 months ≤ -{mild}% and {condition}",
    "rec_cond_share_dom": "share of domestic sales ≥ {share_min}%",
    "rec_ev_share_dom": "; the category makes up {share} of domestic sales",
    "rec_data_title": "Improve the quality of reported data",
    "rec_data_text": (
        "{n} category series carry warnings ({flags}). Review and complete the periodic data "
        "reports so that the next forecasts are more reliable."
    ),
    "rec_data_rule": "category series with data-quality warnings",
}

TRENDS: dict[str, str] = {
    "strong_rise": "strong rise",
    "rise": "rise",
    "stable": "stable",
    "fall": "fall",
    "strong_fall": "strong fall",
    "undetermined": "not determined",
    "": "-",
}

FLAGS: dict[str, str] = {
    "short_history": "short history",
    "structural_break": "structural break detected",
    "wide_interval": "wide forecast interval",
    "data_gap": "data gap",
    "revised": "data revised since last run",
}

LEVELS: dict[str, str] = {
    "national": "National",
    "region": "Region",
    "province": "Province",
    "total": "total",
    "group": "CNNT group",
    "category": "category",
    "domestic": "domestic",
    "export": "export",
    "destination": "by destination",
}

GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "CNNT",
        "Rural industry (công nghiệp nông thôn): products of rural workshops and craft villages.",
    ),
    ("Same period", "The same month, quarter or year-to-date span of the previous year."),
    ("Year to date", "Total from the start of the year to the end of the reporting period."),
    ("Share", "Percentage of a row in the table total."),
    ("Point forecast", "The central forecast of the chosen model."),
    ("80%/95% interval", "Range expected to contain the actual value with 80%/95% probability."),
    (
        "Probability of decline",
        "Probability that the next 12 months total less than the last 12 months.",
    ),
    (
        "LQ",
        "Location quotient: the category's share in the province divided by its share in "
        "the nation; LQ > 1 means specialisation.",
    ),
    (
        "HHI",
        "Herfindahl–Hirschman index: sum of squared market shares (%); above 2,500 is "
        "highly concentrated.",
    ),
    ("MASE", "Mean absolute error scaled by the seasonal naive error; < 1 beats seasonal naive."),
    ("sMAPE", "Symmetric mean absolute percentage error."),
    ("Coverage", "Share of backtest actuals inside the prediction interval."),
    (
        "Reconciliation",
        "Adjusting forecasts so that all levels add up (MinT, bottom-up, top-down).",
    ),
)

#: Destinations whose English name takes "the" inside a sentence.
THE_COUNTRIES = frozenset({"US", "GB", "NL", "PH", "AE", "CZ", "DO", "BS", "GM"})


def change(value_text: str, value: float) -> str:
    """``up 12.3%`` / ``down 3.2%`` / ``unchanged`` (|change| < 0.05%)."""
    if value != value:  # NaN
        return "with no comparison available"
    if abs(value) < 0.05:
        return "unchanged"
    return f"{'up' if value > 0 else 'down'} {value_text}"


def every_window(n: int) -> str:
    """``both backtest windows`` / ``all 3 backtest windows`` / ``the one backtest window``."""
    if n == 1:
        return "the one backtest window"
    if n == 2:
        return "both backtest windows"
    return f"all {n} backtest windows"


def span(n: int, kind: str) -> str:
    """``3 months`` / ``2 quarters`` / ``year`` (one year) for ``n`` periods of ``kind``."""
    word = {"M": "month", "Q": "quarter"}.get(kind, "year")
    if n == 1:
        return word
    return f"{n} {word}s"


#: Reconciliation methods (codes of ``forecast.reconcile``), with the code in brackets.
RECONCILE_NAMES: dict[str, str] = {
    "base": "no reconciliation (base)",
    "bottom_up": "bottom-up (bottom_up)",
    "top_down": "top-down (top_down)",
    "mint_shrink": "MinT with a shrunk covariance matrix (mint_shrink)",
    "wls_var": "weighted least squares, error-variance weights (wls_var)",
    "wls_struct": "weighted least squares, structural weights (wls_struct)",
}

#: Model names that differ from :meth:`Wording.model` in reports.
MODEL_NAMES: dict[str, str] = {
    "drift": "random walk with drift",
    "mean": "historical mean",
    "ens_mean": "mean of the models (ens_mean)",
    "ens_median": "median of the models (ens_median)",
    "ens_mean3": "mean of the best 3 models (ens_mean3)",
    "ens_median3": "median of the best 3 models (ens_median3)",
}


def change_vs(value_text: str, value: float, vs: str) -> str:
    """``up 12.3% on the previous month`` / ``up 12.3% y/y``; NaN: ``with no figure for
    the previous month to compare``."""
    if value != value:  # NaN
        return (
            "with no year-before figure to compare"
            if vs == "y/y"
            else (f"with no figure for {vs} to compare")
        )
    return f"{change(value_text, value)} {'y/y' if vs == 'y/y' else 'on ' + vs}"
