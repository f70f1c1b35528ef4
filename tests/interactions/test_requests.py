"""Customer requests: promised answer dates, yes-or-no answers, response time."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interactions.choices import ReminderKind, ReminderStatus, RequestStatus
from interactions.models import CustomerRequest, Reminder
from interactions.services import customer_request_answer, customer_request_create, visit_log

pytestmark = pytest.mark.django_db


def test_request_raised_in_a_visit_gets_a_reminder_and_is_answered_fast(rm_a, customer_a):
    # given: the customer asks during a visit; the RM promises an answer in two days
    promised = timezone.localdate() + dt.timedelta(days=2)
    interaction = visit_log(
        acting_user=rm_a,
        customer=customer_a,
        channel="visit",
        occurred_at=timezone.now() - dt.timedelta(hours=3),
        minutes="Asked about a mortgage top-up.",
        request_description="Top up the mortgage by 500k?",
        request_promised_by=promised,
    )
    request = CustomerRequest.objects.get()
    assert request.interaction == interaction and request.promised_by == promised
    reminder = Reminder.objects.get(customer_request=request)
    assert reminder.kind == ReminderKind.REQUEST and reminder.assigned_to == rm_a
    # when: the RM answers no, with the reason
    answered = customer_request_answer(
        acting_user=rm_a, customer_request=request, answer_yes=False, note="Over the LTV limit"
    )
    # then
    assert answered.status == RequestStatus.NO
    assert dt.timedelta(hours=3) <= answered.response_time < dt.timedelta(hours=3, minutes=1)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.DONE


def test_no_without_a_reason_and_answering_twice_are_refused(rm_a, customer_a):
    request = customer_request_create(
        acting_user=rm_a,
        customer=customer_a,
        description="Waive the annual fee?",
        promised_by=timezone.localdate(),
    )
    with pytest.raises(ValidationError):
        customer_request_answer(acting_user=rm_a, customer_request=request, answer_yes=False)
    customer_request_answer(acting_user=rm_a, customer_request=request, answer_yes=True)
    with pytest.raises(ValidationError):
        customer_request_answer(acting_user=rm_a, customer_request=request, answer_yes=True)


def test_promise_in_the_past_is_refused(rm_a, customer_a):
    with pytest.raises(ValidationError):
        customer_request_create(
            acting_user=rm_a,
            customer=customer_a,
            description="x",
            promised_by=timezone.localdate() - dt.timedelta(days=1),
        )
    assert not CustomerRequest.objects.exists()
