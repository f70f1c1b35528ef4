"""Export of the customer list: same scope and filters as the list, masked, formula-safe,
streamed, and logged as a security event. The unmasked export: branch heads and head office
only, after a fresh code, audited per exported customer."""

from __future__ import annotations

import csv
import io
import json
import logging

import openpyxl
import pytest
from django.urls import reverse

from crm_site.mfa.services import SESSION_VERIFIED_AT
from customers.choices import AuditAction, CustomerType
from customers.exports import export_cell
from customers.models import AuditEntry
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FORMULA_NAME = '=HYPERLINK("http://x","y")'


def export(client, file_format: str = "csv", **params):
    return client.get(reverse("customers:export", args=[file_format]), params)


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def xlsx_rows(response) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.fixture
def security_log():
    """Records of the crm.security logger (it does not propagate to the root logger)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect()
    logger = logging.getLogger("crm.security")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_branch_head_exports_only_customers_in_scope(
    client_for, head_x, customer_a, customer_b, customer_y
):
    # when
    rows = csv_rows(export(client_for(head_x)))
    # then
    names = {row[2] for row in rows[1:]}
    assert names == {customer_a.name, customer_b.name}
    assert rows[0][:3] == ["Customer number", "Type", "Name"]


def test_rm_exports_only_their_own_book(client_for, rm_a, customer_a, customer_b):
    names = [row[2] for row in csv_rows(export(client_for(rm_a)))[1:]]
    assert names == [customer_a.name]


def test_other_branch_head_sees_only_their_branch(client_for, head_y, customer_a, customer_y):
    rows = xlsx_rows(export(client_for(head_y), "xlsx"))
    names = [row[2] for row in rows[1:]]
    assert names == [customer_y.name]


def test_id_number_and_phone_are_masked(client_for, rm_a):
    # given
    customer = CustomerFactory(relationship_manager=rm_a, phone="13912345678")
    # when
    csv_body = b"".join(export(client_for(rm_a)).streaming_content).decode()
    xlsx = xlsx_rows(export(client_for(rm_a), "xlsx"))
    # then
    for body in (csv_body, repr(xlsx)):
        assert customer.id_number not in body
        assert "13912345678" not in body
        assert "110***********002X" in body
        assert "139****5678" in body


def test_formula_in_a_name_is_escaped_in_csv_and_xlsx(client_for, rm_a):
    # given
    CustomerFactory(relationship_manager=rm_a, name=FORMULA_NAME)
    # when
    csv_row = csv_rows(export(client_for(rm_a)))[1]
    response = export(client_for(rm_a), "xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = workbook.active.cell(row=2, column=3)
    # then
    assert csv_row[2] == "'" + FORMULA_NAME
    assert cell.value == "'" + FORMULA_NAME
    assert cell.data_type == "s"  # text, not a formula


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613912345678", "'+8613912345678"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\x01=1", "'=1"),
        ("Plain name", "Plain name"),
        ("王小明", "王小明"),
        (None, ""),
        (-5, -5),
    ],
)
def test_export_cell_escapes_text_that_a_spreadsheet_would_run(value, expected):
    assert export_cell(value) == expected


def test_export_respects_the_list_filters(client_for, rm_a):
    # given
    CustomerFactory(relationship_manager=rm_a, name="Person One")
    CustomerFactory(
        relationship_manager=rm_a,
        name="Company One",
        customer_type=CustomerType.CORPORATE,
        id_type="",
        id_number="",
        birth_date=None,
    )
    client = client_for(rm_a)
    # when / then
    assert [r[2] for r in csv_rows(export(client, customer_type="corporate"))[1:]] == [
        "Company One"
    ]
    assert [r[2] for r in csv_rows(export(client, q="Person"))[1:]] == ["Person One"]
    assert [r[2] for r in xlsx_rows(export(client, "xlsx", customer_type="individual"))[1:]] == [
        "Person One"
    ]


def test_export_follows_the_list_order(client_for, rm_a):
    CustomerFactory(relationship_manager=rm_a, name="Small", aum=100)
    CustomerFactory(relationship_manager=rm_a, name="Large", aum=900)
    names = [r[2] for r in csv_rows(export(client_for(rm_a), sort="-aum"))[1:]]
    assert names == ["Large", "Small"]


def test_invalid_filters_are_refused_not_ignored(client_for, rm_a, customer_a):
    response = export(client_for(rm_a), value_tier="platinum")
    assert response.status_code == 400


def test_export_is_logged_with_count_user_and_filters_but_no_search_text(
    client_for, rm_a, customer_a, security_log
):
    # when
    csv_rows(export(client_for(rm_a), q="Alice", customer_type="individual"))
    # then
    events = [r for r in security_log if r.getMessage() == "customers.exported"]
    assert len(events) == 1
    event = events[0]
    assert event.user_id == rm_a.pk
    assert event.count == 1
    assert event.file_format == "csv"
    assert event.filters == {"q": "[search]", "customer_type": "individual"}
    assert "Alice" not in json.dumps(event.filters)


def test_xlsx_export_opens_with_openpyxl(client_for, head_x, customer_a, customer_b):
    # when
    response = export(client_for(head_x), "xlsx")
    # then
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = xlsx_rows(response)
    assert len(rows) == 3
    assert rows[0][0] == "Customer number"
    assert float(rows[1][10]) == 150000.0  # AUM stays a number


def test_too_large_an_export_asks_for_narrower_filters(client_for, rm_a, settings):
    settings.CUSTOMER_EXPORT_MAX_ROWS = 1
    CustomerFactory.create_batch(2, relationship_manager=rm_a)
    response = export(client_for(rm_a), customer_type="individual")
    assert response.status_code == 302
    assert response.url.startswith(reverse("customers:list"))
    assert "customer_type=individual" in response.url


def test_unknown_format_is_404_and_anonymous_must_sign_in(client, client_for, rm_a):
    assert export(client_for(rm_a), "pdf").status_code == 404
    response = export(client)
    assert response.status_code == 302 and "login" in response.url


@pytest.mark.parametrize("rows", [3, 30])
def test_export_query_count_is_constant(client_for, rm_a, django_assert_num_queries, rows):
    # given
    CustomerFactory.create_batch(rows, relationship_manager=rm_a)
    client = client_for(rm_a)
    # then: session, user, team memberships, count, one server-side cursor (the session is
    # saved at sign-in and at most once a minute after that, not on every request)
    with django_assert_num_queries(5):
        csv_rows(export(client))


def test_list_page_links_to_exports_with_the_current_filters(client_for, rm_a):
    body = client_for(rm_a).get(reverse("customers:list"), {"customer_type": "corporate"})
    content = body.content.decode()
    assert f"{reverse('customers:export', args=['csv'])}?customer_type=corporate" in content
    assert f"{reverse('customers:export', args=['xlsx'])}?customer_type=corporate" in content


# --- Unmasked export (branch heads and head office, after a fresh code) ---------------------


def export_unmasked(client, file_format: str = "csv", **params):
    return client.get(reverse("customers:export_unmasked", args=[file_format]), params)


def test_rm_cannot_export_unmasked(client_for, rm_a, customer_a, security_log):
    # when
    response = export_unmasked(client_for(rm_a))
    # then
    assert response.status_code == 403
    assert customer_a.id_number not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
    assert not [r for r in security_log if r.getMessage() == "customers.exported"]


def test_branch_head_without_a_fresh_code_is_sent_to_step_up(client_for, head_x, customer_a):
    # given: the last code was entered ten minutes ago
    client = client_for(head_x)
    session = client.session
    session[SESSION_VERIFIED_AT] -= 10 * 60
    session.save()
    url = reverse("customers:export_unmasked", args=["csv"])
    # when
    response = client.get(url)
    # then
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa:step_up')}?next={url.replace('/', '%2F')}"
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_branch_head_exports_full_values_of_their_branch_audited_per_customer(
    client_for, head_x, customer_a, customer_b, customer_y, security_log
):
    # when
    rows = csv_rows(export_unmasked(client_for(head_x)))
    # then: full values, the branch's customers only
    assert rows[0][4:6] == ["ID number", "Mobile phone"]
    by_name = {row[2]: row for row in rows[1:]}
    assert set(by_name) == {customer_a.name, customer_b.name}
    assert by_name[customer_a.name][4:6] == [customer_a.id_number, customer_a.phone]
    # and one audit entry per exported customer, without the values
    entries = AuditEntry.objects.filter(action=AuditAction.REVEAL)
    assert sorted(entries.values_list("customer_id", flat=True)) == sorted(
        [customer_a.pk, customer_b.pk]
    )
    for entry in entries:
        assert entry.actor == head_x and entry.object_type == "customers.customer"
        assert entry.object_id == str(entry.customer_id)
        assert entry.changes == {"id_number": [None, None], "phone": [None, None]}
        assert "Unmasked export" in entry.reason
    # and the export's security event says so
    events = [r for r in security_log if r.getMessage() == "customers.exported"]
    assert len(events) == 1 and events[0].unmasked is True and events[0].count == 2


def test_unmasked_export_keeps_the_filters_and_the_xlsx_format(client_for, head_office, rm_a, rm_y):
    # given
    kept = CustomerFactory(relationship_manager=rm_a, name="Kept", phone="13912345678")
    CustomerFactory(relationship_manager=rm_y, name="Filtered out")
    # when
    rows = xlsx_rows(export_unmasked(client_for(head_office), "xlsx", q="Kept"))
    # then
    assert [row[2] for row in rows[1:]] == ["Kept"]
    assert rows[1][4:6] == (kept.id_number, "13912345678")  # text cells, not numbers
    assert list(AuditEntry.objects.filter(action="reveal").values_list("customer", flat=True)) == [
        kept.pk
    ]


def test_unmasked_export_is_formula_safe(client_for, head_x, rm_a):
    CustomerFactory(relationship_manager=rm_a, name=FORMULA_NAME)
    assert csv_rows(export_unmasked(client_for(head_x)))[1][2] == "'" + FORMULA_NAME


def test_default_export_stays_masked_for_a_branch_head(client_for, head_x, customer_a):
    body = b"".join(export(client_for(head_x)).streaming_content).decode()
    assert customer_a.id_number not in body and "110***********002X" in body
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


@pytest.mark.parametrize("rows", [3, 30])
def test_unmasked_export_query_count_is_constant(
    client_for, head_x, rm_a, django_assert_num_queries, rows
):
    # given
    CustomerFactory.create_batch(rows, relationship_manager=rm_a)
    client = client_for(head_x)
    # then: session, user, the head's branches, count; in a savepoint the ids (one
    # server-side cursor) and one INSERT of every audit entry; then the rows' cursor
    with django_assert_num_queries(9):
        csv_rows(export_unmasked(client))
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL).count() == rows


def test_list_page_offers_the_unmasked_export_to_branch_heads_only(client_for, rm_a, head_x):
    url = reverse("customers:export_unmasked", args=["csv"])
    assert url not in client_for(rm_a).get(reverse("customers:list")).content.decode()
    body = client_for(head_x).get(reverse("customers:list"), {"customer_type": "corporate"})
    content = body.content.decode()
    assert "Export unmasked" in content
    assert f"{url}?customer_type=corporate" in content
