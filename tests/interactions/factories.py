"""Factories of the interaction log."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from interactions.choices import Channel
from interactions.models import Interaction, Reminder
from tests.customers.factories import CustomerFactory


class InteractionFactory(DjangoModelFactory[Interaction]):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    logged_by = factory.LazyAttribute(lambda interaction: interaction.customer.relationship_manager)
    channel = Channel.VISIT
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    minutes = "Discussed the customer's plans for the coming quarter."
    next_step = "Send the wealth-management proposal"


class ReminderFactory(DjangoModelFactory[Reminder]):
    class Meta:
        model = Reminder

    customer = factory.SubFactory(CustomerFactory)
    assigned_to = factory.LazyAttribute(lambda reminder: reminder.customer.relationship_manager)
    title = "Call back about the proposal"
    due_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))
