"""`manage.py seed_demo`: a deterministic, valid, idempotent demo book."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db.models import Count, F, Max, Q, Sum
from django.test import RequestFactory

from customers.choices import CustomerType, IdType, ProductType, RelationType, Role
from customers.management.commands import seed_demo
from customers.models import (
    AuditEntry,
    BalanceSnapshot,
    CreditLine,
    Customer,
    CustomerTeamMember,
    Holding,
    KeyContact,
    RelatedParty,
    User,
)
from customers.profile import completeness
from customers.validators import validate_mobile_phone
from interactions.choices import ReminderStatus
from interactions.models import Interaction, Reminder
from segmentation.choices import ValueTier

SMALL_BOOK = 60
SEED = 7
BOOK_FIELDS = (
    "customer_number",
    "name",
    "customer_type",
    "id_number",
    "birth_date",
    "phone",
    "aum",
    "value_tier",
    "relationship_manager__username",
    "branch__code",
    "profile_completeness",
    "risk_appetite",
    "occupation",
    "industry",
    "preferred_channel",
    "consent_sms",
    "address",
)
ASSET_PRODUCTS = {
    ProductType.CURRENT_DEPOSIT,
    ProductType.TIME_DEPOSIT,
    ProductType.WEALTH_MANAGEMENT,
    ProductType.FUND,
    ProductType.INSURANCE,
}
LINKED_BOOK = 600  # big enough for every kind of related party to occur

# Independent oracles for the identity numbers (not the command's own helpers).
PRC_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # ISO 7064 MOD 11-2
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [3**i % 31 for i in range(17)]
PROVINCE_CODES = set("11 12 21 31 32 33 34 35 37 41 42 43 44 50 51 61".split())


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", customers=SMALL_BOOK, seed=SEED, stdout=out, **options)
    return out.getvalue()


def book() -> list[tuple]:
    """What must repeat for a seed: customers' identity, balances, profile and what they hold."""
    customers = list(Customer.objects.order_by("customer_number").values_list(*BOOK_FIELDS))
    holdings = list(
        Holding.objects.order_by("account_number").values_list(
            "customer__customer_number", "account_number", "product_name", "balance", "opened_on"
        )
    )
    contacts = list(
        KeyContact.objects.order_by("customer__customer_number", "phone").values_list(
            "customer__customer_number", "name", "role", "phone"
        )
    )
    links = sorted(
        RelatedParty.objects.values_list(
            "customer__customer_number", "related_customer__customer_number", "relation_type"
        )
    )
    return [customers, holdings, contacts, links]


def row_counts() -> dict[str, int]:
    models = (
        Customer,
        BalanceSnapshot,
        Interaction,
        Reminder,
        User,
        Holding,
        KeyContact,
        CreditLine,
        RelatedParty,
        CustomerTeamMember,
    )
    return {model.__name__: model.objects.count() for model in models}


def luhn_is_valid(number: str) -> bool:
    digits = [int(char) for char in reversed(number)]
    doubled = [sum(divmod(2 * digit, 10)) for digit in digits[1::2]]
    return (sum(digits[0::2]) + sum(doubled)) % 10 == 0


def prc_id_is_valid(number: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(number[:17], PRC_ID_WEIGHTS, strict=True)
    )
    return number[17] == "10X98765432"[total % 11]


def uscc_is_valid(code: str) -> bool:
    if len(code) != 18 or any(char not in USCC_ALPHABET for char in code):
        return False
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    return code[17] == USCC_ALPHABET[(31 - total % 31) % 31]


@pytest.fixture(autouse=True)
def empty_book(db):
    """Start from an empty book even if a concurrent session (a live-server test sharing the
    test database) has committed customers: the command would rightly refuse to seed then."""
    seed_demo.demo_data_delete()


# --- Size and shape ----------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_builds_customers_with_twelve_monthly_snapshots():
    # when
    output = seed()

    # then
    assert Customer.objects.count() == SMALL_BOOK
    assert BalanceSnapshot.objects.count() == SMALL_BOOK * seed_demo.SNAPSHOT_MONTHS
    per_customer = Customer.objects.annotate(n=Count("snapshots")).values_list("n", flat=True)
    assert set(per_customer) == {seed_demo.SNAPSHOT_MONTHS}
    months = sorted(set(BalanceSnapshot.objects.values_list("month", flat=True)))
    assert len(months) == seed_demo.SNAPSHOT_MONTHS
    assert all(month.day == 1 for month in months)
    assert f"Seeded {SMALL_BOOK} customers" in output


@pytest.mark.django_db
def test_customer_aum_is_the_latest_snapshot():
    # given
    seed()
    latest = BalanceSnapshot.objects.aggregate(month=Max("month"))["month"]

    # then
    snapshot_aum = dict(
        BalanceSnapshot.objects.filter(month=latest).values_list("customer_id", "aum")
    )
    assert snapshot_aum == dict(Customer.objects.values_list("id", "aum"))
    assert all(snapshot.currency == "CNY" for snapshot in BalanceSnapshot.objects.all())


@pytest.mark.django_db
def test_tiers_follow_aum_rank():
    # given
    seed()

    # then: 5% value, 15% sub-value, 30% potential, the rest low value
    tiers = dict(Customer.objects.values_list("value_tier").annotate(n=Count("id")))
    assert tiers == {
        ValueTier.VALUE.value: 3,
        ValueTier.SUB_VALUE.value: 9,
        ValueTier.POTENTIAL.value: 18,
        ValueTier.LOW_VALUE.value: 30,
    }
    ranked = list(Customer.objects.order_by("-aum").values_list("value_tier", flat=True))
    assert ranked[:3] == [ValueTier.VALUE] * 3


@pytest.mark.django_db
def test_last_contact_is_the_latest_interaction_by_the_customers_rm():
    # given
    seed()

    # then
    latest = dict(
        Interaction.objects.values("customer_id")
        .annotate(latest=Max("occurred_at"))
        .values_list("customer_id", "latest")
    )
    for customer in Customer.objects.all():
        assert customer.last_contact_at == latest.get(customer.pk)
    assert not Interaction.objects.filter(occurred_at__gte=dt.datetime.now(tz=dt.UTC)).exists()
    assert all(
        interaction.logged_by_id == interaction.customer.relationship_manager_id
        for interaction in Interaction.objects.select_related("customer")
    )


@pytest.mark.django_db
def test_demo_rms_have_open_reminders_some_past_due():
    # given
    seed()
    rm = User.objects.get(username="rm.wang")

    # then
    reminders = Reminder.objects.filter(assigned_to=rm, status=ReminderStatus.OPEN)
    now = dt.datetime.now(tz=dt.UTC)
    assert reminders.filter(due_at__gt=now).exists()
    assert reminders.filter(due_at__lt=now).exists()
    assert set(reminders.values_list("customer__relationship_manager", flat=True)) == {rm.pk}


# --- Determinism -------------------------------------------------------------------------


@pytest.mark.django_db
def test_same_seed_gives_the_same_book_after_reset():
    # given
    seed()
    first = book()

    # when
    seed(reset=True)

    # then
    assert book() == first
    assert Customer.objects.count() == SMALL_BOOK


@pytest.mark.django_db
def test_another_seed_gives_another_book():
    # given
    seed()
    first = book()

    # when
    call_command("seed_demo", customers=SMALL_BOOK, seed=SEED + 1, reset=True, stdout=io.StringIO())

    # then
    assert [row[1] for row in book()[0]] != [row[1] for row in first[0]]


@pytest.mark.django_db
def test_bulk_create_path_builds_the_same_book_as_copy(monkeypatch):
    """SQLite (`make run`) takes the bulk_create path; it must agree with COPY."""
    # given
    seed()
    via_default_path = book()

    # when
    monkeypatch.setattr(seed_demo, "_copy_supported", lambda: False)
    output = seed(reset=True)

    # then
    assert "(bulk_create)" in output
    assert book() == via_default_path


# --- Idempotence -------------------------------------------------------------------------


@pytest.mark.django_db
def test_rerun_without_reset_adds_nothing_and_prints_credentials():
    # given
    seed()
    before = row_counts()

    # when
    output = seed()

    # then
    assert row_counts() == before
    assert "already present" in output
    assert seed_demo.DEMO_PASSWORD in output
    assert "rm.wang" in output


@pytest.mark.django_db
def test_reset_clears_audit_entries_and_protected_rows():
    # given: interactions and reminders PROTECT their customer
    seed()
    customer = Customer.objects.first()
    AuditEntry.objects.create(
        action="update",
        object_type="customers.customer",
        object_id=str(customer.pk),
        customer=customer,
    )

    # when
    before = row_counts()
    seed(reset=True)

    # then: the profile tables were emptied too, not added to
    assert not AuditEntry.objects.exists()
    assert Customer.objects.count() == SMALL_BOOK
    assert row_counts() == before


# --- Demo users --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "role", "branch_code"),
    [
        ("rm.wang", Role.RELATIONSHIP_MANAGER, "SH01"),
        ("rm.li", Role.RELATIONSHIP_MANAGER, "SH01"),
        ("head.zhang", Role.BRANCH_HEAD, "SH01"),
        ("admin.chen", Role.HEAD_OFFICE, "HO"),
    ],
)
def test_demo_users_have_their_roles_and_can_log_in(username, role, branch_code):
    # given
    seed()

    # when: through every configured backend, lock-out protection included
    request = RequestFactory().post("/accounts/login/")
    user = authenticate(request, username=username, password=seed_demo.DEMO_PASSWORD)

    # then
    assert user is not None
    assert user.role == role
    assert user.branch.code == branch_code
    assert user.first_name and user.last_name
    validate_password(seed_demo.DEMO_PASSWORD, user)


@pytest.mark.django_db
def test_head_office_admin_is_staff_and_superuser():
    # given
    seed()

    # then
    admin = User.objects.get(username="admin.chen")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.get(username="rm.wang").is_staff


@pytest.mark.django_db
def test_rms_see_only_their_own_book_and_other_branches_have_customers():
    # given
    seed()
    rm = User.objects.get(username="rm.wang")

    # when
    visible = Customer.objects.visible_to(rm)

    # then: their own book, and the corporates they serve as a secondary RM
    assert visible.exists()
    served = set(CustomerTeamMember.objects.filter(member=rm).values_list("customer", flat=True))
    own = visible.exclude(pk__in=served)
    assert set(own.values_list("relationship_manager", flat=True)) == {rm.pk}
    assert set(visible.filter(pk__in=served).values_list("pk", flat=True)) == served
    assert Customer.objects.exclude(branch__code="SH01").exists()
    assert Customer.objects.count() > visible.count()


# --- Identity numbers --------------------------------------------------------------------


@pytest.mark.django_db
def test_individuals_have_valid_prc_id_numbers_matching_their_birth_date():
    # given
    seed()
    individuals = Customer.objects.filter(customer_type=CustomerType.INDIVIDUAL)

    # then
    assert individuals.exists()
    for customer in individuals:
        assert customer.id_type == IdType.PRC_ID_CARD
        assert prc_id_is_valid(customer.id_number), customer.id_number
        assert customer.id_number[:2] in PROVINCE_CODES
        assert customer.id_number[6:14] == customer.birth_date.strftime("%Y%m%d")
        assert re.fullmatch(r"1[3-9]\d{9}", customer.phone)
    assert len({customer.id_number for customer in individuals}) == individuals.count()


@pytest.mark.django_db
def test_corporates_have_valid_unified_social_credit_codes():
    # given
    seed()
    corporates = Customer.objects.filter(customer_type=CustomerType.CORPORATE)

    # then
    assert corporates.exists()
    for customer in corporates:
        assert customer.id_type == IdType.USCC
        assert uscc_is_valid(customer.id_number), customer.id_number
        assert customer.birth_date is None


def test_identity_oracles_accept_published_numbers():
    """Published numbers, so that the oracles above are not checked only against themselves."""
    assert prc_id_is_valid("11010519491231002X")  # the example of GB 11643-1999
    assert uscc_is_valid("914403001922038216")  # Huawei Technologies Co., Ltd.
    assert seed_demo.prc_id_number("110105", dt.date(1949, 12, 31), 2) == "11010519491231002X"
    assert seed_demo.unified_social_credit_code("440300", "19220382") == "914403001922038216"


# --- The 360° profile --------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_completeness_is_what_the_profile_page_computes_and_spreads():
    # given
    seed()

    # then
    stored = []
    for customer in Customer.objects.all():
        assert customer.profile_completeness == completeness(customer), customer.pk
        stored.append(customer.profile_completeness)
    assert min(stored) <= 30  # some customers barely known ...
    assert max(stored) >= 80  # ... some well known
    assert len(set(stored)) >= 10


@pytest.mark.django_db
def test_profiles_are_filled_partially_and_consistently():
    # given
    call_command("seed_demo", customers=LINKED_BOOK, seed=SEED, stdout=io.StringIO())
    individuals = Customer.objects.filter(customer_type=CustomerType.INDIVIDUAL)
    corporates = Customer.objects.filter(customer_type=CustomerType.CORPORATE)

    # then: facts are known for many customers, but not for all
    for queryset, field in [
        (individuals, "occupation"),
        (individuals, "life_stage"),
        (individuals, "wealth_source"),
        (corporates, "industry"),
        (corporates, "company_size"),
    ]:
        known = queryset.exclude(**{field: ""}).count()
        assert 0 < known < queryset.count(), field
    assert 0 < individuals.filter(risk_appetite__isnull=False).count() < individuals.count()
    assert not corporates.exclude(occupation="").exists()
    assert not individuals.exclude(industry="").exists()
    # most consent to phone calls, fewer to SMS and WeChat; e-mail only with an address
    assert Customer.objects.filter(consent_phone=True).count() > (
        Customer.objects.filter(consent_sms=True).count()
    )
    assert not Customer.objects.filter(consent_email=True, email="").exists()
    # the very rich accept more risk than the mass market (seed 001)
    rich = individuals.filter(aum__gte=10_000_000, risk_appetite__isnull=False)
    mass = individuals.filter(aum__lt=1_000_000, risk_appetite__isnull=False)
    mean = lambda qs: sum(qs.values_list("risk_appetite", flat=True)) / qs.count()  # noqa: E731
    assert mean(rich) > mean(mass)


@pytest.mark.django_db
def test_every_customer_holds_products_that_add_up_to_the_balances():
    # given
    seed()

    # then
    per_customer = Customer.objects.annotate(
        n=Count("holdings"),
        assets=Sum("holdings__balance", filter=Q(holdings__product_type__in=ASSET_PRODUCTS)),
        loans=Sum("holdings__balance", filter=Q(holdings__product_type=ProductType.LOAN)),
    )
    for customer in per_customer:
        assert 1 <= customer.n <= seed_demo.MAX_HOLDINGS
        assert customer.assets == customer.aum
        assert (customer.loans or 0) == customer.loan_balance
    assert not Holding.objects.filter(balance__lt=0).exists()
    assert set(Holding.objects.values_list("currency", flat=True)) == {"CNY"}
    numbers = list(Holding.objects.values_list("account_number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"\d{19}", number) and luhn_is_valid(number) for number in numbers)
    assert not Holding.objects.filter(opened_on__isnull=True).exists()
    assert not Holding.objects.filter(matures_on__lte=F("opened_on")).exists()


@pytest.mark.django_db
def test_corporates_have_key_contacts_with_valid_mobiles_and_credit_lines_within_limit():
    # given
    call_command("seed_demo", customers=LINKED_BOOK, seed=SEED, stdout=io.StringIO())
    corporates = Customer.objects.filter(customer_type=CustomerType.CORPORATE)

    # then
    counts = corporates.annotate(n=Count("key_contacts")).values_list("n", flat=True)
    assert set(counts) <= {1, 2, 3, 4}
    assert not KeyContact.objects.filter(customer__customer_type=CustomerType.INDIVIDUAL).exists()
    for contact in KeyContact.objects.all():
        validate_mobile_phone(contact.phone)
        assert contact.phone
    assert KeyContact.objects.filter(is_decision_maker=True).exists()
    assert KeyContact.objects.filter(birthday__isnull=False).exists()
    lines = CreditLine.objects.all()
    assert (
        0.3
        < corporates.filter(credit_lines__isnull=False).distinct().count() / corporates.count()
        < 0.7
    )
    assert not lines.filter(utilised__gt=F("limit")).exists()
    assert not lines.filter(customer__customer_type=CustomerType.INDIVIDUAL).exists()


@pytest.mark.django_db
def test_related_parties_link_distinct_customers_sensibly():
    # given
    call_command("seed_demo", customers=LINKED_BOOK, seed=SEED, stdout=io.StringIO())
    links = RelatedParty.objects.select_related("customer", "related_customer")

    # then
    assert not links.filter(customer=F("related_customer")).exists()
    assert {link.relation_type for link in links} == {
        RelationType.HOUSEHOLD,
        RelationType.REFERRER,
        RelationType.GROUP_COMPANY,
        RelationType.GUARANTOR,
    }
    for link in links:
        a, b = link.customer, link.related_customer
        if link.relation_type == RelationType.HOUSEHOLD:
            assert a.customer_type == b.customer_type == CustomerType.INDIVIDUAL
            assert a.relationship_manager_id == b.relationship_manager_id
        elif link.relation_type == RelationType.REFERRER:
            assert a.customer_since < b.customer_since  # an existing customer brings a new one
        elif link.relation_type == RelationType.GROUP_COMPANY:
            assert a.customer_type == b.customer_type == CustomerType.CORPORATE
        else:
            assert (a.customer_type, b.customer_type) == (
                CustomerType.INDIVIDUAL,
                CustomerType.CORPORATE,
            )


@pytest.mark.django_db
def test_secondary_rms_are_colleagues_of_the_primary_rm():
    # given
    call_command("seed_demo", customers=LINKED_BOOK * 3, seed=SEED, stdout=io.StringIO())
    team = CustomerTeamMember.objects.select_related("customer__relationship_manager", "member")

    # then
    assert team.exists()
    for member in team:
        primary = member.customer.relationship_manager
        assert member.member != primary
        assert member.member.branch_id == primary.branch_id
        assert member.customer.customer_type == CustomerType.CORPORATE


def test_copy_lines_escape_what_copy_would_misread():
    """The fast row formatting must fall back to escaping whenever a value needs it."""
    plain = ("plain", 1, None, True, dt.date(2026, 1, 2))
    assert seed_demo._copy_line(plain) == "plain\t1\t\\N\tTrue\t2026-01-02"
    for tricky in [
        ("tab\there", None),
        ("back\\slash", 2),
        ("line\nbreak", "carriage\rreturn"),
        ("\\N", None),  # a literal backslash-N is not a NULL
    ]:
        assert seed_demo._copy_line(tricky) == "\t".join(map(seed_demo._copy_text, tricky))
