"""A reveal is recorded twice, never with the value: one audit entry and one security event
(matrix #25, #28; ASVS 8.3.5, 7.1.3)."""

from __future__ import annotations

import json
import logging

import pytest

from customers.choices import AuditAction
from customers.models import AuditEntry
from customers.services import customer_field_reveal

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["id_number", "phone"])
def test_a_reveal_leaves_one_audit_entry_and_one_event_without_the_value(
    rm_a, customer_a, caplog, field
):
    # when
    with caplog.at_level(logging.INFO, logger="crm.security"):
        value = customer_field_reveal(acting_user=rm_a, customer=customer_a, field=field)
    # then
    assert value == getattr(customer_a, field)
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert entry.actor == rm_a and entry.changes == {field: [None, None]}
    events = [r for r in caplog.records if getattr(r, "event", "") == "customer.revealed"]
    assert len(events) == 1
    assert (events[0].user_id, events[0].customer_id, events[0].field) == (
        rm_a.pk,
        customer_a.pk,
        field,
    )
    assert value not in json.dumps(entry.changes) and value not in caplog.text
