"""Authenticator apps for tests: a user's TOTP device and the code it would show now.

Codes are computed from the device's secret exactly as a phone app does (RFC 6238), so the
tests drive the real verification; nothing in the product is bypassed.
"""

from __future__ import annotations

import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm_site.mfa.services import session_mark_verified

__all__ = ["authenticator_for", "mark_session_verified", "totp_code"]


def authenticator_for(user) -> TOTPDevice:
    """The user's confirmed authenticator, created with a random secret if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The code the app shows now (`offset` time steps later), never one already spent.

    A code is accepted once: if this step's code was used (`last_t`), the next step's code is
    given instead (accepted, within the one step of drift allowed); if that was used too,
    wait for the clock to move on."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    totp.time = now
    step = max(totp.t() + offset, device.last_t + 1)
    if step > totp.t() + device.tolerance:
        time.sleep(device.step - (now - device.t0) % device.step + 0.05)
        return totp_code(device, offset=offset)
    totp.time = now + (step - totp.t()) * device.step
    return f"{totp.token():0{device.digits}d}"


def mark_session_verified(client: Client, user) -> None:
    """What entering a right code does to a session: verified, and fresh for step-up."""
    authenticator_for(user)
    session = client.session
    session_mark_verified(session)
    session.save()
