"""Complaints: SLA by severity, escalation to the branch head once, resolution and acceptance."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from customers.models import AuditEntry
from interactions.choices import ComplaintStatus, CustomerAcceptance, Severity
from interactions.models import Complaint, Notification
from interactions.selectors import service_dashboard
from interactions.services import (
    complaint_acceptance_record,
    complaint_register,
    complaint_update,
    complaints_escalate_overdue,
)
from tests.interactions.factories import ComplaintFactory


def _register(rm, customer, severity=Severity.HIGH, received_at=None):
    return complaint_register(
        acting_user=rm,
        customer=customer,
        received_channel="phone",
        category="fees",
        severity=severity,
        description="Charged twice for a transfer.",
        received_at=received_at,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("severity", "hours"), [("critical", 24), ("high", 72), ("medium", 120), ("low", 240)]
)
def test_sla_deadline_follows_the_severity(rm_a, customer_a, severity, hours):
    received = timezone.now() - dt.timedelta(hours=1)
    complaint = _register(rm_a, customer_a, severity, received)
    assert complaint.due_at == received + dt.timedelta(hours=hours)
    assert complaint.owner == rm_a
    assert AuditEntry.objects.filter(object_type="interactions.complaint").count() == 1


@pytest.mark.django_db
def test_overdue_complaint_escalates_to_the_branch_head_once(rm_a, head_x, head_city, customer_a):
    # given: a critical complaint received two days ago (SLA 24 h)
    complaint = _register(
        rm_a, customer_a, Severity.CRITICAL, timezone.now() - dt.timedelta(days=2)
    )
    on_time = _register(rm_a, customer_a, Severity.LOW)
    # when: the 15-minute job runs, and runs again
    assert complaints_escalate_overdue() == 1
    assert complaints_escalate_overdue() == 0
    # then: the nearest head (the sub-branch's, not the city's) is told once
    complaint.refresh_from_db()
    assert complaint.escalated_to == head_x and complaint.escalated_at is not None
    assert Notification.objects.filter(recipient=head_x).count() == 1
    assert not Notification.objects.filter(recipient=head_city).exists()
    on_time.refresh_from_db()
    assert on_time.escalated_at is None


@pytest.mark.django_db
def test_resolved_complaint_is_not_escalated(rm_a, head_x, customer_a):
    complaint = _register(
        rm_a, customer_a, Severity.CRITICAL, timezone.now() - dt.timedelta(days=2)
    )
    complaint_update(
        acting_user=rm_a, complaint=complaint, status="resolved", resolution="Refunded"
    )
    assert complaints_escalate_overdue() == 0


@pytest.mark.django_db(transaction=True)
def test_two_escalation_workers_escalate_each_complaint_once(rm_a, head_x, customer_a):
    # given
    overdue = timezone.now() - dt.timedelta(days=3)
    ComplaintFactory.create_batch(
        30, customer=customer_a, received_at=overdue, due_at=overdue + dt.timedelta(hours=1)
    )
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run():
        barrier.wait()
        try:
            results.append(complaints_escalate_overdue())
        finally:
            connection.close()

    # when
    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # then
    assert sum(results) == 30
    assert Notification.objects.filter(recipient=head_x).count() == 30


@pytest.mark.django_db
def test_resolution_acceptance_and_closing(rm_a, customer_a):
    complaint = _register(rm_a, customer_a)
    with pytest.raises(ValidationError) as error:
        complaint_update(acting_user=rm_a, complaint=complaint, status="resolved")
    assert "resolution" in error.value.message_dict
    complaint_update(
        acting_user=rm_a, complaint=complaint, status="resolved", resolution="Refunded"
    )
    with pytest.raises(ValidationError):
        complaint_update(acting_user=rm_a, complaint=complaint, status="closed")
    # the customer does not accept: back in progress
    complaint = complaint_acceptance_record(acting_user=rm_a, complaint=complaint, accepted=False)
    assert complaint.status == ComplaintStatus.IN_PROGRESS and complaint.resolved_at is None
    complaint_update(
        acting_user=rm_a, complaint=complaint, status="resolved", resolution="Refunded plus fee"
    )
    complaint = complaint_acceptance_record(acting_user=rm_a, complaint=complaint, accepted=True)
    complaint = complaint_update(acting_user=rm_a, complaint=complaint, status="closed")
    assert complaint.customer_acceptance == CustomerAcceptance.ACCEPTED
    assert complaint.status == ComplaintStatus.CLOSED and complaint.handling_time is not None


@pytest.mark.django_db
def test_complaint_in_the_future_or_oversized_is_refused(rm_a, customer_a):
    with pytest.raises(ValidationError):
        _register(rm_a, customer_a, received_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        complaint_register(
            acting_user=rm_a,
            customer=customer_a,
            received_channel="phone",
            category="fees",
            severity="high",
            description="x" * 2001,
        )
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_dashboard_shows_handling_time_and_overdue_per_severity(
    rm_a, head_x, customer_a, customer_y
):
    # given: one high complaint resolved after 10 hours, one medium overdue, one out of scope
    received = timezone.now() - dt.timedelta(days=10)
    ComplaintFactory(
        customer=customer_a,
        severity="high",
        received_at=received,
        resolved_at=received + dt.timedelta(hours=10),
        status="resolved",
    )
    ComplaintFactory(customer=customer_a, severity="medium", received_at=received, due_at=received)
    ComplaintFactory(customer=customer_y, severity="medium", received_at=received, due_at=received)
    # when
    rows = {row.severity: row for row in service_dashboard(user=head_x).complaints}
    # then
    assert rows["high"].resolved == 1 and rows["high"].average_hours == pytest.approx(10)
    assert rows["medium"].open == 1 and rows["medium"].overdue == 1
