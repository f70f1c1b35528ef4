"""Demo one-to-one plans and events for `make run`: a board with plans at every step (two of
them stuck), a target list, an upcoming spring reception with its list being worked, a
held wine tasting with results, and a branch seminar still being planned.

Runs after `seed_demo` and `score_customers`; does nothing if campaigns exist already.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.choices import CampaignStatus, InvitationStatus, PlanStep, ProposalOutcome
from campaigns.models import Campaign, CampaignType, Invitation, MarketingPlan
from campaigns.services import (
    campaign_complete,
    campaign_save,
    invitation_list_build,
    invitations_update,
    plan_advance,
    plan_record,
    plan_skip,
    proposal_outcome_record,
    proposal_save,
    target_list_build,
    target_list_start_plans,
)
from customers.choices import AuditAction
from customers.models import Branch, User
from customers.services import audit_record, audited_customer_writes
from interactions.choices import Channel
from interactions.models import Interaction

SEED = 7


class Command(BaseCommand):
    help = "Seed demo one-to-one plans and events (after seed_demo and score_customers)."

    def handle(self, *args, **options) -> None:
        if Campaign.objects.exists() or MarketingPlan.objects.exists():
            self.stdout.write("Demo campaigns already present; nothing to do.")
            return
        users = {
            user.username: user
            for user in User.objects.filter(username__in=["rm.wang", "head.zhang", "admin.chen"])
        }
        if len(users) < 3 or not CampaignType.objects.exists():
            self.stdout.write("Demo users or event types missing; run seed_demo first.")
            return
        with transaction.atomic():
            plans = self._plans(users["rm.wang"], users["head.zhang"])
            events = self._events(users)
        self.stdout.write(
            self.style.SUCCESS(f"Seeded {plans} one-to-one plans and {events} events.")
        )

    # --- Plans -------------------------------------------------------------------------------

    def _plans(self, rm: User, head: User) -> int:
        rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not security
        try:
            target_list = target_list_build(
                acting_user=rm,
                name="Key accounts and general 1 without a plan",
                quadrants=["key", "general_1"],
            )
        except Exception:  # noqa: BLE001 - an unscored demo bank has no segment to target
            return 0
        entries = list(target_list.entries.order_by("-customer__aum")[:16])
        target_list.entries.exclude(pk__in=[entry.pk for entry in entries]).update(selected=False)
        result = target_list_start_plans(acting_user=rm, target_list=target_list)
        plans = sorted(result.started, key=lambda plan: plan.pk)
        # Spread the plans over the pipeline: the RM's notes, meetings, proposals, agreements.
        for index, plan in enumerate(plans):
            goal = 2 + index % 7  # steps 2..8
            self._work(plan, rm=rm, head=head, goal=goal, rng=rng)
        # Two plans are overdue: stuck on the board.
        for plan in MarketingPlan.objects.filter(pk__in=[p.pk for p in plans[:2]]):
            plan.step_entered_at -= dt.timedelta(days=40)
            plan.step_due_on = timezone.localdate() - dt.timedelta(days=5)
            plan.save(update_fields=["step_entered_at", "step_due_on"])
        return len(plans)

    def _meet(self, plan: MarketingPlan, rm: User, minutes: str) -> None:
        Interaction.objects.create(
            customer=plan.customer,
            logged_by=rm,
            channel=Channel.VISIT,
            occurred_at=timezone.now(),
            minutes=minutes,
        )

    def _work(self, plan, *, rm, head, goal, rng) -> None:
        plan = MarketingPlan.objects.get(pk=plan.pk)
        while plan.step < goal:
            step = plan.step
            if step == PlanStep.BASE_INFORMATION or (
                step == PlanStep.TRACKING and plan.customer.profile_completeness < 60
            ):
                plan = plan_skip(
                    acting_user=head,
                    plan=plan,
                    to_step=step + 1,
                    reason="Demo: profile is being completed by the branch",
                )
                continue
            if step == PlanStep.TRACKING:
                plan_record(
                    acting_user=rm,
                    plan=plan,
                    tracking_notes="Salary account; term deposits rolling over quarterly.",
                )
            elif step == PlanStep.ANALYSIS:
                plan_record(
                    acting_user=rm,
                    plan=plan,
                    analysis_notes="High balances idle in deposits; low product count.",
                )
            elif step == PlanStep.FIRST_MEETING:
                self._meet(plan, rm, "First meeting: family, business, how decisions are made.")
                customer = plan.customer
                if not customer.wealth_source and not customer.is_corporate:
                    # What the RM learned at the meeting, recorded and audited as the RM.
                    with audited_customer_writes():
                        customer.wealth_source = "professional"
                        customer.save(update_fields=["wealth_source"])
                        audit_record(
                            acting_user=rm,
                            action=AuditAction.UPDATE,
                            instance=customer,
                            customer=customer,
                            changes={"wealth_source": ("", "professional")},
                            reason="Learned at the first meeting",
                        )
            elif step == PlanStep.PROPOSAL:
                amount = Decimal(rng.choice([300_000, 500_000, 1_000_000, 2_000_000]))
                proposal_save(
                    acting_user=rm,
                    plan=plan,
                    report="Moderate risk appetite; diversify part of the deposits.",
                    lines=[
                        {
                            "product_type": "wealth",
                            "product_name": "Steady income 365",
                            "amount": amount,
                        },
                        {
                            "product_type": "insurance",
                            "product_name": "Family protection plan",
                            "amount": Decimal("50000"),
                        },
                    ],
                )
            elif step == PlanStep.AGREEMENT:
                self._meet(plan, rm, "Second meeting: went through the proposal together.")
                plan_record(
                    acting_user=rm,
                    plan=plan,
                    agreement_summary="Agreed to move part of the deposits to wealth.",
                    agreed_on=timezone.localdate(),
                )
                outcome = rng.choice([ProposalOutcome.ACCEPTED, ProposalOutcome.PARTLY])
                total = plan.proposal.total_proposed
                won = total if outcome == ProposalOutcome.ACCEPTED else total / 2
                proposal_outcome_record(
                    acting_user=rm,
                    plan=plan,
                    outcome=outcome,
                    aum_won=won,
                    revenue_won=(won * Decimal("0.005")),
                )
            elif step == PlanStep.MONITORING:
                self._meet(plan, rm, "Quarterly review of the portfolio.")
            plan = plan_advance(acting_user=rm, plan=MarketingPlan.objects.get(pk=plan.pk))

    # --- Events ------------------------------------------------------------------------------

    def _events(self, users) -> int:
        owner, head, rm = users["admin.chen"], users["head.zhang"], users["rm.wang"]
        now = timezone.now()
        kinds = {kind.code: kind for kind in CampaignType.objects.all()}
        spring = campaign_save(
            acting_user=owner,
            campaign=Campaign(
                name="2027 Spring reception",
                campaign_type=kinds["spring_reception"],
                description="Our thanks to the customers who grew with us this year.",
                starts_at=now + dt.timedelta(days=30),
                ends_at=now + dt.timedelta(days=30, hours=3),
                venue="The Peninsula, the Bund",
                capacity=120,
                budget=Decimal("180000"),
                target_tiers=["value", "sub_value"],
            ),
        )
        invitation_list_build(acting_user=owner, campaign=spring)
        own = list(
            Invitation.objects.filter(
                campaign=spring, customer__relationship_manager=rm
            ).values_list("pk", flat=True)[:12]
        )
        if own:
            invitations_update(
                acting_user=rm, campaign=spring, invitation_ids=own, status=InvitationStatus.INVITED
            )
            invitations_update(
                acting_user=rm,
                campaign=spring,
                invitation_ids=own[:6],
                status=InvitationStatus.ACCEPTED,
            )

        tasting = campaign_save(
            acting_user=owner,
            campaign=Campaign(
                name="Autumn wine tasting",
                campaign_type=kinds["wine_tasting"],
                starts_at=now - dt.timedelta(days=45),
                ends_at=now - dt.timedelta(days=45, hours=-3),
                venue="Cellar 1855, Xintiandi",
                capacity=30,
                budget=Decimal("60000"),
                status=CampaignStatus.INVITING,
                target_tiers=["value"],
            ),
        )
        invitation_list_build(acting_user=owner, campaign=tasting)
        invited = list(
            Invitation.objects.filter(campaign=tasting).values_list("pk", flat=True)[:40]
        )
        if invited:
            invitations_update(
                acting_user=owner,
                campaign=tasting,
                invitation_ids=invited,
                status=InvitationStatus.INVITED,
            )
            invitations_update(
                acting_user=owner,
                campaign=tasting,
                invitation_ids=invited[:34],
                status=InvitationStatus.ACCEPTED,
            )
            invitations_update(
                acting_user=owner,
                campaign=tasting,
                invitation_ids=invited[:24],
                status=InvitationStatus.ATTENDED,
            )
        campaign_complete(acting_user=owner, campaign=tasting)
        tasting.refresh_from_db()
        tasting.cost = Decimal("52300")
        campaign_save(acting_user=owner, campaign=tasting)

        campaign_save(
            acting_user=head,
            campaign=Campaign(
                name="Economic outlook seminar 2027",
                campaign_type=kinds["economic_seminar"],
                starts_at=now + dt.timedelta(days=14),
                ends_at=now + dt.timedelta(days=14, hours=2),
                venue="Lujiazui sub-branch, 5F",
                capacity=40,
                budget=Decimal("15000"),
                target_quadrants=["general_2"],
                branch=Branch.objects.get(code="SH01"),
            ),
        )
        return 3
