"""Target lists: a segment in the user's scope, reviewed, then plans started in bulk for
the selected customers, each assigned to the customer's own RM."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.choices import PlanStep
from campaigns.models import MarketingPlan, TargetListEntry
from campaigns.services import (
    plan_start,
    target_list_build,
    target_list_select,
    target_list_start_plans,
)
from segmentation.models import CustomerScore
from tests.campaigns.factories import ready_customer
from tests.segmentation.factories import run_scoring, use_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_book(rm_a, rm_b, rm_y):
    """Customers of three RMs, scored so that quadrants and wealth levels exist."""
    use_model(wealth_level_2_min="3000000.00")
    book = {
        "a_rich": ready_customer(relationship_manager=rm_a, name="A rich", aum=5_000_000),
        "a_mass": ready_customer(relationship_manager=rm_a, name="A mass", aum=50_000),
        "b_rich": ready_customer(relationship_manager=rm_b, name="B rich", aum=6_000_000),
        "y_rich": ready_customer(relationship_manager=rm_y, name="Y rich", aum=7_000_000),
    }
    run_scoring()
    return book


def names(target_list):
    return set(target_list.entries.values_list("customer__name", flat=True))


def test_an_rms_list_holds_only_their_own_customers(rm_a, scored_book):
    target_list = target_list_build(acting_user=rm_a, name="Wealth 2+", min_wealth_level="level_2")
    assert names(target_list) == {"A rich"}


def test_a_branch_heads_list_holds_the_branch(head_x, scored_book):
    target_list = target_list_build(
        acting_user=head_x, name="Wealth 2+", min_wealth_level="level_2"
    )
    assert names(target_list) == {"A rich", "B rich"}


def test_customers_with_a_plan_are_left_out_unless_asked(rm_a, scored_book):
    plan_start(acting_user=rm_a, customer=scored_book["a_rich"])
    with pytest.raises(ValidationError, match="No customer"):
        target_list_build(acting_user=rm_a, name="x", min_wealth_level="level_2")
    target_list = target_list_build(
        acting_user=rm_a, name="x", min_wealth_level="level_2", only_without_plan=False
    )
    assert names(target_list) == {"A rich"}


def test_quadrant_filter_uses_the_latest_scoring(head_x, scored_book):
    quadrant_of = dict(CustomerScore.objects.values_list("customer__name", "quadrant"))
    target = quadrant_of["A rich"]

    target_list = target_list_build(acting_user=head_x, name="One quadrant", quadrants=[target])

    expected = {
        name for name, quadrant in quadrant_of.items() if quadrant == target and name != "Y rich"
    }
    assert names(target_list) == expected


def test_bulk_start_assigns_each_plan_to_the_customers_rm(head_x, rm_a, rm_b, scored_book):
    target_list = target_list_build(
        acting_user=head_x, name="Wealth 2+", min_wealth_level="level_2"
    )

    result = target_list_start_plans(acting_user=head_x, target_list=target_list)

    plans = {plan.customer.name: plan for plan in result.started}
    assert set(plans) == {"A rich", "B rich"}
    assert plans["A rich"].relationship_manager == rm_a
    assert plans["B rich"].relationship_manager == rm_b
    # on a target list: the data-only steps are passed where the data allows
    assert plans["A rich"].step == PlanStep.TRACKING
    assert set(TargetListEntry.objects.values_list("plan_id", flat=True)) == {
        plan.pk for plan in plans.values()
    }
    assert rm_a.notifications.filter(message__contains="1 one-to-one plan was started").exists()


def test_the_reviewer_deselects_and_only_the_selected_start(head_x, scored_book):
    target_list = target_list_build(
        acting_user=head_x, name="Wealth 2+", min_wealth_level="level_2"
    )
    a_rich, b_rich = scored_book["a_rich"], scored_book["b_rich"]
    target_list_select(
        acting_user=head_x,
        target_list=target_list,
        reviewed_customer_ids=[a_rich.pk, b_rich.pk],
        selected_customer_ids=[b_rich.pk],
    )
    result = target_list_start_plans(acting_user=head_x, target_list=target_list)
    assert [plan.customer_id for plan in result.started] == [b_rich.pk]


def test_an_rm_starting_from_a_heads_list_starts_only_their_own(head_x, rm_a, scored_book):
    target_list = target_list_build(
        acting_user=head_x, name="Wealth 2+", min_wealth_level="level_2"
    )
    result = target_list_start_plans(acting_user=rm_a, target_list=target_list)
    assert [plan.customer.name for plan in result.started] == ["A rich"]
    assert not MarketingPlan.objects.filter(customer=scored_book["b_rich"]).exists()


def test_nothing_selected_starts_nothing(head_x, scored_book):
    target_list = target_list_build(
        acting_user=head_x, name="Wealth 2+", min_wealth_level="level_2"
    )
    target_list.entries.update(selected=False)
    with pytest.raises(ValidationError, match="Select at least one"):
        target_list_start_plans(acting_user=head_x, target_list=target_list)
