"""Timing of the full report set: 41 PDFs (nation, 6 regions, 34 provinces) on 2 workers.

Slow (about half a minute on 2 free cores): run with ``make bench`` or ``pytest -m slow``.
"""

import time

import pytest
from report_fixtures import ALL_CATEGORIES, DESTINATIONS, make_result

from forecast.reports import write_reports

#: Issue 5: all 41 PDFs of the demo run in under 60 s on 2 cores.
BUDGET_SECONDS = 60.0


@pytest.mark.slow
def test_41_pdfs_in_under_a_minute_on_two_workers(tmp_path):
    result = make_result(
        province_names=None, category_codes=ALL_CATEGORIES, destinations=(*DESTINATIONS, "ZZ")
    )
    start = time.perf_counter()
    paths = write_reports(result, tmp_path, formats=("pdf", "csv"), jobs=2)
    elapsed = time.perf_counter() - start
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    print(
        f"\n41 PDFs + {len(paths) - len(pdfs)} CSVs, 34 provinces x 15 categories: "
        f"{elapsed:.1f} s on 2 workers"
    )
    assert len(pdfs) == 41
    assert elapsed < BUDGET_SECONDS
