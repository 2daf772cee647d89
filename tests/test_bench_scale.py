"""bench/scale.py: the printed table (the benchmark itself runs under `make bench-scale`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from script_loader import load_script

SCALE = Path(__file__).resolve().parents[1] / "bench" / "scale.py"


def _module():
    return load_script(SCALE, "bench_scale")


def test_table_rows_match_the_header_and_show_growth():
    scale = _module()
    stages = {"load": 1.0, "hierarchy": 3.0, "forecast": 500.0, "reconcile": 2.0}
    small = scale.Result(1000, 1032, 3520, wall_s=563, cpu_s=874, peak_mb=2591, stages=stages)
    large = scale.Result(5000, 5016, 14218, wall_s=1596, cpu_s=3033, peak_mb=3701)
    failed = scale.Result(20000, exit_code=1)
    lines = scale.table([small, large, failed]).splitlines()
    widths = {line.count("|") for line in lines}
    assert widths == {lines[0].count("|")}
    assert "| forecast (s) |" in lines[0] and "| load avg |" in lines[0]
    assert lines[2].startswith("| 1,032 | 3,520 | 563 | 874 | 2,591 | 160 | - | 1 | 3 | 500 | 2 |")
    assert "| 2.8 (4.0) |" in lines[3]
    assert lines[4].startswith("| 20000 (failed, exit 1) |")


def test_sizes_are_parsed_and_an_empty_or_bad_list_is_refused(capsys):
    scale = _module()
    assert scale.parse_sizes("1000, 5000,") == [1000, 5000]
    for bad, message in [
        ("", "no sizes given (''); pass numbers of bottom series, e.g. --sizes 1000,5000"),
        (" , ", "no sizes given"),
        ("1000,lots", "'1000,lots' is not a comma-separated list of whole numbers"),
        ("0", "sizes must be 1 or more; got '0'"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            scale.main(["--sizes", bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "argument --sizes:" in err and message in err
