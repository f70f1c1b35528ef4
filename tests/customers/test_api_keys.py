"""The key management commands: issue with a scope, rotate with a grace period, revoke, list."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from customers.models import IntegrationKey

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_issue_rotate_revoke_and_list(integration_user, caplog):
    # given
    lines = run("issue_api_token", "core_banking", "--scope", "write", "--name", "nightly")
    key = IntegrationKey.objects.get()
    token = lines[1]
    assert key.scope == "write" and key.name == "nightly"
    # when: rotated with a grace period, both work until the old one ends
    new_token = run("rotate_api_token", str(key.pk), "--grace-hours", "1")[1]
    # then
    assert client(token).get("/api/v1/customers/").status_code == 200
    assert client(new_token).get("/api/v1/customers/").status_code == 200
    listing = "\n".join(run("list_api_tokens", "core_banking"))
    assert "nightly" in listing and token not in listing and new_token not in listing
    run("revoke_api_token", "--user", "core_banking", "--reason", "leaked")
    assert client(token).get("/api/v1/customers/").status_code == 401
    assert client(new_token).get("/api/v1/customers/").status_code == 401
    assert "revoked" in "\n".join(run("list_api_tokens"))
    # no part of a token reaches the logs
    assert token[:12] not in caplog.text and new_token[:12] not in caplog.text


def test_keys_are_only_for_integration_accounts(rm_a):
    with pytest.raises(CommandError, match="not an integration account"):
        call_command("issue_api_token", "rm_a", "--scope", "write")


def test_integration_accounts_cannot_use_the_browser(client_for, integration_user):
    response = client_for(integration_user).get("/customers/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
