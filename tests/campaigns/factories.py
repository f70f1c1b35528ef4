"""Factories of campaigns: ready customers, plans at a given step, events and invitations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import import_module

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from campaigns.choices import STEP_DEFAULT_DAYS, CampaignStatus, PlanStep, TransitionKind
from campaigns.models import Campaign, CampaignType, Invitation, MarketingPlan, PlanTransition
from customers.choices import ProductType, Role, WealthSource
from customers.models import Holding
from tests.customers.factories import CustomerFactory, UserFactory


class HoldingFactory(DjangoModelFactory[Holding]):
    class Meta:
        model = Holding

    customer = factory.SubFactory(CustomerFactory)
    account_number = factory.Sequence(lambda n: f"6222{n:012d}")
    product_type = ProductType.TIME_DEPOSIT
    product_name = "Three-year time deposit"
    balance = Decimal("500000.00")


def ready_customer(**kwargs):
    """A customer whose base data (a holding, a 70% profile) meets steps 1 and 2's data
    criteria, so only the RM's own records are missing."""
    kwargs.setdefault("profile_completeness", 70)
    kwargs.setdefault("wealth_source", WealthSource.PROFESSIONAL)
    kwargs.setdefault("consent_phone", True)
    customer = CustomerFactory(**kwargs)
    HoldingFactory(customer=customer)
    return customer


class PlanFactory(DjangoModelFactory[MarketingPlan]):
    """A plan placed directly at `step` (with its START transition), bypassing the criteria:
    for tests that start in the middle of the pipeline."""

    class Meta:
        model = MarketingPlan
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    relationship_manager = factory.LazyAttribute(lambda plan: plan.customer.relationship_manager)
    started_by = factory.LazyAttribute(lambda plan: plan.customer.relationship_manager)
    step = PlanStep.BASE_INFORMATION
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))
    step_entered_at = factory.LazyAttribute(lambda plan: plan.started_at)
    step_due_on = factory.LazyAttribute(
        lambda plan: (
            timezone.localtime(plan.step_entered_at).date()
            + dt.timedelta(days=STEP_DEFAULT_DAYS[plan.step])
        )
    )

    @factory.post_generation
    def start_transition(self, create, extracted, **kwargs):
        if create:
            PlanTransition.objects.create(
                plan=self,
                kind=TransitionKind.START,
                to_step=self.step,
                actor=self.started_by,
                at=self.started_at,
            )


def campaign_type(code: str = "spring_reception") -> CampaignType:
    """A default event type (from the data migration; recreated after a transactional test's
    flush)."""
    defaults = import_module("campaigns.migrations.0002_default_campaign_types").CAMPAIGN_TYPES
    name, name_zh, is_vip = next(row[1:] for row in defaults if row[0] == code)
    return CampaignType.objects.get_or_create(
        code=code, defaults={"name": name, "name_zh": name_zh, "is_vip": is_vip}
    )[0]


class CampaignFactory(DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Spring reception {2027 + n}")
    campaign_type = factory.LazyFunction(campaign_type)
    status = CampaignStatus.INVITING
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))
    ends_at = factory.LazyAttribute(lambda campaign: campaign.starts_at + dt.timedelta(hours=3))
    venue = "Grand Hyatt, Pudong"
    capacity = 50
    budget = Decimal("80000.00")
    owner = factory.SubFactory(UserFactory, role=Role.HEAD_OFFICE, branch=None)


class InvitationFactory(DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory, consent_phone=True)
