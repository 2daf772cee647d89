"""Cover page and section 1 (key points)."""

from __future__ import annotations

from fpdf.enums import XPos, YPos

from forecast.reports.narrative import key_points
from forecast.reports.pdf.context import Ctx
from forecast.reports.pdf.document import GREY, MARGIN, NAVY, RED, TEXT_WIDTH


def cover(ctx: Ctx) -> None:
    """Agency, title, scope, period, issue date, run id, data vintage and the synthetic box."""
    pdf, w, f, meta = ctx.pdf, ctx.w, ctx.fmt, ctx.view.meta
    pdf.add_page()
    pdf.set_y(22)
    pdf.set_font("DejaVu", "B", 10.5)
    pdf.set_text_color(*NAVY)
    pdf.cell(0, 5.5, w("agency_ministry"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "B", 8.6)
    pdf.multi_cell(0, 4.6, w("agency_dept"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y() + 2
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(0.4)
    pdf.line(105 - 20, y, 105 + 20, y)
    pdf.set_line_width(0.2)

    pdf.set_y(82)
    pdf.set_font("DejaVu", "B", 19)
    pdf.multi_cell(0, 9.5, w("title"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 15)
    pdf.set_text_color(*RED)
    pdf.multi_cell(
        0, 8, ctx.view.scope.name(w.lang).upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(5)
    pdf.set_text_color(*NAVY)
    pdf.set_font("DejaVu", size=11.5)
    pdf.cell(
        0,
        6.5,
        w("cover_period", period=f.period(meta.last_period, long=True)),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    future = ctx.view.periods.future
    if len(future):
        pdf.set_font("DejaVu", size=9.5)
        pdf.cell(
            0,
            5.5,
            w("cover_horizon", period=f.period(future[-1], long=True)),
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    if meta.synthetic:
        _synthetic_box(ctx)

    pdf.set_y(238)
    pdf.set_text_color(*GREY)
    pdf.set_font("DejaVu", size=8.2)
    for line in (
        w("cover_issue", date=f.date(meta.created_at)),
        w("cover_run", run_id=meta.run_id),
        w("cover_vintage", vintage=meta.data_vintage[:16]),
    ):
        pdf.cell(0, 4.6, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(38, 38, 38)


def _synthetic_box(ctx: Ctx) -> None:
    pdf, w = ctx.pdf, ctx.w
    y, h = 150.0, 30.0
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.5)
    pdf.set_fill_color(253, 240, 238)
    pdf.rect(MARGIN + 12, y, TEXT_WIDTH - 24, h, style="DF")
    pdf.set_line_width(0.2)
    pdf.set_xy(MARGIN + 17, y + 3.5)
    pdf.set_font("DejaVu", "B", 9)
    pdf.set_text_color(*RED)
    pdf.multi_cell(
        TEXT_WIDTH - 34, 4.6, w.synthetic_label.upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.set_xy(MARGIN + 17, pdf.get_y() + 1)
    pdf.set_font("DejaVu", size=7.8)
    pdf.set_text_color(90, 30, 30)
    pdf.multi_cell(
        TEXT_WIDTH - 34, 3.9, w("cover_synthetic_note"), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.set_draw_color(166, 166, 166)


def summary(ctx: Ctx) -> None:
    """Section 1: three to five key points in a shaded box."""
    pdf, w = ctx.pdf, ctx.w
    pdf.add_page()
    pdf.section(w("sec_summary"))
    pdf.bullets(key_points(ctx.view, w), size=9.6)
    pdf.ln(1)
