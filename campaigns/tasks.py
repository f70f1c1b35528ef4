"""Celery triggers of campaigns: thin and idempotent; the work is in services."""

from celery import shared_task

from .services import plans_schedule_monitoring


@shared_task(acks_late=True)
def schedule_plan_monitoring_task() -> int:
    """Daily: plans in monitoring whose date has come get their next contact reminder."""
    return plans_schedule_monitoring()
