"""In the browser: a branch head signs in with a code from the authenticator app; once that
code has gone stale, revealing a masked ID number asks for a fresh one and then works. A head
without an authenticator sets one up from the QR code page at first sign-in."""

import base64
import re
from importlib import import_module

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from crm_site.mfa.services import SESSION_VERIFIED_AT
from customers.models import AuditEntry
from tests.customers.factories import TEST_PASSWORD
from tests.totp import authenticator_for, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def enter_password(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def minutes_pass(page: Page, minutes: int) -> None:
    """The browser's last code was entered `minutes` ago."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[SESSION_VERIFIED_AT] -= minutes * 60
    session.save()


def test_branch_head_signs_in_with_a_code_and_steps_up_to_reveal(
    live_server, page: Page, head_x, customer_a
):
    device = authenticator_for(head_x)

    # given: after the password, the head is asked for a code; a wrong one is refused
    enter_password(page, live_server.url, "head_x")
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    expect(page.locator("#main-nav")).to_have_count(0)
    page.get_by_label("Code").fill(f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("[data-field-error=code]")).to_have_text(
        "This code is wrong or has already been used."
    )
    page.wait_for_timeout(1100)  # a wrong code slows the next try down by a second
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("current-user")).to_have_text(str(head_x))

    # when: ten minutes later the head reveals a customer's ID number
    minutes_pass(page, 10)
    page.goto(f"{live_server.url}/customers/{customer_a.pk}/")
    id_number = page.get_by_test_id("id-number")
    expect(id_number).to_have_text("110***********002X")
    page.get_by_role("button", name="Reveal").first.click()

    # then: a fresh code first, which leads back to the customer
    expect(page).to_have_url(re.compile(r"/accounts/mfa/step-up/\?next="))
    assert not AuditEntry.objects.filter(action="reveal").exists()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("Identity confirmed")
    expect(page.get_by_test_id("customer-name")).to_have_text(customer_a.name)

    # and now the reveal works, and is audited
    page.get_by_role("button", name="Reveal").first.click()
    expect(id_number).to_have_text(customer_a.id_number)
    assert AuditEntry.objects.filter(action="reveal", actor=head_x).count() == 1


def test_branch_head_without_authenticator_enrols_from_the_qr_code_page(
    live_server, page: Page, head_x
):
    # given
    enter_password(page, live_server.url, "head_x")

    # when: the head types the secret shown under the QR code into an authenticator app
    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm and finish").click()

    # then
    expect(page.get_by_role("alert")).to_contain_text("Two-step verification is set up.")
    expect(page.get_by_test_id("current-user")).to_have_text(str(head_x))
