"""Template helpers shared by every page: money, tiers, masking."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html
from django.utils.translation import gettext as _

from customers.choices import ContactChannel
from customers.masking import mask_account_number, mask_phone
from customers.models import CONSENT_FIELDS

register = template.Library()


@register.simple_tag
def money(amount, currency="CNY"):
    """`CNY 1,234,567.89`: a Decimal amount with its currency, never a float."""
    if amount is None:
        return "—"
    quantised = Decimal(amount).quantize(Decimal("0.01"))
    return format_html("{}&nbsp;{}", currency, intcomma(quantised, use_l10n=False))


@register.simple_tag
def tier_badge(tier, label):
    if not tier:
        return format_html('<span class="badge text-bg-light">{}</span>', _("Not scored"))
    return format_html('<span class="badge tier-badge-{}">{}</span>', tier, label)


@register.filter
def masked_phone(value):
    return mask_phone(value) if value else "—"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def masked_account(value):
    return mask_account_number(value) if value else "—"


@register.filter
def percent(value):
    """0.4567 → 46%."""
    return f"{round(float(value) * 100)}%"


@register.filter
def progress_step(value):
    """A percentage rounded to the 10% steps the CSS has classes for (w-0 … w-100)."""
    return int(round(int(value or 0), -1))


@register.filter
def consents(customer):
    """(channel label, consent given) for every contact channel."""
    return [
        (label, bool(getattr(customer, CONSENT_FIELDS[channel])))
        for channel, label in ContactChannel.choices
    ]
