"""Reproducibility: the same warehouse and settings give byte-identical CSV outlooks.

Across two runs, across 1 and 2 worker processes (forecasts and PDF rendering), and
through the run registry (a run saved and loaded again reports the same bytes). Run ids
and creation times differ between the runs; no CSV carries them.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pandas as pd
import pytest
from pipeline_fixtures import small_workspace
from typer.testing import CliRunner

from forecast.cli import app
from forecast.pipeline import run_pipeline
from forecast.registry import load_run, save_run
from forecast.reports import write_reports


def _csv_bytes(result, folder) -> dict[str, bytes]:
    files = write_reports(result, folder, formats=("csv",))
    return {path.name: path.read_bytes() for path in files}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three runs of one small warehouse: jobs 1, jobs 1 again (an hour later), jobs 2."""
    tmp = tmp_path_factory.mktemp("repro")
    settings = small_workspace(tmp, n_provinces=2, n_categories=2, n_destinations=2)
    first, _ = run_pipeline(settings, created=datetime(2026, 1, 5, 3, 0, tzinfo=UTC))
    again, _ = run_pipeline(settings, created=datetime(2026, 1, 5, 4, 0, tzinfo=UTC))
    parallel, _ = run_pipeline(
        dataclasses.replace(settings, jobs=2), created=datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
    )
    return tmp, settings, first, again, parallel


def test_csv_outlooks_are_byte_identical_across_runs_and_worker_counts(runs):
    tmp, _settings, first, again, parallel = runs
    assert len({first.run_id, again.run_id, parallel.run_id}) == 3
    one = _csv_bytes(first, tmp / "one")
    assert {"outlook-full.csv", "advantage-full.csv", "national.csv"} <= set(one)
    assert len(one["outlook-full.csv"]) > 10_000
    assert _csv_bytes(again, tmp / "again") == one
    assert _csv_bytes(parallel, tmp / "parallel") == one


def test_the_run_tables_are_identical_across_worker_counts(runs):
    _tmp, _settings, first, _again, parallel = runs
    for name in ("forecasts", "base_forecasts", "selection", "outlook", "advantage"):
        pd.testing.assert_frame_equal(
            getattr(first, name), getattr(parallel, name), obj=name, check_exact=True
        )


def test_a_saved_and_loaded_run_reports_the_same_bytes(runs):
    tmp, settings, first, _again, _parallel = runs
    save_run(first, settings.models_dir)
    loaded = load_run(first.run_id, settings)
    assert _csv_bytes(loaded, tmp / "loaded") == _csv_bytes(first, tmp / "direct")


def test_predict_csv_output_is_byte_identical_with_one_and_two_workers(tmp_path):
    rows = [
        (f"series {k}", str(p), 10 + k + (i % 12) * (k + 1) + (i * 7919 % 5))
        for k in range(6)
        for i, p in enumerate(pd.period_range("2020-01", periods=40, freq="M"))
    ]
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv(tmp_path / "in.csv", index=False)
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}.csv"
        args = ["predict-csv", str(tmp_path / "in.csv"), "-o", str(out), "-h", "6"]
        result = CliRunner().invoke(app, [*args, "--models", "naive,snaive,theta", "-j", jobs])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 1 + 6 * 6
