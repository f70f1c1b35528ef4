"""Settings of the processes `scripts/fault_tests.py` starts (gunicorn, Celery worker and beat).

The product's base settings, pointed by the environment at the fault test's own PostgreSQL
cluster and Redis. Two differences, both for the test only: e-mail goes nowhere (thousands of
reminder e-mails would flood the worker's log), and with `FAULT_NIGHTS` set, beat replays
business nights quickly: instead of "02:30 every night" the scoring task is due for date D1
during the first window of wall-clock seconds, D2 during the next, and so on.
"""

import json
import time

from celery.schedules import schedstate, schedule

from crm_site.settings.base import *  # noqa: F403
from crm_site.settings.base import CELERY_BEAT_SCHEDULE, env

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


class SimulatedNight(schedule):
    """Due every `every` seconds while the wall clock is inside [start, start + length): one
    business night of the nightly-scoring entry, replayed in seconds."""

    def __init__(self, start: float, length: float, every: float, **kwargs) -> None:
        self.start = start
        self.length = length
        super().__init__(run_every=every, **kwargs)

    def is_due(self, last_run_at):
        now = time.time()
        if now < self.start:
            return schedstate(False, min(self.start - now, 1.0))
        if now >= self.start + self.length:
            return schedstate(False, 5.0)
        return super().is_due(last_run_at)

    def __reduce__(self):
        return self.__class__, (self.start, self.length, self.run_every.total_seconds())


_nights = json.loads(env("FAULT_NIGHTS", default="[]"))
if _nights:
    CELERY_BEAT_SCHEDULE = {
        name: entry for name, entry in CELERY_BEAT_SCHEDULE.items() if name != "nightly-scoring"
    }
    for _night in _nights:
        CELERY_BEAT_SCHEDULE[f"nightly-scoring-{_night['date']}"] = {
            "task": "segmentation.tasks.score_customers_task",
            "schedule": SimulatedNight(
                _night["start"], env.float("FAULT_NIGHT_SECONDS"), env.float("FAULT_NIGHT_EVERY")
            ),
            "kwargs": {"business_date": _night["date"]},
        }
