"""The eight steps: exit criteria, transitions, skips and their approval, moving back,
monitoring reminders, completion and the next cycle, and plans following reassignment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns import criteria
from campaigns.choices import PlanStatus, PlanStep, ProposalOutcome, TransitionKind
from campaigns.models import MarketingPlan, StepSkipRequest
from campaigns.services import (
    plan_advance,
    plan_cancel,
    plan_complete,
    plan_move_back,
    plan_record,
    plan_skip,
    plan_start,
    plans_schedule_monitoring,
    proposal_outcome_record,
    proposal_save,
    skip_request_decide,
    skip_request_submit,
)
from customers.services import customers_reassign
from interactions.choices import Channel, ReminderStatus
from interactions.models import Reminder
from tests.campaigns.factories import PlanFactory, ready_customer
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.segmentation.factories import customer_with_contribution, run_scoring, use_model

pytestmark = pytest.mark.django_db

PRODUCTS = [{"product_type": "wealth", "product_name": "Steady income 365", "amount": "1000000"}]


def reload(plan):
    return criteria.with_facts(MarketingPlan.objects.filter(pk=plan.pk)).get()


def meet(customer, *, days_ago=0, channel=Channel.VISIT):
    return InteractionFactory(
        customer=customer,
        channel=channel,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_a_new_plan_moves_past_the_base_information_its_data_already_meets(rm_a):
    # given: core-banking data and a 70% profile, but no tracking notes yet
    customer = ready_customer(relationship_manager=rm_a)

    plan = plan_start(acting_user=rm_a, customer=customer)

    # then: step 1 is passed automatically and recorded; step 2 waits for the RM's notes
    assert plan.step == PlanStep.TRACKING
    kinds = list(plan.transitions.values_list("kind", "from_step", "to_step"))
    assert kinds == [(TransitionKind.START, None, 1), (TransitionKind.AUTO, 1, 2)]
    missing = [result.code for result in criteria.missing(reload(plan))]
    assert missing == ["tracking_notes"]


def test_a_thin_profile_stops_at_step_one_with_what_is_missing(rm_a):
    customer = CustomerFactory(relationship_manager=rm_a, profile_completeness=20)

    plan = plan_start(acting_user=rm_a, customer=customer)

    assert plan.step == PlanStep.BASE_INFORMATION
    assert [result.code for result in criteria.missing(reload(plan))] == [
        "core_data",
        "base_profile",
    ]
    with pytest.raises(ValidationError, match="Step 1 is not finished"):
        plan_advance(acting_user=rm_a, plan=plan)


def test_a_customer_has_one_active_plan_and_needs_an_rm(rm_a, head_x, branch_x):
    customer = ready_customer(relationship_manager=rm_a)
    plan_start(acting_user=rm_a, customer=customer)
    with pytest.raises(ValidationError, match="already has"):
        plan_start(acting_user=rm_a, customer=customer)
    orphan = CustomerFactory(relationship_manager=None, branch=branch_x)
    with pytest.raises(ValidationError, match="relationship manager first"):
        plan_start(acting_user=head_x, customer=orphan)


def test_an_rm_cannot_start_a_plan_for_another_rms_customer(rm_a, customer_b):
    with pytest.raises(ValidationError, match="not found"):
        plan_start(acting_user=rm_a, customer=customer_b)
    assert not MarketingPlan.objects.exists()


def test_the_whole_pipeline_from_tracking_to_the_next_cycle(rm_a):
    use_model()
    customer = ready_customer(relationship_manager=rm_a)
    customer_with_contribution(1, relationship_manager=rm_a)  # a second customer to rank
    run_scoring()
    plan = plan_start(acting_user=rm_a, customer=customer)
    assert plan.step == PlanStep.TRACKING

    # Step 2 → 3 → 4: tracking notes; the analysis is written, and the customer is scored
    plan_record(acting_user=rm_a, plan=plan, tracking_notes="Monthly salary, two term deposits.")
    plan = plan_advance(acting_user=rm_a, plan=plan)
    assert plan.step == PlanStep.ANALYSIS
    assert [r.code for r in criteria.missing(reload(plan))] == ["targeted"]
    plan_record(acting_user=rm_a, plan=plan, analysis_notes="Deposits only; room for wealth.")
    plan = plan_advance(acting_user=rm_a, plan=plan)
    assert plan.step == PlanStep.FIRST_MEETING

    # Step 4 needs a face-to-face meeting since the plan started: a phone call is not one
    meet(customer, channel=Channel.PHONE)
    assert [r.code for r in criteria.missing(reload(plan))] == ["first_meeting"]
    meet(customer)
    plan = plan_advance(acting_user=rm_a, plan=plan)
    assert plan.step == PlanStep.PROPOSAL

    # Step 5 needs the report and at least one product with an amount
    with pytest.raises(ValidationError, match="Step 5 is not finished"):
        plan_advance(acting_user=rm_a, plan=plan)
    proposal_save(acting_user=rm_a, plan=plan, report="Conservative; 1M to wealth.", lines=PRODUCTS)
    plan = plan_advance(acting_user=rm_a, plan=plan)
    assert plan.step == PlanStep.AGREEMENT

    # Step 6: a second meeting after the proposal, the agreement, and the outcome
    assert {r.code for r in criteria.missing(reload(plan))} == {
        "second_meeting",
        "agreement",
        "outcome",
    }
    meet(customer)
    plan_record(
        acting_user=rm_a,
        plan=plan,
        agreement_summary="Buys Steady income 365, 800k.",
        agreed_on=timezone.localdate(),
    )
    proposal_outcome_record(
        acting_user=rm_a,
        plan=plan,
        outcome=ProposalOutcome.PARTLY,
        aum_won=Decimal("800000"),
        revenue_won=Decimal("4000"),
    )
    plan = plan_advance(acting_user=rm_a, plan=plan)

    # Step 7: the cadence defaults to the tier's and a monitoring reminder is due then
    assert plan.step == PlanStep.MONITORING
    assert plan.monitoring_cadence_days is not None
    reminder = Reminder.objects.get(dedupe_key__startswith=f"plan:{plan.pk}:monitor:")
    assert reminder.assigned_to == rm_a
    assert timezone.localtime(reminder.due_at).date() == plan.next_monitoring_on
    meet(customer, channel=Channel.PHONE)
    plan = plan_advance(acting_user=rm_a, plan=plan)
    assert plan.step == PlanStep.FOLLOW_UP
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.CANCELLED  # monitoring ended

    # Step 8: the follow-up contact and satisfaction; completing opens the next cycle
    meet(customer)
    plan_record(acting_user=rm_a, plan=plan, satisfaction=4, new_needs="Asks about education fund.")
    next_plan = plan_complete(acting_user=rm_a, plan=plan, open_next_cycle=True)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert next_plan.cycle == 2
    assert next_plan.step == PlanStep.ANALYSIS
    assert next_plan.analysis_notes == "Asks about education fund."
    assert next_plan.previous_plan == plan
    assert list(plan.transitions.values_list("to_step", flat=True)) == [1, 2, 3, 4, 5, 6, 7, 8, 8]


def test_only_a_branch_head_skips_steps_and_must_say_why(rm_a, head_x):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a))
    with pytest.raises(PermissionDenied):
        plan_skip(acting_user=rm_a, plan=plan, to_step=4, reason="Known customer")
    with pytest.raises(ValidationError):
        plan_skip(acting_user=head_x, plan=plan, to_step=4, reason=" ")
    with pytest.raises(ValidationError):
        plan_skip(acting_user=head_x, plan=plan, to_step=1, reason="Backwards is not a skip")

    plan = plan_skip(acting_user=head_x, plan=plan, to_step=4, reason="Long-standing customer")

    assert plan.step == PlanStep.FIRST_MEETING
    skip = plan.transitions.get(kind=TransitionKind.SKIP)
    assert (skip.from_step, skip.to_step, skip.actor, skip.reason) == (
        1,
        4,
        head_x,
        "Long-standing customer",
    )


def test_a_head_of_another_branch_cannot_skip_a_plan_out_of_scope(rm_a, head_y):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a))
    with pytest.raises(MarketingPlan.DoesNotExist):
        plan_detail_for(head_y, plan)


def plan_detail_for(user, plan):
    from campaigns.selectors import plan_detail

    return plan_detail(user=user, plan_id=plan.pk)


def test_an_rms_skip_request_moves_the_plan_only_when_approved(rm_a, head_x):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a))
    request = skip_request_submit(acting_user=rm_a, plan=plan, to_step=3, reason="Data on file")
    with pytest.raises(ValidationError, match="already waiting"):
        skip_request_submit(acting_user=rm_a, plan=plan, to_step=3, reason="Again")
    plan.refresh_from_db()
    assert plan.step == PlanStep.BASE_INFORMATION

    with pytest.raises(PermissionDenied):
        skip_request_decide(acting_user=rm_a, skip_request=request, approve=True)
    skip_request_decide(acting_user=head_x, skip_request=request, approve=True)

    plan.refresh_from_db()
    request.refresh_from_db()
    assert plan.step == PlanStep.ANALYSIS
    assert request.status == "approved"
    assert request.decided_by == head_x
    assert rm_a.notifications.filter(message__contains="approved").exists()


def test_a_rejected_skip_request_needs_a_reason_and_leaves_the_plan(rm_a, head_x):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a))
    request = skip_request_submit(acting_user=rm_a, plan=plan, to_step=5, reason="Hurry")
    with pytest.raises(ValidationError):
        skip_request_decide(acting_user=head_x, skip_request=request, approve=False, note="")
    skip_request_decide(
        acting_user=head_x, skip_request=request, approve=False, note="Meet them first"
    )
    plan.refresh_from_db()
    assert plan.step == PlanStep.BASE_INFORMATION
    assert StepSkipRequest.objects.get().status == "rejected"


def test_a_stale_skip_request_is_refused(rm_a, head_x):
    customer = ready_customer(relationship_manager=rm_a)
    plan = PlanFactory(customer=customer)
    request = skip_request_submit(acting_user=rm_a, plan=plan, to_step=4, reason="Known")
    plan_advance(acting_user=rm_a, plan=plan)  # step 1's criteria are met: it moved on
    with pytest.raises(ValidationError, match="moved since"):
        skip_request_decide(acting_user=head_x, skip_request=request, approve=True)


def test_moving_back_needs_an_earlier_step_and_a_reason(rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=6)
    with pytest.raises(ValidationError):
        plan_move_back(acting_user=rm_a, plan=plan, to_step=7, reason="x")
    with pytest.raises(ValidationError):
        plan_move_back(acting_user=rm_a, plan=plan, to_step=5, reason="")
    plan = plan_move_back(acting_user=rm_a, plan=plan, to_step=5, reason="Proposal declined")
    assert plan.step == PlanStep.PROPOSAL
    assert plan.transitions.filter(kind=TransitionKind.BACK, reason="Proposal declined").exists()


def test_a_cancelled_plan_is_closed_to_every_move(rm_a):
    plan = PlanFactory(customer=ready_customer(relationship_manager=rm_a))
    plan_cancel(acting_user=rm_a, plan=plan, reason="Customer moved abroad")
    with pytest.raises(ValidationError, match="closed"):
        plan_advance(acting_user=rm_a, plan=plan)
    with pytest.raises(ValidationError, match="closed"):
        plan_record(acting_user=rm_a, plan=plan, tracking_notes="late")
    # a new plan can start once the old one is closed
    assert plan_start(acting_user=rm_a, customer=plan.customer).pk != plan.pk


def test_a_proposal_is_final_once_its_outcome_is_recorded(rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=5)
    with pytest.raises(ValidationError, match="Product 1"):
        proposal_save(
            acting_user=rm_a,
            plan=plan,
            report="r",
            lines=[{"product_type": "fund", "product_name": "Fund", "amount": "0"}],
        )
    proposal_save(acting_user=rm_a, plan=plan, report="Report", lines=PRODUCTS)
    with pytest.raises(ValidationError, match="wins nothing"):
        proposal_outcome_record(
            acting_user=rm_a, plan=plan, outcome=ProposalOutcome.DECLINED, aum_won=Decimal(5)
        )
    proposal_outcome_record(acting_user=rm_a, plan=plan, outcome=ProposalOutcome.DECLINED)
    with pytest.raises(ValidationError, match="no longer change"):
        proposal_save(acting_user=rm_a, plan=plan, report="New", lines=PRODUCTS)


def test_a_proposal_cannot_be_drafted_before_step_five(rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=4)
    with pytest.raises(ValidationError, match="step 5"):
        proposal_save(acting_user=rm_a, plan=plan, report="Early", lines=PRODUCTS)


def test_monitoring_creates_the_next_reminder_once_per_date(rm_a):
    plan = PlanFactory(
        customer=CustomerFactory(relationship_manager=rm_a),
        step=PlanStep.MONITORING,
        monitoring_cadence_days=30,
        next_monitoring_on=timezone.localdate(),
    )
    today = timezone.localdate()

    assert plans_schedule_monitoring(today=today) == 1
    assert plans_schedule_monitoring(today=today) == 0  # a second run the same day

    plan.refresh_from_db()
    assert plan.next_monitoring_on == today + dt.timedelta(days=30)
    reminder = Reminder.objects.get(dedupe_key=f"plan:{plan.pk}:monitor:{plan.next_monitoring_on}")
    assert reminder.assigned_to == rm_a


def test_changing_the_cadence_reschedules_the_monitoring_reminder(rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=6)
    plan_record(acting_user=rm_a, plan=plan, monitoring_cadence_days=60)
    plan = plan_skip_to_monitoring(plan)
    first = Reminder.objects.get(dedupe_key__startswith=f"plan:{plan.pk}:monitor:")
    plan_record(acting_user=rm_a, plan=plan, monitoring_cadence_days=14)
    first.refresh_from_db()
    assert first.status == ReminderStatus.CANCELLED
    plan.refresh_from_db()
    assert plan.next_monitoring_on == timezone.localdate() + dt.timedelta(days=14)
    assert Reminder.objects.filter(
        dedupe_key=f"plan:{plan.pk}:monitor:{plan.next_monitoring_on}", status="open"
    ).exists()


def plan_skip_to_monitoring(plan):
    from tests.customers.factories import UserFactory

    head = UserFactory(role="branch_head", branch=plan.customer.branch)
    return plan_skip(acting_user=head, plan=plan, to_step=7, reason="Test: straight to monitoring")


def test_reassignment_carries_active_plans_to_the_new_rm(rm_a, rm_a2, head_x):
    customer = ready_customer(relationship_manager=rm_a)
    plan = plan_start(acting_user=rm_a, customer=customer)

    customers_reassign(
        acting_user=head_x, customer_ids=[customer.pk], to_manager=rm_a2, reason="Rebalancing"
    )

    plan.refresh_from_db()
    assert plan.relationship_manager == rm_a2


def test_what_the_rm_records_on_a_plan_is_audited(rm_a):
    from customers.models import AuditEntry

    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=2)
    plan_record(acting_user=rm_a, plan=plan, tracking_notes="Two deposits roll over in March.")
    plan_record(acting_user=rm_a, plan=plan, tracking_notes="Two deposits roll over in March.")

    entry = AuditEntry.objects.get(object_type="campaigns.marketingplan")
    assert entry.actor == rm_a
    assert entry.customer_id == plan.customer_id
    assert entry.changes == {"tracking_notes": ["", "Two deposits roll over in March."]}
