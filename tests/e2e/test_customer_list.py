"""In the browser: an RM searches and filters the customer list through its form, as sent by
the browser (every field, "any" included), and sorts it by a column; a branch head ticks
customers and reassigns them to another RM in one go."""

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer, Reassignment
from tests.customers.factories import CustomerFactory
from tests.e2e.test_visit_flow import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rm_searches_and_filters_the_list(live_server, page: Page, rm_a):
    # given: a book with a customer whose risk appetite is not known yet
    CustomerFactory(relationship_manager=rm_a, name="王小明", risk_appetite=None)
    CustomerFactory(relationship_manager=rm_a, name="李王明", risk_appetite=5)
    CustomerFactory(relationship_manager=rm_a, name="张三", risk_appetite=1, aum="9000000.00")
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/customers/")
    table = page.get_by_test_id("customer-table")

    # when: a one-character search, sent with the whole form
    page.get_by_label("Search", exact=True).fill("王")
    page.get_by_role("button", name="Search").click()

    # then: both names containing it, the unknown risk appetite included
    expect(table).to_contain_text("王小明")
    expect(table).to_contain_text("李王明")
    expect(table).not_to_contain_text("张三")
    expect(page.get_by_test_id("result-count")).to_have_text("2 customers")

    # when: the search is cleared and one risk level picked under "More filters"
    page.get_by_label("Search", exact=True).fill("")
    page.get_by_text("More filters").click()
    page.get_by_label("Risk appetite").select_option(label="R5 Aggressive")
    page.get_by_role("button", name="Search").click()

    # then
    expect(table).to_contain_text("李王明")
    expect(table).not_to_contain_text("王小明")
    expect(table).not_to_contain_text("张三")

    # when: the filter is cleared and the AUM column header clicked
    page.get_by_label("Risk appetite").select_option(label="Any risk appetite")
    page.get_by_role("button", name="Search").click()
    page.get_by_test_id("sort-aum").click()

    # then: the largest book first, as the column says
    expect(page.get_by_test_id("sort-aum").locator("xpath=..")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(table.locator("tbody tr").first).to_contain_text("张三")


def test_branch_head_reassigns_the_ticked_customers(live_server, page: Page, rm_a, rm_b, head_x):
    # given
    moving = [
        CustomerFactory(relationship_manager=rm_a, name=name) for name in ("Alpha Ltd", "Beta")
    ]
    staying = CustomerFactory(relationship_manager=rm_a, name="Gamma")
    sign_in(page, live_server.url, "head_x")
    page.goto(f"{live_server.url}/customers/")

    # when: two customers ticked and given to the other RM, with a reason
    for customer in moving:
        page.get_by_label(f"Select {customer.name}").check()
    page.get_by_label("Reassign the selected customers to").select_option(
        label=f"{rm_b} · {rm_b.branch}"
    )
    page.get_by_label("Reason", exact=True).fill("Corporate clients move to the trade team")
    page.get_by_role("button", name="Reassign selected").click()

    # then: both moved, with who, when and why; the third stayed
    expect(page.get_by_role("alert")).to_be_visible()
    for customer in moving:
        customer.refresh_from_db()
        assert customer.relationship_manager == rm_b
    assert Customer.objects.get(pk=staying.pk).relationship_manager == rm_a
    moves = Reassignment.objects.filter(customer__in=moving)
    assert moves.count() == 2
    assert {move.reason for move in moves} == {"Corporate clients move to the trade team"}
    assert {move.reassigned_by for move in moves} == {head_x}
