"""In the browser: a branch head opens the tier dashboard, switches the migration chart to
its table, clicks a cell and lands on the customer list filtered the same way."""

import pytest
from playwright.sync_api import Page, expect

from segmentation.choices import ValueTier
from tests.e2e.test_visit_flow import sign_in
from tests.segmentation.factories import customer_with_contribution, run_scoring, use_model

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_branch_head_clicks_a_migration_cell_and_sees_the_filtered_list(
    live_server, page: Page, head_x, rm_a, rm_y
):
    # given: a value customer falls to low value at the run; another branch's does too
    use_model()
    faller = customer_with_contribution(
        1, relationship_manager=rm_a, name="Falling Customer", value_tier=ValueTier.VALUE
    )
    stayer = customer_with_contribution(
        1000, relationship_manager=rm_a, name="Steady Customer", value_tier=ValueTier.VALUE
    )
    other = customer_with_contribution(
        2, relationship_manager=rm_y, name="Other Branch Customer", value_tier=ValueTier.VALUE
    )
    run_scoring()
    faller.refresh_from_db()
    assert faller.value_tier == ValueTier.LOW_VALUE

    # when: the branch head opens the dashboard and clicks the value → low value cell
    sign_in(page, live_server.url, "head_x")
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.get_by_role("heading", name="Tier dashboard")).to_be_visible()
    expect(page.locator("#migration-chart")).to_be_visible()
    page.get_by_test_id("migration-table-tab").click()
    page.get_by_test_id("migration-cell-value-low_value").click()

    # then: the customer list, filtered, in the head's scope only
    expect(page).to_have_url(
        f"{live_server.url}/customers/?previous_tier=value&value_tier=low_value"
    )
    table = page.get_by_test_id("customer-table")
    expect(table).to_contain_text(faller.name)
    expect(table).not_to_contain_text(stayer.name)
    expect(table).not_to_contain_text(other.name)
