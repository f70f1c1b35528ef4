"""Logging a visit: what is saved, what is refused, and that nothing is half-saved."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import AuditEntry
from interactions.choices import Channel
from interactions.models import Interaction, Reminder
from interactions.services import visit_log

pytestmark = pytest.mark.django_db


def test_visit_with_follow_up_creates_interaction_reminder_and_audit(rm_a, customer_a):
    # given
    occurred = timezone.now() - dt.timedelta(hours=1)
    follow_up = timezone.now() + dt.timedelta(days=3)
    # when
    interaction = visit_log(
        acting_user=rm_a,
        customer=customer_a,
        channel=Channel.VISIT,
        occurred_at=occurred,
        minutes="Customer wants to diversify into funds.",
        next_step="Send fund list",
        follow_up_at=follow_up,
    )
    # then
    reminder = Reminder.objects.get(interaction=interaction)
    assert reminder.assigned_to == rm_a and reminder.due_at == follow_up
    assert reminder.title == "Send fund list"
    customer_a.refresh_from_db()
    assert customer_a.last_contact_at == occurred
    assert AuditEntry.objects.filter(customer=customer_a).count() == 2


def test_backdated_visit_does_not_move_last_contact_back(rm_a, customer_a):
    recent = timezone.now() - dt.timedelta(days=1)
    visit_log(
        acting_user=rm_a,
        customer=customer_a,
        channel=Channel.PHONE,
        occurred_at=recent,
        minutes="Call",
    )
    visit_log(
        acting_user=rm_a,
        customer=customer_a,
        channel=Channel.VISIT,
        occurred_at=recent - dt.timedelta(days=30),
        minutes="Old visit logged late",
    )
    customer_a.refresh_from_db()
    assert customer_a.last_contact_at == recent


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": timezone.now() + dt.timedelta(days=1)}, "occurred_at"),
        ({"follow_up_at": timezone.now() - dt.timedelta(hours=1)}, "follow_up_at"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"minutes": ""}, "minutes"),
        ({"minutes": "x" * 10_001}, "minutes"),
    ],
    ids=["future-visit", "past-follow-up", "unknown-channel", "no-minutes", "oversized-minutes"],
)
def test_invalid_visit_is_refused_per_field_and_nothing_is_saved(rm_a, customer_a, changes, field):
    # given
    visit = {
        "channel": Channel.VISIT,
        "occurred_at": timezone.now() - dt.timedelta(hours=1),
        "minutes": "Minutes",
        "follow_up_at": timezone.now() + dt.timedelta(days=1),
        **changes,
    }
    # when
    with pytest.raises(ValidationError) as error:
        visit_log(acting_user=rm_a, customer=customer_a, **visit)
    # then
    assert field in error.value.message_dict
    assert not Interaction.objects.exists()
    assert not Reminder.objects.exists()
    assert not AuditEntry.objects.exists()
