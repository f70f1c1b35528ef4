"""The customer list and the customer page, as an RM uses them."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_site.pagination import _encode
from customers.models import Customer
from segmentation.choices import ValueTier
from tests.customers.factories import BalanceSnapshotFactory, CustomerFactory
from tests.interactions.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def test_search_by_name_phone_and_customer_number(client_for, rm_a):
    # given
    wang = CustomerFactory(relationship_manager=rm_a, name="王小明", phone="13912345678")
    other = CustomerFactory(relationship_manager=rm_a, name="Li Lei", phone="13700000000")
    client = client_for(rm_a)
    url = reverse("customers:list")
    # when / then
    for term in ["小明", "139 1234 5678", wang.customer_number]:
        content = client.get(url, {"q": term}).content.decode()
        assert wang.name in content, term
        assert other.name not in content, term


def test_search_by_the_last_characters_of_the_id_number(client_for, rm_a, rm_b, head_office):
    """The customer reads out the last digits of their ID card: 4 or more characters find
    them (a final "X" in either case); digits from the middle of the number do not."""
    # given
    zhao = CustomerFactory(relationship_manager=rm_a, name="赵敏", id_number="11010519491231002X")
    qian = CustomerFactory(relationship_manager=rm_a, name="钱进", id_number="110105199001011234")
    elsewhere = CustomerFactory(
        relationship_manager=rm_b, name="孙丽", id_number="32010219800101002X"
    )
    # when / then
    client = client_for(rm_a)
    for term in ("002X", "002x", "1231002X", "0519491231002X"):
        assert _listed_names(client, q=term) == {zhao.name}, term
    assert _listed_names(client, q="1234") == {qian.name}
    assert _listed_names(client, q="1949") == set()  # the middle of a number is not a suffix
    assert _listed_names(client, q="02X") == set()  # fewer than 4 characters
    # scope still applies: another RM's customer with the same suffix is not listed
    assert elsewhere.name not in _listed_names(client, q="002X")
    assert _listed_names(client_for(head_office), q="002X") == {zhao.name, elsewhere.name}


def test_filter_by_tier(client_for, rm_a):
    CustomerFactory(relationship_manager=rm_a, name="Valued One", value_tier=ValueTier.VALUE)
    CustomerFactory(relationship_manager=rm_a, name="Low One", value_tier=ValueTier.LOW_VALUE)
    content = client_for(rm_a).get(reverse("customers:list"), {"value_tier": "value"}).content
    assert b"Valued One" in content and b"Low One" not in content


def test_filter_by_wealth_level_from_the_list_form(client_for, rm_a):
    from segmentation.models import CustomerScore, ScoringModel, ScoringRun

    # given: two scored customers of different wealth levels
    model = ScoringModel.objects.filter(is_active=True).first() or ScoringModel.objects.create(
        version=99, is_active=True
    )
    run = ScoringRun.objects.create(
        business_date=dt.date(2026, 11, 1),
        trigger="manual",
        status="succeeded",
        scoring_model=model,
    )
    for name, level in (("Level Two", "level_2"), ("Mass One", "mass")):
        customer = CustomerFactory(relationship_manager=rm_a, name=name)
        CustomerScore.objects.create(
            customer=customer,
            run=run,
            branch=customer.branch,
            score=50,
            computed_tier="potential",
            effective_tier="potential",
            abc_class="B",
            quadrant="star",
            wealth_level=level,
        )
    client = client_for(rm_a)
    # when / then: the form offers the levels, with "any" first
    page = client.get(reverse("customers:list")).content.decode()
    assert '<select name="wealth_level"' in page and "Any wealth level" in page
    assert _listed_names(client, wealth_level="level_2") == {"Level Two"}
    assert _listed_names(client, wealth_level="") == {"Level Two", "Mass One"}


def test_column_headers_sort_the_filtered_list_from_its_first_page(client_for, rm_a):
    # given
    CustomerFactory(relationship_manager=rm_a, name="Small", aum="1000.00", value_tier="value")
    CustomerFactory(relationship_manager=rm_a, name="Big", aum="9000000.00", value_tier="value")
    client = client_for(rm_a)
    page = client.get(reverse("customers:list"), {"value_tier": "value", "after": "x"})
    # when: the AUM header is followed
    link = page.context["sort_links"]["aum"]
    assert "value_tier=value" in link and "after" not in link
    sorted_page = client.get(reverse("customers:list") + link)
    # then: largest first, marked as the sort of the column
    assert [c.name for c in sorted_page.context["customers"]] == ["Big", "Small"]
    assert 'aria-sort="descending"' in sorted_page.content.decode()


def test_unknown_tier_is_a_clear_error_not_a_crash(client_for, rm_a):
    response = client_for(rm_a).get(reverse("customers:list"), {"value_tier": "platinum"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_phone_and_id_are_masked_on_list_and_page(client_for, rm_a):
    customer = CustomerFactory(relationship_manager=rm_a, phone="13912345678")
    listing = client_for(rm_a).get(reverse("customers:list")).content.decode()
    page = client_for(rm_a).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for body in (listing, page):
        assert "13912345678" not in body
        assert "139****5678" in body
    assert customer.id_number not in page
    assert "110***********002X" in page


@pytest.mark.parametrize(("rows", "queries"), [(3, 5), (30, 6)])
def test_list_page_query_count_is_constant(
    client_for, rm_a, django_assert_num_queries, rows, queries
):
    # given
    CustomerFactory.create_batch(rows, relationship_manager=rm_a)
    client = client_for(rm_a)
    # then: session, user, team memberships, notifications, page, and the capped count when
    # there is more than one page (no session save: crm_site.security.
    # SessionIdleRefreshMiddleware saves it at most once a minute)
    with django_assert_num_queries(queries):
        response = client.get(reverse("customers:list"))
    assert response.context["page"].count == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_customer_page_query_count_is_constant(client_for, rm_a, django_assert_num_queries, rows):
    # given
    customer = CustomerFactory(relationship_manager=rm_a)
    InteractionFactory.create_batch(rows, customer=customer)
    for month in range(1, 13):
        BalanceSnapshotFactory(customer=customer, month=f"2026-{month:02d}-01")
    client = client_for(rm_a)
    # then: session, user, team memberships, notifications, customer, interactions, reminders,
    # audit, snapshots, holdings, credit lines, team, related parties, pending change request,
    # reassignments; interactions' timeline sources (complaints, surveys
    # and requests: 5, as measured); segmentation: tier history on the timeline, score and
    # open override of the panel (3; a scored customer adds the playbook: 1); campaigns: the
    # active plan with its facts and the upcoming invitations (2; a scored customer adds the
    # recommended events: 1)
    with django_assert_num_queries(25):
        response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.context["aum_sparkline"].months == 12


def test_timeline_shows_interactions_newest_first(client_for, rm_a):
    customer = CustomerFactory(relationship_manager=rm_a)
    older = InteractionFactory(
        customer=customer, next_step="older step", occurred_at="2026-01-05T10:00:00+08:00"
    )
    newer = InteractionFactory(
        customer=customer, next_step="newer step", occurred_at="2026-03-05T10:00:00+08:00"
    )
    content = client_for(rm_a).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert content.index(newer.next_step) < content.index(older.next_step)


def _walk(client, url, params, direction="after"):
    seen, cursor = [], None
    while True:
        response = client.get(url, {**params, **({direction: cursor} if cursor else {})})
        seen.extend(c.pk for c in response.context["customers"])
        page = response.context["page"]
        cursor = page.next_cursor if direction == "after" else page.previous_cursor
        if not cursor:
            return seen, response


@pytest.mark.parametrize("params", [{}, {"q": "王"}])
def test_the_count_and_the_searched_keys_read_no_join(client_for, rm_a, params):
    """The rows show the RM's name (a join to the staff table); the count and the searched
    page's keys must not carry that join, or PostgreSQL cannot read them from an index
    alone (a branch's count went from 1 ms to 15 ms)."""
    CustomerFactory.create_batch(30, relationship_manager=rm_a, name="王五")
    client = client_for(rm_a)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("customers:list"), params)
    assert response.context["page"].count == 30
    (count,) = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert "JOIN" not in count
    (page,) = [q["sql"] for q in queries if '"customers_customer"."name" AS "name"' in q["sql"]]
    if params:
        keys = page[page.index("IN (SELECT") :]
        assert "JOIN" not in keys


@pytest.mark.parametrize("sort", ["name", "-aum", "customer_number"])
def test_keyset_pages_cover_every_customer_once_in_order(client_for, rm_a, sort):
    # given: 60 customers, ties on name and AUM so the id tie-breaker matters
    for index in range(60):
        CustomerFactory(
            relationship_manager=rm_a, name=f"Customer {index % 7}", aum=(index % 5) * 1000
        )
    client = client_for(rm_a)
    url = reverse("customers:list")
    # when
    seen, last = _walk(client, url, {"sort": sort})
    # then
    assert len(seen) == 60 and len(set(seen)) == 60
    assert last.context["page"].count == 60
    # and walking back from the last page returns the same rows
    back_cursor = last.context["page"].previous_cursor
    previous = client.get(url, {"sort": sort, "before": back_cursor}).context["customers"]
    assert [c.pk for c in previous] == seen[-35:-10]


@pytest.mark.parametrize("sort", ["name", "-aum"])
def test_a_name_search_pages_through_its_matches_in_order(
    client_for, rm_a, sort, django_assert_num_queries
):
    """A search reads each page's keys first (`keys_first`): the same rows, in the same
    order, forward and back, as a plain page would hold."""
    # given: 40 customers named 王…, with ties, among 20 others
    for index in range(40):
        CustomerFactory(relationship_manager=rm_a, name=f"王{index % 6}", aum=(index % 4) * 100)
    CustomerFactory.create_batch(20, relationship_manager=rm_a, name="李四")
    client = client_for(rm_a)
    url = reverse("customers:list")
    expected = list(
        Customer.objects.filter(relationship_manager=rm_a, name__startswith="王")
        .order_by(*(["name", "id"] if sort == "name" else ["-aum", "-id"]))
        .values_list("pk", flat=True)
    )
    # when: paging through the search
    seen, last = _walk(client, url, {"q": "王", "sort": sort})
    # then: every match once, in the list's order, counted
    assert seen == expected
    assert last.context["page"].count == 40
    back = client.get(
        url, {"q": "王", "sort": sort, "before": last.context["page"].previous_cursor}
    )
    assert [c.pk for c in back.context["customers"]] == expected[:25]
    # and a searched page costs what any page costs
    with django_assert_num_queries(6):
        client.get(url, {"q": "王", "sort": sort})


@pytest.mark.parametrize("direction", ["after", "before"])
@pytest.mark.parametrize("sort", ["-aum", "name"])
def test_a_cursor_of_values_the_fields_refuse_shows_the_first_page(
    client_for, rm_a, customer_a, direction, sort
):
    """A cursor that decodes, but holds values its fields refuse ("abc" for an amount), is
    the first page, as any malformed cursor, never a server error; nor does it offer a page
    after one that holds every match."""
    cursor = _encode(["abc", "not-an-id"])
    response = client_for(rm_a).get(reverse("customers:list"), {"sort": sort, direction: cursor})
    assert response.status_code == 200
    assert [c.pk for c in response.context["customers"]] == [customer_a.pk]
    page = response.context["page"]
    assert page.next_cursor is None and page.previous_cursor is None


def test_malformed_cursor_shows_the_first_page(client_for, rm_a, customer_a):
    response = client_for(rm_a).get(reverse("customers:list"), {"after": "%%%not-base64"})
    assert response.status_code == 200
    assert [c.pk for c in response.context["customers"]] == [customer_a.pk]


def test_the_filter_form_sent_as_it_stands_hides_nobody(client_for, rm_a):
    """A browser sends every field of the form: the risk filter's first option is "any"."""
    unknown = CustomerFactory(relationship_manager=rm_a, risk_appetite=None)
    cautious = CustomerFactory(relationship_manager=rm_a, risk_appetite=1)
    bold = CustomerFactory(relationship_manager=rm_a, risk_appetite=5)
    client = client_for(rm_a)
    page = client.get(reverse("customers:list")).content.decode()
    assert '<option value="" selected>Any risk appetite</option>' in page
    sent = {
        "q": "",
        "value_tier": "",
        "customer_type": "",
        "sort": "name",
        "risk_appetite": "",
        "completeness_below": "",
        "not_contacted_since": "",
    }
    listed = client.get(reverse("customers:list"), sent).context["customers"]
    assert {customer.pk for customer in listed} == {unknown.pk, cautious.pk, bold.pk}
    listed = client.get(reverse("customers:list"), {**sent, "risk_appetite": "5"}).context[
        "customers"
    ]
    assert [customer.pk for customer in listed] == [bold.pk]


def _listed_names(client, **params) -> set[str]:
    return {
        customer.name
        for customer in client.get(reverse("customers:list"), params).context["customers"]
    }


def test_one_or_two_characters_search_names_containing_them_in_a_book_or_branch(
    client_for, rm_a, head_x
):
    for name in ("王小明", "李王明", "张三"):
        CustomerFactory(relationship_manager=rm_a, name=name)
    for user in (rm_a, head_x):
        client = client_for(user)
        assert _listed_names(client, q="王") == {"王小明", "李王明"}
        assert _listed_names(client, q="小明") == {"王小明"}


def test_head_office_narrowed_to_a_branch_or_an_rm_finds_names_containing_them(
    client_for, rm_a, rm_y, head_office
):
    """Filtered to one branch or one RM, head office searches that branch's or book's rows,
    as a branch head or the RM would: names containing the characters."""
    for name in ("王小明", "李王明", "张三"):
        CustomerFactory(relationship_manager=rm_a, branch=rm_a.branch, name=name)
    CustomerFactory(relationship_manager=rm_y, branch=rm_y.branch, name="赵王")
    client = client_for(head_office)
    assert _listed_names(client, q="王", branch=rm_a.branch_id) == {"王小明", "李王明"}
    assert _listed_names(client, q="王", relationship_manager=rm_y.pk) == {"赵王"}
    assert _listed_names(client, q="王") == {"王小明"}  # bank-wide: names starting with it


def _rm_filter_options(page: str) -> list[str] | None:
    """The labels of the list form's RM dropdown, or None when the page has none."""
    import re

    select = re.search(r'<select name="relationship_manager".*?</select>', page, re.S)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(0)) if select else None


def test_head_office_filters_by_rm_once_a_branch_is_chosen(
    client_for, rm_a, rm_b, rm_y, head_office
):
    # given
    CustomerFactory(relationship_manager=rm_a, name="A's customer")
    CustomerFactory(relationship_manager=rm_b, name="B's customer")
    client = client_for(head_office)
    url = reverse("customers:list")
    # then: bank-wide there is no dropdown of every RM of the bank
    assert _rm_filter_options(client.get(url).content.decode()) is None
    # when a branch is chosen, its RMs are offered, and choosing one filters by them
    page = client.get(url, {"branch": rm_a.branch_id}).content.decode()
    by_name = sorted([rm_a, rm_b], key=lambda rm: (rm.first_name, rm.last_name, rm.username))
    assert _rm_filter_options(page) == ["Any RM", *map(str, by_name)]
    names = _listed_names(client, branch=rm_a.branch_id, relationship_manager=rm_b.pk)
    assert names == {"B's customer"}
    # drilled down to one RM from a dashboard, without a branch: that RM is shown as chosen
    page = client.get(url, {"relationship_manager": rm_y.pk}).content.decode()
    assert _rm_filter_options(page) == ["Any RM", str(rm_y)]
    assert f'<option value="{rm_y.pk}" selected>' in page


def test_one_or_two_characters_bank_wide_find_names_that_start_with_them(
    client_for, rm_a, head_office
):
    """Head office searches a million names: a surname is an index range, "contains" is not."""
    for name in ("王小明", "李王明", "Li Lei", "Alice Li"):
        CustomerFactory(relationship_manager=rm_a, name=name)
    client = client_for(head_office)
    assert _listed_names(client, q="王") == {"王小明"}
    assert _listed_names(client, q="al") == {"Alice Li"}
    assert _listed_names(client, q="le") == set()  # "Li Lei" contains it, but does not start so
    # three characters and more: contained anywhere, as in every scope
    assert _listed_names(client, q="Lei") == {"Li Lei"}
    assert _listed_names(client, q="小明") == set()


def test_not_contacted_since_counts_days_in_local_time(client_for, rm_a):
    """ "Not contacted since 1 June" keeps a contact at 23:30 on 31 May, Shanghai time, and
    drops one at 00:30 on 1 June (16:30 UTC the day before)."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    CustomerFactory(
        relationship_manager=rm_a,
        name="Late May",
        last_contact_at=dt.datetime(2026, 5, 31, 23, 30, tzinfo=shanghai),
    )
    CustomerFactory(
        relationship_manager=rm_a,
        name="Early June",
        last_contact_at=dt.datetime(2026, 6, 1, 0, 30, tzinfo=shanghai),
    )
    CustomerFactory(relationship_manager=rm_a, name="Never", last_contact_at=None)
    listed = _listed_names(client_for(rm_a), not_contacted_since="2026-06-01")
    assert listed == {"Late May", "Never"}


def test_short_searches_ignore_case(client_for, rm_a, head_office):
    for name in ("Oliver Smith", "LIU Wei", "liu lan"):
        CustomerFactory(relationship_manager=rm_a, name=name)
    book = client_for(rm_a)
    for term in ("li", "LI", "Li"):
        assert _listed_names(book, q=term) == {"Oliver Smith", "LIU Wei", "liu lan"}, term
    bank = client_for(head_office)
    for term in ("li", "LI", "Li"):
        assert _listed_names(bank, q=term) == {"LIU Wei", "liu lan"}, term


def test_not_contacted_since_the_first_day_of_year_one_is_not_an_error(client_for, rm_a):
    CustomerFactory(relationship_manager=rm_a, name="Never", last_contact_at=None)
    response = client_for(rm_a).get(
        reverse("customers:list"), {"not_contacted_since": "0001-01-01"}
    )
    assert response.status_code == 200
    assert [customer.name for customer in response.context["customers"]] == ["Never"]
