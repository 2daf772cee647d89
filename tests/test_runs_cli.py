"""The run registry commands, artifacts, reproduction of old reports, and ``forecast status``."""

from __future__ import annotations

import json
import shutil

import pytest
from pypdf import PdfReader
from retrain_fixtures import Workspace, clone, published_workspace, runner

from forecast.cli import app
from forecast.engine import EngineConfig
from forecast.errors import InvalidParameterError, RegistryError
from forecast.registry import (
    MANIFEST,
    RUN_ID,
    kept_runs,
    list_runs,
    load_artifact,
    load_run,
    load_tables,
    prune,
    publish,
)

#: Four run ids in the registry's format, oldest first (ids sort by creation time).
FAKE_RUNS = [f"2025010{d}T000000Z-abcdef" for d in range(1, 5)]


def fake_registry(root, published=None):
    """A workspace whose registry holds the :data:`FAKE_RUNS` as bare complete runs (a
    manifest each) with a report folder each; prune needs nothing more."""
    ws = Workspace(root)
    for rid in FAKE_RUNS:
        (ws.models / rid).mkdir(parents=True)
        (ws.models / rid / MANIFEST).write_text(json.dumps({"run_id": rid}), encoding="utf-8")
        (ws.reports / rid).mkdir(parents=True)
    if published is not None:
        publish(ws.models, published)
    return ws


def remaining(ws):
    return [r["run_id"] for r in list_runs(ws.models)]


def report_folders(ws):
    """The runs' report folders (not the ``latest`` link the CLI repairs)."""
    return sorted(p.name for p in ws.reports.iterdir() if RUN_ID.fullmatch(p.name))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run 1 on data to 2025-03, run 2 after part2 (to 2025-12) arrived."""
    ws, part2 = published_workspace(tmp_path_factory.mktemp("runs"))
    first = ws.latest()
    shutil.copy(part2, ws.inbox / part2.name)
    result = ws.retrain()
    assert result.exit_code == 0, result.output
    return ws, first, ws.latest()


def test_runs_list_marks_the_published_run(two_runs):
    ws, first, second = two_runs
    result = runner.invoke(app, ["runs", "list"], env=ws.env, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert first in result.output and second in result.output
    assert "earlier" in result.output
    [line] = [ln for ln in result.output.splitlines() if second in ln]
    assert "*" in line


def test_runs_show_records_what_is_needed_to_reproduce_and_judge(two_runs):
    ws, _first, second = two_runs
    result = runner.invoke(app, ["runs", "show", "latest"], env=ws.env, terminal_width=200)
    assert result.exit_code == 0, result.output
    expected = [
        f"Run {second} (published)",
        "vintage",
        "versions: ",
        "statsforecast 2",
        "models chosen",
        "durations (s)",
        "artifacts: engine_config",
        "Backtest accuracy",
    ]
    for text in expected:
        assert text in result.output
    raw = runner.invoke(app, ["runs", "show", second, "--json"], env=ws.env)
    man = json.loads(raw.output)
    assert {"run_id", "created_at", "data_vintage", "config", "versions", "models_chosen",
            "backtest", "durations_s", "artifacts", "files", "batches"} <= set(man)  # fmt: skip
    assert man["versions"]["statsforecast"] and man["config"]["models"]
    assert {"forecast", "reconcile", "reports", "monitoring"} <= set(man["durations_s"])
    assert man["batches"] == [1, 2]


def test_runs_show_unknown_or_malformed_id_is_a_clear_error(two_runs):
    ws, *_ = two_runs
    bad = runner.invoke(app, ["runs", "show", "../../etc/passwd"], env=ws.env)
    assert bad.exit_code == 2 and "is not a run id" in bad.output  # usage, not a bug
    missing = runner.invoke(app, ["runs", "show", "20200101T000000Z-abcdef"], env=ws.env)
    assert missing.exit_code == 2 and "not found" in missing.output


def test_artifacts_load_only_from_the_registry_after_a_checksum_check(two_runs, tmp_path):
    ws, _first, second = two_runs
    cfg = load_artifact(ws.models, second, "engine_config")
    assert isinstance(cfg, EngineConfig) and cfg.horizon == 12
    copy = clone(ws, tmp_path / "copy")
    path = copy.models / second / "artifacts" / "engine_config.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RegistryError, match="fails its checksum"):
        load_artifact(copy.models, second, "engine_config")
    with pytest.raises(RegistryError, match="not an artifact name"):
        load_artifact(ws.models, second, "../../x")
    with pytest.raises(RegistryError, match="no artifact 'model'"):
        load_artifact(ws.models, second, "model")


def test_report_reproduces_an_older_run_csv_byte_for_byte(two_runs, tmp_path):
    ws, first, second = two_runs
    out = tmp_path / "again"
    result = runner.invoke(
        app, ["report", "--run", first, "--format", "csv", "--out", str(out)], env=ws.env
    )
    assert result.exit_code == 0, result.output
    original = sorted(p.name for p in (ws.reports / first).glob("*.csv"))
    assert original and sorted(p.name for p in out.glob("*.csv")) == original
    for name in original:
        assert (out / name).read_bytes() == (ws.reports / first / name).read_bytes(), name
    newer = (ws.reports / second / "national.csv").read_bytes()
    assert newer != (out / "national.csv").read_bytes()


def test_prune_never_removes_the_published_run(two_runs, tmp_path):
    ws, first, second = two_runs
    copy = clone(ws, tmp_path / "copy")
    publish(copy.models, first)  # roll back: the older run is the published one
    result = runner.invoke(app, ["runs", "prune", "--keep", "0"], env=copy.env)
    assert result.exit_code == 0, result.output
    assert [r["run_id"] for r in list_runs(copy.models)] == [first]
    assert not (copy.reports / second).exists() and (copy.reports / first).exists()
    assert copy.leftovers() == []


def test_status_prints_and_writes_realised_accuracy(two_runs, tmp_path):
    ws, first, second = two_runs
    out = tmp_path / "monitoring.csv"
    result = runner.invoke(app, ["status", "--out", str(out)], env=ws.env, terminal_width=220)
    assert result.exit_code == 0, result.output
    assert f"Published run {second}" in result.output and "Run lock: free" in result.output
    assert first in result.output and "alert(s) in" in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].split(b"\n")[0].decode()
    assert header.startswith("run_id,origin,by,key,n_series,n_points")
    assert "coverage_80" in header and header.endswith("alert,alert_reason")


def test_national_pdf_appendix_shows_the_monitoring_table(two_runs, tmp_path):
    ws, _first, second = two_runs
    out = tmp_path / "pdf"
    args = ["report", "--run", second, "--scope", "national", "--lang", "en", "--format", "pdf"]
    result = runner.invoke(app, [*args, "--out", str(out)], env=ws.env)
    assert result.exit_code == 0, result.output
    text = "\n".join(p.extract_text() for p in PdfReader(out / "national.pdf").pages)
    assert "D.2 Realised accuracy of earlier forecasts (monitoring)" in text
    assert "Mar 2025" in text and "Apr 2025–Dec 2025" in text


@pytest.mark.parametrize(
    ("keep", "kept"),
    [
        (0, []),
        (1, FAKE_RUNS[-1:]),
        (3, FAKE_RUNS[1:]),
        (4, FAKE_RUNS),
        (5, FAKE_RUNS),
        (100, FAKE_RUNS),
    ],
)
def test_prune_keeps_the_newest_runs_and_all_when_keep_exceeds_their_number(tmp_path, keep, kept):
    ws = fake_registry(tmp_path)
    assert kept_runs(FAKE_RUNS, keep, None) == set(kept)
    gone = prune(ws.models, keep, reports_dir=ws.reports)
    assert gone == [r for r in FAKE_RUNS if r not in kept]
    assert remaining(ws) == kept
    assert report_folders(ws) == kept
    assert ws.leftovers() == []


def test_prune_keeps_the_published_run_besides_the_newest(tmp_path):
    ws = fake_registry(tmp_path, published=FAKE_RUNS[0])
    assert prune(ws.models, 1) == FAKE_RUNS[1:3]
    assert remaining(ws) == [FAKE_RUNS[0], FAKE_RUNS[3]]


def test_prune_refuses_a_negative_keep_and_deletes_nothing(tmp_path):
    ws = fake_registry(tmp_path)
    with pytest.raises(InvalidParameterError, match="keep must be 0 or more; got -1"):
        prune(ws.models, -1)
    assert remaining(ws) == FAKE_RUNS
    cli = runner.invoke(app, ["runs", "prune", "--keep", "-1"], env=ws.env)
    assert cli.exit_code == 2 and "--keep" in cli.output
    assert remaining(ws) == FAKE_RUNS


@pytest.mark.parametrize(
    ("keep", "gone"), [("5", []), ("4", []), ("1", FAKE_RUNS[:3]), ("0", FAKE_RUNS[:3])]
)
def test_prune_dry_run_lists_exactly_what_prune_removes(tmp_path, keep, gone):
    ws = fake_registry(tmp_path, published=FAKE_RUNS[-1])
    dry = runner.invoke(app, ["runs", "prune", "--keep", keep, "--dry-run"], env=ws.env)
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == f"Would remove {len(gone)} run(s): {', '.join(gone) or 'none'}"
    assert remaining(ws) == FAKE_RUNS
    real = runner.invoke(app, ["runs", "prune", "--keep", keep], env=ws.env)
    assert real.exit_code == 0, real.output
    assert remaining(ws) == [r for r in FAKE_RUNS if r not in gone]
    assert report_folders(ws) == remaining(ws)


@pytest.mark.parametrize("key", ["horizon", "freq", "files", "last_period"])
def test_load_run_names_the_manifest_and_the_missing_key(two_runs, tmp_path, key):
    ws, _first, second = two_runs
    copy = clone(ws, tmp_path / "copy")
    path = copy.models / second / MANIFEST
    man = json.loads(path.read_text(encoding="utf-8"))
    del man[key]
    path.write_text(json.dumps(man), encoding="utf-8")

    class Cfg:
        models_dir = copy.models

    with pytest.raises(RegistryError) as err:
        load_run(second, Cfg())
    text = str(err.value)
    assert str(path) in text and f"no {key!r} entry" in text
    assert f"The run {second} is incomplete or damaged" in text
    assert "restore its folder from a backup" in text and "forecast run" in text


def test_load_run_and_tables_refuse_invalid_manifest_values(two_runs, tmp_path):
    ws, _first, second = two_runs
    copy = clone(ws, tmp_path / "copy")
    cfg = type("Cfg", (), {"models_dir": copy.models})
    path = copy.models / second / MANIFEST
    assert load_run(second, cfg).horizon == 12
    man = json.loads(path.read_text(encoding="utf-8"))
    man["horizon"] = "twelve"
    path.write_text(json.dumps(man), encoding="utf-8")
    with pytest.raises(RegistryError, match=r"manifest's 'horizon' entry is invalid"):
        load_run(second, cfg)
    del man["files"]["forecasts.parquet"]["sha256"]
    path.write_text(json.dumps(man), encoding="utf-8")
    with pytest.raises(RegistryError, match=r"the entry of forecasts\.parquet has no 'sha256'"):
        load_tables(copy.models, second, ["forecasts"])


def damage(ws, rid):
    """Cut a run's manifest short, as a full disk or a hand edit might."""
    (ws.models / rid / MANIFEST).write_text('{"run_id": "x"', encoding="utf-8")


def test_runs_list_flags_a_damaged_run_and_lists_the_rest(tmp_path):
    ws = fake_registry(tmp_path, published=FAKE_RUNS[-1])
    damage(ws, FAKE_RUNS[0])
    shutil.rmtree(ws.models / FAKE_RUNS[1])
    (ws.models / FAKE_RUNS[1]).mkdir()  # a run folder without its manifest
    result = runner.invoke(app, ["runs", "list"], env=ws.env)
    assert result.exit_code == 0, result.output
    lines = {rid: line for rid in FAKE_RUNS for line in result.stdout.splitlines() if rid in line}
    assert set(lines) == set(FAKE_RUNS)
    assert lines[FAKE_RUNS[0]].split()[-1] == lines[FAKE_RUNS[1]].split()[-1] == "DAMAGED"
    assert lines[FAKE_RUNS[2]].split()[-1] == "unpublished"
    assert lines[FAKE_RUNS[3]].startswith("*") and lines[FAKE_RUNS[3]].endswith("published")
    err = " ".join(result.stderr.split())
    assert (
        f"Damaged run {FAKE_RUNS[0]}: Manifest of run {FAKE_RUNS[0]} cannot be read "
        "(Expecting ',' delimiter" in err
    )
    assert f"Damaged run {FAKE_RUNS[1]}: manifest.json is missing" in err
    assert (
        "2 damaged run(s): restore them from a backup, or remove them with 'forecast runs " in err
    )
    # The damaged run itself still refuses to load, naming the fix; not a usage error.
    show = runner.invoke(app, ["runs", "show", FAKE_RUNS[0]], env=ws.env)
    assert show.exit_code == 1 and "restore its folder from a backup" in show.output


def test_prune_removes_damaged_runs_first_and_never_the_published_one(tmp_path):
    ws = fake_registry(tmp_path, published=FAKE_RUNS[1])
    damage(ws, FAKE_RUNS[1])  # the published run, damaged: kept all the same
    damage(ws, FAKE_RUNS[2])
    keep_all = runner.invoke(app, ["runs", "prune", "--keep", "3", "--dry-run"], env=ws.env)
    assert keep_all.stdout.strip() == "Would remove 0 run(s): none"
    dry = runner.invoke(app, ["runs", "prune", "--keep", "1", "--dry-run"], env=ws.env)
    assert dry.exit_code == 0, dry.output
    gone = f"{FAKE_RUNS[2]} (damaged), {FAKE_RUNS[0]}"
    assert dry.stdout.strip() == f"Would remove 2 run(s): {gone}"
    real = runner.invoke(app, ["runs", "prune", "--keep", "1"], env=ws.env)
    assert real.exit_code == 0, real.output
    assert real.stdout.strip() == f"Removed 2 run(s): {gone}."
    assert f"Damaged run(s) kept: {FAKE_RUNS[1]} (the published run" in real.stderr
    assert remaining(ws) == report_folders(ws) == [FAKE_RUNS[1], FAKE_RUNS[3]]
    assert [r["damaged"] is not None for r in list_runs(ws.models)] == [True, False]
