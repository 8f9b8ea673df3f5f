"""The archive refresh's cron fields computed from ARCHIVE_REFRESH_MINUTES."""

import pytest

from app.worker import refresh_schedule


def run_times(schedule) -> list[tuple[int, int]]:
    hours = schedule["hour"] if schedule["hour"] is not None else range(24)
    return sorted((h, m) for h in hours for m in schedule["minute"])


@pytest.mark.parametrize(
    ("minutes", "runs_per_day", "first_runs"),
    [
        (120, 12, [(0, 0), (2, 0), (4, 0)]),  # the default: every 2 hours
        (60, 24, [(0, 0), (1, 0)]),
        (15, 96, [(0, 0), (0, 15), (0, 30)]),
        (1, 1440, [(0, 0), (0, 1)]),
        (45, 48, [(0, 0), (0, 30)]),  # not expressible: rounded down to 30
        (90, 24, [(0, 0), (1, 0)]),  # rounded down to 60
        (300, 6, [(0, 0), (4, 0)]),  # 5 h rounded down to 4 h
        (1440, 1, [(0, 0)]),
        (10_000, 1, [(0, 0)]),
    ],
)
def test_refresh_schedule(minutes, runs_per_day, first_runs):
    times = run_times(refresh_schedule(minutes))
    assert len(times) == runs_per_day
    assert times[: len(first_runs)] == first_runs


def test_refresh_schedule_rejects_zero():
    with pytest.raises(ValueError):
        refresh_schedule(0)


def test_worker_runs_the_refresh_on_the_configured_schedule():
    from app.settings import get_settings
    from app.worker import WorkerSettings, refresh_archive

    [job] = [j for j in WorkerSettings.cron_jobs if j.name == "refresh_archive"]
    assert job.coroutine is refresh_archive
    expected = refresh_schedule(get_settings().archive_refresh_minutes)
    assert (job.hour, job.minute) == (expected["hour"], expected["minute"])
    assert refresh_archive in WorkerSettings.functions
