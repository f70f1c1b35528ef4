"""Domain rules of the customer book: profile edits, maker-checker, reveal, reassignment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns.models import MarketingPlan
from customers.choices import AuditAction, ChangeRequestStatus, RiskAppetite, Role
from customers.models import AuditEntry, ChangeRequest, Customer, CustomerTeamMember, Reassignment
from customers.services import (
    ConcurrentEditError,
    change_request_decide,
    change_request_submit,
    customer_create,
    customer_field_reveal,
    customer_profile_update,
    customers_auto_assign,
    customers_reassign,
    portfolio_handover,
)
from interactions.models import Complaint, Notification, Reminder
from tests.campaigns.factories import PlanFactory
from tests.customers.factories import CustomerFactory, UserFactory
from tests.interactions.factories import (
    ComplaintFactory,
    CustomerRequestFactory,
    ReminderFactory,
)

pytestmark = pytest.mark.django_db


# --- Profile -------------------------------------------------------------------------------


def test_profile_update_saves_audits_and_recomputes_completeness(rm_a, customer_a):
    # when
    customer_profile_update(
        acting_user=rm_a,
        customer=customer_a,
        expected_version=1,
        changes={"occupation": "Surgeon", "risk_appetite": RiskAppetite.BALANCED},
    )
    # then
    customer_a.refresh_from_db()
    assert customer_a.occupation == "Surgeon" and customer_a.version == 2
    assert customer_a.profile_completeness > 0
    entry = AuditEntry.objects.get(customer=customer_a, action=AuditAction.UPDATE)
    assert entry.actor == rm_a
    assert entry.changes == {"occupation": ["", "Surgeon"], "risk_appetite": [None, 3]}


def test_unchanged_profile_writes_nothing(rm_a, customer_a):
    customer_profile_update(
        acting_user=rm_a, customer=customer_a, expected_version=1, changes={"occupation": ""}
    )
    customer_a.refresh_from_db()
    assert customer_a.version == 1
    assert not AuditEntry.objects.exists()


def test_concurrent_edit_is_refused_not_overwritten(rm_a, head_x, customer_a):
    # given: two editors loaded version 1; the first saves
    stale = Customer.objects.get(pk=customer_a.pk)
    customer_profile_update(
        acting_user=head_x, customer=customer_a, expected_version=1, changes={"occupation": "Pilot"}
    )
    # when: the second saves on top of version 1
    with pytest.raises(ConcurrentEditError):
        customer_profile_update(
            acting_user=rm_a, customer=stale, expected_version=1, changes={"occupation": "Chef"}
        )
    # then
    customer_a.refresh_from_db()
    assert customer_a.occupation == "Pilot"


@pytest.mark.parametrize(
    "field", ["id_number", "name", "value_tier", "aum", "relationship_manager"]
)
def test_identity_and_system_fields_cannot_be_edited_directly(rm_a, customer_a, field):
    with pytest.raises(ValidationError) as error:
        customer_profile_update(
            acting_user=rm_a, customer=customer_a, expected_version=1, changes={field: "x"}
        )
    assert field in error.value.message_dict


def test_bad_phone_is_refused_per_field(rm_a, customer_a):
    with pytest.raises(ValidationError) as error:
        customer_profile_update(
            acting_user=rm_a, customer=customer_a, expected_version=1, changes={"phone": "12345"}
        )
    assert "phone" in error.value.message_dict
    customer_a.refresh_from_db()
    assert customer_a.phone != "12345"


def test_create_refuses_bad_identity_and_writes_nothing(branch_x, rm_a):
    with pytest.raises(ValidationError) as error:
        customer_create(
            acting_user=rm_a,
            branch=branch_x,
            relationship_manager=rm_a,
            customer_number="C1",
            customer_type="individual",
            name="Zhang San",
            id_type="prc_id",
            id_number="110105194912310021",
            birth_date=dt.date(1949, 12, 31),
        )
    assert "id_number" in error.value.message_dict
    assert not Customer.objects.exists() and not AuditEntry.objects.exists()


def test_create_checks_birth_date_against_the_id(branch_x, rm_a):
    with pytest.raises(ValidationError) as error:
        customer_create(
            acting_user=rm_a,
            branch=branch_x,
            customer_number="C1",
            customer_type="individual",
            name="Zhang San",
            id_type="prc_id",
            id_number="11010519491231002X",
            birth_date=dt.date(1950, 1, 1),
        )
    assert "birth_date" in error.value.message_dict


# --- Maker-checker -------------------------------------------------------------------------


def test_rm_proposes_branch_head_approves_and_the_change_applies(rm_a, head_x, customer_a):
    # given
    request = change_request_submit(
        acting_user=rm_a,
        customer=customer_a,
        changes={"name": "Alice Wang"},
        reason="Married; new ID card",
    )
    customer_a.refresh_from_db()
    assert customer_a.name == "Alice Customer-of-A"  # nothing applied yet
    # when
    change_request_decide(acting_user=head_x, change_request=request, approve=True)
    # then
    customer_a.refresh_from_db()
    request.refresh_from_db()
    assert customer_a.name == "Alice Wang"
    assert request.status == ChangeRequestStatus.APPROVED and request.decided_by == head_x
    assert Notification.objects.filter(recipient=rm_a, customer=customer_a).exists()
    assert AuditEntry.objects.filter(
        customer=customer_a, object_type="customers.customer", changes__name__1="Alice Wang"
    ).exists()


def test_rejection_needs_a_comment_and_changes_nothing(rm_a, head_x, customer_a):
    request = change_request_submit(
        acting_user=rm_a, customer=customer_a, changes={"name": "Typo Name"}, reason="fix"
    )
    with pytest.raises(ValidationError):
        change_request_decide(acting_user=head_x, change_request=request, approve=False)
    change_request_decide(
        acting_user=head_x, change_request=request, approve=False, comment="No supporting document"
    )
    customer_a.refresh_from_db()
    assert customer_a.name == "Alice Customer-of-A"
    assert ChangeRequest.objects.get().status == ChangeRequestStatus.REJECTED


def test_invalid_proposal_is_refused_at_once(rm_a, customer_a):
    with pytest.raises(ValidationError) as error:
        change_request_submit(
            acting_user=rm_a,
            customer=customer_a,
            changes={"id_number": "110105194912310021"},
            reason="new card",
        )
    assert "id_number" in error.value.message_dict
    assert not ChangeRequest.objects.exists()


def test_maker_cannot_be_checker_and_rms_cannot_approve(rm_a, rm_b, head_x, customer_a):
    request = change_request_submit(
        acting_user=head_x, customer=customer_a, changes={"name": "New"}, reason="r"
    )
    with pytest.raises(ValidationError):
        change_request_decide(acting_user=head_x, change_request=request, approve=True)
    with pytest.raises(PermissionDenied):
        change_request_decide(acting_user=rm_a, change_request=request, approve=True)


def test_branch_head_of_another_branch_cannot_approve(rm_a, head_y, customer_a):
    request = change_request_submit(
        acting_user=rm_a, customer=customer_a, changes={"name": "New"}, reason="r"
    )
    with pytest.raises(PermissionDenied):
        change_request_decide(acting_user=head_y, change_request=request, approve=True)


def test_one_pending_request_per_customer(rm_a, customer_a):
    change_request_submit(acting_user=rm_a, customer=customer_a, changes={"name": "A"}, reason="r")
    with pytest.raises(ValidationError):
        change_request_submit(
            acting_user=rm_a, customer=customer_a, changes={"name": "B"}, reason="r"
        )


def test_approval_refused_if_identity_moved_since_the_request(rm_a, head_x, customer_a):
    request = change_request_submit(
        acting_user=rm_a, customer=customer_a, changes={"name": "A"}, reason="r"
    )
    Customer.objects.filter(pk=customer_a.pk).update(name="Changed by core banking")
    with pytest.raises(ValidationError):
        change_request_decide(acting_user=head_x, change_request=request, approve=True)


# --- Reveal --------------------------------------------------------------------------------


def test_reveal_returns_the_value_and_audits_without_it(rm_a, customer_a):
    value = customer_field_reveal(acting_user=rm_a, customer=customer_a, field="id_number")
    assert value == customer_a.id_number
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == rm_a and entry.customer == customer_a
    assert customer_a.id_number not in str(entry.changes)


def test_only_masked_identity_fields_can_be_revealed(rm_a, customer_a):
    with pytest.raises(ValidationError):
        customer_field_reveal(acting_user=rm_a, customer=customer_a, field="email")


# --- Reassignment --------------------------------------------------------------------------


def test_reassignment_moves_customers_open_reminders_and_tells_the_new_rm(
    head_x, rm_a, rm_b, customer_a
):
    # given
    open_reminder = ReminderFactory(customer=customer_a, assigned_to=rm_a)
    done_reminder = ReminderFactory(customer=customer_a, assigned_to=rm_a, status="done")
    # when
    moved = customers_reassign(
        acting_user=head_x, customer_ids=[customer_a.pk], to_manager=rm_b, reason="Rebalancing"
    )
    # then
    assert moved == 1
    customer_a.refresh_from_db()
    assert customer_a.relationship_manager == rm_b
    assert Reminder.objects.get(pk=open_reminder.pk).assigned_to == rm_b
    assert Reminder.objects.get(pk=done_reminder.pk).assigned_to == rm_a
    move = Reassignment.objects.get()
    assert (move.from_manager, move.to_manager, move.reassigned_by, move.reason) == (
        rm_a,
        rm_b,
        head_x,
        "Rebalancing",
    )
    assert Notification.objects.filter(recipient=rm_b).exists()
    assert AuditEntry.objects.filter(customer=customer_a, changes__has_key="relationship_manager")


def test_reassignment_carries_the_previous_rms_work_and_leaves_others_theirs(
    head_x, rm_a, rm_b, customer_a
):
    """What rm_a had open for the customer goes to rm_b: reminders, the answer owed to an
    open request, an unresolved complaint, the active plan. A secondary RM's reminder and a
    complaint the branch head owns stay where they are; a resolved complaint is history."""
    # given
    secondary = UserFactory(branch=rm_a.branch)
    CustomerTeamMember.objects.create(customer=customer_a, member=secondary)
    request = CustomerRequestFactory(customer=customer_a)
    owed_answer = ReminderFactory(customer=customer_a, assigned_to=rm_a, customer_request=request)
    secondarys_reminder = ReminderFactory(customer=customer_a, assigned_to=secondary)
    open_complaint = ComplaintFactory(customer=customer_a, owner=rm_a)
    heads_complaint = ComplaintFactory(customer=customer_a, owner=head_x)
    resolved_complaint = ComplaintFactory(customer=customer_a, owner=rm_a, status="resolved")
    plan = PlanFactory(customer=customer_a)
    # when
    customers_reassign(
        acting_user=head_x, customer_ids=[customer_a.pk], to_manager=rm_b, reason="Rebalancing"
    )

    # then
    def owner(model, pk, field):
        return getattr(model.objects.get(pk=pk), field)

    assert owner(Reminder, owed_answer.pk, "assigned_to") == rm_b
    assert owner(Reminder, secondarys_reminder.pk, "assigned_to") == secondary
    assert owner(Complaint, open_complaint.pk, "owner") == rm_b
    assert owner(Complaint, heads_complaint.pk, "owner") == head_x
    assert owner(Complaint, resolved_complaint.pk, "owner") == rm_a
    assert owner(MarketingPlan, plan.pk, "relationship_manager") == rm_b


def test_work_left_with_a_departed_rm_follows_an_unassigned_customer_to_the_new_rm(
    head_x, rm_a, rm_b, customer_a
):
    # given: rm_a left the bank; the customer was unassigned, their work still rm_a's
    reminder = ReminderFactory(customer=customer_a, assigned_to=rm_a)
    complaint = ComplaintFactory(customer=customer_a, owner=rm_a)
    Customer.objects.filter(pk=customer_a.pk).update(relationship_manager=None)
    rm_a.is_active = False
    rm_a.save(update_fields=["is_active"])
    # when
    customers_reassign(
        acting_user=head_x, customer_ids=[customer_a.pk], to_manager=rm_b, reason="Unassigned"
    )
    # then
    assert Reminder.objects.get(pk=reminder.pk).assigned_to == rm_b
    assert Complaint.objects.get(pk=complaint.pk).owner == rm_b


def test_rms_cannot_reassign(rm_a, rm_b, customer_a):
    with pytest.raises(PermissionDenied):
        customers_reassign(
            acting_user=rm_a, customer_ids=[customer_a.pk], to_manager=rm_b, reason="mine"
        )


def test_branch_head_cannot_move_other_branches_customers_or_give_to_their_rms(
    head_x, rm_b, rm_y, customer_a, customer_y
):
    with pytest.raises(ValidationError):
        customers_reassign(
            acting_user=head_x, customer_ids=[customer_y.pk], to_manager=rm_b, reason="r"
        )
    with pytest.raises(ValidationError):
        customers_reassign(
            acting_user=head_x, customer_ids=[customer_a.pk], to_manager=rm_y, reason="r"
        )
    customer_y.refresh_from_db()
    assert customer_y.relationship_manager == rm_y


def test_bulk_reassignment_is_set_based(head_x, rm_a, rm_b, django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(40, relationship_manager=rm_a)
    # 15 whatever the count; two of them mark the customer UPDATE as audited by the
    # service, so the database's direct-write audit does not record it twice, one reads
    # the head's branches for the scope, and one each moves reminders, complaints and plans.
    with django_assert_max_num_queries(15):
        moved = customers_reassign(
            acting_user=head_x,
            customer_ids=[c.pk for c in customers],
            to_manager=rm_b,
            reason="RM on leave",
        )
    assert moved == 40
    assert Customer.objects.filter(relationship_manager=rm_b).count() == 40


def test_portfolio_handover_moves_the_whole_book(head_x, rm_a, rm_b):
    CustomerFactory.create_batch(5, relationship_manager=rm_a)
    assert (
        portfolio_handover(
            acting_user=head_x, from_manager=rm_a, to_manager=rm_b, reason="Leaving the bank"
        )
        == 5
    )
    assert not Customer.objects.filter(relationship_manager=rm_a).exists()


def test_auto_assign_balances_book_size(head_x, branch_x, rm_a, rm_b):
    # given: A already has 3 customers, B none; 5 unassigned
    CustomerFactory.create_batch(3, relationship_manager=rm_a)
    CustomerFactory.create_batch(5, relationship_manager=None, branch=branch_x)
    # when
    assigned = customers_auto_assign(acting_user=head_x, branch=branch_x)
    # then: 4 go to B, 1 to A → 4 and 4
    assert assigned == {rm_a.pk: 1, rm_b.pk: 4}
    assert not Customer.objects.filter(relationship_manager__isnull=True).exists()


def test_auto_assign_by_aum_gives_the_big_customer_to_the_lighter_book(
    head_x, branch_x, rm_a, rm_b
):
    CustomerFactory(relationship_manager=rm_a, aum=Decimal("9000000"))
    big = CustomerFactory(relationship_manager=None, branch=branch_x, aum=Decimal("5000000"))
    customers_auto_assign(acting_user=head_x, branch=branch_x, balance_by="aum")
    big.refresh_from_db()
    assert big.relationship_manager == rm_b


def test_auto_assign_outside_own_branch_is_refused(head_x, branch_y):
    UserFactory(username="rm_y2", branch=branch_y, role=Role.RELATIONSHIP_MANAGER)
    with pytest.raises(PermissionDenied):
        customers_auto_assign(acting_user=head_x, branch=branch_y)
