"""Every insert, update and delete of customer data is audited, by the app or by the database.

Proves migration customers 0008 on PostgreSQL: a raw `bulk_create`, `.update()` or
`.delete()` on the customer table or on any table a customer owns leaves one audit entry
per row, on the right customer, with the fields named and masked as the application does;
the paths that audit their own writes (services, the integration API, the admin) leave
exactly one entry, never a second one from the database.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from customers.choices import AuditAction, CustomerType, IdType, ProductType, RelationType
from customers.models import (
    AuditEntry,
    BalanceSnapshot,
    CreditLine,
    Customer,
    CustomerTeamMember,
    Holding,
    KeyContact,
    RelatedParty,
    Transaction,
)
from customers.services import (
    audit_purge_allowed,
    audit_value,
    audited_customer_writes,
    customer_create,
    key_contact_add,
    key_contact_remove,
    key_contact_update,
    related_party_link,
    related_party_unlink,
    team_member_add,
    team_member_remove,
)
from tests.customers.factories import BalanceSnapshotFactory, CustomerFactory, UserFactory
from tests.customers.test_api_bulk import customer_record, key_client, post

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the audit triggers are PostgreSQL's"
    ),
]

ACCOUNT = "6222021234567890123"
ACCOUNT_MASKED = "***************0123"


def direct_writes(**filters):
    """Audit entries the database wrote for statements no service had audited."""
    return AuditEntry.objects.filter(reason__startswith="Direct database write", **filters)


def only_direct_write(**filters) -> AuditEntry:
    entry = direct_writes(**filters).get()
    assert entry.actor is None
    assert entry.reason.startswith("Direct database write by role ")
    return entry


@pytest.fixture
def company(rm_a):
    return CustomerFactory(
        relationship_manager=rm_a,
        customer_type=CustomerType.CORPORATE,
        id_type=IdType.USCC,
        id_number="91350100M000100Y43",
        birth_date=None,
        name="Acme Trading",
    )


@pytest.fixture
def holding(customer_a) -> Holding:
    with audited_customer_writes():  # set-up, not a write under test
        return Holding.objects.create(
            customer=customer_a,
            account_number=ACCOUNT,
            product_type=ProductType.TIME_DEPOSIT,
            product_name="One-year deposit",
            balance=Decimal("5000.00"),
        )


# --- The database records raw writes, per table --------------------------------------------


def test_raw_bulk_create_of_customers_is_recorded_with_masked_values(branch_x, rm_a):
    # when: customers written past every service
    created = Customer.objects.bulk_create(
        [
            Customer(
                customer_number=f"RAW{n}",
                customer_type=CustomerType.INDIVIDUAL,
                name=f"Raw {n}",
                id_type=IdType.PRC_ID_CARD,
                id_number="11010519491231002X",
                phone="13812345678",
                branch=branch_x,
                relationship_manager=rm_a,
                aum=Decimal("1250.50"),
            )
            for n in range(2)
        ]
    )
    # then: one entry per customer, on the customer, with what was set
    for customer in created:
        entry = only_direct_write(customer=customer)
        assert entry.action == AuditAction.CREATE
        assert (entry.object_type, entry.object_id) == ("customers.customer", str(customer.pk))
        changes = entry.changes
        assert changes["customer_number"] == [None, customer.customer_number]
        assert changes["id_number"] == [None, "110***********002X"]
        assert changes["phone"] == [None, "138****5678"]
        assert changes["branch"] == [None, branch_x.pk]
        assert changes["relationship_manager"] == [None, rm_a.pk]
        assert changes["aum"] == [None, "1250.50"]  # as str(Decimal), like the app's entries
        assert not {"id", "created_at", "updated_at", "version", "name_pinyin"} & set(changes)
        assert "occupation" not in changes  # empty values are not listed


def test_raw_sql_insert_of_a_customer_is_recorded(branch_x):
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (customer_number, customer_type, name, id_type, "
            "id_number, registered_address, phone, email, address, preferred_channel, "
            "preferred_contact_time, language, consent_phone, consent_sms, consent_wechat, "
            "consent_email, consent_letter, consent_visit, notes, occupation, employer, "
            "income_band, life_stage, family, interests, wealth_source, investment_experience, "
            "industry, company_size, location, ownership, technology_level, "
            "purchasing_approach, collateral, industry_outlook, relationship_stage, branch_id, "
            "value_tier, aum, loan_balance, contribution_12m, currency, credit_rating, "
            "max_overdue_days, profile_completeness, version, created_at, updated_at) "
            "VALUES ('SQL1', 'individual', 'Sql Person', '', '', '', '13900001111', '', '', "
            "'', '', '', false, false, false, false, false, true, '', '', '', '', '', '', '', "
            "'', '', '', '', '', '', '', '', '', '', '', %s, '', 0, 0, 0, 'CNY', '', 0, 0, 1, "
            "now(), now()) RETURNING id",
            [branch_x.pk],
        )
        (pk,) = cursor.fetchone()
    # then
    entry = only_direct_write(customer_id=pk)
    assert entry.action == AuditAction.CREATE
    assert entry.changes["phone"] == [None, "139****1111"]
    assert entry.changes["consent_visit"] == [None, True]


def test_raw_writes_of_holdings_are_recorded_with_account_numbers_masked(customer_a):
    # when: created, changed and deleted past the ingest and the admin
    (created,) = Holding.objects.bulk_create(
        [
            Holding(
                customer=customer_a,
                account_number=ACCOUNT,
                product_type=ProductType.FUND,
                product_name="Bond fund",
            )
        ]
    )
    Holding.objects.filter(pk=created.pk).update(
        balance=Decimal("99.90"), account_number="6222020000000009876"
    )
    Holding.objects.filter(pk=created.pk).delete()
    # then: three entries on the customer, none showing a full account number
    entries = {e.action: e for e in direct_writes(object_type="customers.holding")}
    assert set(entries) == {AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE}
    assert {e.customer_id for e in entries.values()} == {customer_a.pk}
    assert {e.object_id for e in entries.values()} == {str(created.pk)}
    assert entries[AuditAction.CREATE].changes["account_number"] == [None, ACCOUNT_MASKED]
    assert entries[AuditAction.CREATE].changes["customer"] == [None, customer_a.pk]
    assert entries[AuditAction.UPDATE].changes == {
        "balance": ["0.00", "99.90"],
        "account_number": [ACCOUNT_MASKED, "***************9876"],
    }
    assert entries[AuditAction.DELETE].changes == {
        "account_number": ["***************9876", None],
        "product_type": [ProductType.FUND, None],
        "product_name": ["Bond fund", None],
        "balance": ["99.90", None],
        "currency": ["CNY", None],
    }
    assert ACCOUNT not in str([e.changes for e in entries.values()])


def test_raw_writes_of_key_contacts_are_recorded_with_phones_masked(company):
    # when
    (contact,) = KeyContact.objects.bulk_create(
        [KeyContact(customer=company, name="Li Lei", role="CFO", phone="13700001111")]
    )
    KeyContact.objects.filter(pk=contact.pk).update(phone="13700002222", role="CEO")
    KeyContact.objects.filter(pk=contact.pk).delete()
    # then
    entries = {e.action: e for e in direct_writes(object_type="customers.keycontact")}
    assert {e.customer_id for e in entries.values()} == {company.pk}
    assert entries[AuditAction.CREATE].changes["phone"] == [None, "137****1111"]
    assert entries[AuditAction.UPDATE].changes == {
        "phone": ["137****1111", "137****2222"],
        "role": ["CFO", "CEO"],
    }
    assert entries[AuditAction.DELETE].changes == {
        "name": ["Li Lei", None],
        "role": ["CEO", None],
        "phone": ["137****2222", None],
        "email": ["", None],
    }


def test_raw_writes_of_credit_lines_are_recorded(customer_a):
    # when
    line = CreditLine.objects.create(
        customer=customer_a, facility="Mortgage", limit=Decimal("800000.00")
    )
    CreditLine.objects.filter(pk=line.pk).update(utilised=Decimal("200000.00"))
    CreditLine.objects.filter(pk=line.pk).delete()
    # then
    entries = {e.action: e for e in direct_writes(object_type="customers.creditline")}
    assert {e.customer_id for e in entries.values()} == {customer_a.pk}
    assert entries[AuditAction.CREATE].changes["limit"] == [None, "800000.00"]
    assert entries[AuditAction.UPDATE].changes == {"utilised": ["0.00", "200000.00"]}
    assert entries[AuditAction.DELETE].changes["facility"] == ["Mortgage", None]


def test_raw_writes_of_related_parties_are_recorded_on_the_owning_customer(customer_a, customer_b):
    # when
    (link,) = RelatedParty.objects.bulk_create(
        [
            RelatedParty(
                customer=customer_a,
                related_customer=customer_b,
                relation_type=RelationType.HOUSEHOLD,
            )
        ]
    )
    RelatedParty.objects.filter(pk=link.pk).update(note="Spouse")
    RelatedParty.objects.filter(pk=link.pk).delete()
    # then: foreign keys named as the app names them
    entries = {e.action: e for e in direct_writes(object_type="customers.relatedparty")}
    assert {e.customer_id for e in entries.values()} == {customer_a.pk}
    assert entries[AuditAction.CREATE].changes["related_customer"] == [None, customer_b.pk]
    assert entries[AuditAction.UPDATE].changes == {"note": ["", "Spouse"]}
    assert entries[AuditAction.DELETE].changes == {
        "related_customer": [customer_b.pk, None],
        "relation_type": [RelationType.HOUSEHOLD, None],
        "note": ["Spouse", None],
    }


def test_raw_writes_of_secondary_rms_are_recorded(customer_a, rm_b):
    # when
    member = CustomerTeamMember.objects.create(customer=customer_a, member=rm_b)
    CustomerTeamMember.objects.filter(pk=member.pk).update(responsibility="Trade finance")
    CustomerTeamMember.objects.filter(pk=member.pk).delete()
    # then
    entries = {e.action: e for e in direct_writes(object_type="customers.customerteammember")}
    assert {e.customer_id for e in entries.values()} == {customer_a.pk}
    assert entries[AuditAction.CREATE].changes == {
        "customer": [None, customer_a.pk],
        "member": [None, rm_b.pk],
    }
    assert entries[AuditAction.UPDATE].changes == {"responsibility": ["", "Trade finance"]}
    assert entries[AuditAction.DELETE].changes == {
        "member": [rm_b.pk, None],
        "responsibility": ["Trade finance", None],
    }


def test_raw_writes_of_balance_snapshots_are_recorded_per_row(customer_a, customer_b):
    # when: a raw load of two months for two customers, then a correction and a removal
    BalanceSnapshot.objects.bulk_create(
        [
            BalanceSnapshot(customer=customer, month=dt.date(2026, month, 1), aum=Decimal(month))
            for customer in (customer_a, customer_b)
            for month in (9, 10)
        ]
    )
    BalanceSnapshot.objects.filter(customer=customer_a, month=dt.date(2026, 10, 1)).update(
        aum=Decimal("12.34")
    )
    BalanceSnapshot.objects.filter(customer=customer_b).delete()
    # then
    created = direct_writes(object_type="customers.balancesnapshot", action=AuditAction.CREATE)
    assert sorted(created.values_list("customer_id", flat=True)) == sorted(
        [customer_a.pk] * 2 + [customer_b.pk] * 2
    )
    update = only_direct_write(object_type="customers.balancesnapshot", action=AuditAction.UPDATE)
    assert update.customer_id == customer_a.pk
    assert update.changes == {"aum": ["10.00", "12.34"]}
    deleted = direct_writes(object_type="customers.balancesnapshot", action=AuditAction.DELETE)
    assert [e.customer_id for e in deleted] == [customer_b.pk] * 2
    assert {e.changes["month"][0] for e in deleted} == {"2026-09-01", "2026-10-01"}


def test_raw_writes_of_transactions_are_recorded(customer_a, holding):
    # when: a transaction booked raw, then its account deleted by a raw query (SET NULL)
    booked = Transaction.objects.create(
        reference="T-1",
        customer=customer_a,
        holding=holding,
        booked_on=dt.date(2026, 10, 1),
        amount=Decimal("-25.00"),
    )
    Transaction.objects.filter(pk=booked.pk).update(holding=None)
    # then
    entries = {e.action: e for e in direct_writes(object_type="customers.transaction")}
    assert entries[AuditAction.CREATE].changes["amount"] == [None, "-25.00"]
    assert entries[AuditAction.CREATE].changes["holding"] == [None, holding.pk]
    assert entries[AuditAction.UPDATE].changes == {"holding": [holding.pk, None]}
    assert {e.customer_id for e in entries.values()} == {customer_a.pk}


def test_a_raw_update_of_bookkeeping_columns_only_records_nothing(holding, customer_a):
    Holding.objects.filter(pk=holding.pk).update(updated_at=holding.updated_at)
    Customer.objects.filter(pk=customer_a.pk).update(version=9, name_pinyin=" x")
    assert not direct_writes().exists()


def test_a_statement_marked_audited_records_nothing_and_the_mark_ends_with_its_block(
    customer_a, holding
):
    # when
    with audited_customer_writes():
        Holding.objects.filter(pk=holding.pk).update(balance=Decimal("1.00"))
        CreditLine.objects.create(customer=customer_a, facility="Overdraft")
    Holding.objects.filter(pk=holding.pk).update(balance=Decimal("2.00"))
    # then
    assert [e.changes for e in direct_writes()] == [{"balance": ["1.00", "2.00"]}]


def test_a_purge_keeps_no_record_of_what_it_deleted(customer_a, holding):
    # when: a demo reset empties the tables as the owner
    from customers.management.commands.seed_demo import demo_data_delete

    demo_data_delete()
    # then
    assert not Customer.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_number", "11010519491231002X"),
        ("id_number", "91350100M000100Y43"),
        ("phone", "13812345678"),
        ("phone", "1381234"),  # seven characters or fewer: all hidden
        ("phone", "+8613812345678"),
        ("account_number", ACCOUNT),
        ("account_number", "1234"),
        ("account_number", "账户12345"),
        ("account_number", ""),
        ("name", "王小明"),
    ],
)
def test_the_databases_masks_are_the_applications(field, value):
    with connection.cursor() as cursor:
        cursor.execute("SELECT crm_audit_value(%s, to_jsonb(%s::text)) #>> '{}'", [field, value])
        (masked,) = cursor.fetchone()
    assert masked == audit_value(field, value)


def test_the_customers_audit_page_shows_a_raw_write(client_for, head_x, holding, customer_a):
    # given
    Holding.objects.filter(pk=holding.pk).update(account_number="6222029999999995555")
    # when
    page = client_for(head_x).get(reverse("customers:audit", args=[customer_a.pk]))
    # then
    assert page.status_code == 200
    assert list(page.context["entries"]) == list(direct_writes())
    body = page.content.decode()
    assert "customers.holding" in body and "***************5555" in body
    assert "6222029999999995555" not in body


# --- Paths that audit themselves leave exactly one entry ------------------------------------


def test_customer_create_is_audited_once(rm_a, branch_x):
    # when
    customer = customer_create(
        acting_user=rm_a,
        branch=branch_x,
        customer_number="SVC1",
        customer_type=CustomerType.INDIVIDUAL,
        name="Service Made",
        phone="13811112222",
    )
    # then
    entry = AuditEntry.objects.get(customer=customer)
    assert entry.actor == rm_a and entry.action == AuditAction.CREATE
    assert not direct_writes().exists()


def test_key_contact_services_are_audited_once_each(rm_a, company):
    # when: added, changed and removed through the services
    contact = key_contact_add(
        acting_user=rm_a, customer=company, name="Han Mei", role="CFO", phone="13755556666"
    )
    key_contact_update(acting_user=rm_a, contact=contact, role="CEO")
    key_contact_remove(acting_user=rm_a, contact=contact)
    # then
    entries = AuditEntry.objects.filter(object_type="customers.keycontact").order_by("id")
    assert [(e.action, e.actor) for e in entries] == [
        (AuditAction.CREATE, rm_a),
        (AuditAction.UPDATE, rm_a),
        (AuditAction.DELETE, rm_a),
    ]
    assert not direct_writes().exists()


def test_related_party_and_team_services_are_audited_once_each(
    rm_a, rm_b, head_x, customer_a, customer_b
):
    # when
    link = related_party_link(
        acting_user=head_x,
        customer=customer_a,
        related_customer_number=customer_b.customer_number,
        relation_type=RelationType.HOUSEHOLD,
    )
    related_party_unlink(acting_user=head_x, link=link)
    member = team_member_add(acting_user=head_x, customer=customer_a, member=rm_b)
    team_member_remove(acting_user=head_x, team_member=member)
    # then
    entries = AuditEntry.objects.filter(
        object_type__in=["customers.relatedparty", "customers.customerteammember"]
    )
    assert entries.count() == 4 and {e.actor for e in entries} == {head_x}
    assert not direct_writes().exists()


def test_the_integration_api_bulk_endpoints_are_audited_once(
    integration_user, branch_x, customer_a, customer_b
):
    # given
    writer = key_client(integration_user)
    number_a, number_b = customer_a.customer_number, customer_b.customer_number
    holding = {
        "account_number": ACCOUNT,
        "customer_number": number_a,
        "product_type": ProductType.FUND,
        "product_name": "Bond fund",
    }
    snapshot = {"customer_number": number_a, "month": "2026-10", "aum": "10.00"}
    booking = {
        "reference": "CB-T-1",
        "customer_number": number_a,
        "booked_on": "2026-10-02",
        "amount": "12.00",
    }
    link = {
        "customer_number": number_a,
        "related_customer_number": number_b,
        "relation_type": RelationType.GUARANTOR,
    }
    # when: each kind created, then changed
    for kind, first, second in (
        ("customers", customer_record("CB0001"), customer_record("CB0001", aum="1.00")),
        ("holdings", holding, {**holding, "balance": "300.00"}),
        ("balance-snapshots", snapshot, {**snapshot, "aum": "11.00"}),
        ("transactions", booking, {**booking, "amount": "13.00"}),
        ("related-parties", link, {**link, "note": "Until 2030"}),
    ):
        for record in (first, second):
            response = post(writer, kind, [record])
            assert response.status_code == 200, (kind, response.json())
    post(writer, "related-parties", [{**link, "unlink": True}])
    # then: the ingest's own entries, by the key's user; none from the database
    entries = AuditEntry.objects.all()
    assert {e.actor for e in entries} == {integration_user}
    assert not direct_writes().exists()
    by_type = {}
    for entry in entries:
        by_type.setdefault(entry.object_type, []).append(entry.action)
    assert sorted(by_type["customers.customer"]) == ["create", "update"]
    assert sorted(by_type["customers.holding"]) == ["create", "update"]
    assert sorted(by_type["customers.relatedparty"]) == ["create", "delete", "update"]
    # New snapshots and transactions: one entry per batch, not per row (feed volume).
    batch = AuditEntry.objects.get(object_type="customers.balancesnapshot", action="create")
    assert batch.customer_id is None and batch.changes == {"rows_created": [None, 1]}
    assert sorted(by_type["customers.transaction"]) == ["create", "update"]


def test_snapshot_factory_rows_are_set_up_not_writes_under_test(customer_a):
    BalanceSnapshotFactory(customer=customer_a)
    assert not AuditEntry.objects.exists()


# --- The admin audits its writes, inlines and cascades included, once ----------------------


def _inline_management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_admin_inline_rows_are_audited_once_with_the_head_office_user(
    client_for, head_office, customer_a
):
    # given: the customer's change form, posted back with one new credit line
    client = client_for(head_office)
    url = reverse("admin:customers_customer_change", args=[customer_a.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: form[name].value() for name in form.fields if form[name].value() not in (None, False)
    }
    data.update(_inline_management("team", 0))
    data.update(_inline_management("key_contacts", 0))
    data.update(_inline_management("credit_lines", 1))
    data.update({"credit_lines-0-facility": "Overdraft", "credit_lines-0-limit": "5000.00"})
    data.update({"credit_lines-0-utilised": "0.00", "credit_lines-0-currency": "CNY"})
    # when
    response = client.post(url, data)
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    line = CreditLine.objects.get(customer=customer_a)
    entry = AuditEntry.objects.get(object_type="customers.creditline")
    assert (entry.actor, entry.action, entry.object_id) == (
        head_office,
        AuditAction.CREATE,
        str(line.pk),
    )
    assert not direct_writes().exists()


def test_admin_deletion_audits_the_customer_data_it_takes_along(
    client_for, head_office, customer_a, branch_x
):
    # given: an RM who is a secondary RM of a customer, leaving the bank
    leaver = UserFactory(username="leaver", branch=branch_x)
    with audited_customer_writes():  # set-up
        CustomerTeamMember.objects.create(customer=customer_a, member=leaver)
    # when
    response = client_for(head_office).post(
        reverse("admin:customers_user_delete", args=[leaver.pk]), {"post": "yes"}
    )
    # then: the user's deletion and the team place it took along, each once, by head office
    assert response.status_code == 302
    assert not CustomerTeamMember.objects.exists()
    entry = AuditEntry.objects.get(object_type="customers.customerteammember")
    assert (entry.actor, entry.action, entry.customer_id) == (
        head_office,
        AuditAction.DELETE,
        customer_a.pk,
    )
    assert AuditEntry.objects.filter(object_type="customers.user", actor=head_office).count() == 1
    assert not direct_writes().exists()


def test_admin_deleting_an_account_audits_its_transactions_losing_it(
    client_for, head_office, customer_a, holding
):
    # given
    with audited_customer_writes():  # set-up
        booked = Transaction.objects.create(
            reference="T-9",
            customer=customer_a,
            holding=holding,
            booked_on=dt.date(2026, 10, 1),
            amount=Decimal("1.00"),
        )
    # when
    response = client_for(head_office).post(
        reverse("admin:customers_holding_delete", args=[holding.pk]), {"post": "yes"}
    )
    # then
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.holding_id is None
    entry = AuditEntry.objects.get(object_type="customers.transaction")
    assert entry.actor == head_office and entry.changes == {"holding": [holding.pk, None]}
    deleted = AuditEntry.objects.get(object_type="customers.holding")
    assert deleted.actor == head_office and deleted.action == AuditAction.DELETE
    assert not direct_writes().exists()


def test_the_purge_mark_covers_deletes_only(customer_a):
    # when: inside a purge block, a raw insert still leaves its entry
    with audit_purge_allowed():
        CreditLine.objects.create(customer=customer_a, facility="Guarantee")
    # then
    assert only_direct_write(object_type="customers.creditline").action == AuditAction.CREATE
