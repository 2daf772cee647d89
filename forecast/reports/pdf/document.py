"""The bulletin page: A4, embedded DejaVu font, running head, footer with the synthetic-data
label and page numbers, and the layout primitives every section uses (headings, paragraphs,
captioned tables and figures, the TIÊU ĐIỂM box)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from forecast.reports.charts import font_path
from forecast.reports.pdf.table import Cell as HeadCell
from forecast.reports.pdf.table import GridTable, Style, wrap
from forecast.reports.text import Wording

FONT = "DejaVu"
NAVY = (31, 56, 100)
DARK = (38, 38, 38)
GREY = (110, 110, 110)
RED = (170, 30, 30)
HEAD_FILL = (221, 231, 242)
TOTAL_FILL = (234, 239, 247)
GROUP_FILL = (246, 246, 246)
BOX_FILL = (241, 246, 251)
RULE = (166, 166, 166)

MARGIN = 18.0
TEXT_WIDTH = 210.0 - 2 * MARGIN
BODY_PT = 9.2
TABLE_PT = 7.4
LINE = 4.6


@dataclass(frozen=True)
class Column:
    """A table column: heading, width (mm) and alignment (``L``, ``C``, ``R``)."""

    title: str
    width: float
    align: str = "R"


@dataclass(frozen=True)
class Row:
    """A table row; ``style`` is ``normal``, ``total`` (bold, shaded), ``group`` (bold),
    ``sub`` (indented), ``italic`` (bloc rows) or ``highlight`` (shaded green)."""

    cells: Sequence[str]
    style: str = "normal"


@dataclass
class Counters:
    """Running numbers of sections, tables and figures."""

    section: int = 0
    table: int = 0
    figure: int = 0
    sections: list[str] = field(default_factory=list)


class Bulletin(FPDF):
    """An A4 market bulletin in one language.

    Parameters
    ----------
    w
        Wording of the report language.
    running_head
        Text of the running head on every page but the cover.
    synthetic
        Print the synthetic-data label in the footer of every page.
    created
        ISO time of the run; used as the PDF creation date so output is reproducible.
    """

    def __init__(self, w: Wording, *, running_head: str, synthetic: bool, created: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.w_ = w
        self.running_head = running_head
        self.synthetic = synthetic
        self.n = Counters()
        self.add_font(FONT, "", str(font_path()))
        self.add_font(FONT, "B", str(font_path(bold=True)))
        self.set_margins(MARGIN, 20, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_creation_date(_timestamp(created))
        self.set_lang(w.lang)
        self.set_creator("cnnt-forecast")
        self.set_text_shaping(False)
        self.set_font(FONT, size=BODY_PT)
        self.set_text_color(*DARK)
        self.set_draw_color(*RULE)

    # -- page furniture -------------------------------------------------------------------
    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(10)
        self.set_font(FONT, size=7)
        self.set_text_color(*GREY)
        self.cell(0, 4, self.running_head, align="L")
        self.set_draw_color(*NAVY)
        self.set_line_width(0.3)
        self.line(MARGIN, 15, 210 - MARGIN, 15)
        self.set_line_width(0.2)
        self.set_draw_color(*RULE)
        self.set_y(20)
        self.set_text_color(*DARK)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 1, 210 - MARGIN, self.get_y() - 1)
        self.set_font(FONT, size=7)
        if self.synthetic:
            self.set_text_color(*RED)
            self.cell(TEXT_WIDTH - 28, 4, self.w_.synthetic_label, align="L")
        else:
            self.cell(TEXT_WIDTH - 28, 4, "")
        self.set_text_color(*GREY)
        self.cell(28, 4, self.w_("page", n=self.page_no(), total="{nb}"), align="R")
        self.set_text_color(*DARK)

    # -- text -------------------------------------------------------------------------------
    def section(self, title: str) -> None:
        """A numbered section heading (``2. Tổng quan kỳ qua``), also a PDF bookmark."""
        self.n.section += 1
        numbered = f"{self.n.section}. {title}"
        self.n.sections.append(numbered)
        self.ensure_space(30)
        if self.get_y() > 25:
            self.ln(3)
        self.start_section(numbered, level=0)
        self.set_font(FONT, "B", 12.5)
        self.set_text_color(*NAVY)
        self.lines(0, 6.5, numbered)
        y = self.get_y() + 0.5
        self.set_draw_color(*NAVY)
        self.set_line_width(0.4)
        self.line(MARGIN, y, MARGIN + 40, y)
        self.set_line_width(0.2)
        self.set_draw_color(*RULE)
        self.ln(3)
        self.set_text_color(*DARK)

    def subheading(self, text: str) -> None:
        """A bold sub-heading kept with at least a few lines of what follows."""
        self.ensure_space(22)
        self.ln(1.5)
        self.set_font(FONT, "B", 10)
        self.set_text_color(*NAVY)
        self.lines(0, 5.5, text)
        self.set_text_color(*DARK)
        self.ln(0.8)

    def paragraph(self, text: str, *, size: float = BODY_PT, style: str = "") -> None:
        """Justified body text."""
        self.set_font(FONT, style, size)
        self.multi_cell(0, LINE, text, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.6)

    def bullets(self, items: Sequence[str], *, size: float = BODY_PT) -> None:
        """A bulleted list with hanging indent."""
        self.set_font(FONT, size=size)
        for item in items:
            self.ensure_space(LINE * 2)
            y = self.get_y()
            self.set_text_color(*NAVY)
            self.set_xy(MARGIN + 1, y)
            self.cell(4, LINE, "•")
            self.set_text_color(*DARK)
            self.set_xy(MARGIN + 5, y)
            self.multi_cell(
                TEXT_WIDTH - 5, LINE, item, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            self.ln(1.2)

    def note(self, text: str) -> None:
        """Small grey note (sources, estimates) under a table or figure."""
        self.set_font(FONT, size=6.8)
        self.set_text_color(*GREY)
        self.lines(0, 3.4, text)
        self.set_text_color(*DARK)
        self.ln(2)

    def lines(self, width: float, height: float, text: str, align: str = "L") -> None:
        """Unjustified text wrapped by the fast wrapper, one ``cell`` per line.

        fpdf2's ``multi_cell`` measures line breaks in time quadratic in the line length;
        only justified paragraphs need it.
        """
        x = self.get_x()
        width = width or (self.w - self.r_margin - x)
        for line in wrap(self, text, width - 2 * self.c_margin):
            self.set_x(x)
            self.cell(width, height, line, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)

    def ensure_space(self, height: float) -> None:
        """Start a new page unless ``height`` mm fit above the bottom margin."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    # -- tables ---------------------------------------------------------------------------
    def caption(self, kind: str, text: str, unit: str | None = None, *, keep: float = 30) -> None:
        """``Bảng 3. …`` or ``Hình 2. …`` above a table or figure, with the unit at the right."""
        self.ensure_space(keep)
        if kind == "table":
            self.n.table += 1
            label = self.w_("table", n=self.n.table)
        else:
            self.n.figure += 1
            label = self.w_("figure", n=self.n.figure)
        self.set_font(FONT, "B", 8.4)
        self.set_text_color(*NAVY)
        self.lines(0, 4.2, f"{label}. {text}")
        if unit:
            self.set_font(FONT, size=7.2)
            self.set_text_color(*GREY)
            self.cell(0, 3.8, unit, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*DARK)
        self.ln(0.6)

    def data_table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Row],
        *,
        heading: Sequence[Sequence[HeadCell]] | None = None,
    ) -> None:
        """A bulletin table: shaded heading (repeated on a new page), grid lines, styled rows.

        ``heading`` replaces the single heading row made of the column titles with several
        rows of merged cells (their spans must cover every column).
        """
        heads = heading or [[HeadCell(c.title) for c in columns]]
        self.set_line_width(0.12)
        table = GridTable(
            self,
            [c.width for c in columns],
            [c.align for c in columns],
            heads,
            font=FONT,
            size=TABLE_PT,
            head_style=Style(bold=True, fill=HEAD_FILL, color=NAVY),
            border=RULE,
        )
        table.render([(row.cells, _ROW_STYLES.get(row.style, _PLAIN)) for row in rows])
        self.set_line_width(0.2)
        self.set_text_color(*DARK)
        self.ln(1.2)

    # -- figures and boxes ------------------------------------------------------------------
    def figure(self, chart: Image.Image, caption: str, *, width: float = TEXT_WIDTH) -> None:
        """A captioned chart at ``width`` mm, kept on one page with its caption."""
        px_w, px_h = chart.size
        height = width * px_h / px_w
        self.caption("figure", caption, keep=height + 12)
        self.image(chart, x=MARGIN, w=width, h=height)
        self.set_y(self.get_y() + 1.5)

    def focus_box(self, label: str, title: str, paragraphs: Sequence[str]) -> None:
        """The TIÊU ĐIỂM box: shaded panel with a navy bar, label, title and text."""
        inner = TEXT_WIDTH - 10
        self.set_font(FONT, size=BODY_PT - 0.4)
        # Measured with the fast wrapper; a dry-run multi_cell costs as much as drawing.
        heights = [len(wrap(self, p, inner - 0.5)) * (LINE - 0.2) for p in paragraphs]
        total = 16 + sum(heights) + 1.5 * len(paragraphs)
        self.ensure_space(total + 4)
        x, y = MARGIN, self.get_y() + 1
        self.set_fill_color(*BOX_FILL)
        self.rect(x, y, TEXT_WIDTH, total, style="F")
        self.set_fill_color(*NAVY)
        self.rect(x, y, 1.6, total, style="F")
        self.set_xy(x + 5, y + 3)
        self.set_font(FONT, "B", 7.5)
        self.set_text_color(*RED)
        self.cell(inner, 4, label, new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font(FONT, "B", 10)
        self.set_text_color(*NAVY)
        self.lines(inner, 5.5, title)
        self.set_text_color(*DARK)
        self.set_font(FONT, size=BODY_PT - 0.4)
        for p in paragraphs:
            self.set_x(x + 5)
            self.multi_cell(inner, LINE - 0.2, p, align="J", new_x=XPos.LEFT, new_y=YPos.NEXT)
            self.ln(1.5)
        self.set_y(y + total + 3)
        self.set_x(MARGIN)

    def recommendation(
        self, number: int, title: str, text: str, basis_label: str, basis: str
    ) -> None:
        """One numbered recommendation with its rule, kept together on a page."""
        self.set_font(FONT, size=BODY_PT)
        h = len(wrap(self, text, TEXT_WIDTH - 7.5)) * LINE
        self.ensure_space(h + 16)
        y = self.get_y()
        self.set_font(FONT, "B", BODY_PT + 0.3)
        self.set_text_color(*NAVY)
        self.set_xy(MARGIN, y)
        self.cell(7, 5, f"{number}.")
        self.lines(TEXT_WIDTH - 7, 5, title)
        self.set_x(MARGIN)
        self.set_text_color(*DARK)
        self.set_font(FONT, size=BODY_PT)
        self.set_x(MARGIN + 7)
        self.multi_cell(TEXT_WIDTH - 7, LINE, text, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_x(MARGIN + 7)
        self.set_font(FONT, size=7.6)
        self.set_text_color(*GREY)
        self.lines(TEXT_WIDTH - 7, 3.8, f"{basis_label}: {basis}.")
        self.set_text_color(*DARK)
        self.ln(2.5)


_PLAIN = Style()
_ROW_STYLES: dict[str, Style] = {
    "total": Style(bold=True, fill=TOTAL_FILL),
    "group": Style(bold=True, fill=GROUP_FILL),
    "sub": Style(indent=3.0),
    "italic": Style(color=(90, 90, 90)),
    "highlight": Style(fill=(232, 241, 228)),
}


def _timestamp(iso: str) -> datetime:
    """The run's creation time (UTC) as an aware datetime; a fixed epoch if unreadable."""
    try:
        ts = pd.Timestamp(iso)
    except (ValueError, TypeError):
        return datetime(2000, 1, 1, tzinfo=UTC)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()
