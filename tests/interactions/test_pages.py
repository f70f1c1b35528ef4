"""The pages of the working day: scope on every route, branch-head-only pages, constant
query counts, and what the RM sees and does on them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from interactions.choices import ReminderStatus
from interactions.models import Complaint, CustomerRequest, Interaction, Reminder
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import (
    ComplaintFactory,
    CustomerRequestFactory,
    InteractionFactory,
    KeyContactFactory,
    ReminderFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

# --- One scope test per route ------------------------------------------------------------------

# (url name, which object the url points at, method)
CUSTOMER_ROUTES = [
    ("interactions:visit_log", "GET"),
    ("interactions:reminder_create", "GET"),
    ("interactions:request_create", "GET"),
    ("interactions:complaint_create", "GET"),
    ("interactions:survey_record", "GET"),
    ("interactions:survey_link", "POST"),
]
OBJECT_ROUTES = [
    ("interactions:reminder_complete", "reminder", "POST"),
    ("interactions:reminder_snooze", "reminder", "POST"),
    ("interactions:reminder_reassign", "reminder", "GET"),
    ("interactions:request_answer", "request", "GET"),
    ("interactions:complaint_detail", "complaint", "GET"),
]


def _objects(customer):
    return {
        "reminder": ReminderFactory(
            customer=customer, due_at=timezone.now() + dt.timedelta(days=1)
        ),
        "request": CustomerRequestFactory(customer=customer),
        "complaint": ComplaintFactory(customer=customer),
    }


def _call(client, method, url):
    return client.post(url, {"preset": "1h"}) if method == "POST" else client.get(url)


@pytest.mark.parametrize(("name", "method"), CUSTOMER_ROUTES, ids=[r[0] for r in CUSTOMER_ROUTES])
def test_customer_routes_are_scoped(
    client, client_for, rm_a, head_x, head_y, customer_a, name, method
):
    url = reverse(name, kwargs={"customer_pk": customer_a.pk})
    # anonymous: to the login page
    response = _call(client, method, url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # another branch's head: 404, as for a customer that does not exist
    assert _call(client_for(head_y), method, url).status_code == 404
    # the branch head and the own RM: served
    assert _call(client_for(head_x), method, url).status_code == 200
    assert _call(client_for(rm_a), method, url).status_code == 200


@pytest.mark.parametrize(("name", "method"), CUSTOMER_ROUTES, ids=[r[0] for r in CUSTOMER_ROUTES])
def test_another_rms_customer_is_404_everywhere(client_for, rm_a, customer_b, name, method):
    url = reverse(name, kwargs={"customer_pk": customer_b.pk})
    response = _call(client_for(rm_a), method, url)
    assert response.status_code == 404
    assert customer_b.name not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "kind", "method"), OBJECT_ROUTES, ids=[r[0] for r in OBJECT_ROUTES]
)
def test_object_routes_are_scoped(
    client, client_for, rm_a, rm_b, head_x, customer_a, name, kind, method
):
    # given
    target = _objects(customer_a)[kind]
    url = reverse(name, kwargs={"pk": target.pk})
    # then
    response = _call(client, method, url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _call(client_for(rm_b), method, url).status_code == 404
    assert _call(client_for(head_x), method, url).status_code in (200, 302)
    assert _call(client_for(rm_a), method, url).status_code in (200, 302)


@pytest.mark.parametrize(
    "name", ["interactions:today", "interactions:visit_start", "interactions:complaints"]
)
def test_lists_show_only_what_the_user_may_see(
    client, client_for, rm_a, customer_a, customer_b, name
):
    # given: work on both RMs' customers
    for customer in (customer_a, customer_b):
        ReminderFactory(customer=customer, title=f"Call {customer.name}")
        ComplaintFactory(customer=customer)
        CustomerRequestFactory(customer=customer, description=f"Request of {customer.name}")
    url = reverse(name) + ("?q=" + customer_b.name[:5] if name.endswith("visit_start") else "")
    # then
    assert client.get(url).status_code == 302
    content = client_for(rm_a).get(url).content.decode()
    assert customer_b.name not in content


def test_service_dashboard_is_for_branch_heads(client, client_for, rm_a, head_x, head_office):
    url = reverse("interactions:service_dashboard")
    assert client.get(url).status_code == 302
    assert client_for(rm_a).get(url).status_code == 403
    assert client_for(head_x).get(url).status_code == 200
    assert client_for(head_office).get(url).status_code == 200


def test_service_dashboard_is_scoped_to_the_branch(client_for, rm_a, rm_y, head_x, customer_a):
    CustomerFactory(relationship_manager=rm_y, last_contact_at=None)
    response = client_for(head_x).get(reverse("interactions:service_dashboard"))
    names = [row.name for row in response.context["dashboard"].cadence]
    assert str(rm_a) in names and str(rm_y) not in names


# --- Query budgets -----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 30])
def test_today_page_query_count_is_constant(client_for, rm_a, django_assert_num_queries, rows):
    # given: rows of everything on the page
    old = timezone.now() - dt.timedelta(days=400)
    today = timezone.localdate()
    customers = CustomerFactory.create_batch(
        rows, relationship_manager=rm_a, birth_date=today.replace(year=1980), value_tier="value"
    )
    from customers.models import Customer

    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(created_at=old)
    for customer in customers:
        ReminderFactory(customer=customer)
        ReminderFactory(customer=customer, due_at=timezone.now() - dt.timedelta(days=3))
        CustomerRequestFactory(customer=customer)
        ComplaintFactory(customer=customer)
    client = client_for(rm_a)
    # then: session, user, team, notifications, the book's ids, reminders, birthdays (of
    # customers and of their contacts, one UNION), cadence model, past-cadence list with its
    # total, requests, complaints
    with django_assert_num_queries(11):
        response = client.get(reverse("interactions:today"))
    assert len(response.context["day"].overdue) == rows
    assert response.context["day"].past_cadence_count == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_customer_page_timeline_query_count_is_constant(
    client_for, rm_a, customer_a, django_assert_num_queries, rows
):
    # given: rows of every timeline source
    InteractionFactory.create_batch(rows, customer=customer_a)
    ReminderFactory.create_batch(rows, customer=customer_a)
    CustomerRequestFactory.create_batch(rows, customer=customer_a)
    ComplaintFactory.create_batch(rows, customer=customer_a)
    for quarter in range(rows):
        SurveyFactory(customer=customer_a, quarter=f"{2000 + quarter}Q1")
    client = client_for(rm_a)
    url = reverse("customers:detail", args=[customer_a.pk])
    client.get(url)  # warm the session
    # then: the same count with 3 and with 30 rows; the sum is itemised in
    # tests/customers/test_views.py (the timeline is one query per source)
    with django_assert_num_queries(25):
        response = client.get(url)
    # the newest 50 of all sources, merged
    assert len(response.context["timeline"]) == min(5 * rows, 50)


# --- The RM's day ------------------------------------------------------------------------------


def test_today_page_lists_due_work_birthdays_cadence_and_requests(client_for, rm_a):
    # given
    today = timezone.localdate()
    birthday_customer = CustomerFactory(
        relationship_manager=rm_a, name="Birthday Person", birth_date=today.replace(year=1970)
    )
    ReminderFactory(
        customer=birthday_customer,
        title="Overdue call",
        due_at=timezone.now() - dt.timedelta(days=2),
    )
    ReminderFactory(
        customer=birthday_customer,
        title="Far future call",
        due_at=timezone.now() + dt.timedelta(days=7),
    )
    CustomerRequestFactory(customer=birthday_customer, description="Lower the fee?")
    # when
    content = client_for(rm_a).get(reverse("interactions:today")).content.decode()
    # then
    assert "Overdue call" in content and "Far future call" not in content
    assert "Birthday Person" in content and "Lower the fee?" in content


@pytest.mark.parametrize("rows", [3, 30])
def test_today_page_renders_the_reminder_actions_once(client_for, rm_a, customer_a, rows):
    # given
    reminders = ReminderFactory.create_batch(rows, customer=customer_a)
    # when
    content = client_for(rm_a).get(reverse("interactions:today")).content.decode()
    # then: one form and one list of snooze presets for every row; the rows' own links
    assert content.count('id="reminder-action"') == 1
    assert content.count('name="preset"') == 3
    # the layout's own forms (language, log out) and the reminders' one form
    assert content.count('name="csrfmiddlewaretoken"') == 3
    for reminder in reminders:
        for name in ("reminder_complete", "reminder_snooze", "reminder_reassign"):
            assert reverse(f"interactions:{name}", args=[reminder.pk]) in content
    assert reverse("customers:detail", args=[customer_a.pk]) in content
    visit = reverse("interactions:visit_log", args=[customer_a.pk])
    assert f"{visit}?reminder={reminders[0].pk}&amp;next=/today/" in content


def test_today_page_links_every_list_to_its_pages(client_for, rm_a, customer_b):
    # given: a row in every list of the page
    today = timezone.localdate()
    customer = CustomerFactory(
        relationship_manager=rm_a,
        birth_date=today.replace(year=1980),
        value_tier="value",
        last_contact_at=None,
    )
    from customers.models import Customer

    Customer.objects.filter(pk=customer.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    request = CustomerRequestFactory(customer=customer)
    complaint = ComplaintFactory(customer=customer)
    company = CustomerFactory(
        relationship_manager=rm_a, customer_type="corporate", name="Acme Trading"
    )
    KeyContactFactory(customer=company, name="Ms Zhang", birthday=today.replace(year=1975))
    KeyContactFactory(
        customer=customer_b, name="Someone else's contact", birthday=today.replace(year=1975)
    )
    # when
    response = client_for(rm_a).get(reverse("interactions:today"))
    content = response.content.decode()
    # then
    day = response.context["day"]
    assert day.past_cadence and day.open_requests and day.open_complaints
    assert {(b.name, b.customer_name, b.is_contact) for b in day.birthdays} == {
        (customer.name, customer.name, False),
        ("Ms Zhang", "Acme Trading", True),
    }
    assert "Someone else" not in content
    assert f'href="{reverse("customers:detail", args=[company.pk])}">Acme Trading' in content
    assert reverse("interactions:request_answer", args=[request.pk]) + "?next=/today/" in content
    assert reverse("interactions:complaint_detail", args=[complaint.pk]) in content
    assert content.count(f'href="{reverse("customers:detail", args=[customer.pk])}"') == 2
    assert reverse("interactions:visit_log", args=[customer.pk]) + "?next=/today/" in content
    assert complaint.get_category_display() in content
    assert complaint.get_severity_display() in content
    assert 'class="badge tier-badge-value">Value' in content


def test_complete_and_snooze_from_the_today_page(client_for, rm_a, customer_a):
    # given
    done = ReminderFactory(customer=customer_a, title="Done one")
    later = ReminderFactory(customer=customer_a, title="Later one")
    client = client_for(rm_a)
    # when
    client.post(reverse("interactions:reminder_complete", args=[done.pk]))
    client.post(reverse("interactions:reminder_snooze", args=[later.pk]), {"preset": "tomorrow"})
    # then
    done.refresh_from_db()
    later.refresh_from_db()
    assert done.status == ReminderStatus.DONE
    assert timezone.localtime(later.due_at).hour == 9 and later.due_at > timezone.now()


def test_logging_a_visit_from_a_reminder_completes_it(client_for, rm_a, customer_a):
    reminder = ReminderFactory(customer=customer_a)
    url = reverse("interactions:visit_log", args=[customer_a.pk]) + f"?reminder={reminder.pk}"
    response = client_for(rm_a).post(
        url,
        {
            "channel": "phone",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "minutes": "Called back as promised.",
            "reminder": reminder.pk,
            "next": reverse("interactions:today"),
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("interactions:today")
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.DONE
    assert Interaction.objects.get().customer == customer_a


def test_reminder_of_another_customer_cannot_be_completed_through_a_visit(
    client_for, rm_a, customer_a, customer_b
):
    foreign = ReminderFactory(customer=customer_b)
    url = reverse("interactions:visit_log", args=[customer_a.pk]) + f"?reminder={foreign.pk}"
    assert client_for(rm_a).get(url).status_code == 404


def test_global_log_visit_finds_own_customers(client_for, rm_a, customer_a):
    response = client_for(rm_a).get(reverse("interactions:visit_start"), {"q": "Alice"})
    assert reverse("interactions:visit_log", args=[customer_a.pk]) in response.content.decode()


def test_rm_lands_on_the_today_page(client_for, rm_a):
    response = client_for(rm_a).get(reverse("home"))
    assert response["Location"] == reverse("interactions:today")


def test_reminder_in_the_past_is_refused_with_a_message(client_for, rm_a, customer_a):
    response = client_for(rm_a).post(
        reverse("interactions:reminder_create", args=[customer_a.pk]),
        {"title": "Call", "due_at": "2020-01-01T09:00"},
    )
    assert response.status_code == 200
    assert "The due time is in the past" in response.content.decode()
    assert not Reminder.objects.exists()


def test_request_and_complaint_through_the_pages(client_for, rm_a, customer_a):
    client = client_for(rm_a)
    client.post(
        reverse("interactions:request_create", args=[customer_a.pk]),
        {"description": "Cheaper FX?", "promised_by": timezone.localdate().isoformat()},
    )
    request = CustomerRequest.objects.get()
    client.post(reverse("interactions:request_answer", args=[request.pk]), {"answer": "yes"})
    request.refresh_from_db()
    assert request.status == "yes"
    response = client.post(
        reverse("interactions:complaint_create", args=[customer_a.pk]),
        {
            "received_channel": "branch",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "category": "waiting_time",
            "severity": "high",
            "description": "<script>alert(1)</script> queue",
        },
    )
    complaint = Complaint.objects.get()
    assert response["Location"] == reverse("interactions:complaint_detail", args=[complaint.pk])
    page = client.get(response["Location"]).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


# --- Timeline ----------------------------------------------------------------------------------


def test_timeline_filter_keeps_one_kind(client_for, rm_a, customer_a):
    InteractionFactory(customer=customer_a, minutes="Visit minutes")
    ComplaintFactory(customer=customer_a, description="Complaint text")
    url = reverse("customers:detail", args=[customer_a.pk])
    response = client_for(rm_a).get(url, {"kind": "complaint"})
    assert {event.kind for event in response.context["timeline"]} == {"complaint"}
    unfiltered = client_for(rm_a).get(url)
    assert {"interaction", "complaint"} <= {e.kind for e in unfiltered.context["timeline"]}


def test_oversized_minutes_are_bounded(client_for, rm_a, customer_a):
    response = client_for(rm_a).post(
        reverse("interactions:visit_log", args=[customer_a.pk]),
        {
            "channel": "visit",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "minutes": "x" * 10_001,
        },
    )
    assert response.status_code == 200 and "minutes" in response.context["form"].errors
    assert not Interaction.objects.exists()


def test_customer_list_filters_customers_past_their_cadence(client_for, rm_a):
    # given: one customer contacted yesterday, one not for a year (tier "value": 30 days)
    recent = CustomerFactory(
        relationship_manager=rm_a, value_tier="value", last_contact_at=timezone.now()
    )
    lapsed = CustomerFactory(
        relationship_manager=rm_a,
        value_tier="value",
        last_contact_at=timezone.now() - dt.timedelta(days=365),
    )
    # when
    response = client_for(rm_a).get(reverse("customers:list"), {"past_cadence": "true"})
    # then
    shown = {customer.pk for customer in response.context["customers"]}
    assert lapsed.pk in shown and recent.pk not in shown
