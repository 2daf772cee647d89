"""Outlook reports: PDF bulletins and CSV outlooks for the nation, regions and provinces.

Public entry point: :func:`write_reports`. The layers, bottom up: :mod:`.inputs` (validated
view of a :class:`~forecast.results.RunResult`), :mod:`.views` (the numbers of each report),
:mod:`.narrative` and :mod:`.recommend` (sentences and rule-based recommendations),
:mod:`.formatting` with :mod:`.text_vi` / :mod:`.text_en` (locale and wording),
:mod:`.charts`, :mod:`.pdf` and :mod:`.csv`.
"""

from forecast.reports.build import resolve_scopes, write_reports
from forecast.reports.scope import Scope

__all__ = ["Scope", "resolve_scopes", "write_reports"]
