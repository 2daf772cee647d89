"""Small-multiple fan charts (one panel per category), drawn from a reused figure.

Building a 3 x 3 matplotlib figure costs far more than drawing it: axes, ticks and texts
are hundreds of objects. Every report of a run has the same periods, levels and language,
so the figure is built once per process and only the data-dependent artists (lines, bands,
titles, y limits) are replaced for each report. Everything a panel shows is reset on each
call, so the PNG depends only on the arguments (tested: a reused figure gives the same
pixels as a fresh one).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter
from PIL import Image

from forecast.reports import charts

#: Figures kept per process (one per layout/language/periods combination).
MAX_TEMPLATES = 4


@dataclass
class _Panel:
    ax: Axes
    actual: Line2D
    forecast: Line2D
    bands: list[PolyCollection]
    title: Text


class _Template:
    """A built grid figure whose panels can be refilled with new data."""

    def __init__(
        self,
        nrows: int,
        ncols: int,
        periods: tuple[pd.Period, ...],
        n_hist: int,
        levels: tuple[int, ...],
        text: charts.ChartText,
    ) -> None:
        height = 1.8 * nrows + 0.3
        self.fig = Figure(figsize=(charts.WIDTH, height), dpi=charts.DPI)
        # Measures title widths; built once per template, not per panel and report.
        self._measure = FigureCanvasAgg(self.fig).get_renderer()
        axes = self.fig.subplots(nrows, ncols, squeeze=False)
        self.fig.subplots_adjust(
            left=0.06,
            right=0.99,
            top=1 - 0.34 / height,
            bottom=0.5 / height,
            wspace=0.22,
            hspace=0.5,
        )
        self.n_hist = n_hist
        self.ncols = ncols
        self.levels = levels
        self.x_h = np.arange(n_hist)
        self.x_f = np.arange(n_hist - 1, len(periods))
        self.panels: list[_Panel] = []
        for ax in axes.flat:
            charts._mark_tet(ax, periods, text, label=False)
            actual = ax.plot(
                self.x_h, np.zeros(n_hist), color=charts.NAVY, lw=1.2, label=text.words["actual"]
            )[0]
            fc = ax.plot(
                self.x_f,
                np.zeros(len(self.x_f)),
                color=charts.NAVY,
                lw=1.2,
                ls=(0, (3, 1.5)),
                label=text.words["forecast"],
            )[0]
            ax.axvline(n_hist - 0.5, color=charts.GREY, lw=0.5, ls=":")
            # Half-yearly ticks: small panels, and text is most of the drawing time.
            charts._period_axis(ax, periods, text, months=6)
            ax.yaxis.set_major_locator(charts.nice_locator())
            ax.tick_params(axis="both", labelsize=5.5)
            title = ax.set_title("", loc="left", fontsize=7, pad=3)
            self.panels.append(_Panel(ax, actual, fc, [], title))
        # Legend from proxy artists, so it never depends on a panel's data.
        proxies = [
            PolyCollection(
                [],
                color=charts.BAND95 if lv == max(levels) else charts.BAND80,
                label=text.words["band"].format(level=lv),
            )
            for lv in sorted(levels, reverse=True)
        ]
        handles = [*proxies, self.panels[0].actual, self.panels[0].forecast]
        self.fig.legend(handles, [str(h.get_label()) for h in handles], loc="lower center", ncols=4)

    def render(
        self, panels: Sequence[tuple[str, pd.Series, pd.DataFrame]], number: Callable[[float], str]
    ) -> Image.Image:
        formatter = FuncFormatter(lambda v, _pos: number(v))
        for panel, (title, hist, fc) in zip(self.panels, panels, strict=False):
            self._fill(panel, title, hist, fc, formatter)
        for panel in self.panels[len(panels) :]:
            panel.ax.set_visible(False)
        # Period labels only under the lowest visible panel of each column.
        for i, panel in enumerate(self.panels[: len(panels)]):
            panel.ax.tick_params(axis="x", labelbottom=i + self.ncols >= len(panels))
        return charts._render(self.fig, close=False)

    def _fill(
        self, p: _Panel, title: str, hist: pd.Series, fc: pd.DataFrame, formatter: FuncFormatter
    ) -> None:
        h = hist.to_numpy(dtype=float)
        last = h[-1] if len(h) else np.nan
        for band in p.bands:
            band.remove()
        p.bands = []
        top = np.nanmax(np.r_[h, fc["yhat"].to_numpy(dtype=float), 0.0])
        for lv in sorted(self.levels, reverse=True):
            lo = np.r_[last, fc[f"lo_{lv}"].to_numpy(dtype=float)]
            hi = np.r_[last, fc[f"hi_{lv}"].to_numpy(dtype=float)]
            top = max(top, float(np.nanmax(np.r_[hi, 0.0])))
            color = charts.BAND95 if lv == max(self.levels) else charts.BAND80
            band = p.ax.fill_between(self.x_f, lo, hi, color=color, lw=0, zorder=1)
            p.bands.append(band)
        p.actual.set_ydata(h)
        p.actual.set_zorder(3)
        p.forecast.set_ydata(np.r_[last, fc["yhat"].to_numpy(dtype=float)])
        p.forecast.set_zorder(3)
        p.title.set_text(self._fit(p, title))
        p.ax.set_ylim(0, top * 1.06 if top > 0 else 1.0)
        p.ax.yaxis.set_major_formatter(formatter)
        p.ax.set_visible(True)

    def _fit(self, p: _Panel, label: str, lines: int = 2) -> str:
        """``label`` broken on spaces into at most ``lines`` lines, each no wider than the
        panel (measured in the title's font: a count of characters let a right-hand title
        run past the figure's edge), the last cut with an ellipsis if need be."""
        renderer = self._measure
        prop = p.title.get_fontproperties()
        limit = p.ax.get_position().width * self.fig.get_figwidth() * self.fig.dpi

        def fits(s: str) -> bool:
            return renderer.get_text_width_height_descent(s, prop, ismath=False)[0] <= limit

        out: list[str] = []
        words = label.split()
        while words and len(out) < lines:
            line = words.pop(0)
            while words and fits(f"{line} {words[0]}"):
                line = f"{line} {words.pop(0)}"
            out.append(line)

        def cut(line: str) -> str:
            while len(line) > 1 and not fits(line + "…"):
                line = line[:-1].rstrip()
            return line + "…"

        # A single word wider than the panel is cut where it stands; words left over
        # end the last line with an ellipsis.
        out = [line if fits(line) else cut(line) for line in out]
        if words:
            out[-1] = cut(" ".join([out[-1].removesuffix("…"), *words]))
        return "\n".join(out)


_TEMPLATES: OrderedDict[tuple[object, ...], _Template] = OrderedDict()


@charts.styled
def fan_grid(
    panels: Sequence[tuple[str, pd.Series, pd.DataFrame]],
    levels: Sequence[int],
    text: charts.ChartText,
    ncols: int = 3,
) -> Image.Image:
    """Small multiples: one fan chart per category.

    Parameters
    ----------
    panels
        ``(title, actuals, forecast)`` per panel; every panel must have the same periods
        (actuals by period; forecast with ``yhat``, ``lo_L``, ``hi_L`` per level).
    levels
        Interval levels, e.g. ``(80, 95)``.
    text
        Localised words and number formatting.
    ncols
        Panels per row.
    """
    if not panels:
        raise ValueError("fan_grid needs at least one panel.")
    hist0, fc0 = panels[0][1], panels[0][2]
    periods = (*hist0.index, *fc0.index)
    nrows = -(-len(panels) // ncols)
    key = (
        nrows,
        ncols,
        periods,
        len(hist0),
        tuple(levels),
        tuple(sorted(text.words.items())),
        tuple(text.month_label(p) for p in periods),
    )
    template = _TEMPLATES.get(key)
    if template is None:
        template = _Template(nrows, ncols, periods, len(hist0), tuple(levels), text)
        _TEMPLATES[key] = template
        while len(_TEMPLATES) > MAX_TEMPLATES:
            _TEMPLATES.popitem(last=False)
    else:
        _TEMPLATES.move_to_end(key)
    return template.render(panels, text.number)


def clear_templates() -> None:
    """Drop the cached figures (tests use this to compare reused and fresh output)."""
    _TEMPLATES.clear()
