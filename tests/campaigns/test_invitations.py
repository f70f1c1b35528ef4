"""Event campaigns: building the invitation list with exclusions, the invitation state
machine, capacity and the wait-list, closing the event, and audited edits afterwards."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns.choices import CampaignStatus, InvitationStatus
from campaigns.models import Campaign, Invitation
from campaigns.services import (
    campaign_complete,
    campaign_save,
    invitation_add,
    invitation_list_build,
    invitations_update,
)
from customers.models import AuditEntry
from interactions.models import Reminder
from segmentation.choices import ValueTier
from tests.campaigns.factories import CampaignFactory, HoldingFactory, InvitationFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

S = InvitationStatus


def invitable(rm, **kwargs):
    kwargs.setdefault("consent_phone", True)
    kwargs.setdefault("value_tier", ValueTier.VALUE)
    customer = CustomerFactory(relationship_manager=rm, **kwargs)
    HoldingFactory(customer=customer)
    return customer


def statuses(campaign):
    return dict(
        Invitation.objects.filter(campaign=campaign).values_list("customer__name", "status")
    )


def set_status(user, campaign, invitations, status, note=""):
    return invitations_update(
        acting_user=user,
        campaign=campaign,
        invitation_ids=[invitation.pk for invitation in invitations],
        status=status,
        note=note,
    )


def test_the_list_targets_the_segment_and_leaves_out_who_should_not_be_invited(
    head_office, rm_a, rm_y, branch_x
):
    # given: value-tier customers, some of whom must not be invited
    welcome = invitable(rm_a, name="Welcome")
    invitable(rm_a, name="No consent", consent_phone=False)
    churned = CustomerFactory(
        relationship_manager=rm_a,
        name="Churned",
        consent_phone=True,
        value_tier="value",
        aum=Decimal("0"),
    )
    recent = invitable(rm_a, name="Recently invited")
    InvitationFactory(
        customer=recent, status=S.INVITED, invited_at=timezone.now() - dt.timedelta(days=5)
    )
    invitable(rm_a, name="Low value", value_tier=ValueTier.LOW_VALUE)
    other_branch = invitable(rm_y, name="Other branch")
    campaign = CampaignFactory(owner=head_office, branch=None, target_tiers=[ValueTier.VALUE])
    campaign.target_branches.set([branch_x])

    summary = invitation_list_build(acting_user=head_office, campaign=campaign)

    # then: only the welcome customer is proposed; the others are counted by reason
    assert statuses(campaign) == {"Welcome": S.PROPOSED}
    assert summary == {
        "added": 1,
        "no_consent": 1,
        "churned": 1,
        "recently_invited": 1,
    }
    assert churned.pk and other_branch.pk and welcome.pk
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.INVITING
    # a rebuild adds nobody twice
    assert invitation_list_build(acting_user=head_office, campaign=campaign)["added"] == 0


def test_rms_and_other_branches_cannot_build_a_list(rm_a, head_y, head_office):
    campaign = CampaignFactory(owner=head_office, branch=None)
    with pytest.raises(PermissionDenied):
        invitation_list_build(acting_user=rm_a, campaign=campaign)
    with pytest.raises(PermissionDenied):
        invitation_list_build(acting_user=head_y, campaign=campaign)


def test_a_branch_heads_campaign_is_for_their_branch(head_x, branch_x):
    campaign = Campaign(
        name="Wealth salon",
        campaign_type=CampaignFactory.campaign_type.function(),
        starts_at=timezone.now() + dt.timedelta(days=3),
        ends_at=timezone.now() + dt.timedelta(days=3, hours=2),
        venue="Branch lounge",
        capacity=20,
    )
    campaign = campaign_save(acting_user=head_x, campaign=campaign)
    assert campaign.branch == branch_x
    assert campaign.owner == head_x


def test_the_rm_reviews_and_the_customer_answers(head_office, rm_a):
    customer = invitable(rm_a, name="Chen")
    campaign = CampaignFactory(owner=head_office)
    invitation = InvitationFactory(campaign=campaign, customer=customer)

    set_status(rm_a, campaign, [invitation], S.INVITED)
    invitation.refresh_from_db()
    assert invitation.status == S.INVITED and invitation.invited_at is not None

    set_status(rm_a, campaign, [invitation], S.ACCEPTED)
    assert statuses(campaign) == {"Chen": S.ACCEPTED}

    # not allowed: from accepted straight back to "proposed"-era moves
    with pytest.raises(ValidationError, match="cannot go from"):
        set_status(rm_a, campaign, [invitation], S.WITHDRAWN, note="x")
    # attendance waits for the event
    with pytest.raises(ValidationError, match="once the event has started"):
        set_status(rm_a, campaign, [invitation], S.ATTENDED)


def test_taking_a_customer_off_the_list_needs_a_reason(head_office, rm_a):
    campaign = CampaignFactory(owner=head_office)
    invitation = InvitationFactory(campaign=campaign, customer=invitable(rm_a))
    with pytest.raises(ValidationError):
        set_status(rm_a, campaign, [invitation], S.WITHDRAWN)
    set_status(rm_a, campaign, [invitation], S.WITHDRAWN, note="Travelling that week")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.note) == (S.WITHDRAWN, "Travelling that week")


def test_an_rm_cannot_touch_another_rms_invitations(head_office, rm_a, rm_b):
    campaign = CampaignFactory(owner=head_office)
    theirs = InvitationFactory(campaign=campaign, customer=invitable(rm_b))
    with pytest.raises(ValidationError, match="Select at least one"):
        set_status(rm_a, campaign, [theirs], S.INVITED)
    theirs.refresh_from_db()
    assert theirs.status == S.PROPOSED


def test_inviting_without_consent_for_the_channel_is_refused_with_the_reason(head_office, rm_a):
    campaign = CampaignFactory(owner=head_office, invitation_channel="wechat")
    customer = invitable(rm_a, name="Li Na", consent_wechat=False)
    with pytest.raises(ValidationError, match="Li Na has not consented to be contacted by WeChat"):
        invitation_add(acting_user=rm_a, campaign=campaign, customer=customer)
    assert not Invitation.objects.exists()


def test_acceptances_over_capacity_go_to_the_wait_list_in_order(head_office, rm_a):
    campaign = CampaignFactory(owner=head_office, capacity=2)
    first, second, third, fourth = (
        InvitationFactory(campaign=campaign, customer=invitable(rm_a, name=name), status=S.INVITED)
        for name in ("First", "Second", "Third", "Fourth")
    )

    counts = set_status(rm_a, campaign, [first, second, third, fourth], S.ACCEPTED)

    assert counts == {S.ACCEPTED: 2, S.WAITLISTED: 2, "refused": 0}
    assert statuses(campaign) == {
        "First": S.ACCEPTED,
        "Second": S.ACCEPTED,
        "Third": S.WAITLISTED,
        "Fourth": S.WAITLISTED,
    }

    # a seat frees up: the first on the wait-list gets it, and their RM is told
    set_status(rm_a, campaign, [second], S.DECLINED)

    assert statuses(campaign) == {
        "First": S.ACCEPTED,
        "Second": S.DECLINED,
        "Third": S.ACCEPTED,
        "Fourth": S.WAITLISTED,
    }
    assert rm_a.notifications.filter(message__contains="Third").exists()


def test_closing_the_event_marks_no_shows_and_reminds_the_attendees_rms(head_office, rm_a, rm_b):
    campaign = CampaignFactory(
        owner=head_office,
        starts_at=timezone.now() - dt.timedelta(days=1, hours=3),
        ends_at=timezone.now() - dt.timedelta(days=1),
        follow_up_days=3,
    )
    came = InvitationFactory(
        campaign=campaign, customer=invitable(rm_a, name="Came"), status=S.ACCEPTED
    )
    stayed = InvitationFactory(
        campaign=campaign, customer=invitable(rm_b, name="Stayed home"), status=S.ACCEPTED
    )
    set_status(rm_a, campaign, [came], S.ATTENDED)

    created = campaign_complete(acting_user=head_office, campaign=campaign)

    assert created == 1
    assert statuses(campaign) == {"Came": S.ATTENDED, "Stayed home": S.NO_SHOW}
    reminder = Reminder.objects.get()
    assert (reminder.customer_id, reminder.assigned_to) == (came.customer_id, rm_a)
    assert timezone.localtime(reminder.due_at).date() == timezone.localdate() + dt.timedelta(days=3)
    # closing twice is refused; the reminder exists once
    with pytest.raises(ValidationError):
        campaign_complete(acting_user=head_office, campaign=campaign)
    assert stayed.pk


def test_an_event_that_has_not_ended_cannot_be_closed(head_office):
    campaign = CampaignFactory(owner=head_office)
    with pytest.raises(ValidationError, match="not ended"):
        campaign_complete(acting_user=head_office, campaign=campaign)


def test_editing_a_finished_campaigns_results_is_audited_and_its_plan_is_frozen(head_office, rm_a):
    campaign = CampaignFactory(
        owner=head_office,
        status=CampaignStatus.COMPLETED,
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=3) + dt.timedelta(hours=2),
    )
    campaign.cost = Decimal("64000.00")
    campaign_save(acting_user=head_office, campaign=campaign)

    entry = AuditEntry.objects.get(object_type="campaigns.campaign", object_id=str(campaign.pk))
    assert entry.actor == head_office
    assert entry.changes == {"cost": ["0.00", "64000.00"]}

    campaign.capacity = 500
    with pytest.raises(ValidationError, match="cannot change"):
        campaign_save(acting_user=head_office, campaign=campaign)


def test_attendance_corrections_after_the_event_are_audited(head_office, rm_a):
    campaign = CampaignFactory(
        owner=head_office,
        status=CampaignStatus.COMPLETED,
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=3) + dt.timedelta(hours=2),
    )
    invitation = InvitationFactory(campaign=campaign, customer=invitable(rm_a), status=S.NO_SHOW)
    with pytest.raises(ValidationError, match="only attendance"):
        set_status(rm_a, campaign, [invitation], S.DECLINED)

    set_status(rm_a, campaign, [invitation], S.ATTENDED)

    entry = AuditEntry.objects.get(object_type="campaigns.invitation")
    assert entry.changes == {"status": ["no_show", "attended"]}
    assert entry.customer_id == invitation.customer_id
