"""Factories of the customer book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from customers.choices import CustomerType, IdType, Role
from customers.models import BalanceSnapshot, Branch, Customer, User
from customers.services import audited_customer_writes

TEST_PASSWORD = "Correct-Horse-Battery-9"


class BranchFactory(DjangoModelFactory[Branch]):
    class Meta:
        model = Branch
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.LazyAttribute(lambda branch: f"Branch {branch.code}")
    parent = None


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.RELATIONSHIP_MANAGER
    branch = factory.SubFactory(BranchFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class AuditedSetUp:
    """Rows a test starts from are set-up, not writes under test: created as audited, so the
    database's audit of direct writes (migration customers 0008) does not record them."""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with audited_customer_writes():
            return super()._create(model_class, *args, **kwargs)


class CustomerFactory(AuditedSetUp, DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    customer_number = factory.Sequence(lambda n: f"C{n:010d}")
    customer_type = CustomerType.INDIVIDUAL
    name = factory.Faker("name")
    id_type = IdType.PRC_ID_CARD
    id_number = "11010519491231002X"
    birth_date = dt.date(1949, 12, 31)
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    relationship_manager = factory.SubFactory(UserFactory)
    branch = factory.LazyAttribute(
        lambda customer: (
            customer.relationship_manager.branch
            if customer.relationship_manager
            else BranchFactory()
        )
    )
    aum = Decimal("150000.00")


class BalanceSnapshotFactory(AuditedSetUp, DjangoModelFactory[BalanceSnapshot]):
    class Meta:
        model = BalanceSnapshot

    customer = factory.SubFactory(CustomerFactory)
    month = dt.date(2026, 10, 1)
    aum = Decimal("100000.00")
    loan_balance = Decimal("0.00")
    contribution = Decimal("1200.00")
