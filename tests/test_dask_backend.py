"""Scale-out: the pipeline on a dask.distributed cluster gives exactly the local forecasts."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from pipeline_fixtures import small_workspace
from retrain_fixtures import runner

from forecast.cli import app
from forecast.pipeline import run_pipeline

distributed = pytest.importorskip("distributed", reason="needs the dask extra")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return small_workspace(
        tmp_path_factory.mktemp("dask"), n_provinces=2, n_categories=2, n_destinations=2
    )


def test_forecasts_on_two_dask_workers_equal_the_local_backend_exactly(cluster, workspace):
    local, _ = run_pipeline(workspace)
    remote, _ = run_pipeline(workspace.replace(backend="dask", scheduler=cluster.scheduler_address))
    for name in ("forecasts", "base_forecasts", "selection", "accuracy", "outlook"):
        pd.testing.assert_frame_equal(getattr(local, name), getattr(remote, name), check_exact=True)
    pd.testing.assert_frame_equal(
        local.extra["backtest"], remote.extra["backtest"], check_exact=True
    )
    with distributed.Client(cluster) as client:  # the work really ran on the workers
        imported = client.run(lambda: "forecast.evaluation.backtest" in sys.modules)
    assert len(imported) == 2 and all(imported.values())


def test_run_command_takes_backend_and_scheduler(cluster, workspace):
    env = {
        "FORECAST_WAREHOUSE": str(workspace.warehouse),
        "FORECAST_MODELS_DIR": str(workspace.models_dir),
        "FORECAST_REPORTS_DIR": str(workspace.reports_dir),
        "FORECAST_MODELS": ",".join(workspace.models),
    }
    args = ["run", "--format", "csv", "--backend", "dask", "--scheduler"]
    result = runner.invoke(app, [*args, cluster.scheduler_address], env=env)
    assert result.exit_code == 0, result.output
    missing = runner.invoke(app, ["run", "--backend", "dask"], env=env)
    assert missing.exit_code == 2 and "no 'scheduler' address" in missing.output
