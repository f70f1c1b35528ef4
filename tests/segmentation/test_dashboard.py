"""The branch head's tier dashboard."""

import pytest
from django.urls import reverse

from segmentation.choices import ValueTier
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_branch_head_sees_own_branch_by_tier_and_rm(client_for, head_x, rm_a, rm_b, rm_y):
    # given
    CustomerFactory.create_batch(2, relationship_manager=rm_a, value_tier=ValueTier.VALUE)
    CustomerFactory(relationship_manager=rm_b, value_tier=ValueTier.POTENTIAL)
    CustomerFactory.create_batch(4, relationship_manager=rm_y, value_tier=ValueTier.VALUE)
    # when
    response = client_for(head_x).get(reverse("segmentation:dashboard"))
    # then
    dashboard = response.context["dashboard"]
    assert dashboard.total_customers == 3
    counts = {row.tier: row.customers for row in dashboard.tiers}
    assert counts["value"] == 2 and counts["potential"] == 1
    by_manager = {row.manager_id: row.counts for row in dashboard.managers}
    assert by_manager == {rm_a.pk: {"value": 2}, rm_b.pk: {"potential": 1}}
    assert rm_y.get_full_name() not in response.content.decode()
    assert b'id="tier-by-rm-data"' in response.content


def test_head_office_sees_the_whole_bank(client_for, head_office, customer_a, customer_y):
    response = client_for(head_office).get(reverse("segmentation:dashboard"))
    assert response.context["dashboard"].total_customers == 2


def test_relationship_managers_cannot_open_the_dashboard(client_for, rm_a):
    assert client_for(rm_a).get(reverse("segmentation:dashboard")).status_code == 403
