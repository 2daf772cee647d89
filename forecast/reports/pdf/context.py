"""What every PDF section receives, and the formatting shared by section tables."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from forecast.reports.charts import ChartText
from forecast.reports.formatting import MISSING, DisplayUnit, Formatter
from forecast.reports.inputs import ReportData
from forecast.reports.pdf.document import Bulletin, Column, HeadCell, Row
from forecast.reports.text import Wording, clean
from forecast.reports.views import ScopeView

#: Width of the name column of the standard bulletin tables (mm); the rest share the page.
NAME_WIDTH = 66.0
#: Number of history periods shown before a forecast.
FAN_HISTORY = 24
HISTORY_SPAN = 36


@dataclass
class Ctx:
    """A report being written: the page, its numbers, the run's tables and the wording."""

    pdf: Bulletin
    view: ScopeView
    data: ReportData
    w: Wording

    @property
    def fmt(self) -> Formatter:
        """Number and period formatting of the report language."""
        return self.w.fmt

    def unit_for(self, values: object) -> DisplayUnit:
        """One display unit for a table column (or chart) holding ``values``."""
        return self.fmt.display_unit(values, self.view.unit)

    def unit_line(self, du: DisplayUnit) -> str:
        """``ĐVT: triệu USD``."""
        return self.w("unit", unit=du.label)

    def chart_text(self, du: DisplayUnit) -> ChartText:
        """Localised words and tick formatting for a chart in display unit ``du``."""
        f, w = self.fmt, self.w

        def number(v: float) -> str:
            return f.number(v, 0 if abs(v) >= 10 or v == 0 else 1)

        def month(p: pd.Period) -> str:
            kind = p.freqstr.upper()[0]
            if kind == "M":
                short = f"T{p.month}" if w.lang == "vi" else f.period(p).split()[0]
                first = p.month == 1
            elif kind == "Q":
                short = (
                    ("I", "II", "III", "IV")[p.quarter - 1] if w.lang == "vi" else f"Q{p.quarter}"
                )
                first = p.quarter == 1
            else:
                return str(p.year)
            return f"{short}\n{p.year}" if first else short

        words = {
            k: w(f"chart_{k}")
            for k in ("actual", "forecast", "tet", "total", "domestic", "export", "lq_line")
        }
        words["band"] = w("chart_band", level="{level}")  # the chart fills in each level
        return ChartText(number=number, month_label=month, unit=du.label, words=words)

    def sources(self) -> str:
        """Source labels of the run's input batches, cleaned, for ``Nguồn:`` lines."""
        src = self.data.sources
        if src.empty or "source_label" not in src.columns:
            return "-"
        labels = [c for c in (clean(s, 60).strip() for s in src["source_label"]) if c]
        return "; ".join(dict.fromkeys(labels)) or "-"

    def source_note(self) -> None:
        """The ``Nguồn: …`` line under a table or chart."""
        self.pdf.note(self.w("source_note", sources=self.sources()))

    def no_data(self) -> None:
        """A one-line "no data" note for a section whose table is empty."""
        self.pdf.paragraph(self.w("no_data", run_id=self.view.meta.run_id), style="")


def pct(f: Formatter, value: object, decimals: int = 1) -> str:
    """A percentage cell (no ``%`` sign; the heading says ``(%)``)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING
    return f.pct(v, decimals) if math.isfinite(v) else MISSING


def bulletin_columns(ctx: Ctx, first: str) -> list[Column]:
    """The VITIC columns: name | month | +/- m/m | year to date | +/- y/y | share."""
    f, w, p = ctx.fmt, ctx.w, ctx.view.periods
    rest = (174.0 - NAME_WIDTH) / 5
    return [
        Column(first, NAME_WIDTH, "L"),
        Column(f.period(p.last), rest),
        Column(w("col_mom", prev=f.period(p.prev)), rest),
        Column(f.ytd_short(p.last, p.first), rest),
        Column(w("col_yoy"), rest),
        Column(w("col_share"), rest),
    ]


def bulletin_rows(
    ctx: Ctx, df: pd.DataFrame, du: DisplayUnit, name: Callable[[pd.Series], tuple[str, str]]
) -> list[Row]:
    """Rows of a VITIC table; ``name(row)`` returns the label and the row style."""
    f = ctx.fmt
    rows = []
    for _, r in df.iterrows():
        label, style = name(r)
        rows.append(
            Row(
                [
                    label,
                    f.scaled(r["last"], du),
                    pct(f, r["mom"]),
                    f.scaled(r["ytd"], du),
                    pct(f, r["yoy"]),
                    pct(f, r["share"]),
                ],
                style,
            )
        )
    return rows


def product_label(ctx: Ctx, total_label: str) -> Callable[[pd.Series], tuple[str, str]]:
    """Row label and style for product tables: total, CNNT group (bold), category (indented)."""

    def label(r: pd.Series) -> tuple[str, str]:
        if r["kind"] == "total":
            return total_label, "total"
        if r["kind"] == "group":
            return ctx.w.category(r["key"]), "group"
        return ctx.w.category(r["key"]), "sub"

    return label


def two_level_heading(
    first: str, groups: Sequence[tuple[str, Sequence[str]]], tail: Sequence[str] = ()
) -> list[list[HeadCell]]:
    """A heading with a first column spanning two rows, grouped columns, and tail columns."""
    top = [HeadCell(first, rowspan=2)]
    bottom: list[HeadCell] = []
    for title, subs in groups:
        top.append(HeadCell(title, colspan=len(subs)))
        bottom.extend(HeadCell(s) for s in subs)
    top.extend(HeadCell(t, rowspan=2) for t in tail)
    return [top, bottom]
