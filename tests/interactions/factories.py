"""Factories of the interaction log."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.models import KeyContact
from interactions.choices import (
    Channel,
    ComplaintCategory,
    ComplaintChannel,
    Severity,
    SurveySource,
    SurveyStatus,
)
from interactions.models import Complaint, CustomerRequest, Interaction, Reminder, Survey
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


class KeyContactFactory(DjangoModelFactory[KeyContact]):
    class Meta:
        model = KeyContact

    customer = factory.SubFactory(CustomerFactory, customer_type="corporate")
    name = factory.Faker("name")
    role = "CFO"
    is_decision_maker = True


class CustomerRequestFactory(DjangoModelFactory[CustomerRequest]):
    class Meta:
        model = CustomerRequest

    customer = factory.SubFactory(CustomerFactory)
    raised_by = factory.LazyAttribute(lambda request: request.customer.relationship_manager)
    description = "Can the bank raise the card limit?"
    raised_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))
    promised_by = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=2))


class ComplaintFactory(DjangoModelFactory[Complaint]):
    class Meta:
        model = Complaint

    customer = factory.SubFactory(CustomerFactory)
    received_channel = ComplaintChannel.PHONE
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    category = ComplaintCategory.WAITING_TIME
    severity = Severity.MEDIUM
    description = "Waited an hour at the counter."
    owner = factory.LazyAttribute(lambda complaint: complaint.customer.relationship_manager)
    logged_by = factory.LazyAttribute(lambda complaint: complaint.customer.relationship_manager)
    due_at = factory.LazyAttribute(lambda complaint: complaint.received_at + dt.timedelta(days=5))


class SurveyFactory(DjangoModelFactory[Survey]):
    class Meta:
        model = Survey

    customer = factory.SubFactory(CustomerFactory)
    quarter = "2026Q3"
    status = SurveyStatus.COMPLETED
    source = SurveySource.RM
    answers = factory.LazyFunction(lambda: {"service_quality": 4})
    score = 4
    completed_at = factory.LazyFunction(timezone.now)
