"""Score every customer now, as the nightly beat task does (same service, same guarantees).

`make run` calls it after seeding so the dashboards have a run to show; operators use it to
re-score a business date by hand. A business date already scored is a no-op.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from segmentation.choices import RunTrigger
from segmentation.services import (
    ScoringBusy,
    customer_tiers_sync,
    scoring_run_execute,
    scoring_run_request,
)


class Command(BaseCommand):
    help = "Run the scoring for a business date (default: today) and print the outcome."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args, date=None, **options):
        business_date = date or timezone.localdate()
        run = scoring_run_request(
            acting_user=None, business_date=business_date, trigger=RunTrigger.SCHEDULED
        )
        try:
            run = scoring_run_execute(run_id=run.pk)
        except ScoringBusy as error:
            raise CommandError(str(error)) from error
        synced = customer_tiers_sync()  # the customers' copy of the tier, as the task does
        self.stdout.write(
            f"Scoring run #{run.pk} for {business_date}: {run.get_status_display()}, "
            f"{run.customers_scored or 0:,} customers scored, {run.changes or 0:,} changes, "
            f"{synced:,} customer tiers updated."
        )
        if run.error:
            raise CommandError(run.error)
