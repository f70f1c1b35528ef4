"""Fixtures of the API contract tests: the schema as the app serves it, and one token per role."""

from __future__ import annotations

import collections

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken

from customers.api.keys import integration_key_issue
from tests.customers.factories import CustomerFactory

# Contract runs send hundreds of requests a minute per token: far above what the rate
# limit allows a real client, so the keys used here carry their own high limit.
CONTRACT_RATE = 100_000

# Cases sent by the contract tests, by (role, operation); reported at the end of the run.
CONTRACT_CASES: collections.Counter[tuple[str, str]] = collections.Counter()


def pytest_terminal_summary(terminalreporter):
    if not CONTRACT_CASES:
        return
    roles = sorted({role for role, _operation in CONTRACT_CASES})
    operations = sorted({operation for _role, operation in CONTRACT_CASES})
    terminalreporter.section("schemathesis contract cases")
    terminalreporter.line(
        f"{sum(CONTRACT_CASES.values())} cases, {len(operations)} operations, "
        f"{len(roles)} roles; fewest for one operation and role: {min(CONTRACT_CASES.values())}"
    )
    for operation in operations:
        counts = ", ".join(f"{role} {CONTRACT_CASES[(role, operation)]}" for role in roles)
        terminalreporter.line(f"  {operation}: {counts}")


def load_contract_schema():
    """The OpenAPI document generated from the code, bound to the Django WSGI app."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = get_wsgi_application()
    return schema


@pytest.fixture
def contract_environment(db, settings, tmp_path):
    settings.API_IMPORT_DIR = str(tmp_path / "imports")  # uploads of the fuzzed import jobs
    cache.clear()  # throttle buckets of earlier tests
    # The real WSGI handler closes the database connection when a request ends; the test's
    # transaction lives on that connection. Django's test client unhooks it the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def contract_data(integration_user, rm_a, customer_a, customer_b, customer_y):
    """A small bank, so reads find rows and bulk writes meet existing keys."""
    CustomerFactory.create_batch(3, relationship_manager=rm_a)
    return customer_a


@pytest.fixture
def role_tokens(contract_environment, contract_data, integration_user, rm_a):
    _write_key, write = integration_key_issue(
        account=integration_user, scope="write", rate_per_minute=CONTRACT_RATE
    )
    _read_key, read = integration_key_issue(
        account=integration_user, scope="read", rate_per_minute=CONTRACT_RATE
    )
    _token, rm = AuthToken.objects.create(user=rm_a)
    return {"integration_write": write, "integration_read": read, "rm": rm}
