"""End-to-end pipeline on a small warehouse: coherence, intervals, records, registry."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from pipeline_fixtures import frame_workspace, small_demo_frame, small_workspace

from forecast.config import load_settings
from forecast.data.warehouse import Warehouse
from forecast.errors import RegistryError, WarehouseNotFoundError
from forecast.hierarchy import build_hierarchy
from forecast.pipeline import UNRECONCILED, backtest_hierarchy, run_pipeline
from forecast.reconcile import COHERENT_METHODS, reconcile
from forecast.registry import (
    check_run_id,
    latest_run_id,
    list_runs,
    load_run,
    publish,
    save_run,
)
from forecast.results import accuracy_columns


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    settings = small_workspace(tmp)
    result, durations = run_pipeline(settings)
    return settings, result, durations


def _children_sums(result):
    """(parent value, sum of children) pairs for every geography and product split."""
    nodes = result.nodes.set_index("node_id")
    fc = result.forecasts.merge(result.nodes, on="node_id")
    keys = ["region", "province", "group", "category", "market", "destination", "period"]
    pairs = []
    # geography: region = sum of its provinces; nation = sum of regions
    for parent_geo, child_geo, drop in (
        ("region", "province", "province"),
        ("national", "region", "region"),
    ):
        child = fc[(fc["geo_level"] == child_geo) & (fc["destination"] == "")]
        parent = fc[(fc["geo_level"] == parent_geo) & (fc["destination"] == "")]
        group_keys = [
            k for k in keys if k != drop and not (parent_geo == "national" and k == "region")
        ]
        sums = child.groupby(group_keys)["yhat"].sum()
        merged = (
            parent.set_index(group_keys)["yhat"]
            .to_frame("parent")
            .join(sums.rename("children"), how="inner")
        )
        pairs.append(merged)
    # product: group = sum of categories; total = sum of groups
    for parent_p, child_p, drop in (("group", "category", "category"), ("total", "group", "group")):
        child = fc[fc["product_level"] == child_p]
        parent = fc[fc["product_level"] == parent_p]
        group_keys = [k for k in keys if k != drop]
        sums = child.groupby(group_keys)["yhat"].sum()
        merged = (
            parent.set_index(group_keys)["yhat"]
            .to_frame("parent")
            .join(sums.rename("children"), how="inner")
        )
        pairs.append(merged)
    # market: total = domestic + export
    child = fc[fc["market"].isin(["domestic", "export"]) & (fc["destination"] == "")]
    parent = fc[fc["market"] == "total"]
    group_keys = [k for k in keys if k != "market"]
    sums = child.groupby(group_keys)["yhat"].sum()
    pairs.append(
        parent.set_index(group_keys)["yhat"]
        .to_frame("parent")
        .join(sums.rename("children"), how="inner")
    )
    # destinations: national export = sum over destinations
    child = fc[fc["destination"] != ""]
    parent = fc[
        (fc["geo_level"] == "national") & (fc["market"] == "export") & (fc["destination"] == "")
    ]
    group_keys = [k for k in keys if k != "destination"]
    sums = child.groupby(group_keys)["yhat"].sum()
    pairs.append(
        parent.set_index(group_keys)["yhat"]
        .to_frame("parent")
        .join(sums.rename("children"), how="inner")
    )
    del nodes
    return pd.concat(pairs)


def test_forecasts_are_coherent_at_every_level(run):
    _, result, _ = run
    pairs = _children_sums(result)
    assert len(pairs) > 100
    rel = (pairs["parent"] - pairs["children"]).abs() / pairs["parent"].abs().clip(lower=1e-9)
    assert rel.max() < 1e-6


def test_forecasts_cover_every_node_and_period(run):
    _, result, _ = run
    assert set(result.forecasts["node_id"]) == set(result.nodes["node_id"])
    per_node = result.forecasts.groupby("node_id").size()
    assert (per_node == result.horizon).all()
    first = result.forecasts["period"].min()
    assert first == result.last_period + 1


def test_intervals_nested_non_negative_and_contain_point(run):
    _, result, _ = run
    f = result.forecasts
    assert (f["yhat"] >= 0).all()
    assert (f["lo_95"] <= f["lo_80"] + 1e-9).all()
    assert (f["lo_80"] <= f["yhat"] + 1e-9).all()
    assert (f["yhat"] <= f["hi_80"] + 1e-9).all()
    assert (f["hi_80"] <= f["hi_95"] + 1e-9).all()
    assert (f["lo_95"] >= 0).all()


def test_run_records_what_it_did(run):
    settings, result, durations = run
    assert result.synthetic
    assert result.freq == "M"
    assert str(result.last_period) == "2025-12"
    assert len(result.data_vintage) == 64
    assert set(result.selection.columns) >= {"node_id", "model", "reason", "profile"}
    assert result.selection["reason"].str.len().min() > 10
    assert "chosen by backtest" in result.reconcile_method
    stages = result.accuracy["stage"].unique().tolist()
    assert "base" in stages and "reconciled" in stages
    sel = result.accuracy[
        (result.accuracy["model"] == "selected") & (result.accuracy["stage"] == "base")
    ]
    assert sel["coverage_95"].between(0.5, 1.0).all()
    assert set(durations) == {"load", "hierarchy", "forecast", "reconcile", "outlook"}
    assert result.config["horizon"] == settings.horizon


def test_accuracy_follows_the_configured_interval_levels(tmp_path):
    import dataclasses

    import pypdf

    from forecast.reports import write_reports
    from forecast.results import accuracy_columns

    settings = small_workspace(tmp_path, n_provinces=2, n_categories=2, n_destinations=2)
    settings = dataclasses.replace(settings, levels=(50, 90))
    result, _ = run_pipeline(settings)
    acc = result.accuracy
    assert tuple(acc.columns) == accuracy_columns((50, 90))
    assert not {"coverage_80", "coverage_95", "msis_95"} & set(acc.columns)
    sel = acc[(acc["model"] == "selected") & (acc["stage"] == "base")]
    assert sel["coverage_50"].between(0.0, 1.0).all()
    assert (sel["coverage_50"] <= sel["coverage_90"] + 1e-12).all()
    assert np.isfinite(sel[["msis_50", "msis_90"]].to_numpy()).all()
    assert {"lo_50", "hi_90"} <= set(result.forecasts.columns)
    paths = write_reports(
        result, tmp_path / "rep", scopes=("national",), lang="en", formats=("pdf",)
    )
    text = " ".join(
        " ".join(page.extract_text().split())
        for path in paths
        for page in pypdf.PdfReader(path).pages
    )
    assert "50% coverage" in text and "90% coverage" in text
    assert "80% coverage" not in text


def test_outlook_rows_for_every_node(run):
    _, result, _ = run
    assert set(result.outlook["node_id"]) == set(result.nodes["node_id"])
    assert result.outlook["trend"].notna().all()


def test_registry_round_trip_and_publish(run, tmp_path):
    settings, result, durations = run
    folder = save_run(result, tmp_path, durations=durations)
    assert latest_run_id(tmp_path) is None
    publish(tmp_path, result.run_id)
    assert latest_run_id(tmp_path) == result.run_id
    loaded = load_run("latest", settings.replace(models_dir=tmp_path))
    for name in ("nodes", "history", "forecasts", "selection", "outlook", "accuracy"):
        pd.testing.assert_frame_equal(
            getattr(loaded, name).reset_index(drop=True),
            getattr(result, name).reset_index(drop=True),
            check_dtype=False,
        )
    assert loaded.last_period == result.last_period
    assert loaded.levels == result.levels
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data_vintage"] == result.data_vintage
    assert manifest["versions"]["statsforecast"]
    assert [r["run_id"] for r in list_runs(tmp_path)] == [result.run_id]
    with pytest.raises(RegistryError, match="already exists"):
        save_run(result, tmp_path)


def test_tampered_run_is_refused(run, tmp_path):
    settings, result, _ = run
    folder = save_run(result, tmp_path)
    table = folder / "forecasts.parquet"
    data = bytearray(table.read_bytes())
    data[-20] ^= 0xFF
    table.write_bytes(bytes(data))
    with pytest.raises(RegistryError, match="fails its checksum"):
        load_run(result.run_id, settings.replace(models_dir=tmp_path))


@pytest.mark.parametrize(
    "bad", ["../../etc", "latest/../x", "20260101T000000Z-ABCDEF", "", "x" * 300]
)
def test_run_ids_are_validated_before_paths_are_built(bad):
    with pytest.raises(RegistryError, match="is not a run id"):
        check_run_id(bad)


def test_missing_warehouse_is_a_clear_error(tmp_path):

    settings = load_settings(env={}, warehouse=tmp_path / "none.duckdb")
    with pytest.raises(
        WarehouseNotFoundError, match=r"No warehouse at .*none\.duckdb.*forecast ingest"
    ):
        run_pipeline(settings)


def test_same_data_and_config_give_identical_forecasts(run):
    settings, result, _ = run
    again, _ = run_pipeline(settings)
    pd.testing.assert_frame_equal(result.forecasts, again.forecasts, check_exact=True)
    np.testing.assert_array_equal(result.outlook["p_decline"], again.outlook["p_decline"])


def test_level_metrics_by_hand():
    """Per node: mean over its rows of |y - f| / scale, (f - y) / scale and the M3 sMAPE
    term; then the mean over the nodes of each level. A missing actual is no score."""
    from forecast.pipeline import _level_metrics

    frame = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b"],
            "y": [10.0, 20.0, 5.0, np.nan],
            "f": [12.0, 18.0, 6.0, 7.0],
            "scale": [2.0, 2.0, 1.0, 1.0],
        }
    )
    levels = pd.Series({"a": "province", "b": "province"})
    row = _level_metrics(frame, "f", levels).set_index("level").loc["province"]
    # a: |e|/s = 1, 1 -> 1; bias (2 - 2)/2/2 = 0; sMAPE 200*2/22, 200*2/38.
    # b: its one actual: |e|/s = 1, bias +1, sMAPE 200/11 (the NaN row is no score, not
    # a perfect 0 that would halve it).
    smape_a = (400 / 22 + 400 / 38) / 2
    assert row["mase"] == pytest.approx((1.0 + 1.0) / 2)
    assert row["bias"] == pytest.approx((0.0 + 1.0) / 2)
    assert row["smape"] == pytest.approx((smape_a + 200 / 11) / 2)
    assert row["n_series"] == 2


def test_an_unknown_model_in_the_config_file_names_the_file(tmp_path):
    from forecast.errors import ConfigError
    from forecast.pipeline import _engine_config

    toml = tmp_path / "forecast.toml"
    toml.write_text('models = "theta,foo"\n', encoding="utf-8")
    settings = load_settings(toml, env={})
    with pytest.raises(ConfigError, match=r"Unknown model 'foo'.*'models' in .*forecast\.toml"):
        _engine_config(settings)


def test_per_series_choice_reconciles_with_the_errors_of_the_models_issued(tmp_path):
    """``auto`` selection adopting per-series choice: each backtest row holds the choice
    made without its window, so MinT is estimated from the final choice's backtest errors
    (``backtest_errors``), the errors of the models whose forecasts it reconciles."""
    settings = dataclasses.replace(
        small_workspace(tmp_path),
        selection="auto",
        models=("naive", "snaive", "drift", "theta", "ens_mean"),
    )
    result, _ = run_pipeline(settings)
    assert result.selection["reason"].str.contains("per-series choice adopted").all()
    errors, issued = result.extra["backtest_errors"], result.extra["backtest"]
    both = errors.merge(issued, on=["node_id", "cutoff", "period"], suffixes=("", "_row"))
    assert len(both) == len(issued) == len(errors)
    assert (~np.isclose(both["yhat"], both["yhat_row"])).any()
    choice = result.extra["reconcile_choice"]
    assert choice.loc[choice["chosen"], "method"].unique().tolist() == ["mint_shrink"]
    with Warehouse(settings.warehouse) as wh:
        hierarchy = build_hierarchy(wh.observations())
    key = ["node_id", "period"]
    got = result.forecasts.sort_values(key)["yhat"].to_numpy()
    for backtest, same in ((errors, True), (issued, False)):
        rec = reconcile(hierarchy, result.base_forecasts, method="mint_shrink", backtest=backtest)
        want = rec.forecasts.sort_values(key)["yhat"].to_numpy()
        assert np.allclose(got, want) is same


def test_backtest_hierarchy_scores_every_level_model_and_method_as_a_run_would(tmp_path):
    """``forecast backtest`` on the warehouse: per level, every candidate, the forecasts as
    chosen and every reconciliation method; the same figures as the run's accuracy table,
    and nothing written."""
    settings = small_workspace(tmp_path)
    bt = backtest_hierarchy(settings)
    board = bt.leaderboard
    assert list(board.columns) == [*accuracy_columns(settings.levels), "chosen"]
    levels = set(bt.hierarchy.nodes["level"])
    assert set(board["level"]) == levels
    labels = [
        c for c in bt.engine.backtest_models.columns if c not in ("unique_id", "cutoff", "ds", "y")
    ]
    labels.remove("scale")
    for level, rows in board.groupby("level"):
        base = rows[rows["stage"] == "base"]
        assert set(base["model"]) == {*labels, "selected"}, level
        assert base["mase"].is_monotonic_increasing  # best first
        rec = rows[rows["stage"] == "reconciled"].set_index("model")
        assert set(rec.index) == {UNRECONCILED, *COHERENT_METHODS}
        assert rec.index[rec["chosen"]].tolist() == [bt.reconcile_method]
    # One level and model by hand: per node the mean scaled absolute error over its
    # windows, then the mean over the level's nodes.
    bm = bt.engine.backtest_models
    level_of = bt.hierarchy.nodes.set_index("node_id")["level"]
    rows = bm[bm["unique_id"].map(level_of) == "province/category/export"]
    per_node = ((rows["y"] - rows["Theta"]).abs() / rows["scale"]).groupby(rows["unique_id"])
    want = per_node.mean().mean()
    got = board[(board["level"] == "province/category/export") & (board["model"] == "Theta")][
        "mase"
    ]
    assert got.tolist() == pytest.approx([want])
    # What a run records for the forecasts as chosen and the method it uses.
    run, _ = run_pipeline(settings)
    acc = run.accuracy
    key = ["level", "model", "stage"]
    mine = board[(board["model"] == "selected") | board["chosen"] & (board["stage"] != "base")]
    mine = mine.assign(model="selected").set_index(key).sort_index()
    theirs = acc[acc["model"] == "selected"].set_index(key).sort_index()
    pd.testing.assert_frame_equal(mine.drop(columns="chosen"), theirs, check_dtype=False)
    assert run.reconcile_method.endswith(bt.reconcile_reason)
    assert not settings.models_dir.exists() or not any(settings.models_dir.iterdir())


def test_backtest_hierarchy_with_a_configured_method_still_compares_them_all(tmp_path):
    settings = small_workspace(tmp_path).replace(reconcile="bottom_up")
    bt = backtest_hierarchy(settings)
    assert bt.reconcile_method == "bottom_up"
    assert bt.reconcile_reason == "bottom_up (set in configuration)"
    rec = bt.leaderboard[bt.leaderboard["stage"] == "reconciled"]
    assert set(rec.loc[rec["chosen"], "model"]) == {"bottom_up"}
    assert set(rec["model"]) == {UNRECONCILED, *COHERENT_METHODS}
    # bottom_up keeps every bottom forecast: at the bottom it scores as the base does.
    bottom = rec[rec["level"] == "province/category/domestic"].set_index("model")["mase"]
    assert bottom["bottom_up"] == pytest.approx(bottom[UNRECONCILED])


@pytest.mark.parametrize("method", ["mint_shrink", "wls_var"])
def test_months_a_product_never_sold_in_stay_0_after_reconciliation(tmp_path, method):
    # Hà Nội's domestic machinery sells October to March only: its forecast for April to
    # September is 0 (the engine's closed positions) and reconciliation keeps it there
    # while the aggregates stay the sums of their parts.
    frame = small_demo_frame(n_provinces=3, n_categories=2, n_destinations=2)
    month = pd.PeriodIndex(frame["period"], freq="M").month
    seasonal = (
        (frame["province"] == "Hà Nội")
        & (frame["category"] == frame["category"].iloc[0])
        & (frame["market"] == "domestic")
    )
    assert seasonal.sum() == 84
    frame.loc[seasonal & (month >= 4) & (month <= 9), "value"] = 0.0
    result, _ = run_pipeline(frame_workspace(tmp_path, frame, reconcile=method))
    assert result.reconcile_method.startswith(method)
    n = result.nodes
    node = n.loc[
        (n["geo_level"] == "province")
        & (n["product_level"] == "category")
        & (n["province"] == "Hà Nội")
        & (n["category"] == frame["category"].iloc[0])
        & (n["market"] == "domestic")
        & (n["destination"] == ""),
        "node_id",
    ].item()
    fc = result.forecasts[result.forecasts["node_id"] == node]
    off = pd.PeriodIndex(fc["period"], freq="M").month.isin(range(4, 10))
    assert off.sum() == 6 and (fc.loc[off, "yhat"] == 0).all()
    closed = result.extra["closed"]
    assert set(closed.loc[closed["node_id"] == node, "period"]) == set(fc.loc[off, "period"])
    assert (fc.loc[~off, "yhat"] > 0).all() and (fc.loc[off, "hi_95"] > 0).all()
    pairs = _children_sums(result)
    np.testing.assert_allclose(pairs["parent"], pairs["children"], rtol=1e-9, atol=1e-6)
