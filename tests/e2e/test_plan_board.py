"""In the browser: an RM advances one-to-one plans on the board, by its button and by
dragging a card to the next column, and a plan with something missing says what."""

import pytest
from playwright.sync_api import Page, expect

from campaigns.choices import PlanStep
from campaigns.models import MarketingPlan
from interactions.choices import Channel
from tests.campaigns.factories import PlanFactory, ready_customer
from tests.customers.factories import CustomerFactory
from tests.e2e.test_visit_flow import sign_in
from tests.interactions.factories import InteractionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rm_advances_plans_on_the_board(live_server, page: Page, rm_a, rm_b):
    # given: a plan ready to leave step 1, a plan at step 4 whose first meeting is logged,
    # a plan at step 4 still waiting for its meeting, and a colleague's plan
    ready = PlanFactory(customer=ready_customer(relationship_manager=rm_a, name="Ready Ruan"))
    met_customer = CustomerFactory(relationship_manager=rm_a, name="Met Ma", wealth_source="other")
    met = PlanFactory(customer=met_customer, step=PlanStep.FIRST_MEETING)
    InteractionFactory(customer=met_customer, channel=Channel.VISIT, occurred_at=met.started_at)
    waiting = PlanFactory(
        customer=CustomerFactory(
            relationship_manager=rm_a, name="Waiting Wu", wealth_source="other"
        ),
        step=PlanStep.FIRST_MEETING,
    )
    PlanFactory(customer=CustomerFactory(relationship_manager=rm_b, name="Colleague Customer"))

    # when: the RM opens the board
    sign_in(page, live_server.url, "rm_a")
    page.get_by_test_id("nav-plans").first.click()
    board = page.get_by_test_id("plan-board")
    expect(board).to_contain_text("Ready Ruan")
    expect(board).not_to_contain_text("Colleague Customer")
    # the waiting plan shows what is missing and has no advance button
    waiting_card = page.get_by_test_id(f"plan-card-{waiting.pk}")
    expect(waiting_card).to_contain_text("A face-to-face meeting logged since the plan started")
    expect(page.get_by_test_id(f"advance-{waiting.pk}")).to_have_count(0)

    # and advances the ready plan with its button
    page.get_by_test_id(f"advance-{ready.pk}").click()
    expect(page.get_by_role("alert")).to_contain_text("Ready Ruan moved to step 2")
    expect(page.get_by_test_id("board-column-2")).to_contain_text("Ready Ruan")

    # and drags the met plan to the next column
    page.get_by_test_id(f"plan-card-{met.pk}").drag_to(page.get_by_test_id("board-column-5"))
    expect(page.get_by_role("alert")).to_contain_text("Met Ma moved to step 5")
    expect(page.get_by_test_id("board-column-5")).to_contain_text("Met Ma")

    # then: both moves are recorded with who made them
    assert MarketingPlan.objects.get(pk=ready.pk).step == PlanStep.TRACKING
    met.refresh_from_db()
    assert met.step == PlanStep.PROPOSAL
    assert met.transitions.filter(kind="advance", actor=rm_a, from_step=4, to_step=5).exists()


def test_dragging_a_card_past_the_next_column_is_refused(live_server, page: Page, rm_a):
    plan = PlanFactory(customer=ready_customer(relationship_manager=rm_a, name="Ready Ruan"))
    sign_in(page, live_server.url, "rm_a")
    page.goto(f"{live_server.url}/plans/")
    messages = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))

    page.get_by_test_id(f"plan-card-{plan.pk}").drag_to(page.get_by_test_id("board-column-4"))

    expect(page.get_by_test_id("board-column-1")).to_contain_text("Ready Ruan")
    assert messages and "one step at a time" in messages[0]
    plan.refresh_from_db()
    assert plan.step == PlanStep.BASE_INFORMATION
