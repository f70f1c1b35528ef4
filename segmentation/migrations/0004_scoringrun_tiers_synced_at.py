"""The copy of the tier on the customer is synced after the run's commit, in batches: record
when that finished. Runs before this migration synced it inside their own transaction."""

from django.db import migrations, models
from django.db.models import F


def mark_past_runs_synced(apps, schema_editor):
    ScoringRun = apps.get_model("segmentation", "ScoringRun")
    ScoringRun.objects.filter(status="succeeded").update(tiers_synced_at=F("finished_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0003_playbook_campaign_type"),
    ]

    operations = [
        migrations.AddField(
            model_name="scoringrun",
            name="tiers_synced_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="customer tiers synced"
            ),
        ),
        migrations.RunPython(mark_past_runs_synced, migrations.RunPython.noop),
    ]
