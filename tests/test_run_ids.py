"""Run ids sort by age even when two runs start in the same second."""

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from retrain_fixtures import clone, published_workspace

from forecast.pipeline import run_id_for
from forecast.registry import next_run_time

NOW = datetime(2026, 12, 8, 3, 34, 50, 123456, tzinfo=UTC)


def test_a_first_run_starts_now_to_the_second(tmp_path):
    assert next_run_time(tmp_path / "missing", NOW) == NOW.replace(microsecond=0)
    assert next_run_time(tmp_path, NOW) == NOW.replace(microsecond=0)
    # Any time zone in, UTC out (the id is labelled Z).
    ict = NOW.astimezone(timezone(timedelta(hours=7)))
    assert next_run_time(tmp_path, ict) == NOW.replace(microsecond=0)


def test_older_runs_leave_the_time_alone(tmp_path):
    (tmp_path / "20261208T033449Z-ffffff").mkdir()
    (tmp_path / "LATEST").write_text("20261208T033449Z-ffffff")
    assert next_run_time(tmp_path, NOW) == datetime(2026, 12, 8, 3, 34, 50, tzinfo=UTC)


def test_a_run_of_the_same_second_or_just_after_moves_the_new_one_after_it(tmp_path):
    # The new run's hash sorts first: by time alone it would be listed (and pruned) as
    # the older one.
    old = "20261208T033450Z-e6c2e0"
    (tmp_path / old).mkdir()
    created = next_run_time(tmp_path, NOW)
    assert created == datetime(2026, 12, 8, 3, 34, 51, tzinfo=UTC)
    new = run_id_for(created, "vintage", {"a": 1})
    assert sorted([new, old]) == [old, new]
    # A run a little ahead (a clock stepped back by a few seconds), with a -N suffix.
    (tmp_path / "20261208T033610Z-000000-2").mkdir()
    assert next_run_time(tmp_path, NOW) == datetime(2026, 12, 8, 3, 36, 11, tzinfo=UTC)


def test_a_run_dated_far_ahead_is_not_followed_and_a_warning_says_so(tmp_path, caplog):
    (tmp_path / "20301208T040000Z-abcdef").mkdir()
    with caplog.at_level(logging.WARNING, logger="forecast.registry"):
        assert next_run_time(tmp_path, NOW) == NOW.replace(microsecond=0)
    assert "20301208T040000Z-abcdef" in caplog.text and "ahead of the clock" in caplog.text


def test_only_real_run_folders_with_real_dates_count(tmp_path):
    (tmp_path / ".tmp-20261208T033500Z-000000-abc").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "20261208T033500Z-aaaaaa").write_text("a file, not a run")
    (tmp_path / "20261208T033501Z-bbbbbb").symlink_to(tmp_path / "notes")
    (tmp_path / "20261340T000000Z-cccccc").mkdir()  # month 13: listed as damaged
    (tmp_path / "20261208T033560Z-dddddd").mkdir()  # second 60
    assert next_run_time(tmp_path, NOW) == NOW.replace(microsecond=0)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return published_workspace(tmp_path_factory.mktemp("run_ids"))


def test_a_published_run_is_named_after_a_run_of_the_same_second(base, tmp_path):
    ws = clone(base[0], tmp_path / "ws")
    soon = (datetime.now(UTC) + timedelta(seconds=90)).replace(microsecond=0)
    ahead = f"{soon:%Y%m%dT%H%M%SZ}-000000"
    (ws.models / ahead).mkdir()  # as if a run had just been named in that second
    result = ws.retrain("--force")
    assert result.exit_code == 0, result.output
    new = ws.latest()
    assert new > ahead and new.startswith(f"{soon + timedelta(seconds=1):%Y%m%dT%H%M%SZ}")
