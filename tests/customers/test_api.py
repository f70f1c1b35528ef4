"""The customers endpoints of the REST API: token auth, scope, filters, masking, errors."""

import pytest
from rest_framework.test import APIClient

from segmentation.choices import ValueTier
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_requests_without_a_token_get_401_in_the_envelope():
    response = APIClient().get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_invalid_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token crm_not-a-real-token")
    assert client.get("/api/v1/customers/").status_code == 401


def test_integration_token_lists_bank_wide_with_masked_identity(
    api_client_for, integration_user, customer_a, customer_y
):
    # when
    body = api_client_for(integration_user).get("/api/v1/customers/").json()
    # then
    numbers = {row["customer_number"] for row in body["results"]}
    assert numbers == {customer_a.customer_number, customer_y.customer_number}
    row = next(r for r in body["results"] if r["customer_number"] == customer_a.customer_number)
    assert row["id_number_masked"] == "110***********002X"
    assert "id_number" not in row and "phone" not in row
    assert customer_a.id_number not in str(body)


def test_filters_and_cursor_pagination(api_client_for, head_office, rm_a):
    # given
    CustomerFactory.create_batch(5, relationship_manager=rm_a, value_tier=ValueTier.VALUE)
    CustomerFactory.create_batch(3, relationship_manager=rm_a, value_tier=ValueTier.LOW_VALUE)
    client = api_client_for(head_office)
    # when
    first = client.get("/api/v1/customers/", {"value_tier": "value", "page_size": 3}).json()
    second = client.get(first["next"]).json()
    # then
    assert len(first["results"]) == 3 and len(second["results"]) == 2
    assert second["next"] is None
    assert {r["value_tier"] for r in first["results"] + second["results"]} == {"value"}


def test_bad_filter_value_is_a_400_with_field_errors(api_client_for, head_office):
    response = api_client_for(head_office).get("/api/v1/customers/", {"value_tier": "platinum"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "value_tier" in error["fields"]


def test_customers_are_read_only(api_client_for, head_office, customer_a):
    client = api_client_for(head_office)
    response = client.patch(f"/api/v1/customers/{customer_a.pk}/", {"value_tier": "value"})
    assert response.status_code == 405


def test_schema_and_docs_are_served(client_for, rm_a):
    client = client_for(rm_a)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/customers/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_issued_token_authenticates_the_integration_account(integration_user, customer_a):
    from io import StringIO

    from django.core.management import call_command

    # given
    out = StringIO()
    call_command("issue_api_token", "core_banking", "--days", "30", stdout=out)
    token = out.getvalue().splitlines()[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    # then
    assert client.get("/api/v1/customers/").status_code == 200


def test_tokens_are_only_issued_to_integration_accounts(rm_a):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="not an integration account"):
        call_command("issue_api_token", "rm_a")
