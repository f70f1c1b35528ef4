"""The log-visit form as an RM uses it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from interactions.models import Interaction, Reminder

pytestmark = pytest.mark.django_db


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_logging_a_visit_with_follow_up(client_for, rm_a, customer_a):
    # when
    response = client_for(rm_a).post(
        reverse("interactions:visit_log", args=[customer_a.pk]),
        {
            "channel": "visit",
            "occurred_at": _local(timezone.now() - dt.timedelta(minutes=30)),
            "duration_minutes": "45",
            "minutes": "Talked about the children's education fund.",
            "next_step": "Prepare education savings plan",
            "follow_up_at": _local(timezone.now() + dt.timedelta(days=2)),
        },
        follow=True,
    )
    # then
    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[customer_a.pk])
    content = response.content.decode()
    assert "Talked about the children&#x27;s education fund." in content
    assert "Prepare education savings plan" in content
    assert Reminder.objects.get().customer == customer_a


def test_invalid_visit_shows_errors_per_field_and_saves_nothing(client_for, rm_a, customer_a):
    response = client_for(rm_a).post(
        reverse("interactions:visit_log", args=[customer_a.pk]),
        {
            "channel": "visit",
            "occurred_at": _local(timezone.now() + dt.timedelta(days=2)),
            "minutes": "   ",
            "follow_up_at": "not a date",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"minutes", "follow_up_at"}
    assert not Interaction.objects.exists()


def test_future_visit_is_refused_by_the_service_rule(client_for, rm_a, customer_a):
    response = client_for(rm_a).post(
        reverse("interactions:visit_log", args=[customer_a.pk]),
        {
            "channel": "visit",
            "occurred_at": _local(timezone.now() + dt.timedelta(days=2)),
            "minutes": "Planned visit",
        },
    )
    assert "A contact cannot be logged in the future." in response.content.decode()
    assert not Interaction.objects.exists()


def test_minutes_are_escaped_on_the_timeline(client_for, rm_a, customer_a):
    client = client_for(rm_a)
    client.post(
        reverse("interactions:visit_log", args=[customer_a.pk]),
        {
            "channel": "phone",
            "occurred_at": _local(timezone.now() - dt.timedelta(minutes=5)),
            "minutes": "<script>alert('x')</script>",
        },
    )
    content = client.get(reverse("customers:detail", args=[customer_a.pk])).content.decode()
    assert "<script>alert" not in content
    assert "&lt;script&gt;alert" in content
