"""CSV outlooks and report files: BOM, stable columns, formula neutralisation, safe names."""

import csv
import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest
from report_fixtures import make_result

from forecast.errors import InvalidParameterError
from forecast.reports import write_reports
from forecast.reports.build import atomic_write, resolve_scopes
from forecast.reports.csv import ADVANTAGE_COLUMNS, neutralise, outlook_columns
from forecast.reports.inputs import ReportData
from forecast.results import node_id
from forecast.textutil import slugify

SAFE_NAME = re.compile(r"[a-z0-9-]+\.(pdf|csv)")


def _hostile(result):
    """The fixture plus a node keyed by a hostile province name and hostile data text."""
    nid = node_id("DBSH", "=cmd|../../etc", "", "", "total", "")
    node = {
        "node_id": nid,
        "region": "DBSH",
        "province": "=cmd|../../etc",
        "group": "",
        "category": "",
        "market": "total",
        "destination": "",
        "geo_level": "province",
        "product_level": "total",
        "level": "province/total/total",
        "unit": "thousand USD",
    }
    periods = sorted(result.history["period"].unique())
    hist = pd.DataFrame({"node_id": nid, "period": periods, "value": 10.0})
    fc_periods = sorted(result.forecasts["period"].unique())
    fc = pd.DataFrame(
        {
            "node_id": nid,
            "period": fc_periods,
            "yhat": 12.0,
            "lo_80": 11.0,
            "hi_80": 13.0,
            "lo_95": 10.0,
            "hi_95": 14.0,
            "model": "=SUM(A1)",
        }
    )
    outlook = result.outlook.copy()
    outlook.loc[outlook.index[0], "flags"] = "@evil"
    outlook.loc[outlook.index[1], "flags"] = "\tcmd"
    return dataclasses.replace(
        result,
        nodes=pd.concat([result.nodes, pd.DataFrame([node])], ignore_index=True),
        history=pd.concat([result.history, hist], ignore_index=True),
        forecasts=pd.concat([result.forecasts, fc], ignore_index=True),
        outlook=outlook,
    )


@pytest.fixture(scope="module")
def result():
    return make_result()


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("csv")
    paths = write_reports(_hostile(result), out, formats=("csv",))
    return out, paths


def rows(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_files_and_columns(written, result):
    out, paths = written
    names = sorted(p.name for p in paths)
    assert "outlook-full.csv" in names and "advantage-full.csv" in names
    assert "national.csv" in names and "province-ho-chi-minh.csv" in names
    assert "region-dong-bang-song-hong.csv" in names
    assert all(SAFE_NAME.fullmatch(n) for n in names)
    assert sorted(p.name for p in out.iterdir()) == names  # no temporary files left
    header = rows(out / "outlook-full.csv")[0]
    assert tuple(header) == outlook_columns((80, 95))
    assert header[:3] == ["node_id", "level", "geo_level"]
    assert tuple(rows(out / "advantage-full.csv")[0]) == ADVANTAGE_COLUMNS
    # the stored unit for machines, and beside it the unit in the report language
    body = rows(out / "outlook-full.csv")[1:]
    unit, label = header.index("unit"), header.index("unit_label")
    assert label == unit + 1
    assert {(r[unit], r[label]) for r in body} == {("thousand USD", "nghìn USD")}


def test_formula_cells_are_neutralised_but_numbers_are_not(written):
    out, _ = written
    table = rows(out / "outlook-full.csv")
    header, body = table[0], table[1:]
    col = {name: i for i, name in enumerate(header)}
    hostile = [r for r in body if "cmd|../../etc" in r[col["province"]]]
    assert hostile and all(r[col["province"]] == "'=cmd|../../etc" for r in hostile)
    assert all(r[col["model"]] == "'=SUM(A1)" for r in hostile)
    flags = {r[col["flags"]] for r in body}
    assert "'@evil" in flags and "'\tcmd" in flags
    text_cols = ("node_id", "province", "model", "flags", "unit", "category_name", "trend_label")
    for r in body:
        for name in text_cols:
            assert not r[col[name]].startswith(("=", "+", "-", "@", "\t", "\r")), r[col[name]]
    negatives = [r[col["growth_12"]] for r in body if r[col["growth_12"]].startswith("-")]
    assert negatives, "the fixture has falling series"
    assert all(re.fullmatch(r"-\d+\.\d\d", v) for v in negatives)
    for r in body[:50]:
        assert re.fullmatch(r"\d+\.\d{3}", r[col["yhat"]])


def test_numbers_use_dot_decimals_and_match_the_run(written, result):
    out, _ = written
    body = rows(out / "national.csv")
    header, body = body[0], body[1:]
    col = {name: i for i, name in enumerate(header)}
    fc = result.forecasts.set_index(["node_id", "period"])
    for r in body[:40]:
        value = fc.loc[(r[col["node_id"]], pd.Period(r[col["period"]], freq="M")), "yhat"]
        assert float(r[col["yhat"]]) == pytest.approx(value, abs=5e-4)
    assert {r[col["region"]] for r in body} == {""}
    assert {r[col["province"]] for r in body} == {""}
    names = {r[col["destination_name"]] for r in body}
    assert "Hoa Kỳ" in names


def test_bytes_are_deterministic(result, tmp_path):
    a = write_reports(result, tmp_path / "a", formats=("csv",), scopes=("national",))
    b = write_reports(result, tmp_path / "b", formats=("csv",), scopes=("national",))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_neutralise():
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("+84 90") == "'+84 90"
    assert neutralise("-cmd") == "'-cmd"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("\rx") == "'\nx"  # a bare CR would start a new row
    assert neutralise("Hà Nội") == "Hà Nội"
    assert neutralise("") == ""
    # plain signed numbers are read as numbers, not run (review 12, R5)
    assert [neutralise(t) for t in ("-12", "+5", "-1.5e3", ".5")] == ["-12", "+5", "-1.5e3", ".5"]
    assert neutralise("-1+cmd") == "'-1+cmd"


def test_hostile_names_never_reach_file_names(result, tmp_path):
    assert slugify("../../etc") == "etc"
    assert slugify("=cmd") == "cmd"
    data = ReportData(_hostile(result))
    scopes = resolve_scopes(data, ("national", "region", "province"))
    assert all(SAFE_NAME.fullmatch(s.slug + ".pdf") for s in scopes)
    assert "=cmd|../../etc" not in {s.province for s in scopes}  # not a province of 2025
    for bad in ("../../etc", "=cmd"):
        with pytest.raises(InvalidParameterError, match="Unknown province"):
            write_reports(result, tmp_path, names=[bad], scopes=("province",))
    assert not any(tmp_path.iterdir())


def test_scope_and_argument_errors(result, tmp_path):
    with pytest.raises(InvalidParameterError, match="has no data for 'Cà Mau'"):
        write_reports(result, tmp_path, names=["Ca Mau"], scopes=("province",))
    with pytest.raises(InvalidParameterError, match="'formats' parameter"):
        write_reports(result, tmp_path, formats=("xlsx",))
    with pytest.raises(InvalidParameterError, match="'scopes' parameter"):
        write_reports(result, tmp_path, scopes=("district",))
    with pytest.raises(InvalidParameterError, match="'lang' parameter"):
        write_reports(result, tmp_path, lang="fr")
    with pytest.raises(InvalidParameterError, match="needs --scope region or province"):
        write_reports(result, tmp_path, names=["Huế"], scopes=("national",))
    data = ReportData(result)
    assert [s.slug for s in resolve_scopes(data, ("region", "province"), ["hue", "DBSH"])] == [
        "region-dong-bang-song-hong",
        "province-hue",
    ]


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "national.csv"
    atomic_write(target, b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["national.csv"]


def test_advantage_csv_ranks(written):
    out, _ = written
    table = rows(out / "advantage-full.csv")
    col = {name: i for i, name in enumerate(table[0])}
    body = table[1:]
    assert body
    for r in body:
        assert 1 <= int(r[col["rank_national"]]) <= int(r[col["n_national"]])
        assert r[col["market"]] in ("domestic", "export")
    hcm = [r for r in body if r[col["province"]] == "Hồ Chí Minh"]
    assert hcm and hcm[0][col["province_code"]] == "79"
    assert np.isfinite(float(hcm[0][col["lq"]]))


def test_every_row_of_a_synthetic_run_says_so_and_a_real_run_is_unlabelled(written, tmp_path):
    """A CSV opened in a spreadsheet must not pass for official statistics."""
    _out, paths = written
    label = "Dữ liệu minh họa tổng hợp (synthetic) — không phải số liệu thống kê chính thức"
    for path in paths:
        if path.suffix == ".csv":
            table = rows(path)
            col = table[0].index("data_note")
            assert len(table) > 1 and all(r[col] == label for r in table[1:]), path.name
    real = write_reports(make_result(synthetic=False), tmp_path, formats=("csv",))
    assert real
    for path in real:
        table = rows(path)
        col = table[0].index("data_note")
        assert len(table) > 1 and all(r[col] == "" for r in table[1:]), path.name
