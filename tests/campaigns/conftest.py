import pytest

from customers.choices import Role
from tests.customers.factories import UserFactory


@pytest.fixture
def campaign_owner(head_office):
    return head_office


@pytest.fixture
def rm_a2(branch_x):
    """A second RM of branch X (for reassignment)."""
    return UserFactory(username="rm_a2", branch=branch_x, role=Role.RELATIONSHIP_MANAGER)
