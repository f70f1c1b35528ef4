"""Shared fixtures: the two-branch bank that every scope test is built on, and the browser."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.test import Client
from knox.models import AuthToken

from customers.choices import Role
from tests.customers.factories import BranchFactory, CustomerFactory, UserFactory
from tests.totp import mark_session_verified

pytest_plugins = ["tests.sensitive_scan"]

# Playwright's sync API runs an event loop in the test thread; Django must allow the ORM there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium: browsers cannot be downloaded on these machines."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM_PATH, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM_PATH) or os.path.exists(CHROMIUM_PATH):
        return
    if os.environ.get("CI", "").lower() == "true":
        return  # under CI a missing browser must fail, not skip
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM_PATH} (apt-get install chromium)"
    )
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def redis_required():
    if not settings.REDIS_AVAILABLE:
        pytest.skip("Redis is not reachable (CI refuses this)")


# --- The bank ------------------------------------------------------------------------------
# City branch SH holds sub-branches SH01 (RMs A and B, head X) and SH02; BJ is another city
# (head Y). Head office sees everything.


@pytest.fixture
def city_branch(db):
    return BranchFactory(code="SH", name="Shanghai Branch")


@pytest.fixture
def branch_x(city_branch):
    return BranchFactory(code="SH01", name="Lujiazui Sub-branch", parent=city_branch)


@pytest.fixture
def branch_x2(city_branch):
    return BranchFactory(code="SH02", name="Xujiahui Sub-branch", parent=city_branch)


@pytest.fixture
def branch_y(db):
    return BranchFactory(code="BJ", name="Beijing Branch")


@pytest.fixture
def rm_a(branch_x):
    return UserFactory(username="rm_a", branch=branch_x, role=Role.RELATIONSHIP_MANAGER)


@pytest.fixture
def rm_b(branch_x):
    return UserFactory(username="rm_b", branch=branch_x, role=Role.RELATIONSHIP_MANAGER)


@pytest.fixture
def rm_y(branch_y):
    return UserFactory(username="rm_y", branch=branch_y, role=Role.RELATIONSHIP_MANAGER)


@pytest.fixture
def head_x(branch_x):
    return UserFactory(username="head_x", branch=branch_x, role=Role.BRANCH_HEAD)


@pytest.fixture
def head_city(city_branch):
    return UserFactory(username="head_city", branch=city_branch, role=Role.BRANCH_HEAD)


@pytest.fixture
def head_y(branch_y):
    return UserFactory(username="head_y", branch=branch_y, role=Role.BRANCH_HEAD)


@pytest.fixture
def head_office(db):
    return UserFactory(
        username="head_office",
        branch=None,
        role=Role.HEAD_OFFICE,
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def integration_user(db):
    return UserFactory(username="core_banking", branch=None, role=Role.INTEGRATION)


@pytest.fixture
def customer_a(rm_a):
    return CustomerFactory(relationship_manager=rm_a, name="Alice Customer-of-A")


@pytest.fixture
def customer_b(rm_b):
    return CustomerFactory(relationship_manager=rm_b, name="Bob Customer-of-B")


@pytest.fixture
def customer_y(rm_y):
    return CustomerFactory(relationship_manager=rm_y, name="Yan Customer-of-Y")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    if not user.is_integration:
        # As after entering a code from the authenticator app: two-step verification done
        # and fresh for step-up (reveals, approvals, admin). tests/test_mfa.py covers the
        # way there.
        mark_session_verified(client, user)
    return client


@pytest.fixture
def client_for():
    """`client_for(user)`: a browser session of that user, signed in with password and code."""
    return login


@pytest.fixture
def api_client_for():
    """`api_client_for(user)`: an API client sending that user's integration token."""
    from rest_framework.test import APIClient

    def make(user) -> APIClient:
        _, token = AuthToken.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make
