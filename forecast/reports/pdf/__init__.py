"""PDF bulletins (fpdf2): one module per group of sections, composed per scope here."""

from __future__ import annotations

from forecast.reports.inputs import ReportData
from forecast.reports.pdf.appendix import appendix
from forecast.reports.pdf.context import Ctx
from forecast.reports.pdf.cover import cover, summary
from forecast.reports.pdf.document import Bulletin
from forecast.reports.pdf.forecast import forecast
from forecast.reports.pdf.linkage import linkage, position, recommend
from forecast.reports.pdf.markets import domestic, exports
from forecast.reports.pdf.overview import overview
from forecast.reports.text import Wording
from forecast.reports.views import ScopeView

__all__ = ["render_pdf"]


def render_pdf(view: ScopeView, data: ReportData, w: Wording) -> bytes:
    """The bulletin for one scope, as PDF bytes.

    Sections follow the ministry outline (``report_structure.md``): cover; 1 key points;
    2 overview; 3 exports; 4 domestic market; 5 forecast; 6 linkage and comparative
    advantage (province: position and partners); 7 recommendations; 8 appendix.

    Parameters
    ----------
    view
        What the scope's report shows (:class:`~forecast.reports.views.ViewBuilder`).
    data
        The run's tables.
    w
        Wording and number formatting of the report language.

    Returns
    -------
    bytes
        The PDF; the same inputs give the same bytes.
    """
    meta = view.meta
    head = " · ".join(
        (w("title_short"), view.scope.name(w.lang), w.fmt.period(meta.last_period, long=True))
    )
    pdf = Bulletin(w, running_head=head, synthetic=meta.synthetic, created=meta.created_at)
    pdf.set_title(f"{w('title_short')} — {view.scope.name(w.lang)}")
    pdf.set_subject(w.fmt.period(meta.last_period, long=True))
    ctx = Ctx(pdf=pdf, view=view, data=data, w=w)
    cover(ctx)
    summary(ctx)
    overview(ctx)
    exports(ctx)
    domestic(ctx)
    forecast(ctx)
    if view.scope.kind == "province":
        position(ctx)
    else:
        linkage(ctx)
    recommend(ctx)
    appendix(ctx)
    return bytes(pdf.output())
