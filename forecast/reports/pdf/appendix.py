"""Section 8: appendix (sources and vintages, method, models, accuracy, monitoring of earlier
forecasts, provinces, glossary)."""

from __future__ import annotations

import math

import pandas as pd

from forecast.data.periods import Period, parse_period
from forecast.reports.formatting import Formatter
from forecast.reports.inputs import ReconcileChoice
from forecast.reports.pdf.context import Ctx, pct
from forecast.reports.pdf.document import Column, Row
from forecast.reports.text import Wording, clean
from forecast.reports.views import candidate_models


def appendix(ctx: Ctx) -> None:
    """Everything a reader needs to check where the numbers come from."""
    pdf, w = ctx.pdf, ctx.w
    pdf.add_page()
    pdf.section(w("sec_appendix"))
    _sources(ctx)
    _method(ctx)
    _models(ctx)
    _accuracy(ctx)
    if ctx.view.scope.kind == "national":
        _monitoring(ctx)
    if len(ctx.view.provinces_detail):
        _provinces(ctx)
    _glossary(ctx)


def _sources(ctx: Ctx) -> None:
    pdf, w, f, meta = ctx.pdf, ctx.w, ctx.fmt, ctx.view.meta
    pdf.subheading(w("app_sources"))
    src = ctx.data.sources
    if len(src):
        cols = [
            Column(w("col_batch"), 12, "C"),
            Column(w("col_file"), 52, "L"),
            Column(w("col_source"), 36, "L"),
            Column(w("col_rows"), 20),
            Column(w("col_periods"), 28, "C"),
            Column(w("col_ingested"), 26, "C"),
        ]
        rows = []
        for _, r in src.iterrows():
            n = r.get("row_count")
            rows.append(
                Row(
                    [
                        clean(r.get("batch_id", ""), 12),
                        clean(r.get("source_file", ""), 80),
                        clean(r.get("source_label"), 60) or "-",
                        f.number(float(n), 0) if _finite(n) else "-",
                        _span(r.get("first_period", ""), r.get("last_period", ""), f),
                        f.date(str(r.get("ingested_at", ""))),
                    ]
                )
            )
        pdf.caption("table", w("cap_sources"))
        pdf.data_table(cols, rows)
    pdf.paragraph(
        w(
            "app_vintage",
            vintage=meta.data_vintage,
            run_id=meta.run_id,
            created=f.date(meta.created_at),
            reconcile=reconcile_sentence(meta.reconcile_method, w),
        ),
        size=8.4,
    )


def _method(ctx: Ctx) -> None:
    pdf, w, f, meta = ctx.pdf, ctx.w, ctx.fmt, ctx.view.meta
    pdf.subheading(w("app_method"))
    pdf.paragraph(w("method_1"), size=8.6)
    pdf.paragraph(models_sentence(candidate_models(ctx.data), meta.levels, w), size=8.6)
    pdf.paragraph(w("method_3"), size=8.6)
    pdf.paragraph(
        w("method_4", strong=f.number(meta.trend_strong, 0), mild=f.number(meta.trend_mild, 0)),
        size=8.6,
    )


def reconcile_sentence(record: str, w: Wording) -> str:
    """The reconciliation choice in the report language, from the run's stored record.

    The record is an English line written by the pipeline; it is read into fields
    (:class:`~forecast.reports.inputs.ReconcileChoice`) and worded here, whole, never cut.
    A record of an unknown form is shown cleaned (it is data text).
    """
    c = ReconcileChoice.parse(record)
    if not c.method:
        return clean(record, 400) or "-"
    name = w.reconcile_name(c.method)
    text = w(
        f"rec_{c.how}",
        name=name,
        default=w.reconcile_name(c.default),
        windows=w.every_window(c.n_windows),
    )
    if math.isfinite(c.mase):
        text += w("rec_mase", mase=w.fmt.number(c.mase, 3))
    if c.used != c.method:
        text += w("rec_fallback", used=w.reconcile_name(c.used), name=name)
    if c.base_better:
        text += w("rec_base_better")
    return text


def models_sentence(models: tuple[str, ...], levels: tuple[int, ...], w: Wording) -> str:
    """The models paragraph: the run's candidate models and the selection rule it applied
    (the equal-weight mean is kept unless beaten by one standard error, when it is a
    candidate)."""
    names = [w.model_name(m) for m in models]
    listed = ", ".join(names) if names else "-"
    rule = w("method_ens_rule") if "ens_mean" in models else ""
    bands = [f"{lv}%" for lv in levels]
    shown = bands[0] if len(bands) == 1 else f"{', '.join(bands[:-1])} {w('and')} {bands[-1]}"
    return w("method_2", models=listed, ens_rule=rule, levels=shown)


def _models(ctx: Ctx) -> None:
    pdf, w = ctx.pdf, ctx.w
    models = ctx.view.models
    if models.empty:
        return
    pdf.subheading(w("app_models"))
    cols = [
        Column(w("col_level"), 70, "L"),
        Column(w("col_series"), 18),
        Column(w("col_models"), 86, "L"),
    ]
    rows = []
    for level, grp in models.groupby("level", sort=True):
        listed = ", ".join(
            f"{Wording.model(m)} ({n})" for m, n in zip(grp["model"], grp["n"], strict=True)
        )
        rows.append(Row([w.level(level), str(int(grp["n"].sum())), listed]))
    pdf.caption("table", w("cap_models"))
    pdf.data_table(cols, rows)


def _accuracy(ctx: Ctx) -> None:
    pdf, w, f = ctx.pdf, ctx.w, ctx.fmt
    pdf.subheading(w("app_accuracy"))
    acc = ctx.view.accuracy
    levels = ctx.view.meta.levels
    if acc.empty:
        pdf.paragraph(w("no_accuracy"), size=8.6)
        return
    cols = [
        Column(w("col_level"), 62, "L"),
        Column(w("col_stage"), 24, "L"),
        Column(w("col_series"), 16),
        Column(w("col_mase"), 16),
        Column(w("col_smape"), 18),
        *_coverage_columns(w, levels, 38.0),
    ]
    rows = []
    for _, r in acc.iterrows():
        stage = str(r.get("stage", ""))
        rows.append(
            Row(
                [
                    w.level(r["level"]),
                    w(f"stage_{stage}") if stage in ("base", "reconciled") else clean(stage, 20),
                    _int(r.get("n_series")),
                    _fixed(f, r.get("mase"), 2),
                    _fixed(f, r.get("smape"), 1),
                    *(pct(f, _times100(r.get(f"coverage_{lv}")), 0) for lv in levels),
                ]
            )
        )
    pdf.caption("table", w("cap_accuracy"))
    pdf.data_table(cols, rows)


def _coverage_columns(w: Wording, levels: tuple[int, ...], room: float) -> list[Column]:
    """One coverage column per interval level of the run, sharing ``room`` mm (at least
    the width two levels get each, so one or two levels look as they always did)."""
    width = room / max(len(levels), 2)
    return [Column(w("col_cov", level=lv), width) for lv in levels]


#: Earlier runs shown in the monitoring table (the most recent forecast origins).
MONITORED_RUNS = 2


def _monitoring(ctx: Ctx) -> None:
    """Realised accuracy of earlier published runs by level, beside their backtest."""
    mon = ctx.data.monitoring
    if mon.empty or "by" not in mon.columns:
        return
    pdf, w, f = ctx.pdf, ctx.w, ctx.fmt
    rows_of = mon[mon["by"].isin(["level", "all"])]
    origins = sorted(rows_of["origin"].astype(str).unique())[-MONITORED_RUNS:]
    rows_of = rows_of[rows_of["origin"].astype(str).isin(origins)]
    if rows_of.empty:
        return
    freq = ctx.view.periods.last.freqstr
    levels = ctx.view.meta.levels
    pdf.subheading(w("app_monitoring"))
    ratio, margin = ctx.data.alert_rule
    pdf.paragraph(
        w("monitoring_note", ratio=f.number(ratio, 1), margin=f.number(margin, 0)), size=8.4
    )
    cols = [
        Column(w("col_origin"), 16, "C"),
        Column(w("col_level"), 50, "L"),
        Column(w("col_periods"), 28, "C"),
        Column(w("col_series"), 12),
        Column(w("col_mase"), 22),
        *_coverage_columns(w, levels, 36.0),
        Column(w("col_alert"), 10, "C"),
    ]

    def period(text: object) -> str:
        return f.period(pd.Period(str(text), freq=freq))

    def pair(real: object, backtest: object, scale: float, digits: int) -> str:
        a = f.number(float(real) * scale, digits) if _finite(real) else "-"  # type: ignore[arg-type]
        b = f.number(float(backtest) * scale, digits) if _finite(backtest) else "-"  # type: ignore[arg-type]
        return f"{a} ({b})"

    rows = []
    for r in rows_of.sort_values(["origin", "by", "key"], ascending=[False, False, True]).to_dict(
        orient="records"
    ):
        rows.append(
            Row(
                [
                    period(r["origin"]),
                    w.level(r["key"]) if r["by"] == "level" else w("row_total"),
                    f"{period(r['first_period'])}–{period(r['last_period'])}",
                    _int(r.get("n_series")),
                    pair(r.get("mase"), r.get("backtest_mase"), 1.0, 2),
                    *(
                        pair(r.get(f"coverage_{lv}"), r.get(f"backtest_coverage_{lv}"), 100.0, 0)
                        for lv in levels
                    ),
                    "!" if bool(r.get("alert")) else "",
                ],
                style="total" if r["by"] == "all" else "normal",
            )
        )
    pdf.caption("table", w("cap_monitoring"))
    pdf.data_table(cols, rows)


def _provinces(ctx: Ctx) -> None:
    pdf, w, f, view = ctx.pdf, ctx.w, ctx.fmt, ctx.view
    detail = view.provinces_detail
    pdf.subheading(w("app_provinces"))
    du = ctx.unit_for(detail["ytd"])
    cols = [
        Column(w("col_province"), 30, "L"),
        Column(w("col_region"), 40, "L"),
        Column(f.ytd_short(view.periods.last, view.periods.first), 20),
        Column(w("col_yoy"), 18),
        Column(w("col_share"), 15),
        Column(w("col_export_share"), 15),
        Column(w("col_top_category"), 36, "L"),
    ]
    rows = [
        Row(
            [
                clean(r["province"], 60),
                w.region(r["region"]),
                f.scaled(r["ytd"], du),
                pct(f, r["yoy"]),
                pct(f, r["share"]),
                pct(f, r["export_share"]),
                w.category(r["top_category"]) if r["top_category"] else "-",
            ]
        )
        for _, r in detail.iterrows()
    ]
    pdf.caption(
        "table",
        w("cap_provinces", ytd=f.year_to_date(view.periods.last, view.periods.first)),
        ctx.unit_line(du),
    )
    pdf.data_table(cols, rows)
    ctx.source_note()


def _glossary(ctx: Ctx) -> None:
    pdf, w = ctx.pdf, ctx.w
    pdf.subheading(w("app_glossary"))
    cols = [Column(w("col_term"), 38, "L"), Column(w("col_meaning"), 136, "L")]
    pdf.data_table(cols, [Row([t, m]) for t, m in w.glossary])


def _span(first: object, last: object, f: Formatter) -> str:
    """A batch's periods in the report's words (``T1/2015 – T12/2025``, ``quý I/2015``),
    each read in its own frequency (a warehouse may hold batches of several); stored text
    that is no period is shown as it is (cleaned)."""
    a, b = parse_period(str(first)), parse_period(str(last))
    if a is None or b is None:
        return f"{clean(first, 10)} – {clean(last, 10)}"
    return f"{f.period(_as_pandas(a))} – {f.period(_as_pandas(b))}"


def _as_pandas(period: Period) -> pd.Period:
    return pd.Period(period.start, freq=period.freq)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _int(value: object) -> str:
    return str(int(float(value))) if _finite(value) else "-"  # type: ignore[arg-type]


def _fixed(f: Formatter, value: object, decimals: int) -> str:
    return f.number(float(value), decimals) if _finite(value) else "-"  # type: ignore[arg-type]


def _times100(value: object) -> float:
    """Coverage is stored as a fraction (0.8); shown in percent."""
    return float(value) * 100 if _finite(value) else math.nan  # type: ignore[arg-type]
