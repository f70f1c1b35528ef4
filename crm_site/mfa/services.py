"""Two-step verification: who needs it, the session state, and checking TOTP codes.

A TOTP device (django-otp's `TOTPDevice`) is a user's authenticator app: a shared secret and
the last 30-second time step a code was accepted for. The session remembers when the user last
proved the second factor (`SESSION_VERIFIED_AT`); that moment is both "this sign-in is
verified" and, while younger than `MFA_STEP_UP_SECONDS`, "fresh enough for a sensitive action".
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import math
import textwrap
import time
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm_site.security import security_event

__all__ = [
    "SESSION_PENDING",
    "SESSION_VERIFIED_AT",
    "CheckResult",
    "TotpCheck",
    "confirmed_device",
    "mfa_locked",
    "mfa_required",
    "second_factor_pending",
    "session_mark_verified",
    "session_start",
    "step_up_is_fresh",
    "step_up_required",
    "step_up_seconds_left",
    "totp_demo_device_ensure",
    "totp_enrolment_confirm",
    "totp_enrolment_start",
    "totp_qr_svg",
    "totp_secret_text",
    "totp_verify",
]

SESSION_VERIFIED_AT = "mfa_verified_at"  # epoch seconds of the last accepted code
SESSION_PENDING = "mfa_pending"  # this sign-in still owes a code
DEVICE_NAME = "authenticator"


# =========================================================================================
# Policy
# =========================================================================================


def mfa_required(user) -> bool:
    """Roles that confirm every sign-in with a code: they approve, steer whole branches and
    administer the system (issue #8). Checked from the user row alone, without a query."""
    return bool(user.is_branch_head or user.is_head_office or user.is_superuser)


def step_up_required(view_name: str) -> bool:
    """Whether the route needs a fresh code (`MFA_STEP_UP_VIEWS`; `namespace:*` covers a
    whole namespace such as the admin)."""
    rules = settings.MFA_STEP_UP_VIEWS
    namespace = view_name.rpartition(":")[0]
    return view_name in rules or (bool(namespace) and f"{namespace}:*" in rules)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _device_locked(device: TOTPDevice) -> bool:
    if (
        device.throttling_failure_count < settings.MFA_FAILURE_LIMIT
        or device.throttling_failure_timestamp is None
    ):
        return False
    lockout = dt.timedelta(seconds=settings.MFA_LOCKOUT_SECONDS)
    return timezone.now() - device.throttling_failure_timestamp < lockout


def mfa_locked(user) -> bool:
    """Too many wrong codes in a row: no code is accepted until the lock-out has passed or
    head office resets the device's failure count in the admin."""
    device = confirmed_device(user)
    return device is not None and _device_locked(device)


# =========================================================================================
# Session state
# =========================================================================================


def session_start(session, *, user) -> None:
    """A new sign-in: nothing is verified yet. Users who must use a second factor, and
    anyone who has enrolled one, owe a code before any page works."""
    session.pop(SESSION_VERIFIED_AT, None)
    if mfa_required(user) or confirmed_device(user) is not None:
        session[SESSION_PENDING] = True
    else:
        session.pop(SESSION_PENDING, None)


def session_mark_verified(session) -> None:
    """The user just entered a valid code: the sign-in is verified and step-up is fresh."""
    session[SESSION_VERIFIED_AT] = time.time()
    session.pop(SESSION_PENDING, None)


def second_factor_pending(session, *, user) -> bool:
    """The sign-in still owes a code. Fails closed: a branch head's or head office's session
    without a recorded verification is pending whatever else it holds."""
    if SESSION_VERIFIED_AT in session:
        return False
    return mfa_required(user) or bool(session.get(SESSION_PENDING))


def step_up_seconds_left(session) -> int:
    verified_at = session.get(SESSION_VERIFIED_AT)
    if verified_at is None:
        return 0
    return max(0, int(verified_at + settings.MFA_STEP_UP_SECONDS - time.time()))


def step_up_is_fresh(session) -> bool:
    return step_up_seconds_left(session) > 0


# =========================================================================================
# Checking codes
# =========================================================================================


class CheckResult(enum.Enum):
    VERIFIED = "verified"
    INVALID = "invalid"  # wrong, or already used
    THROTTLED = "throttled"  # too soon after a wrong code
    LOCKED = "locked"  # too many wrong codes in a row
    NO_DEVICE = "no_device"


@dataclass(frozen=True)
class TotpCheck:
    result: CheckResult
    retry_after: int = 0  # seconds to wait, when throttled

    @property
    def ok(self) -> bool:
        return self.result is CheckResult.VERIFIED


def _check(device: TOTPDevice, token: str) -> tuple[TotpCheck, str | None]:
    """Check a code against a row-locked device; returns the outcome and its security event.

    django-otp accepts a code only for a time step later than the last accepted one
    (`last_t`), so a code works once; it allows one step of clock drift either way and slows
    down wrong guesses exponentially (1 s, 2 s, 4 s, ...)."""
    if _device_locked(device):
        return TotpCheck(CheckResult.LOCKED), "mfa.refused"
    allowed, info = device.verify_is_allowed()
    if not allowed:
        wait = (info["locked_until"] - timezone.now()).total_seconds() if info else 1
        return TotpCheck(CheckResult.THROTTLED, retry_after=max(1, math.ceil(wait))), "mfa.refused"
    if device.verify_token(token):
        return TotpCheck(CheckResult.VERIFIED), None
    if device.throttling_failure_count >= settings.MFA_FAILURE_LIMIT:
        return TotpCheck(CheckResult.LOCKED), "mfa.locked_out"
    return TotpCheck(CheckResult.INVALID), "mfa.failed"


def _report(event: str | None, check: TotpCheck, *, user, device, purpose: str) -> None:
    if event is None:
        return
    security_event(
        event,
        user=user,
        purpose=purpose,
        reason=check.result.value,
        failures=device.throttling_failure_count,
    )
    if event == "mfa.locked_out":
        # The wrong code that reached the limit is itself a failure worth counting.
        security_event("mfa.failed", user=user, purpose=purpose, reason="invalid")


def totp_verify(*, user, token: str, purpose: str) -> TotpCheck:
    """Check a code from the user's authenticator (`purpose`: "sign_in" or "step_up").

    Guarantees: a code is accepted once only, also when two requests race with it (the
    device row is locked while checking); `MFA_FAILURE_LIMIT` wrong codes in a row lock
    two-step verification for `MFA_LOCKOUT_SECONDS`; every outcome is a security event."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            return TotpCheck(CheckResult.NO_DEVICE)
        check, event = _check(device, token)
    if check.ok:
        security_event("mfa.verified", user=user, purpose=purpose, device_id=device.pk)
    _report(event, check, user=user, device=device, purpose=purpose)
    return check


# =========================================================================================
# Enrolment
# =========================================================================================


def totp_enrolment_start(*, user) -> TOTPDevice:
    """The authenticator being set up: an unconfirmed device with a random 160-bit secret,
    kept until confirmed so that a QR code already scanned stays valid. Only for a user
    without an authenticator: replacing one takes head office deleting it in the admin."""
    if confirmed_device(user) is not None:
        raise ValueError("The user already has an authenticator.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_enrolment_confirm(*, user, token: str) -> TotpCheck:
    """Confirm the authenticator being set up with one code from it. On success the device
    is the user's authenticator (other unfinished set-ups are dropped) and the code counts
    as used."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return TotpCheck(CheckResult.NO_DEVICE)
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            return TotpCheck(CheckResult.NO_DEVICE)
        check, event = _check(device, token)
        if check.ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    if check.ok:
        security_event("mfa.enrolled", user=user, device_id=device.pk)
    _report(event, check, user=user, device=device, purpose="enrolment")
    return check


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: Base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(textwrap.wrap(secret, 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code (no image request, no script)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=14, border=3
    )
    # Scales down on a phone (Bootstrap's img-fluid): no inline style, which the CSP forbids.
    return image.to_string(encoding="unicode").replace("<svg ", '<svg class="img-fluid" ', 1)


def totp_demo_device_ensure(*, user, key_hex: str) -> TOTPDevice:
    """Demo data only: give the user an authenticator with a published secret, unless they
    already have one (a presenter's own enrolment survives a re-run)."""
    device = confirmed_device(user)
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key_hex, confirmed=True)
    return device
