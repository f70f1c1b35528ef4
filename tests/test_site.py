"""Signing in and out, roles at the door, languages, deployment settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.customers.factories import TEST_PASSWORD

ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_rm_signs_in_lands_on_customers_and_signs_out(rm_a):
    client = Client()
    response = client.post(
        reverse("login"), {"username": "rm_a", "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("customers:list")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(rm_a):
    response = Client().post(reverse("login"), {"username": "rm_a", "password": "wrong-one-123"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_integration_account_cannot_sign_in_to_the_browser(integration_user):
    response = Client().post(
        reverse("login"), {"username": "core_banking", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert "Integration accounts cannot sign in" in response.content.decode()


@pytest.mark.django_db
def test_integration_session_is_thrown_out_of_the_pages(client_for, integration_user):
    response = client_for(integration_user).get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"] == reverse("login")


@pytest.mark.django_db
def test_pages_speak_simplified_chinese(client_for, rm_a):
    client = client_for(rm_a)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/customers/"})
    content = client.get(reverse("customers:list")).content.decode()
    assert "客户" in content
    assert 'lang="zh-hans"' in content


def test_health_check(db, client):
    assert client.get("/health/").json() == {"status": "ok"}


def test_deploy_check_with_production_settings_is_clean():
    # given: production settings as the README documents them
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.production",
        "SECRET_KEY": "a" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "crm.bank.example",
    }
    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
