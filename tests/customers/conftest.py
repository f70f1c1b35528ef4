"""Fixtures shared by the customer-book tests."""

import pytest

from tests.customers.factories import CustomerFactory


@pytest.fixture
def company(rm_a):
    """A corporate customer of rm_a, identified by a valid credit code."""
    return CustomerFactory(
        relationship_manager=rm_a,
        name="Lujiazui Trading Co.",
        customer_type="corporate",
        id_type="uscc",
        id_number="91350100M000100Y43",
        birth_date=None,
    )
