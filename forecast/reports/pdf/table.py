"""A fast grid-table renderer for fpdf2.

fpdf2's ``table()`` lays out every cell with ``multi_cell`` twice (measure, then draw),
which made tables the slowest part of a 41-report run. Here text is wrapped once with
``get_string_width`` and drawn with ``cell``: about twenty times faster, with the features
the bulletins need (multi-row headings with merged cells repeated on each page, row
styles, wrapped text, right-aligned numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

#: Cell padding (mm), horizontal and vertical, and the line height factor of the font size.
PAD_X = 1.2
PAD_Y = 0.85
LINE_FACTOR = 0.48


@dataclass(frozen=True)
class Style:
    """How a row (or the heading) is drawn."""

    bold: bool = False
    fill: tuple[int, int, int] | None = None
    color: tuple[int, int, int] = (38, 38, 38)
    indent: float = 0.0


@dataclass(frozen=True)
class Cell:
    """A heading cell spanning ``colspan`` columns and ``rowspan`` heading rows."""

    text: str
    colspan: int = 1
    rowspan: int = 1


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` mm in the current font."""
    out: list[str] = []
    for para in text.split("\n"):
        if pdf.get_string_width(para) <= width:
            out.append(para)
            continue
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if pdf.get_string_width(trial) <= width or not line:
                line = trial
            else:
                out.append(line)
                line = word
            while pdf.get_string_width(line) > width and len(line) > 1:  # a very long word
                cut = len(line) - 1
                while cut > 1 and pdf.get_string_width(line[:cut]) > width:
                    cut -= 1
                out.append(line[:cut])
                line = line[cut:]
        out.append(line)
    return out or [""]


class GridTable:
    """Draws one table at the current position of ``pdf``, breaking pages as needed.

    Parameters
    ----------
    pdf
        The document; its font family and colours are used.
    widths, aligns
        Column widths (mm) and alignments (``L``, ``C``, ``R``).
    heading
        Heading rows of :class:`Cell`; spans must cover every column.
    font, size
        Font family and size (pt) of the table.
    head_style
        Style of the heading (repeated after each page break).
    """

    def __init__(
        self,
        pdf: FPDF,
        widths: Sequence[float],
        aligns: Sequence[str],
        heading: Sequence[Sequence[Cell]],
        *,
        font: str,
        size: float,
        head_style: Style,
        border: tuple[int, int, int],
    ) -> None:
        self.pdf = pdf
        self.widths = list(widths)
        self.aligns = list(aligns)
        self.heading = heading
        self.font = font
        self.size = size
        self.line = size * LINE_FACTOR
        self.head_style = head_style
        self.border = border
        self.x0 = pdf.l_margin

    # -- heading ---------------------------------------------------------------------------
    def _heading_layout(self) -> tuple[list[float], list[tuple[float, float, int, int, Cell]]]:
        """Row heights and, per cell, (x, width, first row, rowspan, cell)."""
        pdf = self.pdf
        pdf.set_font(self.font, "B" if self.head_style.bold else "", self.size - 0.3)
        n_rows = len(self.heading)
        occupied = [[False] * len(self.widths) for _ in range(n_rows)]
        placed = []
        for r, row in enumerate(self.heading):
            col = 0
            for cell in row:
                while col < len(self.widths) and occupied[r][col]:
                    col += 1
                x = self.x0 + sum(self.widths[:col])
                w = sum(self.widths[col : col + cell.colspan])
                for rr in range(r, min(n_rows, r + cell.rowspan)):
                    for cc in range(col, col + cell.colspan):
                        occupied[rr][cc] = True
                placed.append((x, w, r, cell.rowspan, cell))
                col += cell.colspan
        heights = [0.0] * n_rows
        for _x, w, r, span, cell in placed:
            if span == 1:
                need = len(wrap(pdf, cell.text, w - 2 * PAD_X)) * self.line + 2 * PAD_Y
                heights[r] = max(heights[r], need)
        for _x, w, r, span, cell in placed:
            if span > 1:
                need = len(wrap(pdf, cell.text, w - 2 * PAD_X)) * self.line + 2 * PAD_Y
                have = sum(heights[r : r + span])
                if need > have:
                    heights[r + span - 1] += need - have
        return heights, placed

    def _draw_heading(self) -> None:
        pdf, st = self.pdf, self.head_style
        heights, placed = self._heading_layout()
        y0 = pdf.get_y()
        pdf.set_font(self.font, "B" if st.bold else "", self.size - 0.3)
        for x, w, r, span, cell in placed:
            y = y0 + sum(heights[:r])
            h = sum(heights[r : r + span])
            lines = wrap(pdf, cell.text, w - 2 * PAD_X)
            self._box(x, y, w, h, st.fill)
            top = y + (h - len(lines) * self.line) / 2
            pdf.set_text_color(*st.color)
            for i, text in enumerate(lines):
                pdf.set_xy(x + PAD_X, top + i * self.line)
                pdf.cell(w - 2 * PAD_X, self.line, text, align="C")
        pdf.set_xy(self.x0, y0 + sum(heights))

    def _box(
        self, x: float, y: float, w: float, h: float, fill: tuple[int, int, int] | None
    ) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*self.border)
        if fill:
            pdf.set_fill_color(*fill)
            pdf.rect(x, y, w, h, style="DF")
        else:
            pdf.rect(x, y, w, h, style="D")

    # -- body --------------------------------------------------------------------------------
    def render(self, rows: Sequence[tuple[Sequence[str], Style]]) -> None:
        """Draw the heading and ``rows`` (cell texts and a style each)."""
        pdf = self.pdf
        # fpdf2 pads cell text by c_margin; the grid does its own padding.
        c_margin, pdf.c_margin = pdf.c_margin, 0.0
        try:
            self._render(rows)
        finally:
            pdf.c_margin = c_margin

    def _render(self, rows: Sequence[tuple[Sequence[str], Style]]) -> None:
        pdf = self.pdf
        self._draw_heading()
        for cells, st in rows:
            pdf.set_font(self.font, "B" if st.bold else "", self.size)
            lines = [
                wrap(pdf, text, w - 2 * PAD_X - (st.indent if i == 0 else 0))
                for i, (text, w) in enumerate(zip(cells, self.widths, strict=True))
            ]
            h = max(len(ls) for ls in lines) * self.line + 2 * PAD_Y
            if pdf.get_y() + h > pdf.page_break_trigger:
                pdf.add_page()
                self._draw_heading()
                pdf.set_font(self.font, "B" if st.bold else "", self.size)
            y = pdf.get_y()
            x = self.x0
            pdf.set_text_color(*st.color)
            for i, (cell_lines, w) in enumerate(zip(lines, self.widths, strict=True)):
                self._box(x, y, w, h, st.fill)
                indent = st.indent if i == 0 else 0.0
                top = y + (h - len(cell_lines) * self.line) / 2
                for k, text in enumerate(cell_lines):
                    pdf.set_xy(x + PAD_X + indent, top + k * self.line)
                    pdf.cell(w - 2 * PAD_X - indent, self.line, text, align=self.aligns[i])
                x += w
            pdf.set_xy(self.x0, y + h)
