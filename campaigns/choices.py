"""Vocabulary of the one-to-one marketing pipeline and of event campaigns."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from interactions.choices import Channel


class PlanStep(models.IntegerChoices):
    """The eight steps of seed 001's one-to-one marketing programme, in order."""

    BASE_INFORMATION = 1, _("Base information")
    TRACKING = 2, _("Transaction tracking and profile refinement")
    ANALYSIS = 3, _("Analysis and target list")
    FIRST_MEETING = 4, _("First meeting")
    PROPOSAL = 5, _("Analysis report and proposal")
    AGREEMENT = 6, _("Second meeting and agreement")
    MONITORING = 7, _("Periodic monitoring")
    FOLLOW_UP = 8, _("Follow-up visit")


FIRST_STEP = PlanStep.BASE_INFORMATION
LAST_STEP = PlanStep.FOLLOW_UP

# How long a plan may stay in each step before it is due (days); past that it shows as stuck.
STEP_DEFAULT_DAYS = {
    PlanStep.BASE_INFORMATION: 7,
    PlanStep.TRACKING: 14,
    PlanStep.ANALYSIS: 7,
    PlanStep.FIRST_MEETING: 14,
    PlanStep.PROPOSAL: 14,
    PlanStep.AGREEMENT: 21,
    PlanStep.MONITORING: 90,
    PlanStep.FOLLOW_UP: 14,
}

# A new cycle, opened by the follow-up visit, starts again at the analysis: the customer's
# base information and profile already exist (seed 001: "and starts again").
NEXT_CYCLE_STEP = PlanStep.ANALYSIS

# Contacts that count as meeting the customer face to face (steps 4 and 6).
MEETING_CHANNELS = (Channel.VISIT, Channel.BRANCH_MEETING, Channel.BANQUET, Channel.EVENT)


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class TransitionKind(models.TextChoices):
    START = "start", _("Started")
    ADVANCE = "advance", _("Advanced")
    AUTO = "auto", _("Advanced: criteria already met")
    SKIP = "skip", _("Skipped by a branch head")
    BACK = "back", _("Moved back")
    COMPLETE = "complete", _("Completed")
    CANCEL = "cancel", _("Cancelled")


class SkipRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a branch head")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ProposalOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for the customer")
    ACCEPTED = "accepted", _("Accepted")
    PARTLY = "partly", _("Partly accepted")
    DECLINED = "declined", _("Declined")


WON_OUTCOMES = (ProposalOutcome.ACCEPTED, ProposalOutcome.PARTLY)


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    INVITING = "inviting", _("Inviting")
    COMPLETED = "completed", _("Held: results")
    CANCELLED = "cancelled", _("Cancelled")


class InvitationStatus(models.TextChoices):
    """An invitation's life: proposed by the targeting, confirmed by the RM, answered by the
    customer, then attended or not."""

    PROPOSED = "proposed", _("On the list: RM to review")
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    WAITLISTED = "waitlisted", _("On the wait-list")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Taken off the list")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


# Invitations that hold a seat against the capacity.
SEAT_STATUSES = (InvitationStatus.ACCEPTED, InvitationStatus.ATTENDED, InvitationStatus.NO_SHOW)
# Invitations that reached the customer.
SENT_STATUSES = (
    InvitationStatus.INVITED,
    InvitationStatus.ACCEPTED,
    InvitationStatus.WAITLISTED,
    InvitationStatus.DECLINED,
    InvitationStatus.ATTENDED,
    InvitationStatus.NO_SHOW,
)


class ExclusionReason(models.TextChoices):
    """Why the targeting left a customer off an invitation list."""

    NO_CONSENT = "no_consent", _("No consent for the invitation channel")
    RECENTLY_INVITED = "recently_invited", _("Invited to another event recently")
    CHURNED = "churned", _("Has left the bank (no active products, no assets)")
    NO_RM = "no_rm", _("Has no relationship manager")
