"""The first scoring model (the domain brief's defaults) and seed 000's activity playbook."""

from django.db import migrations

PLAYBOOK = [
    # (quadrant, tier or "", activity)
    ("key", "", "Invite to the spring reception"),
    ("key", "", "Send festive gifts"),
    ("key", "", "Invite to a banquet"),
    ("key", "", "Agree a personal relationship-management plan"),
    ("key", "value", "Assign a dedicated RM and start VIP service (green channel, health checks)"),
    ("general_1", "", "Invite to the spring reception"),
    ("general_1", "", "Send festive gifts"),
    ("general_1", "", "Invite to a banquet"),
    ("general_1", "", "Ask for referrals"),
    ("general_2", "", "Visit the customer"),
    ("general_2", "", "Invite to a thematic seminar"),
    ("general_2", "", "Offer professional training"),
    ("general_2", "", "Give value first to draw them in"),
    ("general_2", "", "Cross-sell a product they do not hold yet"),
    ("general_3", "", "Serve through low-cost channels (phone, app, SMS)"),
    ("general_3", "", "Review the relationship periodically"),
]


def create_defaults(apps, schema_editor):
    ScoringModel = apps.get_model("segmentation", "ScoringModel")
    PlaybookEntry = apps.get_model("segmentation", "PlaybookEntry")
    if not ScoringModel.objects.exists():
        ScoringModel.objects.create(version=1, is_active=True, note="Defaults of the domain brief")
    if not PlaybookEntry.objects.exists():
        PlaybookEntry.objects.bulk_create(
            PlaybookEntry(quadrant=quadrant, value_tier=tier, action=action, position=position)
            for position, (quadrant, tier, action) in enumerate(PLAYBOOK)
        )


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0001_scoring")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
