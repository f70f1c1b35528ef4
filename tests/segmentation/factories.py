"""Factories and helpers of segmentation tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from segmentation.choices import RunTrigger
from segmentation.models import ScoringModel, ScoringRun
from segmentation.services import customer_tiers_sync, scoring_run_execute
from tests.customers.factories import CustomerFactory

BUSINESS_DATE = dt.date(2026, 11, 5)


class ScoringModelFactory(DjangoModelFactory[ScoringModel]):
    class Meta:
        model = ScoringModel

    version = factory.Sequence(lambda n: 100 + n)
    is_active = False


class ScoringRunFactory(DjangoModelFactory[ScoringRun]):
    class Meta:
        model = ScoringRun

    business_date = BUSINESS_DATE
    trigger = RunTrigger.MANUAL


def customer_with_contribution(contribution, **kwargs):
    """A customer with no snapshots: the run takes `contribution_12m` as the 12 months."""
    kwargs.setdefault("last_contact_at", timezone.now())
    return CustomerFactory(contribution_12m=Decimal(contribution), **kwargs)


def run_scoring(business_date: dt.date = BUSINESS_DATE) -> ScoringRun:
    """Queue a manual run and execute it, then sync the customers' tiers, as the task does."""
    run = ScoringRunFactory(business_date=business_date)
    run = scoring_run_execute(run_id=run.pk)
    customer_tiers_sync()
    run.refresh_from_db()
    return run


def use_model(**values) -> ScoringModel:
    """Make a model with these values the only active one."""
    ScoringModel.objects.update(is_active=False)
    defaults = {
        "weight_contribution": 100,
        "weight_loyalty": 0,
        "weight_credit": 0,
        "weight_growth": 0,
        "weight_influence": 0,
    }
    return ScoringModelFactory(is_active=True, **{**defaults, **values})
