"""The tier dashboards: scope, JSON, CSV and drill-down into the customer list."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from segmentation.choices import ValueTier
from segmentation.selectors import dashboard_cache_warm
from tests.segmentation.factories import customer_with_contribution, run_scoring, use_model

pytestmark = pytest.mark.django_db

DASHBOARD_URLS = [
    reverse("segmentation:dashboard"),
    reverse("segmentation:dashboard_data"),
    reverse("segmentation:dashboard_csv", args=["tiers"]),
]


@pytest.fixture
def scored_bank(rm_a, rm_b, rm_y):
    """Two customers in branch X (one per RM) and three in Beijing, scored once."""
    use_model()
    x = [
        customer_with_contribution(10, relationship_manager=rm_a, value_tier=ValueTier.VALUE),
        customer_with_contribution(20, relationship_manager=rm_b),
    ]
    y = [customer_with_contribution(a, relationship_manager=rm_y) for a in (30, 40, 50)]
    run_scoring()
    return x, y


def test_branch_head_sees_only_their_branch(client_for, head_x, scored_bank):
    # when
    data = client_for(head_x).get(reverse("segmentation:dashboard_data")).json()
    # then
    assert data["totals"]["customers"] == 2
    assert {entry["name"] for entry in data["branches"]} == {"Lujiazui Sub-branch"}
    assert {entry["name"] for entry in data["managers"]} == {
        head_x.branch.staff.get(username="rm_a").get_full_name(),
        head_x.branch.staff.get(username="rm_b").get_full_name(),
    }
    assert sum(point_count["customers"] for point_count in data["wealth"]) == 2


def test_head_office_sees_the_whole_bank(client_for, head_office, scored_bank):
    data = client_for(head_office).get(reverse("segmentation:dashboard_data")).json()
    assert data["totals"]["customers"] == 5
    assert len(data["branches"]) == 2
    assert data["pareto"]["points"][-1]["customers"] == 1.0


def test_head_office_can_narrow_to_one_branch(client_for, head_office, scored_bank, branch_y):
    url = reverse("segmentation:dashboard_data")
    data = client_for(head_office).get(url, {"branch": branch_y.pk}).json()
    assert data["totals"]["customers"] == 3


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_relationship_managers_get_403(client_for, rm_a, url):
    assert client_for(rm_a).get(url).status_code == 403


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_anonymous_users_are_sent_to_sign_in(client, url):
    assert client.get(url).status_code == 302


def test_dashboard_page_renders_tables_and_lists(client_for, head_x, scored_bank):
    # when
    response = client_for(head_x).get(reverse("segmentation:dashboard"))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    for testid in ("tier-table", "migration-table", "abc_quadrant-table", "wealth-table"):
        assert f'data-testid="{testid}"' in page
    assert "Yan" not in page and "rm_y" not in page
    assert "<script>" not in page.replace('<script src="', "")


def test_migration_cell_links_to_the_filtered_list(client_for, head_x, scored_bank):
    # given: A's customer was value before the run and is lower now (ranks are bank-wide)
    data = client_for(head_x).get(reverse("segmentation:dashboard_data")).json()
    row = next(row for row in data["migration"]["rows"] if row["value"] == "value")
    cell = next(cell for cell in row["cells"] if cell["customers"])
    # when
    response = client_for(head_x).get(
        reverse("customers:list"), {"previous_tier": "value", "value_tier": cell["column"]}
    )
    # then
    assert response.status_code == 200
    assert scored_bank[0][0].name in response.content.decode()
    assert scored_bank[0][1].name not in response.content.decode()


def test_drill_down_filters_stay_in_scope(client_for, head_x, scored_bank):
    response = client_for(head_x).get(reverse("customers:list"), {"abc_class": "A"})
    page = response.content.decode()
    assert all(customer.name not in page for customer in scored_bank[1])


def test_csv_export_has_the_table_rows(client_for, head_x, scored_bank):
    # when
    response = client_for(head_x).get(reverse("segmentation:dashboard_csv", args=["tiers"]))
    # then
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["Tier", "Customers"]
    assert sum(int(row[1]) for row in rows[1:]) == 2


@pytest.mark.parametrize(
    "chart", ["branches", "managers", "pareto", "migration", "abc_quadrant", "wealth", "negative"]
)
def test_every_chart_exports_csv(client_for, head_office, scored_bank, chart):
    response = client_for(head_office).get(reverse("segmentation:dashboard_csv", args=[chart]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_period_migration_matrix(client_for, head_x, rm_a, scored_bank):
    # given: A's customer moved down from value at the run
    # when
    response = client_for(head_x).get(reverse("segmentation:dashboard"), {"since": "2020-01-01"})
    # then
    period = response.context["period"]
    moved = {
        (row["value"], cell["column"]): cell["customers"]
        for row in period["rows"]
        for cell in row["cells"]
        if cell["customers"]
    }
    customer = scored_bank[0][0]
    customer.refresh_from_db()
    assert moved == {("value", customer.value_tier): 1}
    listed = client_for(head_x).get(
        reverse("customers:list"),
        {"tier_from": "value", "changed_since": "2020-01-01"},
    )
    assert customer.name in listed.content.decode()


def test_dashboard_page_query_count_is_constant(
    client_for, head_office, scored_bank, django_assert_max_num_queries
):
    client = client_for(head_office)
    with django_assert_max_num_queries(25):
        client.get(reverse("segmentation:dashboard_data"))


def _aggregate_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if "segmentation_segmentstat" in query["sql"]]


def test_a_finished_run_caches_the_dashboard_of_every_head(
    client_for,
    head_x,
    head_city,
    head_y,
    head_office,
    rm_a,
    rm_b,
    rm_y,
    django_capture_on_commit_callbacks,
):
    # given: a run that has just committed, and the work it leaves for after the commit
    use_model()
    for amount, manager in ((10, rm_a), (20, rm_b), (30, rm_y)):
        customer_with_contribution(amount, relationship_manager=manager)
    with django_capture_on_commit_callbacks() as callbacks:
        run_scoring()
    assert dashboard_cache_warm in callbacks
    # when
    dashboard_cache_warm()
    # then: each head's first request (in either language) reads no aggregate...
    url = reverse("segmentation:dashboard_data")
    warmed = {}
    for head, language, customers in (
        (head_x, "en", 2),
        (head_city, "en", 2),  # a parent branch sees its sub-branches
        (head_y, "zh-hans", 1),
        (head_office, "en", 3),
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client_for(head).get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert _aggregate_queries(queries) == []
        warmed[head, language] = response.json()
        assert warmed[head, language]["totals"]["customers"] == customers
    # ...and gets what computing it on request gives
    cache.clear()
    for (head, language), data in warmed.items():
        assert client_for(head).get(url, HTTP_ACCEPT_LANGUAGE=language).json() == data


@pytest.mark.parametrize("manager", [False, True])
def test_a_dashboard_not_in_the_cache_costs_one_aggregate_query(
    client_for, head_x, rm_a, scored_bank, manager
):
    # given
    cache.clear()
    params = {"manager": rm_a.pk} if manager else {}
    # when
    with CaptureQueriesContext(connection) as queries:
        data = client_for(head_x).get(reverse("segmentation:dashboard_data"), params).json()
    # then
    assert len(_aggregate_queries(queries)) == 1
    assert data["totals"]["customers"] == (1 if manager else 2)
    assert [entry["name"] for entry in data["managers"]] == (
        [rm_a.get_full_name()] if manager else sorted(entry["name"] for entry in data["managers"])
    )
