"""The customer list's rows (`customer_rows`, built in Python): what an RM reads in each row,
escaped, masked and translated exactly as the template used to do it.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from customers.choices import CustomerType
from customers.models import Customer
from customers.templatetags.crm import customer_rows, money
from customers.views.customers import LIST_COLUMNS, ListedCustomer
from segmentation.choices import ValueTier
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

EVIL = '<b>Evil & "Co"</b>'
EVIL_ESCAPED = "&lt;b&gt;Evil &amp; &quot;Co&quot;&lt;/b&gt;"
# 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai.
CONTACTED = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _english():
    """Direct calls of the tag render in English (a test client's request leaves its
    language active in the thread)."""
    with translation.override("en"):
        yield


def row_for(html: str, customer) -> str:
    """The table row of `customer` (the one linking to their page)."""
    url = re.escape(reverse("customers:detail", args=[customer.pk]))
    match = re.search(rf'<tr>(?:(?!</tr>).)*href="{url}"(?:(?!</tr>).)*</tr>', html, re.DOTALL)
    assert match, f"no row for customer {customer.pk}"
    return match.group()


def cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)


@pytest.fixture
def evil(rm_a):
    rm_a.first_name, rm_a.last_name = "Lei", "Li"
    rm_a.save()
    return CustomerFactory(
        relationship_manager=rm_a,
        name=EVIL,
        customer_type=CustomerType.CORPORATE,
        phone="13912345678",
        value_tier=ValueTier.VALUE,
        aum=Decimal("1234567.891"),
        last_contact_at=CONTACTED,
    )


@pytest.fixture
def quiet(rm_a):
    """Never scored, never contacted, no phone on file."""
    return CustomerFactory(
        relationship_manager=rm_a,
        name="Quiet Customer",
        value_tier="",
        phone="",
        last_contact_at=None,
        aum=Decimal("0"),
    )


def list_page(client, **headers) -> str:
    response = client.get(reverse("customers:list"), **headers)
    assert response.status_code == 200
    return response.content.decode()


# --- On the list page --------------------------------------------------------------------------


def test_a_row_shows_what_the_rm_needs_escaped_and_masked(client_for, rm_a, evil):
    # when
    page = list_page(client_for(rm_a))
    row = row_for(page, evil)
    # then: the name is text, never markup
    assert "<b>Evil" not in page
    assert f'<a href="/customers/{evil.pk}/">{EVIL_ESCAPED}</a>' in row
    # the phone is masked
    assert "13912345678" not in page
    assert "139****5678" in row
    # type, number, tier, AUM, RM and the last contact in Shanghai's date
    assert '<small class="d-block text-body-secondary">Corporate</small>' in row
    assert evil.customer_number in row
    assert '<span class="badge tier-badge-value">Value</span>' in row
    assert "CNY&nbsp;1,234,567.89" in row
    assert ">Lei Li<" in row
    assert cells(row)[-1] == "03/02/2026"
    assert 'type="checkbox"' not in page  # an RM cannot reassign


def test_a_row_of_a_customer_never_scored_or_contacted(client_for, rm_a, quiet):
    row = row_for(list_page(client_for(rm_a)), quiet)
    assert '<span class="badge text-bg-light">Not scored</span>' in row
    assert "Individual" in row
    assert "CNY&nbsp;0.00" in row
    phone, contacted = cells(row)[4], cells(row)[6]
    assert phone == "—"
    assert contacted == "—"


def test_the_rows_link_to_each_customers_page(client_for, rm_a, evil, quiet):
    page = list_page(client_for(rm_a))
    for customer in (evil, quiet):
        link = reverse("customers:detail", args=[customer.pk])
        assert f'href="{link}"' in row_for(page, customer)
        assert client_for(rm_a).get(link).status_code == 200


def test_a_branch_head_gets_a_checkbox_per_row_and_sees_unassigned_customers(
    client_for, head_x, branch_x, evil
):
    # given
    orphan = CustomerFactory(relationship_manager=None, branch=branch_x, name="Orphan Ltd")
    # when
    page = list_page(client_for(head_x))
    # then
    evil_row, orphan_row = row_for(page, evil), row_for(page, orphan)
    assert (
        f'<input type="checkbox" class="form-check-input" name="customers" value="{evil.pk}" '
        f'form="bulk-reassign" aria-label="Select {EVIL_ESCAPED}">'
    ) in evil_row
    assert f'value="{orphan.pk}"' in orphan_row and 'aria-label="Select Orphan Ltd"' in orphan_row
    assert cells(orphan_row)[6] == "Unassigned"
    assert cells(evil_row)[6] == "Lei Li"
    assert "<b>Evil" not in page


def test_the_rows_in_simplified_chinese(client_for, head_x, branch_x, evil, quiet):
    # given
    orphan = CustomerFactory(relationship_manager=None, branch=branch_x, name="Orphan Ltd")
    # when
    page = list_page(client_for(head_x), HTTP_ACCEPT_LANGUAGE="zh-hans")
    # then
    evil_row = row_for(page, evil)
    assert '<span class="badge tier-badge-value">价值客户</span>' in evil_row
    assert '<small class="d-block text-body-secondary">对公</small>' in evil_row
    assert f'aria-label="选择 {EVIL_ESCAPED}"' in evil_row
    assert cells(evil_row)[-1] == "2026年3月2日"
    assert "CNY&nbsp;1,234,567.89" in evil_row
    assert "未评分" in row_for(page, quiet)
    assert "个人" in row_for(page, quiet)
    assert cells(row_for(page, orphan))[-2] == "未分配"


# --- The tag itself: edge cases ------------------------------------------------------------------


def test_the_tag_escapes_every_text_it_writes(rm_a):
    # given: texts that could break out of their element or attribute
    customer = CustomerFactory(
        relationship_manager=rm_a,
        name="100% <script>alert('x')</script>",
        customer_number="C<1>&2",
        currency="<U>",
    )
    rm_a.first_name, rm_a.last_name = "<i>Li</i>", "O'Hara & Co"
    customer.relationship_manager = rm_a
    customer.customer_type = "trust<x>"  # not a known type: shown as stored, escaped
    # when
    html = customer_rows([customer], selectable=True)
    # then
    assert "<script>" not in html and "<i>" not in html and "<U>" not in html
    assert "100% &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert 'aria-label="Select 100% &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"' in html
    assert "C&lt;1&gt;&amp;2" in html
    assert "&lt;U&gt;&nbsp;" in html
    assert escape(str(rm_a)) in html
    assert "trust&lt;x&gt;" in html


def test_the_tag_writes_the_amount_as_the_money_tag_does():
    customer = Customer(
        pk=7, name="x", customer_number="C1", aum=Decimal("1234567.891"), currency="CNY"
    )
    html = customer_rows([customer])
    assert "CNY&nbsp;1,234,567.89" in html
    assert money(Decimal("1234567.891")) in html
    customer.aum, customer.currency = Decimal("-0.5"), "USD"
    assert "USD&nbsp;-0.50" in customer_rows([customer])
    customer.aum = None
    assert cells(customer_rows([customer]))[3] == "—"


def test_the_tag_shows_the_local_date_of_the_last_contact():
    customer = Customer(pk=7, name="x", customer_number="C1", last_contact_at=CONTACTED)
    assert cells(customer_rows([customer]))[-1] == "03/02/2026"
    customer.last_contact_at = dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC)  # 23:59 local
    assert cells(customer_rows([customer]))[-1] == "03/01/2026"
    customer.last_contact_at = None
    assert cells(customer_rows([customer]))[-1] == "—"


def test_the_date_follows_the_language_of_each_request():
    """Dates are formatted once per day and kept; the language is part of what is kept."""
    customer = Customer(pk=7, name="x", customer_number="C1", last_contact_at=CONTACTED)
    with translation.override("zh-hans"):
        chinese = cells(customer_rows([customer]))[-1]
    with translation.override("en"):
        english = cells(customer_rows([customer]))[-1]
    with translation.override("zh-hans"):
        assert cells(customer_rows([customer]))[-1] == chinese
    assert english == "03/02/2026"
    assert chinese != english and "2026" in chinese


def test_the_tag_masks_the_phone_and_never_writes_it_whole():
    customer = Customer(pk=7, name="x", customer_number="C1", phone="13912345678")
    html = customer_rows([customer])
    assert "13912345678" not in html and "139****5678" in html
    customer.phone = ""
    assert cells(customer_rows([customer]))[4] == "—"


@pytest.mark.parametrize(
    ("tier", "english", "chinese"),
    [
        (ValueTier.VALUE, "Value", "价值客户"),
        (ValueTier.SUB_VALUE, "Sub-value", "次价值客户"),
        ("", "Not scored", "未评分"),
    ],
)
def test_the_tag_translates_tier_and_type_labels(tier, english, chinese):
    customer = Customer(
        pk=7, name="x", customer_number="C1", value_tier=tier, customer_type=CustomerType.CORPORATE
    )
    with translation.override("en"):
        english_html = customer_rows([customer])
    with translation.override("zh-hans"):
        chinese_html = customer_rows([customer], selectable=True)
    assert f">{english}</span>" in english_html and ">Corporate</small>" in english_html
    assert ">Unassigned</td>" in english_html
    assert f">{chinese}</span>" in chinese_html and ">对公</small>" in chinese_html
    assert ">未分配</td>" in chinese_html
    assert 'aria-label="选择 x"' in chinese_html
    assert cells(chinese_html)[0].startswith('<input type="checkbox"')


def test_the_tag_with_no_customers_writes_nothing():
    assert customer_rows([]) == ""
    assert customer_rows(Customer.objects.none(), selectable=True) == ""


def test_the_tag_writes_one_row_per_customer_in_order(rm_a):
    customers = [CustomerFactory(relationship_manager=rm_a, name=f"N{i}") for i in range(3)]
    html = customer_rows(customers)
    assert html.count("<tr>") == 3 and html.count("</tr>") == 3
    links = [html.index(f'href="/customers/{customer.pk}/"') for customer in customers]
    assert links == sorted(links)


@pytest.mark.parametrize(("first", "last"), [("Lei", "Li"), ("", ""), ("Lei", ""), ("", "Li")])
def test_a_listed_row_names_the_rm_as_everywhere_else(rm_a, first, last):
    """The list reads its rows as values (`ListedCustomer`); the RM's name there is the one
    `str(user)` gives on every other page."""
    rm_a.first_name, rm_a.last_name = first, last
    rm_a.save()
    customer = CustomerFactory(relationship_manager=rm_a, branch=rm_a.branch)
    orphan = CustomerFactory(relationship_manager=None, branch=rm_a.branch)
    rows = {
        row["id"]: ListedCustomer.from_values(row)
        for row in Customer.objects.filter(pk__in=[customer.pk, orphan.pk]).values(*LIST_COLUMNS)
    }
    assert rows[customer.pk].relationship_manager == str(rm_a)
    assert rows[orphan.pk].relationship_manager is None
    assert rows[customer.pk].pk == customer.pk
    html = customer_rows(list(rows.values()))
    assert f">{escape(str(rm_a))}</td>" in row_for(html, customer)
    assert ">Unassigned</td>" in row_for(html, orphan)
