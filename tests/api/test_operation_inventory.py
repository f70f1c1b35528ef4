"""The OpenAPI side of the route inventory: every operation of the generated schema has an
explicit access rule, and the rules hold for every operation.

`OPERATIONS` names each operation of `SchemaGenerator`'s document with who may call it; an
operation added without a rule fails `test_every_openapi_operation_has_an_access_rule`. The
behaviour tests are generated from the schema itself: anonymous callers get 401 everywhere,
read-only keys and staff tokens get 403 on every write, and a key of an integration account
scoped to branch X gets 404 for another branch's object on every retrieve and never sees one
in a list (API1 BOLA, API5 function-level authorisation; ASVS 4.1.5, 4.2.1, 13.1.4).
"""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken
from rest_framework.test import APIClient

from customers.api.keys import integration_key_issue
from customers.choices import Role
from customers.models import Holding, ImportJob, IngestKind
from tests.customers.factories import CustomerFactory, UserFactory
from tests.interactions.factories import InteractionFactory, ReminderFactory
from tests.segmentation.factories import run_scoring

READ = "read"  # any signed-in caller or integration key; scoped, out of scope = 404
WRITE = "write"  # integration key with write scope only; everyone else 403
OWN = "own"  # the caller's own import jobs; anyone else's = 404

OPERATIONS = {
    "balance_snapshots_bulk_upsert": WRITE,
    "customers_bulk_upsert": WRITE,
    "holdings_bulk_upsert": WRITE,
    "related_parties_bulk_upsert": WRITE,
    "rm_assignments_bulk_upsert": WRITE,
    "transactions_bulk_upsert": WRITE,
    "v1_import_jobs_create": WRITE,
    "v1_customers_list": READ,
    "v1_customers_retrieve": READ,
    "v1_holdings_list": READ,
    "v1_holdings_retrieve": READ,
    "v1_scores_list": READ,
    "v1_scores_retrieve": READ,
    "v1_interactions_list": READ,
    "v1_interactions_retrieve": READ,
    "v1_reminders_list": READ,
    "v1_reminders_retrieve": READ,
    "v1_import_jobs_list": OWN,
    "v1_import_jobs_retrieve": OWN,
}


DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)


def _schema_operations(document: dict) -> dict[str, tuple[str, str]]:
    return {
        operation["operationId"]: (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def _request_formats(document: dict) -> dict[str, str]:
    """How each write operation takes its body: JSON or a multipart upload."""
    return {
        operation["operationId"]: (
            "multipart" if "multipart/form-data" in operation["requestBody"]["content"] else "json"
        )
        for methods in document["paths"].values()
        for operation in methods.values()
        if "requestBody" in operation
    }


SCHEMA_OPERATIONS = _schema_operations(DOCUMENT)
REQUEST_FORMATS = _request_formats(DOCUMENT)
WRITES = sorted(op for op in SCHEMA_OPERATIONS if OPERATIONS.get(op) == WRITE)
RETRIEVES = sorted(op for op in SCHEMA_OPERATIONS if "{" in SCHEMA_OPERATIONS[op][1])
LISTS = sorted(
    op for op, (method, path) in SCHEMA_OPERATIONS.items() if method == "GET" and "{" not in path
)


def test_every_openapi_operation_has_an_access_rule():
    assert set(SCHEMA_OPERATIONS) - set(OPERATIONS) == set(), "new operations need a rule"
    assert set(OPERATIONS) - set(SCHEMA_OPERATIONS) == set(), "rules of removed operations"
    assert {OPERATIONS[op] for op in RETRIEVES + LISTS} <= {READ, OWN}
    assert all(SCHEMA_OPERATIONS[op][0] == "POST" for op in WRITES)


def _client(token: str | None = None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _resource(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


@pytest.fixture
def bank(branch_x, branch_y, rm_a, rm_y, integration_user):
    """Branch X's feed (an integration account scoped to branch X) and one object of every
    retrievable kind in branch X and in branch Y."""
    feed_x = UserFactory(username="feed_x", role=Role.INTEGRATION, branch=branch_x)
    own = CustomerFactory(relationship_manager=rm_a)
    other = CustomerFactory(relationship_manager=rm_y)
    objects = {"customers": (own.pk, other.pk), "scores": (own.pk, other.pk)}
    holdings, interactions, reminders = [], [], []
    for number, customer in enumerate((own, other)):
        holdings.append(
            Holding.objects.create(
                customer=customer,
                account_number=f"6222000000{number:06d}",
                product_type="current",
                product_name="Current account",
            ).pk
        )
        interactions.append(InteractionFactory(customer=customer).pk)
        reminders.append(ReminderFactory(customer=customer).pk)
    objects |= {
        "holdings": tuple(holdings),
        "interactions": tuple(interactions),
        "reminders": tuple(reminders),
        "import-jobs": tuple(
            ImportJob.objects.create(
                kind=IngestKind.CUSTOMERS, created_by=uploader, file_name="x", file_sha256="0"
            ).pk
            for uploader in (feed_x, integration_user)
        ),
    }
    assert run_scoring().status == "succeeded"
    _read, read_token = integration_key_issue(account=feed_x, scope="read")
    _write, write_token = integration_key_issue(account=feed_x, scope="write")
    return {
        "objects": objects,
        "numbers": (own.customer_number, other.customer_number),
        "read": read_token,
        "write": write_token,
        "rm": AuthToken.objects.create(user=rm_a)[1],
    }


def _url(operation: str, object_id: int | None = None) -> tuple[str, str]:
    method, path = SCHEMA_OPERATIONS[operation]
    return method, re.sub(r"\{[^}]+\}", str(object_id or 1), path)


def _call(client: APIClient, operation: str, object_id: int | None = None):
    method, url = _url(operation, object_id)
    if method == "POST":
        return client.post(url, {}, format=REQUEST_FORMATS[operation])
    return client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_anonymous_callers_get_401_on_every_operation(operation, bank):
    response = _call(_client(), operation)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
@pytest.mark.parametrize("operation", WRITES)
def test_read_only_keys_and_staff_get_403_on_every_write(operation, bank):
    for token in (bank["read"], bank["rm"]):
        response = _call(_client(token), operation)
        assert response.status_code == 403, token
        assert response.json()["error"]["code"] == "permission_denied"
    # the write key passes the permission check (and is told what is wrong with the body)
    assert _call(_client(bank["write"]), operation).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("operation", RETRIEVES)
def test_a_branch_scoped_key_gets_404_for_another_branchs_object(operation, bank):
    # given
    own_id, other_id = bank["objects"][_resource(SCHEMA_OPERATIONS[operation][1])]
    for token in (bank["read"], bank["write"]):
        client = _client(token)
        # when
        own = _call(client, operation, own_id)
        other = _call(client, operation, other_id)
        # then: the same answer as for an id that does not exist
        assert own.status_code == 200, own.json()
        assert other.status_code == 404
        assert other.json() == _call(client, operation, 10**9).json()


@pytest.mark.django_db
@pytest.mark.parametrize("operation", LISTS)
def test_lists_never_show_another_branchs_objects(operation, bank):
    # when
    body = _call(_client(bank["read"]), operation).json()
    # then
    own_number, other_number = bank["numbers"]
    if _resource(SCHEMA_OPERATIONS[operation][1]) == "import-jobs":
        own_job, other_job = bank["objects"]["import-jobs"]
        assert [row["id"] for row in body["results"]] == [own_job]
    else:
        numbers = {row["customer_number"] for row in body["results"]}
        assert numbers == {own_number}, (numbers, other_number)
