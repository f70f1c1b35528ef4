"""The playbook recommends event types per quadrant (seed 000): link its event activities to
the campaign types, and add the VIP and seminar events of seed 002."""

import django.db.models.deletion
from django.db import migrations, models

LINKS = {
    "Invite to the spring reception": "spring_reception",
    "Invite to a banquet": "banquet",
    "Invite to a thematic seminar": "thematic_lecture",
    "Offer professional training": "training",
}
NEW_ENTRIES = [
    # (quadrant, tier or "", activity, campaign type)
    ("key", "value", "Invite to a VIP salon", "vip_salon"),
    ("general_1", "", "Invite to the year-end appreciation gala", "year_end_gala"),
    ("general_2", "", "Invite to an economic outlook seminar", "economic_seminar"),
]


def link_playbook(apps, schema_editor):
    PlaybookEntry = apps.get_model("segmentation", "PlaybookEntry")
    CampaignType = apps.get_model("campaigns", "CampaignType")
    types = {campaign_type.code: campaign_type for campaign_type in CampaignType.objects.all()}
    for action, code in LINKS.items():
        PlaybookEntry.objects.filter(action=action, campaign_type__isnull=True).update(
            campaign_type=types.get(code)
        )
    position = PlaybookEntry.objects.count()
    for offset, (quadrant, tier, action, code) in enumerate(NEW_ENTRIES):
        PlaybookEntry.objects.get_or_create(
            quadrant=quadrant,
            value_tier=tier,
            action=action,
            defaults={"campaign_type": types.get(code), "position": position + offset},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_default_campaign_types"),
        ("segmentation", "0002_default_model_and_playbook"),
    ]

    operations = [
        migrations.AddField(
            model_name="playbookentry",
            name="campaign_type",
            field=models.ForeignKey(
                blank=True,
                help_text="Events of this type are recommended to the quadrant's customers.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="playbook_entries",
                to="campaigns.campaigntype",
                verbose_name="event type",
            ),
        ),
        migrations.RunPython(link_playbook, migrations.RunPython.noop),
    ]
