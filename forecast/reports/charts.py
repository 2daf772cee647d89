"""Report charts with matplotlib (drawn by the Agg canvas, no display), returned as RGB images.

Charts use the DejaVu Sans font that ships inside matplotlib (it covers Vietnamese), never a
system font. They are returned as Pillow images rather than PNG files: the PDF embeds the
pixels once (fpdf2 would decode a PNG and compress it again), and pixels carry no
timestamp or software metadata, so the same numbers always give the same PDF bytes.
:func:`to_png` writes one as a metadata-free PNG. Sizes are in inches at the printed size;
the PDF places them at the full text width.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.typing import RcKeyType
from PIL import Image

from forecast.data.calendar import tet_date

#: Raster resolution: sharp in print at the placed size, light enough for 41 PDFs.
DPI = 170
#: Printed text width of the A4 page (mm 174) in inches.
WIDTH = 6.85

NAVY = "#1F3864"
BLUE = "#2E75B6"
ORANGE = "#C55A11"
GREY = "#7F7F7F"
BAND80 = "#8FB4DE"
BAND95 = "#D5E3F3"
TET = "#F4D6CC"


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans shipped with matplotlib (covers Vietnamese); used by charts and PDFs."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


#: The charts' look, applied only while a chart is built and drawn (:func:`styled`), so
#: that importing the package leaves a caller's own matplotlib settings alone.
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.titleweight": "bold",
    "axes.labelsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#595959",
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#D9D9D9",
    "grid.linewidth": 0.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "xtick.major.width": 0.5,
    "ytick.major.width": 0.5,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "svg.hashsalt": "cnnt",
    "path.simplify": True,
}

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _register_fonts() -> None:
    # Registering adds the shipped font files to matplotlib's font list; nothing else moves.
    for bold in (False, True):
        font_manager.fontManager.addfont(str(font_path(bold)))


def styled(build: Callable[P, R]) -> Callable[P, R]:
    """Run a chart builder under :data:`STYLE` (``matplotlib.rc_context``)."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _register_fonts()
        with matplotlib.rc_context(STYLE):
            return build(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class ChartText:
    """Localised words and number formatting a chart needs.

    Parameters
    ----------
    number
        Formats an axis value (already in the display unit), e.g. ``1.234``.
    month_label
        Short tick label for a period (``T3`` / ``Mar``; the year under January).
    unit
        Display-unit label for the value axis (``triệu USD``).
    words
        ``actual``, ``forecast``, ``band`` (with a ``{level}`` field), ``tet``, ``total``,
        ``domestic``, ``export``, ``lq_line``.
    """

    number: Callable[[float], str]
    month_label: Callable[[pd.Period], str]
    unit: str
    words: dict[str, str]


def _render(fig: Figure, *, close: bool = True) -> Image.Image:
    """Draw ``fig`` with Agg and return its pixels as an RGB image (no alpha to embed)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    rgb = image.convert("RGB")
    if close:
        fig.clear()
    return rgb


def to_png(image: Image.Image) -> bytes:
    """PNG bytes of a chart, without metadata (for inspection and tests)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure outside pyplot's global registry (nothing to close, nothing shared)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    return fig, fig.subplots()


def _period_axis(
    ax: Axes, periods: Sequence[pd.Period], text: ChartText, *, months: int = 3
) -> None:
    """Ticks every ``months`` months (monthly data, long spans), every year (quarterly data,
    long spans) or every period; labels ``T1\\n2025``, ``T4``..."""
    n = len(periods)
    kind = periods[0].freqstr.upper()[0] if n else "M"
    if n <= 18:
        ticks = list(range(n))
    elif kind == "M":
        ticks = [i for i, p in enumerate(periods) if p.month % months == 1 % months]
    elif kind == "Q":
        ticks = [i for i, p in enumerate(periods) if p.quarter == 1]
    else:
        ticks = list(range(0, n, max(1, n // 8)))
    ax.set_xticks(ticks)
    ax.set_xticklabels([text.month_label(periods[i]) for i in ticks])
    ax.set_xlim(-0.6, n - 0.4)
    ax.tick_params(axis="x", length=2)


def nice_locator() -> MaxNLocator:
    """Ticks at 1, 2 or 5 times a power of ten, so one decimal always labels them exactly."""
    return MaxNLocator(5, min_n_ticks=3, steps=[1, 2, 5, 10])


def _value_axis(ax: Axes, text: ChartText) -> None:
    ax.yaxis.set_major_locator(nice_locator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: text.number(v)))
    ax.set_ylim(bottom=0)


def _tet_positions(periods: Sequence[pd.Period]) -> list[int]:
    """Positions of the periods that contain the first day of Tết (monthly data only)."""
    out = []
    for i, p in enumerate(periods):
        if p.freqstr.upper().startswith("M"):
            tet = tet_date(p.year)
            if tet is not None and tet.month == p.month:
                out.append(i)
    return out


def _mark_tet(
    ax: Axes, periods: Sequence[pd.Period], text: ChartText, *, label: bool = True
) -> None:
    for i in _tet_positions(periods):
        ax.axvspan(i - 0.5, i + 0.5, color=TET, lw=0, zorder=0)
        if label:
            ax.text(
                i,
                1.0,
                text.words["tet"],
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=5.5,
                color=ORANGE,
            )


@styled
def history_chart(series: dict[str, pd.Series], text: ChartText) -> Image.Image:
    """Monthly lines (total, domestic, export) with Tết months shaded.

    Parameters
    ----------
    series
        ``{"total": s, "domestic": s, "export": s}``, each indexed by period, values in the
        display unit; missing keys are skipped.
    """
    fig, ax = _figure(WIDTH, 2.45)
    # Fixed margins instead of constrained layout: same look, a fraction of the cost.
    fig.subplots_adjust(left=0.085, right=0.99, top=0.93, bottom=0.25)
    periods = list(next(iter(series.values())).index)
    x = np.arange(len(periods))
    _mark_tet(ax, periods, text)
    styles = {"total": (NAVY, 1.6), "export": (BLUE, 1.0), "domestic": (ORANGE, 1.0)}
    for key, s in series.items():
        color, lw = styles.get(key, (GREY, 1.0))
        ax.plot(x, s.to_numpy(dtype=float), color=color, lw=lw, label=text.words[key])
    _period_axis(ax, periods, text)
    _value_axis(ax, text)
    ax.set_ylabel(text.unit)
    ax.legend(loc="upper left", ncols=3, bbox_to_anchor=(0, -0.17))
    return _render(fig)


def _fan(
    ax: Axes,
    hist: pd.Series,
    fc: pd.DataFrame,
    levels: Sequence[int],
    text: ChartText,
    *,
    legend: bool,
) -> None:
    periods = list(hist.index) + list(fc.index)
    n_h = len(hist)
    x_h = np.arange(n_h)
    x_f = np.arange(n_h - 1, len(periods))  # start the fan at the last actual
    last = float(hist.iloc[-1]) if n_h else np.nan
    _mark_tet(ax, periods, text, label=legend)
    # Widest band first and lightest, so the narrower band is drawn on top of it.
    for lv in sorted(levels, reverse=True):
        lo = np.r_[last, fc[f"lo_{lv}"].to_numpy(dtype=float)]
        hi = np.r_[last, fc[f"hi_{lv}"].to_numpy(dtype=float)]
        color = BAND95 if lv == max(levels) else BAND80
        ax.fill_between(x_f, lo, hi, color=color, lw=0, label=text.words["band"].format(level=lv))
    ax.plot(x_h, hist.to_numpy(dtype=float), color=NAVY, lw=1.2, label=text.words["actual"])
    ax.plot(
        x_f,
        np.r_[last, fc["yhat"].to_numpy(dtype=float)],
        color=NAVY,
        lw=1.2,
        ls=(0, (3, 1.5)),
        label=text.words["forecast"],
    )
    ax.axvline(n_h - 0.5, color=GREY, lw=0.5, ls=":")
    _period_axis(ax, periods, text)
    _value_axis(ax, text)
    if legend:
        ax.legend(loc="upper left", ncols=4, bbox_to_anchor=(0, -0.17))


@styled
def fan_chart(
    hist: pd.Series, fc: pd.DataFrame, levels: Sequence[int], text: ChartText
) -> Image.Image:
    """One large fan chart: actuals, point forecast, and interval bands (widest lightest).

    Parameters
    ----------
    hist
        Actuals by period (display unit).
    fc
        Forecast by period with columns ``yhat``, ``lo_L``, ``hi_L`` for each level.
    """
    fig, ax = _figure(WIDTH, 2.6)
    fig.subplots_adjust(left=0.085, right=0.99, top=0.93, bottom=0.24)
    _fan(ax, hist, fc, levels, text, legend=True)
    ax.set_ylabel(text.unit)
    return _render(fig)


@styled
def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    notes: Sequence[str],
    text: ChartText,
    *,
    color: str = BLUE,
    height: float | None = None,
) -> Image.Image:
    """Horizontal bars, largest on top, each annotated (share or change)."""
    n = len(labels)
    fig_h = height or 0.22 * n + 0.5
    fig, ax = _figure(WIDTH, fig_h)
    _bar_margins(fig, labels, fig_h)
    y = np.arange(n)[::-1]
    vals = np.asarray(values, dtype=float)
    ax.barh(y, vals, color=color, height=0.62)
    top = float(np.nanmax(vals)) if n else 1.0
    for yi, v, note in zip(y, vals, notes, strict=True):
        ax.text(v + top * 0.01, yi, note, va="center", fontsize=6.5, color="#262626")
    ax.set_yticks(y)
    ax.set_yticklabels([_wrap(lbl, 40) for lbl in labels])
    ax.set_xlim(0, top * 1.18 if top > 0 else 1)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_locator(nice_locator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: text.number(v)))
    ax.set_xlabel(text.unit)
    return _render(fig)


@styled
def lq_chart(
    labels: Sequence[str], domestic: Sequence[float], export: Sequence[float], text: ChartText
) -> Image.Image:
    """Location quotients per category, domestic and export, with the LQ = 1 line."""
    n = len(labels)
    fig_h = 0.28 * n + 0.75
    fig, ax = _figure(WIDTH, fig_h)
    _bar_margins(fig, labels, fig_h, bottom=0.62)
    y = np.arange(n)[::-1]
    ax.barh(
        y + 0.18,
        np.nan_to_num(np.asarray(domestic, dtype=float)),
        height=0.34,
        color=ORANGE,
        label=text.words["domestic"],
    )
    ax.barh(
        y - 0.18,
        np.nan_to_num(np.asarray(export, dtype=float)),
        height=0.34,
        color=BLUE,
        label=text.words["export"],
    )
    ax.axvline(1.0, color=NAVY, lw=0.8, ls="--", label=text.words["lq_line"])
    ax.set_yticks(y)
    ax.set_yticklabels([_wrap(lbl, 40) for lbl in labels])
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_locator(nice_locator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: text.number(v)))
    # Below the tick labels: 0.3 in under the axes, in axes-height units.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3 / (fig_h - 0.7)), ncols=3)
    return _render(fig)


def _bar_margins(
    fig: Figure, labels: Sequence[str], height: float, *, bottom: float = 0.42
) -> None:
    """Left margin wide enough for the (wrapped) category labels, without a layout engine."""
    longest = max((len(line) for lbl in labels for line in _wrap(lbl, 40).split("\n")), default=10)
    # DejaVu Sans at 6.5 pt averages about 0.052 in per character.
    left = min(0.5, (longest * 0.052 + 0.15) / WIDTH)
    fig.subplots_adjust(left=left, right=0.97, top=1 - 0.08 / height, bottom=bottom / height)


def _wrap(label: str, width: int) -> str:
    """Break a long label on a space near ``width`` characters (two lines at most)."""
    if len(label) <= width:
        return label
    cut = label.rfind(" ", 0, width)
    cut = cut if cut > 0 else width
    rest = label[cut:].strip()
    if len(rest) > width:
        rest = rest[: width - 1] + "…"
    return label[:cut] + "\n" + rest
