"""Pages of the pipeline and of events: what each role sees and may do, scope (another RM's
plan or invitation is a 404), errors shown per field, and constant query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.choices import CampaignStatus, InvitationStatus, PlanStep
from campaigns.models import Campaign, CampaignType, Invitation, MarketingPlan, StepSkipRequest
from segmentation.choices import ValueTier
from segmentation.models import PlaybookEntry
from tests.campaigns.factories import (
    CampaignFactory,
    InvitationFactory,
    PlanFactory,
    campaign_type,
    ready_customer,
)
from tests.customers.factories import CustomerFactory
from tests.segmentation.factories import customer_with_contribution, run_scoring, use_model

pytestmark = pytest.mark.django_db

PLAN_ROUTES = [
    ("campaigns:plan_detail", "get"),
    ("campaigns:plan_advance", "post"),
    ("campaigns:plan_skip", "post"),
    ("campaigns:plan_back", "post"),
    ("campaigns:plan_cancel", "post"),
    ("campaigns:plan_record", "get"),
    ("campaigns:plan_record", "post"),
    ("campaigns:proposal", "get"),
    ("campaigns:proposal", "post"),
    ("campaigns:proposal_outcome", "get"),
    ("campaigns:proposal_outcome", "post"),
]


@pytest.mark.parametrize(("name", "method"), PLAN_ROUTES)
def test_another_rms_plan_is_404_on_every_plan_route(client_for, rm_a, customer_b, name, method):
    plan = PlanFactory(customer=customer_b, step=6)
    response = getattr(client_for(rm_a), method)(reverse(name, args=[plan.pk]))
    assert response.status_code == 404
    assert customer_b.name not in response.content.decode()
    plan.refresh_from_db()
    assert plan.step == 6


@pytest.mark.parametrize("user", ["head_y", "rm_y"])
def test_plans_of_another_branch_are_404(client_for, request, customer_a, user):
    plan = PlanFactory(customer=customer_a)
    response = client_for(request.getfixturevalue(user)).get(
        reverse("campaigns:plan_detail", args=[plan.pk])
    )
    assert response.status_code == 404


def test_the_board_shows_the_rms_own_plans_with_their_checklists(client_for, rm_a, rm_b):
    mine = PlanFactory(customer=ready_customer(relationship_manager=rm_a, name="Mine"))
    PlanFactory(customer=CustomerFactory(relationship_manager=rm_b, name="Theirs"))

    response = client_for(rm_a).get(reverse("campaigns:board"))

    page = response.content.decode()
    assert "Mine" in page and "Theirs" not in page
    column = response.context["board"].columns[0]
    assert [card.plan for card in column.cards] == [mine]
    assert column.cards[0].ready  # holdings and profile are on file: step 1 can be left
    assert f'data-testid="advance-{mine.pk}"' in page


def test_an_overdue_plan_shows_as_stuck(client_for, rm_a):
    PlanFactory(
        customer=CustomerFactory(relationship_manager=rm_a),
        step_entered_at=timezone.now() - dt.timedelta(days=30),
        step_due_on=timezone.localdate() - dt.timedelta(days=1),
    )
    response = client_for(rm_a).get(reverse("campaigns:board"))
    assert 'data-testid="stuck-badge"' in response.content.decode()
    assert response.context["board"].columns[0].stuck_count == 1


@pytest.mark.parametrize("rows", [2, 20])
def test_board_query_count_is_constant(client_for, rm_a, django_assert_num_queries, rows):
    for _ in range(rows):
        PlanFactory(customer=ready_customer(relationship_manager=rm_a), step=rows % 8 + 1)
    client = client_for(rm_a)
    client.get(reverse("campaigns:board"))
    # session, user, team memberships, notifications of the header, and one query for the
    # plans with every fact their checklists need, whatever their number
    with django_assert_num_queries(5):
        client.get(reverse("campaigns:board"))


def test_a_branch_head_narrows_the_board_to_one_rm(client_for, head_x, rm_a, rm_b):
    PlanFactory(customer=CustomerFactory(relationship_manager=rm_a, name="Of A"))
    PlanFactory(customer=CustomerFactory(relationship_manager=rm_b, name="Of B"))
    page = client_for(head_x).get(reverse("campaigns:board"), {"rm": rm_b.pk}).content.decode()
    assert "Of B" in page and "Of A" not in page


def test_advancing_without_the_criteria_says_what_is_missing(client_for, rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=4)
    response = client_for(rm_a).post(reverse("campaigns:plan_advance", args=[plan.pk]), follow=True)
    assert "A face-to-face meeting logged since the plan started" in response.content.decode()
    plan.refresh_from_db()
    assert plan.step == 4


def test_advancing_from_the_board_returns_to_the_board(client_for, rm_a):
    plan = PlanFactory(customer=ready_customer(relationship_manager=rm_a))
    response = client_for(rm_a).post(
        reverse("campaigns:plan_advance", args=[plan.pk]), {"from": "board"}
    )
    assert response["Location"] == reverse("campaigns:board") + f"#plan-{plan.pk}"
    plan.refresh_from_db()
    assert plan.step == PlanStep.TRACKING


def test_an_rm_asking_to_skip_sends_a_request_and_the_head_decides(client_for, rm_a, head_x):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a))
    client_for(rm_a).post(
        reverse("campaigns:plan_skip", args=[plan.pk]),
        {"skip-to_step": 3, "skip-reason": "Data already on file"},
    )
    request = StepSkipRequest.objects.get()
    plan.refresh_from_db()
    assert plan.step == 1

    head = client_for(head_x)
    assert "Data already on file" in head.get(reverse("campaigns:skip_requests")).content.decode()
    head.post(
        reverse("campaigns:skip_request_decide", args=[request.pk]),
        {"decision": "approve", "note": ""},
    )
    plan.refresh_from_db()
    assert plan.step == 3


def test_a_skip_without_a_reason_is_refused_with_a_message(client_for, head_x, customer_a):
    plan = PlanFactory(customer=customer_a)
    response = client_for(head_x).post(
        reverse("campaigns:plan_skip", args=[plan.pk]), {"skip-to_step": 3}, follow=True
    )
    assert "This field is required." in response.content.decode()
    plan.refresh_from_db()
    assert plan.step == 1


def test_the_record_form_puts_the_current_steps_fields_first(client_for, rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=8)
    client = client_for(rm_a)
    form = client.get(reverse("campaigns:plan_record", args=[plan.pk])).context["form"]
    assert list(form.fields)[:2] == ["satisfaction", "new_needs"]
    response = client.post(reverse("campaigns:plan_record", args=[plan.pk]), {"satisfaction": 9})
    assert response.status_code == 200
    assert response.context["form"].errors["satisfaction"]


def test_the_proposal_form_saves_products_and_reports_bad_rows(client_for, rm_a):
    plan = PlanFactory(customer=CustomerFactory(relationship_manager=rm_a), step=5)
    url = reverse("campaigns:proposal", args=[plan.pk])
    data = {
        "report": "Moderate risk; diversify.",
        "currency": "CNY",
        "lines-TOTAL_FORMS": 2,
        "lines-INITIAL_FORMS": 0,
        "lines-0-product_type": "fund",
        "lines-0-product_name": "Balanced fund",
        "lines-0-amount": "-5",
        "lines-1-product_type": "",
        "lines-1-product_name": "",
        "lines-1-amount": "",
    }
    client = client_for(rm_a)
    response = client.post(url, data)
    assert response.status_code == 400
    assert "greater than or equal to 0.01" in response.content.decode()

    data["lines-0-amount"] = "250000"
    response = client.post(url, data)
    assert response.status_code == 302
    assert list(plan.proposal.lines.values_list("product_name", "amount")) == [
        ("Balanced fund", Decimal("250000.00"))
    ]


def test_funnel_page_for_branch_heads_only(client_for, head_x, rm_a, customer_a):
    PlanFactory(customer=customer_a)
    assert client_for(rm_a).get(reverse("campaigns:funnel")).status_code == 403
    response = client_for(head_x).get(reverse("campaigns:funnel"))
    assert response.status_code == 200
    assert response.context["funnel"].started == 1
    bad = client_for(head_x).get(
        reverse("campaigns:funnel"), {"date_from": "2026-11-01", "date_to": "2026-10-01"}
    )
    assert bad.context["form"].errors["date_to"]


# --- Target lists ----------------------------------------------------------------------------


def test_target_list_preview_then_save_then_start(client_for, rm_a, rm_b):
    use_model()
    ready_customer(relationship_manager=rm_a, name="Mine", value_tier=ValueTier.VALUE)
    ready_customer(relationship_manager=rm_b, name="Not mine")
    run_scoring()
    client = client_for(rm_a)
    form = {"name": "All my customers", "only_without_plan": "on"}

    preview = client.post(reverse("campaigns:target_list_create"), {**form, "preview": "1"})
    assert preview.context["preview_count"] == 1
    assert "Not mine" not in preview.content.decode()

    saved = client.post(reverse("campaigns:target_list_create"), {**form, "save": "1"})
    detail_url = saved["Location"]
    review = client.get(detail_url)
    assert "Mine" in review.content.decode()
    (entry,) = review.context["entries"]
    response = client.post(
        detail_url,
        {"reviewed": [entry.customer_id], "customers": [entry.customer_id], "start": "1"},
    )
    assert response["Location"] == reverse("campaigns:board")
    assert MarketingPlan.objects.get().customer.name == "Mine"


def test_another_rms_target_list_is_404(client_for, rm_a, rm_b):
    ready_customer(relationship_manager=rm_b)
    client_for(rm_b).post(
        reverse("campaigns:target_list_create"), {"name": "B's list", "save": "1"}
    )
    from campaigns.models import TargetList

    target_list = TargetList.objects.get()
    assert (
        client_for(rm_a).get(reverse("campaigns:target_list", args=[target_list.pk])).status_code
        == 404
    )


# --- Campaigns -------------------------------------------------------------------------------


def campaign_form(**overrides):
    starts = timezone.localtime() + dt.timedelta(days=10)
    data = {
        "name": "Spring reception 2027",
        "campaign_type": campaign_type().pk,
        "description": "Our thanks to the customers of the year.",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "venue": "Peninsula Hotel",
        "online_link": "",
        "capacity": 80,
        "budget": "120000",
        "cost": "0",
        "currency": "CNY",
        "invitation_channel": "phone",
        "target_tiers": ["value"],
        "target_min_wealth_level": "",
        "target_interests": "",
        "recent_invitation_days": 30,
        "follow_up_days": 3,
        "results_note": "",
    }
    return {**data, **overrides}


def test_head_office_creates_a_campaign_and_rms_may_not(client_for, head_office, rm_a):
    assert client_for(rm_a).get(reverse("campaigns:campaign_create")).status_code == 403
    assert (
        client_for(rm_a).post(reverse("campaigns:campaign_create"), campaign_form()).status_code
        == 403
    )

    response = client_for(head_office).post(reverse("campaigns:campaign_create"), campaign_form())

    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("campaigns:campaign_detail", args=[campaign.pk])
    assert (campaign.owner, campaign.branch, campaign.target_tiers) == (
        head_office,
        None,
        ["value"],
    )


def test_a_campaign_form_reports_each_bad_field(client_for, head_office):
    response = client_for(head_office).post(
        reverse("campaigns:campaign_create"),
        campaign_form(venue="", capacity=0, ends_at="2020-01-01T10:00"),
    )
    errors = response.context["form"].errors
    assert set(errors) >= {"venue", "capacity", "ends_at"}
    assert not Campaign.objects.exists()


def test_a_branch_campaign_is_404_to_another_branch(client_for, head_x, rm_y, branch_x):
    campaign = CampaignFactory(owner=head_x, branch=branch_x)
    assert (
        client_for(rm_y).get(reverse("campaigns:campaign_detail", args=[campaign.pk])).status_code
        == 404
    )


def test_rms_see_and_update_only_their_customers_invitations(client_for, head_office, rm_a, rm_b):
    campaign = CampaignFactory(owner=head_office)
    mine = InvitationFactory(
        campaign=campaign,
        customer=CustomerFactory(relationship_manager=rm_a, name="Mine", consent_phone=True),
    )
    theirs = InvitationFactory(
        campaign=campaign,
        customer=CustomerFactory(relationship_manager=rm_b, name="Theirs", consent_phone=True),
    )
    client = client_for(rm_a)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert "build-list" not in page  # only the owner builds the list

    client.post(
        reverse("campaigns:invitations_update", args=[campaign.pk]),
        {"status": "invited", "invitations": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (InvitationStatus.INVITED, InvitationStatus.PROPOSED)
    assert (
        client.post(reverse("campaigns:campaign_build_list", args=[campaign.pk])).status_code == 403
    )


def test_the_report_and_its_csv_mask_the_phone(client_for, head_office, rm_a):
    campaign = CampaignFactory(
        owner=head_office,
        status=CampaignStatus.COMPLETED,
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2) + dt.timedelta(hours=2),
        cost=Decimal("1000"),
    )
    customer = CustomerFactory(relationship_manager=rm_a, name="=cmd|' /C calc'!A0")
    InvitationFactory(campaign=campaign, customer=customer, status=InvitationStatus.ATTENDED)
    client = client_for(head_office)
    report = client.get(reverse("campaigns:campaign_report", args=[campaign.pk]))
    assert report.context["results"].attended == 1
    assert 'id="campaign-report-data"' in report.content.decode()
    csv_text = client.get(reverse("campaigns:campaign_report_csv", args=[campaign.pk])).content
    text = csv_text.decode("utf-8-sig")
    assert customer.phone not in text
    assert customer.phone[-4:] in text
    assert "'=cmd" in text  # a formula is neutralised


def test_the_customer_page_offers_a_plan_and_suitable_events(client_for, rm_a, head_office):
    use_model()
    customer = customer_with_contribution(
        1000, relationship_manager=rm_a, name="Key customer", consent_phone=True
    )
    run_scoring()
    customer.refresh_from_db()
    quadrant = customer.score.quadrant
    kind = campaign_type("wine_tasting")
    PlaybookEntry.objects.create(
        quadrant=quadrant, action="Invite to a tasting", campaign_type=kind
    )
    event = CampaignFactory(owner=head_office, campaign_type=kind, name="Bordeaux evening")
    client = client_for(rm_a)

    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert 'data-testid="start-plan"' in page
    assert "Bordeaux evening" in page
    client.post(reverse("campaigns:customer_invite", args=[customer.pk, event.pk]))
    assert Invitation.objects.get().status == InvitationStatus.INVITED
    client.post(reverse("campaigns:plan_start", args=[customer.pk]))
    assert MarketingPlan.objects.get().customer == customer


def test_inviting_another_rms_customer_is_404(client_for, rm_a, customer_b, head_office):
    event = CampaignFactory(owner=head_office)
    response = client_for(rm_a).post(
        reverse("campaigns:customer_invite", args=[customer_b.pk, event.pk])
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_event_types_are_managed_by_head_office(client_for, head_office, head_x):
    assert client_for(head_x).get(reverse("campaigns:campaign_types")).status_code == 403
    client = client_for(head_office)
    response = client.post(
        reverse("campaigns:campaign_type_create"),
        {"code": "golf_day", "name": "Golf day", "name_zh": "高尔夫日", "is_active": "on"},
    )
    assert response.status_code == 302
    assert CampaignType.objects.get(code="golf_day").name_zh == "高尔夫日"


def test_every_campaign_page_renders_for_its_user_in_both_languages(
    client_for, rm_a, head_x, head_office
):
    plan = PlanFactory(customer=ready_customer(relationship_manager=rm_a), step=6)
    proposal_plan = PlanFactory(customer=ready_customer(relationship_manager=rm_a), step=5)
    campaign = CampaignFactory(owner=head_office)
    InvitationFactory(campaign=campaign, customer=CustomerFactory(relationship_manager=rm_a))
    pages = [
        (rm_a, reverse("campaigns:board")),
        (rm_a, reverse("campaigns:plan_detail", args=[plan.pk])),
        (rm_a, reverse("campaigns:plan_record", args=[plan.pk])),
        (rm_a, reverse("campaigns:proposal", args=[proposal_plan.pk])),
        (rm_a, reverse("campaigns:proposal_outcome", args=[plan.pk])),
        (rm_a, reverse("campaigns:target_lists")),
        (rm_a, reverse("campaigns:target_list_create")),
        (rm_a, reverse("campaigns:campaigns")),
        (rm_a, reverse("campaigns:campaign_detail", args=[campaign.pk])),
        (rm_a, reverse("campaigns:campaign_report", args=[campaign.pk])),
        (head_x, reverse("campaigns:funnel")),
        (head_x, reverse("campaigns:skip_requests")),
        (head_x, reverse("campaigns:campaign_create")),
        (head_office, reverse("campaigns:campaign_edit", args=[campaign.pk])),
        (head_office, reverse("campaigns:campaign_types")),
        (head_office, reverse("campaigns:campaign_type_create")),
        (head_office, reverse("campaigns:campaign_type_edit", args=[campaign_type().pk])),
    ]
    for user, url in pages:
        client = client_for(user)
        assert client.get(url).status_code == 200, url
        client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
        page = client.get(url)
        assert page.status_code == 200, url
        assert "营销" in page.content.decode() or "活动" in page.content.decode(), url


@pytest.mark.parametrize("rows", [3, 30])
def test_campaign_page_query_count_is_constant(
    client_for, head_office, rm_a, django_assert_num_queries, rows
):
    campaign = CampaignFactory(owner=head_office)
    for _ in range(rows):
        InvitationFactory(campaign=campaign, customer=CustomerFactory(relationship_manager=rm_a))
    client = client_for(rm_a)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])
    client.get(url)
    # session, user, team memberships, notifications of the header; the campaign, the
    # invitations with their customers and RMs, the counts by status
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["invitations"]) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_target_list_page_query_count_is_constant(
    client_for, rm_a, django_assert_num_queries, rows
):
    for _ in range(rows):
        ready_customer(relationship_manager=rm_a)
    client = client_for(rm_a)
    client.post(reverse("campaigns:target_list_create"), {"name": "Mine", "save": "1"})
    from campaigns.models import TargetList

    url = reverse("campaigns:target_list", args=[TargetList.objects.get().pk])
    client.get(url)
    # the request's own (session, user, team, header notifications), the list, its entries
    # with customers, RMs and plans, and their count
    with django_assert_num_queries(7):
        response = client.get(url)
    assert response.context["entry_count"] == rows


def test_an_event_recommended_for_another_tier_is_not_suggested(client_for, rm_a, head_office):
    use_model()
    customer = customer_with_contribution(
        1000, relationship_manager=rm_a, consent_phone=True, value_tier=ValueTier.POTENTIAL
    )
    run_scoring()
    customer.refresh_from_db()
    kind = campaign_type("vip_salon")
    # the quadrant matches on one playbook row, the tier on another: not a recommendation
    another_tier = next(tier for tier in ValueTier.values if tier != customer.value_tier)
    PlaybookEntry.objects.create(
        quadrant=customer.score.quadrant, value_tier=another_tier, action="VIP", campaign_type=kind
    )
    other = next(q for q in ("key", "general_3") if q != customer.score.quadrant)
    PlaybookEntry.objects.create(quadrant=other, value_tier="", action="x", campaign_type=kind)
    CampaignFactory(owner=head_office, campaign_type=kind, name="Private salon")

    page = client_for(rm_a).get(reverse("customers:detail", args=[customer.pk]))

    assert page.context["marketing"].recommended == []
