"""Run ids sort by age even when two runs start in the same second."""

from datetime import UTC, datetime

from forecast.pipeline import run_id_for
from forecast.registry import next_run_time

NOW = datetime(2026, 12, 8, 3, 34, 50, 123456, tzinfo=UTC)


def test_a_first_run_starts_now_to_the_second(tmp_path):
    assert next_run_time(tmp_path / "missing", NOW) == NOW.replace(microsecond=0)
    assert next_run_time(tmp_path, NOW) == NOW.replace(microsecond=0)


def test_older_runs_leave_the_time_alone(tmp_path):
    (tmp_path / "20261208T033449Z-ffffff").mkdir()
    (tmp_path / "LATEST").write_text("20261208T033449Z-ffffff")
    assert next_run_time(tmp_path, NOW) == datetime(2026, 12, 8, 3, 34, 50, tzinfo=UTC)


def test_a_run_of_the_same_second_or_later_moves_the_new_one_after_it(tmp_path):
    # The new run's hash sorts first: by time alone it would be listed (and pruned) as
    # the older one.
    old = "20261208T033450Z-e6c2e0"
    (tmp_path / old).mkdir()
    created = next_run_time(tmp_path, NOW)
    assert created == datetime(2026, 12, 8, 3, 34, 51, tzinfo=UTC)
    new = run_id_for(created, "vintage", {"a": 1})
    assert sorted([new, old]) == [old, new]
    # A clock set back behind the newest run (and a damaged run folder counts too).
    (tmp_path / "20261208T040000Z-000000").mkdir()
    assert next_run_time(tmp_path, NOW) == datetime(2026, 12, 8, 4, 0, 1, tzinfo=UTC)


def test_temporary_and_foreign_folders_are_ignored(tmp_path):
    (tmp_path / ".tmp-20261208T040000Z-000000-abc").mkdir()
    (tmp_path / "notes").mkdir()
    assert next_run_time(tmp_path, NOW) == NOW.replace(microsecond=0)
