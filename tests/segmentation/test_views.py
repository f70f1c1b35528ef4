"""Head office's model, playbook and runs pages; branch heads' overrides; the customer panel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from segmentation.choices import RunStatus, RunTrigger
from segmentation.models import PlaybookEntry, ScoringModel, ScoringRun, TierOverride
from tests.customers.factories import BalanceSnapshotFactory
from tests.segmentation.factories import customer_with_contribution, run_scoring

pytestmark = pytest.mark.django_db

HEAD_OFFICE_URLS = ["segmentation:model", "segmentation:playbook", "segmentation:runs"]


@pytest.mark.parametrize("name", HEAD_OFFICE_URLS)
def test_head_office_pages_are_for_head_office_only(client_for, head_x, rm_a, head_office, name):
    url = reverse(name)
    assert client_for(head_x).get(url).status_code == 403
    assert client_for(rm_a).get(url).status_code == 403
    assert client_for(head_office).get(url).status_code == 200


def test_head_office_activates_a_new_model_version(client_for, head_office):
    # given
    client = client_for(head_office)
    form = client.get(reverse("segmentation:model")).context["form"]
    values = {name: form[name].value() for name in form.fields}
    values.update(weight_contribution=30, weight_loyalty=30, note="Loyalty matters")
    # when
    response = client.post(reverse("segmentation:model"), values)
    # then
    assert response.status_code == 302
    active = ScoringModel.objects.get(is_active=True)
    assert (active.version, active.weight_loyalty) == (2, 30)


def test_invalid_weights_are_shown_next_to_the_field(client_for, head_office):
    client = client_for(head_office)
    form = client.get(reverse("segmentation:model")).context["form"]
    values = {name: form[name].value() for name in form.fields}
    values.update(weight_contribution=90)
    response = client.post(reverse("segmentation:model"), values)
    assert response.status_code == 200
    assert "must add up to 100%" in response.content.decode()
    assert ScoringModel.objects.count() == 1


def test_head_office_edits_the_playbook(client_for, head_office):
    # given
    client = client_for(head_office)
    formset = client.get(reverse("segmentation:playbook")).context["formset"]
    data = {
        "form-TOTAL_FORMS": str(len(formset.forms)),
        "form-INITIAL_FORMS": str(formset.initial_form_count()),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for index, form in enumerate(formset.forms):
        for name in form.fields:
            value = form[name].value()
            if value is not None and value is not False:
                data[f"form-{index}-{name}"] = value
    new = formset.initial_form_count()
    data.update(
        {
            f"form-{new}-quadrant": "general_3",
            f"form-{new}-action": "Send the quarterly newsletter",
            f"form-{new}-position": "99",
            f"form-{new}-is_active": "on",
        }
    )
    # when
    response = client.post(reverse("segmentation:playbook"), data)
    # then
    assert response.status_code == 302, (
        [e for e in response.context["formset"].errors if e],
        response.context["formset"].non_form_errors(),
    )
    assert PlaybookEntry.objects.filter(action="Send the quarterly newsletter").exists()


def test_head_office_starts_a_run(client_for, head_office, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(head_office).post(
            reverse("segmentation:runs"), {"business_date": "2026-11-05"}
        )
    # then
    assert response.status_code == 302
    run = ScoringRun.objects.get()
    assert (run.trigger, run.status, run.requested_by) == (
        RunTrigger.MANUAL,
        RunStatus.QUEUED,
        head_office,
    )
    assert len(callbacks) == 1


def test_failed_runs_show_their_error(client_for, head_office):
    ScoringRun.objects.create(
        business_date=dt.date(2026, 11, 5),
        trigger=RunTrigger.SCHEDULED,
        status=RunStatus.FAILED,
        error="division by zero",
    )
    page = client_for(head_office).get(reverse("segmentation:runs")).content.decode()
    assert "division by zero" in page


# --- Overrides -----------------------------------------------------------------------------


def test_branch_head_overrides_a_tier_of_their_branch(client_for, head_x, customer_a):
    # given
    url = reverse("segmentation:override", args=[customer_a.pk])
    expires = timezone.localdate() + dt.timedelta(days=30)
    # when
    response = client_for(head_x).post(
        url, {"value_tier": "value", "reason": "Family of a key account", "expires_on": expires}
    )
    # then
    assert response.status_code == 302
    override = TierOverride.objects.get()
    assert (override.customer, override.set_by, override.value_tier) == (
        customer_a,
        head_x,
        "value",
    )
    customer_a.refresh_from_db()
    assert customer_a.value_tier == "value"


def test_override_scope(client_for, head_y, rm_a, head_office, customer_a):
    url = reverse("segmentation:override", args=[customer_a.pk])
    assert client_for(head_y).get(url).status_code == 404
    assert client_for(rm_a).get(url).status_code == 403
    assert client_for(head_office).get(url).status_code == 403


def test_override_expiry_must_be_in_the_future(client_for, head_x, customer_a):
    url = reverse("segmentation:override", args=[customer_a.pk])
    response = client_for(head_x).post(
        url, {"value_tier": "value", "reason": "x", "expires_on": "2020-01-01"}
    )
    assert response.status_code == 200
    assert not TierOverride.objects.exists()


# --- Customer panel ------------------------------------------------------------------------


def test_customer_page_explains_the_score_and_recommends_actions(client_for, rm_a):
    # given
    customer = customer_with_contribution(100, relationship_manager=rm_a)
    customer_with_contribution(1, relationship_manager=rm_a)
    run_scoring()
    # when
    response = client_for(rm_a).get(reverse("customers:detail", args=[customer.pk]))
    # then
    panel = response.context["segmentation"]
    assert panel.score.abc_class == "A"
    assert panel.reasons[0].startswith("A: top")
    assert panel.actions
    page = response.content.decode()
    assert 'data-testid="segmentation-panel"' in page
    assert 'data-testid="playbook-actions"' in page


@pytest.mark.parametrize("rows", [3, 30])
def test_scored_customer_page_adds_a_fixed_number_of_queries(
    client_for, rm_a, rows, django_assert_num_queries
):
    # given
    customer = customer_with_contribution(100, relationship_manager=rm_a)
    for month in range(1, 13):
        BalanceSnapshotFactory(customer=customer, month=dt.date(2026, month, 1))
    for _ in range(rows):
        customer_with_contribution(1, relationship_manager=rm_a)
    run_scoring()
    client = client_for(rm_a)
    client.get(reverse("customers:detail", args=[customer.pk]))  # warm the session
    # then: the page's constant count, plus the panel's playbook query (scored customer)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("customers:detail", args=[customer.pk]))
    # (the marketing panel's recommended events join the playbook too: they are its own)
    segmentation_queries = [
        q
        for q in queries.captured_queries
        if "segmentation_" in q["sql"] and "campaigns_" not in q["sql"]
    ]
    assert len(segmentation_queries) == 4  # score (+run, model), override, playbook, history
