"""Two-step verification (TOTP) at sign-in, enrolment, and step-up before sensitive actions.

Every test signs in through the real pages and types codes computed from the device's secret,
as an authenticator app would.
"""

from __future__ import annotations

import base64
import logging
import re
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm_site.mfa.services import SESSION_VERIFIED_AT, totp_verify
from customers.choices import AuditAction, ChangeRequestStatus
from customers.models import AuditEntry, ChangeRequest
from customers.services import change_request_submit
from tests.customers.factories import TEST_PASSWORD
from tests.totp import authenticator_for, totp_code

pytestmark = pytest.mark.django_db


def sign_in(username: str) -> tuple[Client, object]:
    """Password step only, as the sign-in form does it."""
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})
    return client, response


def enter_code(client: Client, code: str, *, route: str = "mfa:verify", next_url: str = ""):
    return client.post(reverse(route), {"code": code, "next": next_url})


def wrong_code(device) -> str:
    return f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"


def minutes_pass(client: Client, minutes: int = 10) -> None:
    """The last code was entered `minutes` ago."""
    session = client.session
    session[SESSION_VERIFIED_AT] -= minutes * 60
    session.save()


def security_events(caplog) -> list[str]:
    return [record.event for record in caplog.records if record.name == "crm.security"]


@pytest.fixture
def events(caplog):
    with caplog.at_level(logging.INFO, logger="crm.security"):
        yield caplog


@pytest.fixture
def no_throttle(settings):
    """Wrong codes normally slow the next try down (1 s, 2 s, 4 s...); these tests type fast."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


# --- Sign-in -------------------------------------------------------------------------------


def test_branch_head_must_enter_a_code_before_any_page(head_x, customer_a, events):
    # given
    device = authenticator_for(head_x)
    client, response = sign_in("head_x")

    # then: password alone leads to the code, and nothing else opens
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("mfa:verify"))
    assert "Enter the code from your authenticator app" in page.content.decode()
    detail = client.get(reverse("customers:detail", args=[customer_a.pk]))
    assert detail.status_code == 302 and detail["Location"].startswith(reverse("mfa:verify"))
    api = client.get("/api/v1/customers/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "mfa_required"

    # when
    session_before = client.session.session_key
    response = enter_code(client, totp_code(device), next_url=reverse("customers:list"))

    # then
    assert response.status_code == 302 and response["Location"] == reverse("customers:list")
    assert client.get(reverse("customers:detail", args=[customer_a.pk])).status_code == 200
    assert client.session.session_key != session_before  # new session id after the 2nd factor
    assert "mfa.verified" in security_events(events)


def test_page_before_the_code_shows_no_navigation_and_no_notifications(head_x):
    authenticator_for(head_x)
    client, _ = sign_in("head_x")
    body = client.get(reverse("mfa:verify")).content.decode()
    assert 'id="main-nav"' not in body
    assert "notification-bell" not in body
    assert "Sign out" in body


def test_wrong_code_is_refused_and_recorded(head_x, events, no_throttle):
    # given
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")

    # when
    response = enter_code(client, wrong_code(device))

    # then
    assert response.status_code == 200
    assert "This code is wrong or has already been used." in response.content.decode()
    assert client.get(reverse("customers:list")).status_code == 302
    assert "mfa.failed" in security_events(events)


def test_a_code_cannot_be_used_twice(head_x):
    # given: the head signs in with a code, and signs out
    device = authenticator_for(head_x)
    code = totp_code(device)
    client, _ = sign_in("head_x")
    assert enter_code(client, code).status_code == 302
    client.post(reverse("logout"))

    # when: someone who saw the code signs in with the password and the same code
    replay, _ = sign_in("head_x")
    response = enter_code(replay, code)

    # then
    assert response.status_code == 200
    assert "This code is wrong or has already been used." in response.content.decode()
    assert replay.get(reverse("customers:list")).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_code_let_only_one_through(head_x):
    """The device row is locked while a code is checked: one code, one success."""
    # given
    device = authenticator_for(head_x)
    code = totp_code(device)
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def attempt():
        barrier.wait()
        try:
            results.append(totp_verify(user=head_x, token=code, purpose="sign_in").ok)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert sorted(results) == [False, True]


def test_wrong_codes_in_quick_succession_are_slowed_down(head_x):
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")
    enter_code(client, wrong_code(device))

    # when: the right code, but within a second of the wrong one
    response = enter_code(client, totp_code(device))

    # then
    assert "Too many wrong codes. Wait 1 second" in response.content.decode()


def test_five_wrong_codes_lock_two_step_verification(head_x, events, no_throttle):
    # given
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")

    # when
    responses = [enter_code(client, wrong_code(device)) for _ in range(settings.MFA_FAILURE_LIMIT)]

    # then: the fifth ends the session with the lock-out page
    assert [r.status_code for r in responses] == [200] * 4 + [429]
    assert "Too many failed sign-in attempts" in responses[-1].content.decode()
    assert "_auth_user_id" not in client.session
    assert "mfa.locked_out" in security_events(events)

    # and even the right code is refused after signing in again
    again, _ = sign_in("head_x")
    assert again.get(reverse("mfa:verify")).status_code == 429
    again, _ = sign_in("head_x")
    assert enter_code(again, totp_code(device)).status_code == 429


def test_head_office_resets_a_locked_device_and_the_head_signs_in_again(head_x, no_throttle):
    # given: locked
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")
    for _ in range(settings.MFA_FAILURE_LIMIT):
        enter_code(client, wrong_code(device))

    # when: head office clears the failures (the admin's throttling fields)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)

    # then
    client, _ = sign_in("head_x")
    assert enter_code(client, totp_code(device)).status_code == 302


def test_relationship_manager_without_an_authenticator_signs_in_with_the_password(rm_a, customer_a):
    client, response = sign_in("rm_a")
    assert response.status_code == 302
    assert not response["Location"].startswith("/accounts/mfa/")
    assert client.get(reverse("customers:detail", args=[customer_a.pk])).status_code == 200
    assert client.get(reverse("interactions:today")).status_code == 200


def test_an_rm_who_enrolled_enters_a_code_at_sign_in_too(rm_a):
    authenticator_for(rm_a)
    client, _ = sign_in("rm_a")
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa:verify"))


# --- Enrolment -----------------------------------------------------------------------------


def _code_from_secret_on_page(body: str) -> str:
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', body).group(1)
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{TOTP(key).token():06d}"


def test_branch_head_without_authenticator_enrols_at_first_sign_in(head_x, events):
    # given
    client, response = sign_in("head_x")

    # when: the head is sent to set up an authenticator: QR code and the secret as text
    page = client.get(reverse("customers:list"), follow=True)
    body = page.content.decode()
    assert page.redirect_chain[-1][0].startswith(reverse("mfa:enrol"))
    assert "<svg" in body and 'data-testid="mfa-qr"' in body
    response = enter_code(
        client, _code_from_secret_on_page(body), route="mfa:enrol", next_url="/customers/"
    )

    # then
    assert response.status_code == 302 and response["Location"] == "/customers/"
    assert client.get(reverse("customers:list")).status_code == 200
    assert TOTPDevice.objects.get(user=head_x).confirmed
    assert "mfa.enrolled" in security_events(events)


def test_enrolment_page_keeps_its_secret_until_confirmed(head_x):
    client, _ = sign_in("head_x")
    first = client.get(reverse("mfa:enrol")).content.decode()
    second = client.get(reverse("mfa:enrol")).content.decode()
    assert _code_from_secret_on_page(first) == _code_from_secret_on_page(second)


def test_enrolment_with_a_wrong_code_does_not_set_the_device_up(head_x, no_throttle):
    client, _ = sign_in("head_x")
    client.get(reverse("mfa:enrol"))
    response = enter_code(client, "12345", route="mfa:enrol")
    assert "Enter the six digits" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=head_x, confirmed=True).exists()


def test_an_authenticator_cannot_be_replaced_by_enrolling_again(head_x):
    # given: a head with an authenticator, signed in with the password only
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")

    # when
    response = client.get(reverse("mfa:enrol"))

    # then: sent to enter a code from the existing one; no new secret is made
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa:verify"))
    assert list(TOTPDevice.objects.filter(user=head_x)) == [device]


def test_enrolment_qr_code_obeys_the_content_security_policy(head_x):
    client, _ = sign_in("head_x")
    response = client.get(reverse("mfa:enrol"))
    body = response.content.decode()
    assert "style=" not in body and "<script>" not in body
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"  # the secret is not kept by the browser


# --- Step-up -------------------------------------------------------------------------------


def test_reveal_needs_a_fresh_code_and_then_works(head_x, customer_a, events):
    # given: a head signed in ten minutes ago
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")
    enter_code(client, totp_code(device))
    minutes_pass(client, 10)
    detail = reverse("customers:detail", args=[customer_a.pk])
    reveal = reverse("customers:reveal", args=[customer_a.pk, "id_number"])

    # when: the reveal is refused with the step-up form, which leads back to the customer
    refused = client.post(reveal, HTTP_REFERER=f"http://testserver{detail}")
    assert refused.status_code == 403
    body = refused.content.decode()
    assert customer_a.id_number not in body
    assert "This action needs a fresh code" in body
    assert f'name="next" value="{detail}"' in body
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()

    # and a fresh code is entered on the step-up page
    page = client.get(f"{reverse('mfa:step_up')}?next={detail}")
    assert 'data-testid="mfa-code-form"' in page.content.decode()
    response = enter_code(client, totp_code(device), route="mfa:step_up", next_url=detail)

    # then: back on the customer, and the reveal works
    assert response.status_code == 302 and response["Location"] == detail
    revealed = client.post(reveal)
    assert revealed.status_code == 200 and revealed.content.decode() == customer_a.id_number
    assert "mfa.verified" in security_events(events)


def test_step_up_never_returns_to_another_site(head_x):
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")
    enter_code(client, totp_code(device))
    response = enter_code(
        client, totp_code(device), route="mfa:step_up", next_url="https://evil.example/"
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_approval_needs_a_fresh_code(head_x, rm_a, customer_a):
    # given: a pending identity change, and a head who entered a code ten minutes ago
    change_request_submit(
        acting_user=rm_a, customer=customer_a, changes={"name": "Alice Wang"}, reason="New ID"
    )
    change_request = ChangeRequest.objects.get()
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")
    enter_code(client, totp_code(device))
    minutes_pass(client, 10)
    decide = reverse("customers:change_request_decide", args=[change_request.pk])
    queue = reverse("customers:change_requests")

    # when
    refused = client.post(decide, {"decision": "approve"}, HTTP_REFERER=f"http://testserver{queue}")

    # then
    assert refused.status_code == 403
    change_request.refresh_from_db()
    assert change_request.status == ChangeRequestStatus.PENDING

    # when: a fresh code, and the approval again
    stepped_up = enter_code(client, totp_code(device), route="mfa:step_up", next_url=queue)
    assert stepped_up["Location"] == queue
    client.post(decide, {"decision": "approve"})

    # then
    change_request.refresh_from_db()
    assert change_request.status == ChangeRequestStatus.APPROVED


def test_admin_needs_a_code_at_sign_in_and_a_fresh_one_later(head_office):
    # given: head office, password only
    device = authenticator_for(head_office)
    client, _ = sign_in("head_office")

    # then: the admin asks for the code first
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa:verify"))

    # when: the code is entered, the admin opens
    enter_code(client, totp_code(device))
    assert client.get("/admin/").status_code == 200

    # when: ten minutes later, it wants a fresh code and comes back after it
    minutes_pass(client, 10)
    response = client.get("/admin/customers/customer/")
    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('mfa:step_up')}?next=%2Fadmin%2Fcustomers%2Fcustomer%2F"
    )
    back = enter_code(
        client, totp_code(device), route="mfa:step_up", next_url="/admin/customers/customer/"
    )
    assert back["Location"] == "/admin/customers/customer/"
    assert client.get("/admin/customers/customer/").status_code == 200


def test_other_pages_do_not_ask_for_a_fresh_code(head_x, customer_a):
    device = authenticator_for(head_x)
    client, _ = sign_in("head_x")
    enter_code(client, totp_code(device))
    minutes_pass(client, 60)
    assert client.get(reverse("customers:detail", args=[customer_a.pk])).status_code == 200
    assert client.get(reverse("segmentation:dashboard")).status_code == 200


def test_rm_without_authenticator_sets_one_up_to_reveal(rm_a, customer_a):
    # given: an RM signed in with the password only
    client, _ = sign_in("rm_a")
    detail = reverse("customers:detail", args=[customer_a.pk])
    reveal = reverse("customers:reveal", args=[customer_a.pk, "phone"])

    # when: the reveal asks for a code the RM cannot give yet
    refused = client.post(reveal, HTTP_REFERER=f"http://testserver{detail}")
    assert refused.status_code == 403
    assert "You have no authenticator app set up yet" in refused.content.decode()

    # and the step-up page leads to enrolment
    step_up = client.get(f"{reverse('mfa:step_up')}?next={detail}")
    assert step_up["Location"] == f"{reverse('mfa:enrol')}?next={detail.replace('/', '%2F')}"
    body = client.get(step_up["Location"]).content.decode()
    enrolled = enter_code(
        client, _code_from_secret_on_page(body), route="mfa:enrol", next_url=detail
    )

    # then
    assert enrolled["Location"] == detail
    assert client.post(reveal).content.decode() == customer_a.phone


def test_integration_accounts_stay_out_of_the_browser(integration_user):
    client, response = sign_in("core_banking")
    assert "Integration accounts cannot sign in" in response.content.decode()
    assert client.get(reverse("mfa:enrol")).status_code == 302


def test_every_step_up_rule_names_a_route():
    from tests.test_route_inventory import ROUTES

    named = [rule for rule in settings.MFA_STEP_UP_VIEWS if not rule.endswith(":*")]
    assert set(named) <= set(ROUTES)
    assert "customers:reveal" in named and "admin:*" in settings.MFA_STEP_UP_VIEWS


def test_head_office_resets_authenticators_in_the_admin_without_seeing_secrets(
    client_for, head_office, head_x
):
    # given
    device = authenticator_for(head_x)
    client = client_for(head_office)

    # when
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))

    # then
    assert listing.status_code == 200 and str(head_x) in listing.content.decode()
    assert change.status_code == 200
    assert device.key not in change.content.decode()
    assert "throttling_failure_count" in change.content.decode()
