"""`manage.py seed_campaigns`: the demo board and events that `make run` shows."""

import io

import pytest
from django.core.management import call_command

from campaigns.choices import CampaignStatus
from campaigns.models import Campaign, MarketingPlan
from campaigns.selectors import campaign_results
from customers.models import User
from tests.campaigns.factories import campaign_type

pytestmark = pytest.mark.django_db


def test_seed_campaigns_fills_the_board_and_the_events():
    for code in ("spring_reception", "wine_tasting", "economic_seminar"):
        campaign_type(code)  # the data migration's rows (a transactional test may flush them)
    call_command("seed_demo", customers=400, stdout=io.StringIO())
    call_command("score_customers", stdout=io.StringIO())
    out = io.StringIO()

    call_command("seed_campaigns", stdout=out)

    assert "Seeded" in out.getvalue()
    steps = set(MarketingPlan.objects.values_list("step", flat=True))
    assert len(steps) >= 5  # plans spread along the pipeline
    assert any(plan.is_overdue for plan in MarketingPlan.objects.all())  # stuck ones to show
    held = Campaign.objects.get(status=CampaignStatus.COMPLETED)
    results = campaign_results(user=User.objects.get(username="admin.chen"), campaign=held)
    assert results.attended > 0 and results.cost_per_attendee is not None
    assert Campaign.objects.count() == 3

    again = io.StringIO()
    call_command("seed_campaigns", stdout=again)
    assert "nothing to do" in again.getvalue()
